"""flyteplugins' Go unit tests for the pod builder (flytek8s at flyte v1.16.8), ported as tables.

Sources: flyteplugins/go/tasks/pluginmachinery/flytek8s/pod_helper_test.go, container_helper_test.go and
utils_test.go. Each case names the Go test and its ``t.Run`` case (or its block, for tests without ``t.Run``).
Everything is driven through the public functions of ``preview.propeller``: ``build_pods`` for whole pods,
``apply_resource_overrides`` and ``to_k8s_resource_list`` for the helpers the Go tests call directly.

Translating the Go fixtures:

- the Go tests' ``TaskOverrides.GetResources()`` are the node's resource overrides (``TaskNodeOverrides``);
- ``GetPlatformResources()`` are flyteadmin's ``task_resources`` (``TaskResources``); where a Go test gives
  empty platform resources, flytepropeller falls back to ``default-cpus``/``default-memory`` for the
  requests (``resolvePlatformDefaults``), which here is ``TaskResources.defaults`` set to those values,
  since the preview models executions launched through flyteadmin (always four platform keys);
- a ``podTemplateResources`` argument is the resources of a container of the base PodTemplate;
- ``dummyTaskExecutionMetadata`` is interruptible.
"""

from __future__ import annotations

import copy
import json
from typing import Any, Dict, List, Optional, Sequence, Tuple

import pytest
from flyteidl.core import tasks_pb2
from flyteidl.core import workflow_pb2 as core_wf
from google.protobuf import struct_pb2
from hypothesis import given
from hypothesis import strategies as st

from flytekitplugins.resources.platform import K8sConfig, Platform, TaskResources, TaskResourceSet
from flytekitplugins.resources.preview.propeller import (
    BuiltPod,
    apply_resource_overrides,
    build_pods,
    to_k8s_resource_list,
)
from flytekitplugins.resources.quantity import Quantity, ResourceValidationError

R = tasks_pb2.Resources
Q = Quantity.parse
Entries = Sequence[Tuple[int, str]]

_TR_ATTR = {"cpu": "cpu", "memory": "memory", "gpu": "gpu", "ephemeral-storage": "ephemeral_storage"}


# --------------------------------------------------------------------------------------------- fixtures
def _platform(requests: Optional[Dict[str, str]] = None, limits: Optional[Dict[str, str]] = None,
              template: Optional[Dict[str, Any]] = None, **k8s: Any) -> Platform:
    """A Platform whose flyteadmin task resources are exactly ``requests``/``limits`` (nothing else set), with
    ``template`` (a PodTemplate's ``template``) as the default base pod template."""

    def trs(d: Optional[Dict[str, str]]) -> TaskResourceSet:
        return TaskResourceSet(**{_TR_ATTR[k]: Q(v) for k, v in (d or {}).items()})

    templates = {}
    if template is not None:
        k8s.setdefault("default_pod_template_name", "base")
        templates["base"] = {"apiVersion": "v1", "kind": "PodTemplate", "metadata": {"name": "base"},
                             "template": template}
    return Platform(k8s=K8sConfig(**k8s), task_resources=TaskResources(defaults=trs(requests), limits=trs(limits)),
                    pod_templates=templates)


def _container_task(requests: Entries = (), limits: Entries = (),
                    extended: Optional[tasks_pb2.ExtendedResources] = None) -> tasks_pb2.TaskTemplate:
    """pod_helper_test.go dummyTaskTemplate: a container task, command and args, no resources of its own."""
    t = tasks_pb2.TaskTemplate(type="test")
    t.id.name = "wf.t"
    t.container.command.append("command")
    t.container.args.append("{{.Input}}")
    for name, value in requests:
        t.container.resources.requests.add(name=name, value=value)
    for name, value in limits:
        t.container.resources.limits.add(name=name, value=value)
    if extended is not None:
        t.extended_resources.CopyFrom(extended)
    return t


def _struct(obj: Dict[str, Any]) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    s.update(json.loads(json.dumps(obj)))
    return s


