"""flyteplugins' Go unit tests for the pod builder (flytek8s at flyte v1.16.8), ported as tables.

Sources: flyteplugins/go/tasks/pluginmachinery/flytek8s/pod_helper_test.go, container_helper_test.go and
utils_test.go. Each case names the Go test and its ``t.Run`` case (or its block, for tests without ``t.Run``).
Everything is driven through public functions: ``preview.propeller.build_pods`` for whole pods,
``preview.flytek8s.apply_resource_overrides`` and ``to_k8s_resource_list`` for the helpers the Go tests call
directly.

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
from flytekitplugins.resources.preview.flytek8s import apply_resource_overrides, to_k8s_resource_list
from flytekitplugins.resources.preview.propeller import BuiltPod, build_pods
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
    if affinity is None or "nodeAffinity" not in affinity:  # UpdatePod leaves an empty affinity on every pod
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
    ],
)
def test_to_k8s_resource_list_refuses_a_bad_quantity(entries):
    with pytest.raises(ResourceValidationError):
        to_k8s_resource_list([R.ResourceEntry(name=n, value=v) for n, v in entries])


@pytest.mark.parametrize(
    "requests, limits, expected",
    [
        # utils_test.go: TestToK8sResourceRequirements, first block: nil resources -> empty requests and limits;
        # TestToK8sResourceRequirements, second block: nil requests and nil limits -> the same (one row: a
        # TaskTemplate cannot tell the two apart)
        pytest.param((), (), ({}, {}), id="ToK8sResourceRequirements-nil"),
        # TestToK8sResourceRequirements, third block: 250m requested, 1024m limit
        pytest.param([(R.CPU, "250m")], [(R.CPU, "1024m")], ({"cpu": "250m"}, {"cpu": "1024m"}),
                     id="ToK8sResourceRequirements-cpu"),
        # TestToK8sResourceRequirements, fourth block: "blah" as the request -> error
        pytest.param([(R.CPU, "blah")], [(R.CPU, "1024m")], None, id="ToK8sResourceRequirements-bad-request"),
        # TestToK8sResourceRequirements, fifth block: "blah" as the limit -> error
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
            for entries in (r.requests, r.limits):
                to_k8s_resource_list(entries)
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


# ================================================================================= container_helper_test.go
# ApplyResourceOverrides(resources, platformResources, assignIfUnset=true), called directly. Platform resources
# are (requests, limits); {} for the Go tests' empty v1.ResourceRequirements{}.
CPU_PLATFORM = ({"cpu": "3"}, {"cpu": "10"})
MEM_PLATFORM = ({"memory": "3"}, {"memory": "10"})
NO_PLATFORM: Tuple[Dict[str, str], Dict[str, str]] = ({}, {})
ONE = "1"

APPLY_RESOURCE_OVERRIDES = [
    # container_helper_test.go: TestApplyResourceOverrides_OverrideCpu, first call: the limit from the request
    pytest.param(CPU_PLATFORM, {"cpu": "1"}, {}, {"cpu": "1"}, {"cpu": "1"}, id="OverrideCpu-request-only"),
    # TestApplyResourceOverrides_OverrideCpu, second call: request and limit kept
    pytest.param(CPU_PLATFORM, {"cpu": "1"}, {"cpu": "2"}, {"cpu": "1"}, {"cpu": "2"}, id="OverrideCpu-both"),
    # TestApplyResourceOverrides_OverrideCpu, third call: "Request equals Limit if not set"
    pytest.param(CPU_PLATFORM, {}, {"cpu": "2"}, {"cpu": "2"}, {"cpu": "2"}, id="OverrideCpu-limit-only"),
    # TestApplyResourceOverrides_OverrideMemory, first call
    pytest.param(MEM_PLATFORM, {"memory": "1"}, {}, {"memory": "1"}, {"memory": "1"},
                 id="OverrideMemory-request-only"),
    # TestApplyResourceOverrides_OverrideMemory, second call
    pytest.param(MEM_PLATFORM, {"memory": "1"}, {"memory": "2"}, {"memory": "1"}, {"memory": "2"},
                 id="OverrideMemory-both"),
    # TestApplyResourceOverrides_OverrideMemory, third call: "Request equals Limit if not set"
    pytest.param(MEM_PLATFORM, {}, {"memory": "2"}, {"memory": "2"}, {"memory": "2"},
                 id="OverrideMemory-limit-only"),
    # TestApplyResourceOverrides_OverrideEphemeralStorage, first call (empty platform resources)
    pytest.param(NO_PLATFORM, {"ephemeral-storage": "1"}, {}, {"ephemeral-storage": "1"},
                 {"ephemeral-storage": "1"}, id="OverrideEphemeralStorage-request-only"),
    # TestApplyResourceOverrides_OverrideEphemeralStorage, second call
    pytest.param(NO_PLATFORM, {"ephemeral-storage": "1"}, {"ephemeral-storage": "2"}, {"ephemeral-storage": "1"},
                 {"ephemeral-storage": "2"}, id="OverrideEphemeralStorage-both"),
    # TestApplyResourceOverrides_OverrideEphemeralStorage, third call: the request from the limit (Go checks
    # only the request)
    pytest.param(NO_PLATFORM, {}, {"ephemeral-storage": "2"}, {"ephemeral-storage": "2"}, {},
                 id="OverrideEphemeralStorage-limit-only"),
    # TestApplyResourceOverrides_OverrideGpu, first call: a GPU request (Go checks only the request)
    pytest.param(NO_PLATFORM, {"nvidia.com/gpu": "1"}, {}, {"nvidia.com/gpu": "1"}, {}, id="OverrideGpu-request"),
    # TestApplyResourceOverrides_OverrideGpu, second call: a GPU limit (Go checks only the limit)
    pytest.param(NO_PLATFORM, {}, {"nvidia.com/gpu": "1"}, {}, {"nvidia.com/gpu": "1"}, id="OverrideGpu-limit"),
]


@pytest.mark.parametrize("platform, requests, limits, want_requests, want_limits", APPLY_RESOURCE_OVERRIDES)
def test_apply_resource_overrides(platform, requests, limits, want_requests, want_limits):
    req, lim = _qmap(requests), _qmap(limits)
    apply_resource_overrides(_platform(*platform), req, lim, True)
    assert {k: req.get(k) for k in want_requests} == _qmap(want_requests)
    assert {k: lim.get(k) for k in want_limits} == _qmap(want_limits)


def test_apply_resource_overrides_remove_storage():
    # container_helper_test.go: TestApplyResourceOverrides_RemoveStorage: the whole requests and limits are
    # compared; cpu's limit comes from its request, no other key appears
    req = _qmap({"memory": ONE, "cpu": ONE, "ephemeral-storage": ONE})
    lim = _qmap({"memory": ONE, "ephemeral-storage": ONE})
    apply_resource_overrides(_platform(*NO_PLATFORM), req, lim, True)
    everything = _qmap({"memory": ONE, "cpu": ONE, "ephemeral-storage": ONE})
    assert (req, lim) == (everything, everything)


def test_apply_resource_overrides_adjusts_storage_and_gpu_only_when_asked_for():
    # TestApplyResourceOverrides_OverrideCpu/_OverrideMemory: cpu and memory are always resolved; ephemeral
    # storage and the GPU only when the container names them (ApplyResourceOverrides' two ifs)
    req, lim = _qmap({"cpu": "1"}), {}
    apply_resource_overrides(_platform(*CPU_PLATFORM), req, lim, True)
    assert set(req) == set(lim) == {"cpu", "memory"}


# MergeResources(in=the node's overrides, out=the container's resources) is not public: ported through a
# container task whose resources are `out` and a node whose overrides are `in`, on a platform without
# task resources. The Go expectation is MergeResources' result followed by ApplyResourceOverrides, which only
# adds the limits that are missing (from the requests), and the fields the overrides set are reported.
RL = {"memory": ONE, "cpu": ONE, "ephemeral-storage": ONE}  # the Go tests' resourceList / expectedResourceList
RL_MEM_EPH = [(R.MEMORY, ONE), (R.EPHEMERAL_STORAGE, ONE)]
RL_CPU = [(R.CPU, ONE)]
RL_ALL = [(R.MEMORY, ONE), (R.CPU, ONE), (R.EPHEMERAL_STORAGE, ONE)]

MERGE_RESOURCES = [
    # container_helper_test.go: TestMergeResources_EmptyIn: out is kept as it is
    pytest.param((), (), RL_ALL, RL_MEM_EPH, RL, RL, set(), id="MergeResources_EmptyIn"),
    # TestMergeResources_EmptyOut: out becomes in
    pytest.param(RL_ALL, RL_MEM_EPH, (), (), RL, RL,
                 {"requests.memory", "requests.cpu", "requests.ephemeral-storage", "limits.memory",
                  "limits.ephemeral-storage"}, id="MergeResources_EmptyOut"),
    # TestMergeResources_PartialRequirements: in has the requests, out the limits
    pytest.param(RL_ALL, (), (), RL_ALL, RL, RL, {"requests.memory", "requests.cpu", "requests.ephemeral-storage"},
                 id="MergeResources_PartialRequirements"),
    # TestMergeResources_PartialResourceKeys: the keys of both, per list
    pytest.param(RL_MEM_EPH, RL_CPU, RL_CPU, RL_MEM_EPH, RL, RL,
                 {"requests.memory", "requests.ephemeral-storage", "limits.cpu"},
                 id="MergeResources_PartialResourceKeys"),
]


@pytest.mark.parametrize("in_requests, in_limits, out_requests, out_limits, want_requests, want_limits, overridden",
                         MERGE_RESOURCES)
def test_merge_resources(in_requests, in_limits, out_requests, out_limits, want_requests, want_limits, overridden):
    built = _build(_container_task(out_requests, out_limits), _platform(),
                   overrides=_overrides(in_requests, in_limits), node="n0")
    assert _resources(_container(built.pod)) == (_qmap(want_requests), _qmap(want_limits))
    assert _codes(built, "propeller.node-override") == overridden


# MergeResourcesIfMissing(in=the base pod template's container resources, out=the container's resources): ported
# through a container task (out) and a base PodTemplate whose "default" container has `in`; no platform task
# resources. Expected: MergeResourcesIfMissing's result, then ApplyResourceOverrides (cpu and memory always
# present, as "0" when unset; a missing limit from the request).
SRC_REQ = {"cpu": "100m", "memory": "128Mi"}
SRC_LIM = {"cpu": "200m", "memory": "256Mi"}

MERGE_IF_MISSING = [
    # container_helper_test.go: TestMergeResourcesIfMissing "merge resources when destination is empty"
    pytest.param(SRC_REQ, SRC_LIM, (), (), SRC_REQ, SRC_LIM,
                 {"requests.cpu", "requests.memory", "limits.cpu", "limits.memory"},
                 id="destination is empty"),
    # TestMergeResourcesIfMissing "preserve existing resources and only add missing ones"
    pytest.param(dict(SRC_REQ, **{"ephemeral-storage": "1Gi"}), SRC_LIM,
                 [(R.CPU, "150m"), (R.MEMORY, "256Mi")], [(R.CPU, "300m")],
                 {"cpu": "150m", "memory": "256Mi", "ephemeral-storage": "1Gi"},
                 {"cpu": "300m", "memory": "256Mi", "ephemeral-storage": "1Gi"},
                 {"requests.ephemeral-storage", "limits.memory"}, id="preserve existing, add missing"),
    # TestMergeResourcesIfMissing "handle nil source resources": the destination is unchanged
    pytest.param(None, None, [(R.CPU, "150m")], (), {"cpu": "150m", "memory": "0"}, {"cpu": "150m", "memory": "0"},
                 set(), id="nil source"),
    # TestMergeResourcesIfMissing "handle partial source resources"
    pytest.param({"memory": "128Mi"}, None, [(R.CPU, "150m")], [(R.CPU, "300m")],
                 {"cpu": "150m", "memory": "128Mi"}, {"cpu": "300m", "memory": "128Mi"}, {"requests.memory"},
                 id="partial source"),
]


@pytest.mark.parametrize("src_requests, src_limits, requests, limits, want_requests, want_limits, added",
                         MERGE_IF_MISSING)
def test_merge_resources_if_missing(src_requests, src_limits, requests, limits, want_requests, want_limits, added):
    resources = {k: v for k, v in (("requests", src_requests), ("limits", src_limits)) if v is not None}
    template = {"spec": {"containers": [{"name": "default", "resources": resources}]}}
    built = _build(_container_task(requests, limits), _platform(template=template))
    assert _resources(_container(built.pod)) == (_qmap(want_requests), _qmap(want_limits))
    assert _codes(built, "propeller.base-template-resource") == added


# container_helper_test.go: TestExtractContainerResourcesFromPodTemplate's pod template
def _rr(cpu_req: str, cpu_lim: str, mem_req: str, mem_lim: str) -> Dict[str, Dict[str, str]]:
    return {"requests": {"cpu": cpu_req, "memory": mem_req}, "limits": {"cpu": cpu_lim, "memory": mem_lim}}


PRIMARY_RR = _rr("100m", "200m", "128Mi", "256Mi")
DEFAULT_RR = _rr("50m", "100m", "64Mi", "128Mi")
NAMED_RR = _rr("150m", "300m", "192Mi", "384Mi")
INIT_PRIMARY_RR = _rr("25m", "50m", "32Mi", "64Mi")
INIT_DEFAULT_RR = _rr("10m", "20m", "16Mi", "32Mi")
FULL_TEMPLATE = {"spec": {
    "containers": [{"name": "primary", "resources": PRIMARY_RR}, {"name": "default", "resources": DEFAULT_RR},
                   {"name": "named-container", "resources": NAMED_RR}],
    "initContainers": [{"name": "primary-init", "resources": INIT_PRIMARY_RR},
                       {"name": "default-init", "resources": INIT_DEFAULT_RR}]}}
ZERO_RR = {"requests": {"cpu": "0", "memory": "0"}, "limits": {"cpu": "0", "memory": "0"}}

EXTRACT = [
    # container_helper_test.go: TestExtractContainerResourcesFromPodTemplate
    # "extract resources from exact container name match"
    pytest.param(FULL_TEMPLATE, "named-container", False, NAMED_RR, id="exact container name match"),
    # TestExtractContainerResourcesFromPodTemplate "extract resources from primary container when no exact match"
    pytest.param(FULL_TEMPLATE, "non-existent-container", False, PRIMARY_RR, id="primary when no exact match"),
    # TestExtractContainerResourcesFromPodTemplate "extract resources from default container when no primary"
    pytest.param({"spec": {"containers": [{"name": "default", "resources": DEFAULT_RR}]}}, "non-existent-container",
                 False, DEFAULT_RR, id="default when no primary"),
    # TestExtractContainerResourcesFromPodTemplate "extract resources from init containers with primary-init"
    pytest.param(FULL_TEMPLATE, "non-existent-init", True, INIT_PRIMARY_RR, id="init containers primary-init"),
    # TestExtractContainerResourcesFromPodTemplate "extract resources from init containers with default-init"
    pytest.param({"spec": {"initContainers": [{"name": "default-init", "resources": INIT_DEFAULT_RR}]}},
                 "non-existent-init", True, INIT_DEFAULT_RR, id="init containers default-init"),
    # TestExtractContainerResourcesFromPodTemplate "return empty resources when no match found": nothing from the
    # template (the 1m); ApplyResourceOverrides then sets cpu and memory to zero (no platform task resources)
    pytest.param({"spec": {"containers": [{"name": "some-other-container",
                                           "resources": {"requests": {"cpu": "1m"}}}]}},
                 "non-existent-container", False, ZERO_RR, id="no match found"),
    # TestExtractContainerResourcesFromPodTemplate "return empty resources when pod template is nil"
    pytest.param(None, "any-container", False, ZERO_RR, id="pod template is nil"),
]


@pytest.mark.parametrize("template, name, init, expected", EXTRACT)
def test_extract_container_resources_from_pod_template(template, name, init, expected):
    # the container of that name (the primary container, or an init container of a pod task), without resources
    # of its own, gets the template container's resources (MergeExistingResources: nothing to clamp here)
    if init:
        spec = {"containers": [{"name": "main", "image": "img"}], "initContainers": [{"name": name, "image": "i"}]}
        task = _pod_task(spec, primary="main")
    else:
        task = _pod_task({"containers": [{"name": name, "image": "img"}]}, primary=name)
    built = _build(task, _platform(template=template))
    container = _container(built.pod, name, "initContainers" if init else "containers")
    assert _resources(container) == (_qmap(expected["requests"]), _qmap(expected["limits"]))
    added = _codes(built, "propeller.base-template-resource")
    assert bool(added) == (expected is not ZERO_RR)


def test_add_flyte_customizations_to_container_resources():
    # container_helper_test.go: TestAddFlyteCustomizationsToContainer (its resource assertions): a container
    # without resources, the node asks for 1024Mi/2048Mi of ephemeral storage, no platform resources (so
    # default-cpus/default-memory are the requests): cpu, memory and ephemeral storage, three keys each.
    # (ResourceCustomizationModeAssignResources is used by no caller in v1.16.8; for a container task, with no
    # resources of its own, MergeExistingResources gives the same.)
    platform = _platform({"cpu": "1000m", "memory": "1024Mi"})
    overrides = _overrides([(R.EPHEMERAL_STORAGE, "1024Mi")], [(R.EPHEMERAL_STORAGE, "2048Mi")])
    req, lim = _resources(_container(_build(_container_task(), platform, overrides=overrides).pod))
    assert set(req) == set(lim) == {"cpu", "memory", "ephemeral-storage"}
    assert (req["ephemeral-storage"], lim["ephemeral-storage"]) == (Q("1024Mi"), Q("2048Mi"))
    assert (req["cpu"], req["memory"]) == (Q("1000m"), Q("1024Mi"))


# container_helper_test.go: TestAddFlyteCustomizationsToContainer_Resources, for a pod task's primary container
# (MergeExistingResources). Its first two cases share one container: the second starts from what the first left.
CUSTOMIZE_RESOURCES = [
    # TestAddFlyteCustomizationsToContainer_Resources "merge requests/limits for pod tasks - primary container"
    pytest.param({"requests": {"cpu": "1"}, "limits": {"cpu": "10"}},
                 [(R.MEMORY, "2")], (), ({"memory": "2"}, {"memory": "20"}),
                 {"cpu": "1", "memory": "2"}, {"cpu": "10", "memory": "2"}, id="primary container"),
    # TestAddFlyteCustomizationsToContainer_Resources "enforce merge requests/limits for pod tasks - values from
    # task overrides": the node's 200 is clamped to 20
    pytest.param({"requests": {"cpu": "1", "memory": "2"}, "limits": {"cpu": "10", "memory": "2"}},
                 [(R.MEMORY, "2")], [(R.MEMORY, "200")], ({"memory": "2"}, {"memory": "20"}),
                 {"cpu": "1", "memory": "2"}, {"cpu": "10", "memory": "20"}, id="values from task overrides"),
    # TestAddFlyteCustomizationsToContainer_Resources "enforce requests/limits for pod tasks - values from
    # container": 100 cpus clamped to the platform's 10
    pytest.param({"requests": {"cpu": "100"}, "limits": {"cpu": "100"}}, (), (),
                 ({"cpu": "1", "memory": "2"}, {"cpu": "10", "memory": "20"}),
                 {"cpu": "10", "memory": "2"}, {"cpu": "10", "memory": "2"}, id="values from container"),
    # TestAddFlyteCustomizationsToContainer_Resources "ensure gpu resource overriding works for tasks with pod
    # templates": the pod spec's "gpu" key is renamed nvidia.com/gpu (SanitizeGPUResourceRequirements), the
    # node's 4 wins
    pytest.param({"requests": {"gpu": "2"}, "limits": {"gpu": "2"}}, [(R.GPU, "4")], [(R.GPU, "4")], NO_PLATFORM,
                 {"nvidia.com/gpu": "4"}, {"nvidia.com/gpu": "4"}, id="gpu overriding with pod templates"),
]


@pytest.mark.parametrize("resources, o_requests, o_limits, platform, want_requests, want_limits", CUSTOMIZE_RESOURCES)
def test_add_flyte_customizations_to_container_resources_table(resources, o_requests, o_limits, platform,
                                                                want_requests, want_limits):
    task = _pod_task({"containers": [{"name": "primary", "image": "img", "resources": resources}]})
    built = _build(task, _platform(*platform), overrides=_overrides(o_requests, o_limits))
    req, lim = _resources(_container(built.pod, "primary"))
    assert {k: req.get(k) for k in want_requests} == _qmap(want_requests)
    assert {k: lim.get(k) for k in want_limits} == _qmap(want_limits)
    assert "gpu" not in req and "gpu" not in lim


def test_add_flyte_customizations_to_container_validate_existing_resources():
    # container_helper_test.go: TestAddFlyteCustomizationsToContainer_ValidateExistingResources: a pod task's
    # other container (EnsureExistingResourcesInRange): 100/200 cpus clamped to the platform's 10, no defaults
    spec = {"containers": [{"name": "primary", "image": "img"},
                           {"name": "side", "image": "img",
                            "resources": {"requests": {"cpu": "100"}, "limits": {"cpu": "200"}}}]}
    built = _build(_pod_task(spec), _platform({"cpu": "1", "memory": "2"}, {"cpu": "10", "memory": "20"}))
    req, lim = _resources(_container(built.pod, "side"))
    assert (req["cpu"], lim["cpu"]) == (Q("10"), Q("10"))
    assert req["memory"].sign() == 0  # EnsureExistingResourcesInRange assigns no default


# container_helper_test.go: TestAddFlyteCustomizationsToContainerWithPodTemplate. The podTemplateResources are
# those of the base PodTemplate's "default" container; the container under test is "test-container".
PT_PLATFORM = ({"cpu": "10m", "memory": "32Mi"}, {"cpu": "500m", "memory": "2Gi"})
WITH_POD_TEMPLATE = [
    # TestAddFlyteCustomizationsToContainerWithPodTemplate "merge existing resources mode with pod template": the
    # container's values stay, ephemeral storage added
    pytest.param(True, {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "200m", "memory": "256Mi"}},
                 {"requests": {"cpu": "50m", "memory": "64Mi", "ephemeral-storage": "1Gi"},
                  "limits": {"cpu": "150m", "memory": "192Mi", "ephemeral-storage": "2Gi"}}, (), (),
                 {"cpu": "100m", "memory": "128Mi", "ephemeral-storage": "1Gi"},
                 {"cpu": "200m", "memory": "256Mi", "ephemeral-storage": "2Gi"},
                 id="merge existing resources mode with pod template"),
    # TestAddFlyteCustomizationsToContainerWithPodTemplate "merge existing resources mode with overrides and pod
    # template": the node's memory wins, cpu and ephemeral storage come from the template
    pytest.param(True, {"requests": {"memory": "128Mi"}, "limits": {"memory": "256Mi"}},
                 {"requests": {"cpu": "50m", "ephemeral-storage": "1Gi"},
                  "limits": {"cpu": "150m", "ephemeral-storage": "2Gi"}},
                 [(R.MEMORY, "512Mi")], [(R.MEMORY, "1Gi")],
                 {"cpu": "50m", "memory": "512Mi", "ephemeral-storage": "1Gi"},
                 {"cpu": "150m", "memory": "1Gi", "ephemeral-storage": "2Gi"},
                 id="merge existing resources mode with overrides and pod template"),
    # TestAddFlyteCustomizationsToContainerWithPodTemplate "ensure existing resources in range mode with pod
    # template": a non-primary container; 1000m/2000m lowered to the platform's 500m, memory from the template
    pytest.param(False, {"requests": {"cpu": "1000m"}, "limits": {"cpu": "2000m"}},
                 {"requests": {"memory": "64Mi"}, "limits": {"memory": "192Mi"}}, (), (),
                 {"cpu": "500m", "memory": "64Mi"}, {"cpu": "500m", "memory": "192Mi"},
                 id="ensure existing resources in range mode with pod template"),
    # TestAddFlyteCustomizationsToContainerWithPodTemplate "handle nil pod template resources": no base template;
    # the limits from the requests
    pytest.param(True, {"requests": {"cpu": "100m", "memory": "128Mi"}}, None, (), (),
                 {"cpu": "100m", "memory": "128Mi"}, {"cpu": "100m", "memory": "128Mi"},
                 id="handle nil pod template resources"),
]


@pytest.mark.parametrize("primary, resources, template_resources, o_requests, o_limits, want_requests, want_limits",
                         WITH_POD_TEMPLATE)
def test_add_flyte_customizations_with_pod_template(primary, resources, template_resources, o_requests, o_limits,
                                                    want_requests, want_limits):
    container = {"name": "test-container", "image": "img", "resources": resources}
    if primary:
        task = _pod_task({"containers": [container]}, primary="test-container")
    else:
        task = _pod_task({"containers": [{"name": "main", "image": "img"}, container]}, primary="main")
    template = None
    if template_resources is not None:
        template = {"spec": {"containers": [{"name": "default", "resources": template_resources}]}}
    built = _build(task, _platform(*PT_PLATFORM, template=template), overrides=_overrides(o_requests, o_limits))
    assert _resources(_container(built.pod, "test-container")) == (_qmap(want_requests), _qmap(want_limits))


# ===================================================================================== pod_helper_test.go
# TestToK8sPod: dummyExecContext's node resources; the pod is interruptible; empty platform resources
TOL_GPU = _tol("flyte/gpu", "dedicated")
TOL_EPHEMERAL = _tol("ephemeral-storage", "dedicated", operator="Exists")
RESOURCE_TOLERATIONS = dict(resource_tolerations={"ephemeral-storage": (TOL_EPHEMERAL,), "nvidia.com/gpu": (TOL_GPU,)})
CPU_EPH = [(R.CPU, "1024m"), (R.EPHEMERAL_STORAGE, "100M")]
DNS = {"nameservers": ["8.8.8.8", "8.8.4.4"],
       "options": [{"name": "ndots", "value": "1"}, {"name": "single-request-reopen"},
                   {"name": "timeout", "value": "1"}, {"name": "attempts", "value": "3"}],
       "searches": ["ns1.svc.cluster-domain.example", "my.dns.search.suffix"]}
#: what a PodSpec field is in Go when the JSON pod has no such key
GO_ZERO: Dict[str, Any] = {"tolerations": [], "nodeSelector": {}, "schedulerName": "", "securityContext": None,
                           "hostNetwork": False, "dnsConfig": None}

TO_K8S_POD = [
    # pod_helper_test.go: TestToK8sPod "WithGPU": the ephemeral-storage and the GPU resource tolerations
    pytest.param(RESOURCE_TOLERATIONS, CPU_EPH, CPU_EPH + [(R.GPU, "1")],
                 {"tolerations": _sorted_tolerations([TOL_GPU, TOL_EPHEMERAL])}, id="WithGPU"),
    # TestToK8sPod "NoGPU": the ephemeral-storage toleration only (its container-name assertion: not modelled)
    pytest.param(RESOURCE_TOLERATIONS, CPU_EPH, CPU_EPH, {"tolerations": [TOL_EPHEMERAL]}, id="NoGPU"),
    # TestToK8sPod "Default toleration, selector, scheduler"
    pytest.param(dict(default_node_selector={"nodeId": "123"}, scheduler_name="myScheduler"), CPU_EPH, CPU_EPH,
                 {"nodeSelector": {"nodeId": "123"}, "schedulerName": "myScheduler", "securityContext": None,
                  "tolerations": []}, id="Default toleration, selector, scheduler"),
    # TestToK8sPod "default-pod-sec-ctx"
    pytest.param(dict(default_pod_security_context={"runAsGroup": 1000}), (), (),
                 {"securityContext": {"runAsGroup": 1000}}, id="default-pod-sec-ctx"),
    # TestToK8sPod "enableHostNetwork"
    pytest.param(dict(enable_host_networking_pod=True), (), (), {"hostNetwork": True}, id="enableHostNetwork"),
    # TestToK8sPod "explicitDisableHostNetwork"
    pytest.param(dict(enable_host_networking_pod=False), (), (), {"hostNetwork": False},
                 id="explicitDisableHostNetwork"),
    # TestToK8sPod "skipSettingHostNetwork"
    pytest.param({}, (), (), {"hostNetwork": False}, id="skipSettingHostNetwork"),
    # TestToK8sPod "default-pod-dns-config"
    pytest.param(dict(default_pod_dns_config=DNS), (), (), {"dnsConfig": DNS}, id="default-pod-dns-config"),
]


@pytest.mark.parametrize("k8s, requests, limits, expected", TO_K8S_POD)
def test_to_k8s_pod(k8s, requests, limits, expected):
    platform = _platform({"cpu": "1024m", "memory": "1024Mi"}, **k8s)
    built = _build(_container_task(), platform, overrides=_overrides(requests, limits), interruptible=True)
    spec = built.pod["spec"]
    got = {k: spec.get(k, GO_ZERO[k]) for k in expected}
    if "tolerations" in got:
        got["tolerations"] = _sorted_tolerations(got["tolerations"])
    assert got == expected


def test_to_k8s_pod_environment_variables():
    # pod_helper_test.go: TestToK8sPod "environmentVariables": default-env-vars are added once, no name twice
    # (the execution's own FLYTE_INTERNAL_* variables are not modelled)
    platform = _platform({"cpu": "1024m", "memory": "1024Mi"}, default_env_vars={"foo": "bar"})
    task = _container_task()
    task.container.env.add(key="user", value="1")
    built = _build(task, platform, overrides=_overrides(), interruptible=True)
    for container in built.pod["spec"]["containers"]:
        names = [e["name"] for e in container.get("env") or []]
        assert len(names) == len(set(names))
    assert {"name": "foo", "value": "bar"} in _container(built.pod)["env"]


def test_to_k8s_pod_container_image():
    # pod_helper_test.go: TestToK8sPodContainerImage "Override container image"
    built = _build(_container_task(), _platform(), overrides=_overrides([(R.CPU, "1024m")], image="foo:latest"),
                   interruptible=True)
    assert _container(built.pod)["image"] == "foo:latest"


def test_pod_template_override():
    # pod_helper_test.go: TestPodTemplateOverride "Override pod template": the node's K8sPod replaces the pod,
    # its metadata is the pod's, and its primary_container_name names the primary container
    overrides = _overrides([(R.CPU, "1024m")])
    pod_template = overrides.pod_template
    pod_template.primary_container_name = "foo"
    pod_template.pod_spec.CopyFrom(_struct({"containers": [{"name": "foo", "image": "foo:latest",
                                                             "args": ["foo", "bar"]}]}))
    pod_template.metadata.labels["l"] = "a"
    pod_template.metadata.annotations["a"] = "b"
    built = _build(_container_task(), _platform(), overrides=overrides, interruptible=True)
    assert built.pod["metadata"]["labels"]["l"] == "a"
    assert built.pod["metadata"]["annotations"]["a"] == "b"
    (container,) = built.pod["spec"]["containers"]
    assert (container["name"], container["image"], container["args"]) == ("foo", "foo:latest", ["foo", "bar"])
    assert _resources(container)[0]["cpu"] == Q("1024m")  # the node's resources go to the override's primary


TO_K8S_POD_EXTENDED = [
    # pod_helper_test.go: TestToK8sPodExtendedResources "without overrides"
    pytest.param(_ext("nvidia-tesla-t4"), None,
                 [{"matchExpressions": [_nsr("gpu-node-label", "In", "nvidia-tesla-t4")]}],
                 [_tol("gpu-node-label", "nvidia-tesla-t4")], id="without overrides"),
    # TestToK8sPodExtendedResources "with overrides": the node's partitioned A100 replaces the task's T4
    pytest.param(_ext("nvidia-tesla-t4"), _ext("nvidia-tesla-a100", partition="1g.5gb"),
                 [{"matchExpressions": [_nsr("gpu-node-label", "In", "nvidia-tesla-a100"),
                                        _nsr("gpu-partition-size", "In", "1g.5gb")]}],
                 [_tol("gpu-node-label", "nvidia-tesla-a100"), _tol("gpu-partition-size", "1g.5gb")],
                 id="with overrides"),
]


@pytest.mark.parametrize("base, override, terms, tolerations", TO_K8S_POD_EXTENDED)
def test_to_k8s_pod_extended_resources(base, override, terms, tolerations):
    platform = _platform(gpu_device_node_label="gpu-node-label", gpu_partition_size_node_label="gpu-partition-size",
                         gpu_resource_name="nvidia.com/gpu")
    built = _build(_container_task(extended=base), platform, overrides=_overrides(limits=[(R.GPU, "1")],
                                                                                  extended=override),
                   interruptible=True)
    assert _terms(built.pod) == terms
    assert built.pod["spec"]["tolerations"] == tolerations


def test_update_pod_with_default_affinity_and_interruptible_node_selector_requirement():
    # pod_helper_test.go: TestUpdatePodWithDefaultAffinityAndInterruptibleNodeSelectorRequirement: three pods
    # from one configuration each get the default affinity with the requirement ANDed in once (the configured
    # default affinity is copied, never appended to)
    default = _nsr("default node affinity", "In", "exists")
    interruptible = _nsr("x/interruptible", "In", "true")
    affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": [default]}]}}}
    platform = _platform(default_affinity=affinity, interruptible_node_selector_requirement=interruptible)
    for _ in range(3):
        built = _build(_container_task(), platform, interruptible=True)
        assert _terms(built.pod) == [{"matchExpressions": [default, interruptible]}]


NEW = _nsr("new", "In", "new")
REQUIRED = _nsr("required", "In", "required")
PREFERRED = [{"weight": 1, "preference": {"matchExpressions": [_nsr("preferred", "In", "preferred")]}}]

ADD_REQUIRED = [
    # pod_helper_test.go: TestAddRequiredNodeSelectorRequirements "with empty node affinity": a first term
    pytest.param(None, [{"matchExpressions": [NEW]}], None, id="with empty node affinity"),
    # TestAddRequiredNodeSelectorRequirements "with existing node affinity": ANDed into the required term; the
    # preferred terms untouched
    pytest.param({"nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [REQUIRED]}]},
        "preferredDuringSchedulingIgnoredDuringExecution": PREFERRED}},
        [{"matchExpressions": [REQUIRED, NEW]}], PREFERRED, id="with existing node affinity"),
]


@pytest.mark.parametrize("affinity, terms, preferred", ADD_REQUIRED)
def test_add_required_node_selector_requirements(affinity, terms, preferred):
    # driven by the non-interruptible node selector requirement, which UpdatePod adds with this function
    spec: Dict[str, Any] = {"containers": [{"name": "primary", "image": "img"}]}
    if affinity is not None:
        spec["affinity"] = copy.deepcopy(affinity)
    built = _build(_pod_task(spec), _platform(non_interruptible_node_selector_requirement=NEW))
    assert _terms(built.pod) == terms
    assert built.pod["spec"]["affinity"]["nodeAffinity"].get("preferredDuringSchedulingIgnoredDuringExecution") == \
        preferred


# TestApplyInterruptibleNodeAffinity runs under TestPodSetup with testdata/config.yaml
INTERRUPTIBLE_CONFIG = dict(interruptible_node_selector_requirement=_nsr("x/interruptible", "In", "true"),
                            non_interruptible_node_selector_requirement=_nsr("x/interruptible", "DoesNotExist"))
EXISTING = _nsr("node selector requirement", "In", "exists")

INTERRUPTIBLE_AFFINITY = [
    # pod_helper_test.go: TestApplyInterruptibleNodeAffinity "WithInterruptibleNodeSelectorRequirement"
    pytest.param(True, None, [{"matchExpressions": [_nsr("x/interruptible", "In", "true")]}],
                 id="WithInterruptibleNodeSelectorRequirement"),
    # TestApplyInterruptibleNodeAffinity "WithNonInterruptibleNodeSelectorRequirement"
    pytest.param(False, None, [{"matchExpressions": [_nsr("x/interruptible", "DoesNotExist")]}],
                 id="WithNonInterruptibleNodeSelectorRequirement"),
    # TestApplyInterruptibleNodeAffinity "WithExistingAffinityWithInterruptibleNodeSelectorRequirement"
    pytest.param(True, {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": [EXISTING]}]}}},
        [{"matchExpressions": [EXISTING, _nsr("x/interruptible", "In", "true")]}],
        id="WithExistingAffinityWithInterruptibleNodeSelectorRequirement"),
]


@pytest.mark.parametrize("interruptible, affinity, terms", INTERRUPTIBLE_AFFINITY)
def test_apply_interruptible_node_affinity(interruptible, affinity, terms):
    spec: Dict[str, Any] = {"containers": [{"name": "primary", "image": "img"}]}
    if affinity is not None:
        spec["affinity"] = copy.deepcopy(affinity)
    built = _build(_pod_task(spec), _platform(**INTERRUPTIBLE_CONFIG), interruptible=interruptible)
    assert _terms(built.pod) == terms


# TestApplyGPUNodeSelectors: its basePodSpec has one container with a GPU limit of 1 (and no request)
GPU_LABELS = dict(gpu_resource_name="nvidia.com/gpu", gpu_device_node_label="gpu-device",
                  gpu_partition_size_node_label="gpu-partition-size")
A100 = "nvidia-tesla-a100"
DEVICE_NSR = _nsr("gpu-device", "In", A100)
DEVICE_TOL = _tol("gpu-device", A100)
UNPARTITIONED_NSR = _nsr("gpu-unpartitioned", "In", "true")
UNPARTITIONED_TOL = _tol("gpu-unpartitioned", "true")

GPU_NODE_SELECTORS = [
    # pod_helper_test.go: TestApplyGPUNodeSelectors "without gpu resource": no affinity at all
    pytest.param({}, False, _ext(A100), None, None, id="without gpu resource"),
    # TestApplyGPUNodeSelectors "with gpu device spec only"
    pytest.param({}, True, _ext(A100), [DEVICE_NSR], [DEVICE_TOL], id="with gpu device spec only"),
    # TestApplyGPUNodeSelectors "with gpu device and partition size spec"
    pytest.param({}, True, _ext(A100, partition="1g.5gb"),
                 [DEVICE_NSR, _nsr("gpu-partition-size", "In", "1g.5gb")],
                 [DEVICE_TOL, _tol("gpu-partition-size", "1g.5gb")], id="with gpu device and partition size spec"),
    # TestApplyGPUNodeSelectors "with unpartitioned gpu device spec": DoesNotExist on the partition label, no
    # toleration for it
    pytest.param({}, True, _ext(A100, unpartitioned=True),
                 [DEVICE_NSR, _nsr("gpu-partition-size", "DoesNotExist")], [DEVICE_TOL],
                 id="with unpartitioned gpu device spec"),
    # TestApplyGPUNodeSelectors "with unpartitioned gpu device spec with custom node selector and toleration"
    pytest.param(dict(gpu_unpartitioned_node_selector_requirement=UNPARTITIONED_NSR,
                      gpu_unpartitioned_toleration=UNPARTITIONED_TOL), True, _ext(A100, unpartitioned=True),
                 [DEVICE_NSR, UNPARTITIONED_NSR], [DEVICE_TOL, UNPARTITIONED_TOL],
                 id="with unpartitioned gpu device spec with custom node selector and toleration"),
]


@pytest.mark.parametrize("k8s, gpu, accelerator, expressions, tolerations", GPU_NODE_SELECTORS)
def test_apply_gpu_node_selectors(k8s, gpu, accelerator, expressions, tolerations):
    task = _container_task(limits=[(R.GPU, "1")] if gpu else (), extended=accelerator)
    built = _build(task, _platform(**GPU_LABELS, **k8s))
    spec = built.pod["spec"]
    if expressions is None:  # nothing added: the pod keeps the empty affinity UpdatePod gave it
        assert spec["affinity"] == {} and "tolerations" not in spec
    else:
        assert _terms(built.pod) == [{"matchExpressions": expressions}]
        assert spec["tolerations"] == tolerations


T4 = _ext("nvidia-tesla-t4")
EXT_OVERRIDES = [
    # pod_helper_test.go: TestApplyExtendedResourcesOverrides "base and overrides are nil": nothing is added
    pytest.param(None, None, None, None, [], id="base and overrides are nil"),
    # TestApplyExtendedResourcesOverrides "base is nil": the node's accelerator
    pytest.param(None, T4, [_nsr("gpu-device", "In", "nvidia-tesla-t4")], [_tol("gpu-device", "nvidia-tesla-t4")],
                 [], id="base is nil"),
    # TestApplyExtendedResourcesOverrides "overrides is nil": the task's accelerator
    pytest.param(T4, None, [_nsr("gpu-device", "In", "nvidia-tesla-t4")], [_tol("gpu-device", "nvidia-tesla-t4")],
                 [], id="overrides is nil"),
    # TestApplyExtendedResourcesOverrides "merging": the node's accelerator replaces the task's whole (no partition
    # size left over from the task's)
    pytest.param(_ext(A100, partition="1g.5gb"), _ext(A100, unpartitioned=True),
                 [DEVICE_NSR, _nsr("gpu-partition-size", "DoesNotExist")], [DEVICE_TOL], [], id="merging"),
    # TestApplyExtendedResourcesOverridesSharedMemory "base is nil"
    pytest.param(None, _ext(shm=("flyte-shared-memory", "/dev/shm")), None, None, ["flyte-shared-memory"],
                 id="SharedMemory base is nil"),
    # TestApplyExtendedResourcesOverridesSharedMemory "overrides is nil"
    pytest.param(_ext(shm=("flyte-shared-memory", "/dev/shm")), None, None, None, ["flyte-shared-memory"],
                 id="SharedMemory overrides is nil"),
    # TestApplyExtendedResourcesOverridesSharedMemory "merging": the node's shared memory replaces the task's
    pytest.param(_ext(shm=("flyte-shared-memory", "/dev/shm")), _ext(shm=("flyte-shared-memory-v2", "/dev/shm")),
                 None, None, ["flyte-shared-memory-v2"], id="SharedMemory merging"),
]


@pytest.mark.parametrize("base, override, expressions, tolerations, volumes", EXT_OVERRIDES)
def test_apply_extended_resources_overrides(base, override, expressions, tolerations, volumes):
    task = _container_task(limits=[(R.GPU, "1")], extended=base)
    built = _build(task, _platform(**GPU_LABELS), overrides=_overrides(extended=override))
    spec = built.pod["spec"]
    assert _terms(built.pod) == (None if expressions is None else [{"matchExpressions": expressions}])
    assert spec.get("tolerations") == tolerations
    assert [v["name"] for v in spec.get("volumes") or []] == volumes
    mounts = [(m["name"], m["mountPath"]) for m in _container(built.pod).get("volumeMounts") or []]
    assert mounts == [(name, "/dev/shm") for name in volumes]


def _shm(name: str = "", path: str = "", size: str = "") -> tasks_pb2.ExtendedResources:
    e = tasks_pb2.ExtendedResources()
    e.shared_memory.mount_name, e.shared_memory.mount_path, e.shared_memory.size_limit = name, path, size
    return e


PRIMARY = {"name": "primary", "image": "img"}
SHM = ("flyte-shared-memory", "/dev/shm")

SHARED_MEMORY_ERRORS = [
    # pod_helper_test.go: TestApplySharedMemoryErrors "No mount path name" ("No mount name" is in
    # test_preview_propeller.py)
    pytest.param({"containers": [PRIMARY]}, "primary", _shm(name="flyte-shared-memory"), "path is not set",
                 id="No mount path name"),
    # TestApplySharedMemoryErrors "No primary container": the pod spec has only "secondary" (refused before the
    # shared memory is looked at)
    pytest.param({"containers": [{"name": "secondary", "image": "img"}]}, "primary", _shm(*SHM), "primary",
                 id="No primary container"),
    # TestApplySharedMemoryErrors "Volume already exists in spec"
    pytest.param({"containers": [PRIMARY], "volumes": [{"name": "flyte-shared-memory"}]}, "primary", _shm(*SHM),
                 "already named flyte-shared-memory in the pod spec", id="Volume already exists in spec"),
    # TestApplySharedMemoryErrors "Volume already in container"
    pytest.param({"containers": [dict(PRIMARY, volumeMounts=[{"name": "flyte-shared-memory",
                                                              "mountPath": "/dev/shm"}])]},
                 "primary", _shm(*SHM), "already named flyte-shared-memory in the container",
                 id="Volume already in container"),
    # TestApplySharedMemoryErrors "Mount path already in container" (the first of the two cases of this name)
    pytest.param({"containers": [dict(PRIMARY, volumeMounts=[{"name": "flyte-shared-memory-v2",
                                                              "mountPath": "/dev/shm"}])]},
                 "primary", _shm(*SHM), "/dev/shm is already mounted in the container",
                 id="Mount path already in container"),
    # TestApplySharedMemoryErrors "Mount path already in container" (the second case of this name: an
    # unparseable size limit; Go's message is "Unable to parse size limit: bad-name")
    pytest.param({"containers": [PRIMARY]}, "primary", _shm(*SHM, size="bad-name"),
                 ("unable to parse size limit: bad-name",), id="Mount path already in container (size limit bad-name)"),
]


@pytest.mark.parametrize("spec, primary, shm, message", SHARED_MEMORY_ERRORS)
def test_apply_shared_memory_errors(spec, primary, shm, message):
    refusal = _refusal(_pod_task(spec, primary=primary, extended=shm), _platform())
    for fragment in (message,) if isinstance(message, str) else message:
        assert fragment in refusal


SHARED_MEMORY = [
    # pod_helper_test.go: TestApplySharedMemory "No size limit works": a zero sizeLimit (Go's &quantity)
    pytest.param(_shm(*SHM), "0", id="No size limit works"),
    # TestApplySharedMemory "With size limits works"
    pytest.param(_shm(*SHM, size="2Gi"), "2Gi", id="With size limits works"),
]


@pytest.mark.parametrize("shm, size", SHARED_MEMORY)
def test_apply_shared_memory(shm, size):
    # on a pod task whose primary container is "primary", as in Go: one volume, one mount
    built = _build(_pod_task({"containers": [PRIMARY]}, extended=shm), _platform())
    assert built.pod["spec"]["volumes"] == [{"name": SHM[0], "emptyDir": {"medium": "Memory", "sizeLimit": size}}]
    assert _container(built.pod)["volumeMounts"] == [{"name": SHM[0], "mountPath": SHM[1]}]
    assert not [f for f in built.findings if f.level == "error"]


# TestAddTolerationsForExtendedResources: nvidia.com/gpu and foo/bar are configured, foo/baz is not; the pod
# already tolerates "foo". Go's assertions: 3 tolerations in this order (sets.List() sorts the resource names).
FOO = _tol("foo", operator="Exists")
GPU_EXISTS = _tol("nvidia.com/gpu", operator="Exists")
FOO_BAR = _tol("foo/bar", operator="Exists")
EXTENDED = {"requests": {"nvidia.com/gpu": "1", "foo/bar": "1", "foo/baz": "1"}}

EXTENDED_TOLERATIONS = [
    # pod_helper_test.go: TestAddTolerationsForExtendedResources, first pod: the requests on a container
    pytest.param({"containers": [dict(PRIMARY, resources=EXTENDED)], "tolerations": [FOO]},
                 [FOO, FOO_BAR, GPU_EXISTS], id="containers"),
    # TestAddTolerationsForExtendedResources, second pod: the requests on an init container
    pytest.param({"containers": [PRIMARY], "initContainers": [{"name": "init", "image": "i", "resources": EXTENDED}],
                  "tolerations": [FOO]}, [FOO, FOO_BAR, GPU_EXISTS], id="initContainers"),
    # TestAddTolerationsForExtendedResources, third pod: the GPU toleration is already there, not added twice
    pytest.param({"containers": [dict(PRIMARY, resources=EXTENDED)], "tolerations": [FOO, GPU_EXISTS]},
                 [FOO, GPU_EXISTS, FOO_BAR], id="existing toleration"),
]


@pytest.mark.parametrize("spec, tolerations", EXTENDED_TOLERATIONS)
def test_add_tolerations_for_extended_resources(spec, tolerations):
    platform = _platform(gpu_resource_name="nvidia.com/gpu",
                         add_tolerations_for_extended_resources=("nvidia.com/gpu", "foo/bar"))
    built = _build(_pod_task(spec), platform)
    assert built.pod["spec"]["tolerations"] == tolerations
    added = [f.after for f in built.findings if f.code == "propeller.extended-resource-toleration"]
    assert len(added) == len([t for t in tolerations if t not in spec["tolerations"]])


# ====================================================================================== property
# Flyte's built-in platform limits (task_resource_provider.go): cpu 2, memory 1Gi
_CPU_MAX_MILLI = 2000
_MEM_MAX = 1 << 30


def _cpu_text(milli: int, style: int) -> str:
    if style == 0:
        return f"{milli}m"
    if style == 1 and milli % 1000 == 0:
        return str(milli // 1000)
    return f"{milli // 1000}.{milli % 1000:03d}"  # "0.250", "1.500": a decimal fraction


def _mem_text(n: int, style: int) -> str:
    for suffix, factor in (("Gi", 1 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10), ("M", 10 ** 6), ("k", 10 ** 3)):
        if style == 1 and n % factor == 0:
            return f"{n // factor}{suffix}"
    if style == 2 and n % 1000 == 0:
        return f"{n // 1000}e3"
    return str(n)


_memory_bytes = st.one_of(st.integers(1, _MEM_MAX), st.integers(1, 1024).map(lambda x: x << 20),
                          st.integers(1, 1073).map(lambda x: x * 10 ** 6))


@st.composite
def _request_limit(draw: Any, values: Any, text: Any) -> Tuple[Optional[str], Optional[str]]:
    """(request, limit) texts, each possibly unset, the request never above the limit."""
    a, b = sorted((draw(values), draw(values)))
    request = text(a, draw(st.integers(0, 2))) if draw(st.booleans()) else None
    limit = text(b, draw(st.integers(0, 2))) if draw(st.booleans()) else None
    return request, limit


@given(cpu=_request_limit(st.integers(1, _CPU_MAX_MILLI), _cpu_text), memory=_request_limit(_memory_bytes, _mem_text))
def test_within_the_builtin_limits_the_task_gets_what_it_asked_for(cpu, memory):
    # a container task's own requests and limits, already within Flyte's built-in platform limits and with each
    # request at most its limit, reach the primary container unchanged (ApplyResourceOverrides only fills the
    # unset ones); compared as quantities, whatever the spelling
    requests = [(n, r) for n, (r, _) in ((R.CPU, cpu), (R.MEMORY, memory)) if r is not None]
    limits = [(n, lim) for n, (_, lim) in ((R.CPU, cpu), (R.MEMORY, memory)) if lim is not None]
    built = _build(_container_task(requests, limits), Platform())
    req, lim = _resources(_container(built.pod))
    for key, (request, limit) in (("cpu", cpu), ("memory", memory)):
        if request is not None:
            assert req[key] == Q(request)
        if limit is not None:
            assert lim[key] == Q(limit)
        assert req[key] <= lim[key]
    assert not [f for f in built.findings if f.code.endswith("-clamped")]