def _pod_task(spec: Dict[str, Any], primary: str = "primary",
              extended: Optional[tasks_pb2.ExtendedResources] = None) -> tasks_pb2.TaskTemplate:
    t = tasks_pb2.TaskTemplate(type="sidecar")
    t.id.name = "wf.pod"
    t.config["primary_container_name"] = primary
    t.k8s_pod.pod_spec.CopyFrom(_struct(spec))
    if extended is not None:
        t.extended_resources.CopyFrom(extended)
    return t


def _overrides(requests: Entries = (), limits: Entries = (), extended: Optional[tasks_pb2.ExtendedResources] = None,
               image: str = "") -> core_wf.TaskNodeOverrides:
    o = core_wf.TaskNodeOverrides(container_image=image)
    for name, value in requests:
        o.resources.requests.add(name=name, value=value)
    for name, value in limits:
        o.resources.limits.add(name=name, value=value)
    if extended is not None:
        o.extended_resources.CopyFrom(extended)
    return o


def _build(template: tasks_pb2.TaskTemplate, platform: Platform, **kw: Any) -> BuiltPod:
    (built,) = build_pods(template, platform, **kw)
    return built


def _container(pod: Dict[str, Any], name: Optional[str] = None, kind: str = "containers") -> Dict[str, Any]:
    containers = pod["spec"][kind]
    if name is None:
        return containers[0]
    (c,) = [c for c in containers if c["name"] == name]
    return c


def _qmap(d: Optional[Dict[str, Any]]) -> Dict[str, Quantity]:
    return {k: v if isinstance(v, Quantity) else Q(str(v)) for k, v in (d or {}).items()}


def _resources(container: Dict[str, Any]) -> Tuple[Dict[str, Quantity], Dict[str, Quantity]]:
    res = container.get("resources") or {}
    return _qmap(res.get("requests")), _qmap(res.get("limits"))


def _terms(pod: Dict[str, Any]) -> Optional[List[Dict[str, Any]]]:
    affinity = pod["spec"].get("affinity")
    if affinity is None:
        return None
    return affinity["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]


def _sorted_tolerations(tolerations: Optional[List[Dict[str, Any]]]) -> List[Dict[str, Any]]:
    return sorted(tolerations or [], key=lambda t: json.dumps(t, sort_keys=True))


def _refusal(template: tasks_pb2.TaskTemplate, platform: Platform, **kw: Any) -> str:
    """What flytepropeller refuses (a Go error): a ResourceValidationError, or the text of the error findings."""
    try:
        built = build_pods(template, platform, **kw)
    except ResourceValidationError as e:
        return str(e)
    return " | ".join(f.message for b in built for f in b.findings if f.level == "error")


def _codes(built: BuiltPod, code: str) -> set:
    return {f.field for f in built.findings if f.code == code}


def _tol(key: str, value: str = "", operator: str = "Equal", effect: str = "NoSchedule") -> Dict[str, Any]:
    t = {"key": key, "operator": operator, "effect": effect}
    if value:
        t["value"] = value
    return t


def _nsr(key: str, operator: str, *values: str) -> Dict[str, Any]:
    r: Dict[str, Any] = {"key": key, "operator": operator}
    if values:
        r["values"] = list(values)
    return r


def _ext(device: str = "", partition: Optional[str] = None, unpartitioned: bool = False,
         shm: Optional[Tuple[str, str]] = None) -> tasks_pb2.ExtendedResources:
    e = tasks_pb2.ExtendedResources()
    if device:
        e.gpu_accelerator.device = device
        if partition is not None:
            e.gpu_accelerator.partition_size = partition
        if unpartitioned:
            e.gpu_accelerator.unpartitioned = True
    if shm is not None:
        e.shared_memory.mount_name, e.shared_memory.mount_path = shm
    return e


# ============================================================================================ utils_test.go
@pytest.mark.parametrize(
    "entries, expected",
    [
        # utils_test.go: TestToK8sResourceList, first block: every name mapped, GPU as nvidia.com/gpu
        pytest.param([(R.CPU, "250m"), (R.GPU, "1"), (R.MEMORY, "1024Mi"), (R.EPHEMERAL_STORAGE, "1024Mi")],
                     {"cpu": "250m", "nvidia.com/gpu": "1", "memory": "1024Mi", "ephemeral-storage": "1024Mi"},
                     id="ToK8sResourceList-all-names"),
        # TestToK8sResourceList, second block: an empty list gives an empty ResourceList
        pytest.param([], {}, id="ToK8sResourceList-empty"),
        # TestToK8sResourceRequirements, third block: requests and limits are converted independently
        pytest.param([(R.CPU, "250m")], {"cpu": "250m"}, id="ToK8sResourceRequirements-requests"),
        pytest.param([(R.CPU, "1024m")], {"cpu": "1024m"}, id="ToK8sResourceRequirements-limits"),
    ],
)
def test_to_k8s_resource_list(entries, expected):
    result = to_k8s_resource_list([R.ResourceEntry(name=n, value=v) for n, v in entries])
    assert result == _qmap(expected)
    assert all(isinstance(v, Quantity) for v in result.values())


@pytest.mark.parametrize(
    "entries",
    [
        # utils_test.go: TestToK8sResourceList, third block: "250x" is not a quantity
        pytest.param([(R.CPU, "250x")], id="ToK8sResourceList-250x"),
        # TestToK8sResourceRequirements, fourth block: "blah" as the cpu request
        pytest.param([(R.CPU, "blah")], id="ToK8sResourceRequirements-bad-request"),
    ],
)
def test_to_k8s_resource_list_refuses_a_bad_quantity(entries):
    with pytest.raises(ResourceValidationError):
        to_k8s_resource_list([R.ResourceEntry(name=n, value=v) for n, v in entries])


@pytest.mark.parametrize(
    "requests, limits, expected",
    [
        # utils_test.go: TestToK8sResourceRequirements, first block: nil resources -> empty requests and limits;
        # second block: nil requests and nil limits -> the same (a TaskTemplate cannot tell the two apart)
        pytest.param((), (), ({}, {}), id="ToK8sResourceRequirements-nil"),
        # third block: 250m requested, 1024m limit
        pytest.param([(R.CPU, "250m")], [(R.CPU, "1024m")], ({"cpu": "250m"}, {"cpu": "1024m"}),
                     id="ToK8sResourceRequirements-cpu"),
        # fourth block: "blah" as the request -> error
        pytest.param([(R.CPU, "blah")], [(R.CPU, "1024m")], None, id="ToK8sResourceRequirements-bad-request"),
        # fifth block: "blah" as the limit -> error
        pytest.param([(R.CPU, "250m")], [(R.CPU, "blah")], None, id="ToK8sResourceRequirements-bad-limit"),
    ],
)
def test_to_k8s_resource_requirements(requests, limits, expected):
    r = R()
    for name, value in requests:
        r.requests.add(name=name, value=value)
    for name, value in limits:
        r.limits.add(name=name, value=value)
    if expected is None:
        with pytest.raises(ResourceValidationError):
            to_k8s_resource_list(r.requests), to_k8s_resource_list(r.limits)
        # and the pod builder refuses the task (ToK8sPodSpec returns the error)
        with pytest.raises(ResourceValidationError):
            build_pods(_container_task(requests, limits), _platform())
        return
    assert (to_k8s_resource_list(r.requests), to_k8s_resource_list(r.limits)) == (
        _qmap(expected[0]), _qmap(expected[1]))
    # through the pod builder, with no platform resources: the task's own values are what the container gets
    built = _build(_container_task(requests, limits), _platform())
    req, lim = _resources(_container(built.pod))
    nonzero = {k: v for k, v in req.items() if v.sign()}, {k: v for k, v in lim.items() if v.sign()}
    assert nonzero == (_qmap(expected[0]), _qmap(expected[1]) or _qmap(expected[0]))
