"""flyteadmin 1.16 in Python: registration checks and execution-time defaults.

Each case cites the Go test (or the Go code, when no test covers the rule) it reproduces; expected
values are worked out from flyteadmin/pkg/manager/impl/validation/task_validator(_test).go,
execution_manager(_test).go and flyteplugins' flytek8s/container_helper(_test).go at flyte v1.16.8.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

import pytest
from flyteidl.core import identifier_pb2, interface_pb2, tasks_pb2
from google.protobuf import struct_pb2
from hypothesis import given
from hypothesis import strategies as st

from flytekitplugins.resources.platform import Platform, TaskResources, TaskResourceSet, load_platform
from flytekitplugins.resources.preview.admin import check_registration, compile_task_defaults
from flytekitplugins.resources.preview.flytek8s import adjust_or_default_resource, platform_resources
from flytekitplugins.resources.quantity import Quantity

R = tasks_pb2.Resources
NAMES = {"cpu": R.CPU, "gpu": R.GPU, "memory": R.MEMORY, "ephemeral_storage": R.EPHEMERAL_STORAGE,
         "storage": R.STORAGE, "unknown": R.UNKNOWN}


def q(s: str) -> Quantity:
    return Quantity.parse(s)


def entries(pairs: Sequence[Tuple[str, str]]) -> List[tasks_pb2.Resources.ResourceEntry]:
    return [R.ResourceEntry(name=NAMES[n], value=v) for n, v in pairs]


def container_task(requests=(), limits=(), *, image="repo/img:1", resources=True, name="wf.t"):
    t = tasks_pb2.TaskTemplate(
        id=identifier_pb2.Identifier(
            resource_type=identifier_pb2.TASK, project="p", domain="d", name=name, version="v"),
        type="python-task",
        metadata=tasks_pb2.TaskMetadata(runtime=tasks_pb2.RuntimeMetadata(version="1.16.0")),
        interface=interface_pb2.TypedInterface(),
        container=tasks_pb2.Container(image=image),
    )
    if resources:
        t.container.resources.CopyFrom(R(requests=entries(requests), limits=entries(limits)))
    return t


def pod_task(pod_spec: Optional[dict]) -> tasks_pb2.TaskTemplate:
    t = container_task(resources=False)
    t.ClearField("container")
    t.type = "sidecar"
    k8s_pod = tasks_pb2.K8sPod()
    if pod_spec is not None:
        s = struct_pb2.Struct()
        s.update(pod_spec)
        k8s_pod.pod_spec.CopyFrom(s)
    t.k8s_pod.CopyFrom(k8s_pod)
    return t


def platform_with(defaults: Dict[str, str] = {}, limits: Dict[str, str] = {}) -> Platform:  # noqa: B006
    return Platform(task_resources=TaskResources(
        defaults=TaskResourceSet(**{k: q(v) for k, v in defaults.items()}),
        limits=TaskResourceSet(**{k: q(v) for k, v in limits.items()}),
    ))


# task_validator_test.go: getMockTaskResources
MOCK = platform_with(limits={"memory": "500Mi", "cpu": "200m", "gpu": "8"})
EMPTY = platform_with()


def codes(findings) -> List[Tuple[str, Optional[str]]]:
    return [(f.code, f.field) for f in findings]


# ---------------------------------------------------------------------------------------- registration
REGISTRATION_CASES = [
    # task_validator_test.go: TestValidateTask (container: cpu 1.5Gi above the 200m platform limit)
    ("container-request-above-platform", container_task([("cpu", "1.5Gi"), ("memory", "200m")]), MOCK,
     [("admin.request-above-platform-limit", "requests.cpu")]),
    # task_validator_test.go: TestValidateTask (K8sPod without a pod spec)
    ("pod-without-spec", pod_task(None), MOCK, [("admin.pod-spec-missing", "k8s_pod.pod_spec")]),
    # task_validator_test.go: TestValidateTask (pod spec container requesting cpu 1.5Gi)
    ("pod-request-above-platform", pod_task({"containers": [{"resources": {"requests": {"cpu": "1.5Gi"}}}]}), MOCK,
     [("admin.request-above-platform-limit", "containers[0].requests.cpu")]),
    # task_validator_test.go: TestValidateTask (pod spec container requesting cpu 200m: accepted)
    ("pod-ok", pod_task({"containers": [{"resources": {"requests": {"cpu": "200m"}}}]}), MOCK, []),
    # task_validator_test.go: TestValidateTaskEmptyContainer (no target: nothing to check)
    ("no-target", (lambda t: (t.ClearField("container"), t)[1])(container_task()), MOCK, []),
    # task_validator_test.go: TestValidateTaskEmptyImage
    ("empty-image", container_task(image=""), MOCK, [("admin.missing-image", "container.image")]),
    # task_validator_test.go: TestValidateTaskEmptyType / EmptyMetadata / EmptyRuntimeVersion / EmptyTypedInterface
    ("empty-type", (lambda t: (setattr(t, "type", ""), t)[1])(container_task()), MOCK, [("admin.missing-type", None)]),
    ("no-metadata", (lambda t: (t.ClearField("metadata"), t)[1])(container_task()), MOCK,
     [("admin.missing-metadata", None)]),
    ("empty-runtime-version", (lambda t: (setattr(t.metadata.runtime, "version", ""), t)[1])(container_task()), MOCK,
     [("admin.missing-runtime-version", "metadata.runtime.version")]),
    ("no-interface", (lambda t: (t.ClearField("interface"), t)[1])(container_task()), MOCK,
     [("admin.missing-interface", None)]),
    # task_validator_test.go: TestAddResourceEntryToMap (a second GPU entry; an unparseable memory)
    ("duplicate-gpu", container_task([("gpu", "2"), ("gpu", "2")]), EMPTY, [("admin.duplicate-entry", "requests.gpu")]),
    ("memory-foo", container_task([("memory", "foo")]), EMPTY, [("admin.invalid-quantity", "requests.memory")]),
    # task_validator_test.go: TestRequestedResourcesToQuantity_InvalidValues
    ("cpu-100foo", container_task([("cpu", "100foo")]), EMPTY, [("admin.invalid-quantity", "requests.cpu")]),
    ("gpu-100n", container_task([("gpu", "100n")]), EMPTY, [("admin.gpu-not-whole", "requests.gpu")]),
    # task_validator_test.go: TestValidateTaskResources (everything consistent, no platform limits)
    ("consistent", container_task([("cpu", "100Mi"), ("gpu", "2"), ("ephemeral_storage", "500Mi")],
                                  [("cpu", "200Mi"), ("gpu", "2"), ("ephemeral_storage", "501Mi")]), EMPTY, []),
    # task_validator_test.go: TestValidateTaskResources_ParsingIssue (200Q, in requests and in limits)
    ("parsing-issue", container_task([("cpu", "200Q")], [("cpu", "200Q")]), EMPTY,
     [("admin.invalid-quantity", "requests.cpu"), ("admin.invalid-quantity", "limits.cpu")]),
    # task_validator_test.go: TestValidateTaskResources_LimitLessThanRequested
    ("request-above-limit", container_task([("cpu", "1.5Gi")], [("cpu", "1Gi")]), EMPTY,
     [("admin.request-above-limit", "requests.cpu")]),
    # task_validator_test.go: TestValidateTaskResources_LimitGreaterThanConfig (Go stops at the limit)
    ("limit-above-platform", container_task([("cpu", "1.5Gi")], [("cpu", "1.5Gi")]),
     platform_with(limits={"cpu": "1Gi"}),
     [("admin.limit-above-platform-limit", "limits.cpu"), ("admin.request-above-platform-limit", "requests.cpu")]),
    # task_validator_test.go: TestValidateTaskResources_DefaultGreaterThanConfig
    ("default-above-platform", container_task([("cpu", "1.5Gi")]), platform_with(limits={"cpu": "1Gi"}),
     [("admin.request-above-platform-limit", "requests.cpu")]),
    # task_validator_test.go: TestValidateTaskResources_GPULimitNotEqualToRequested
    ("gpu-request-not-limit", container_task([("gpu", "2")], [("gpu", "1")]), EMPTY,
     [("admin.gpu-request-not-limit", "requests.gpu")]),
    # task_validator_test.go: TestValidateTaskResources_GPULimitGreaterThanConfig
    ("gpu-above-platform", container_task([("gpu", "2")], [("gpu", "2")]), platform_with(limits={"gpu": "1"}),
     [("admin.request-above-platform-limit", "requests.gpu")]),
    # task_validator_test.go: TestValidateTaskResources_GPUDefaultGreaterThanConfig
    ("gpu-default-above-platform", container_task([("gpu", "2")]), platform_with(limits={"gpu": "1"}),
     [("admin.request-above-platform-limit", "requests.gpu")]),
    # task_validator.go validateResource: only resources with a request are looked at
    ("limit-alone-not-checked", container_task([], [("cpu", "64"), ("memory", "1Ti")]), MOCK, []),
    # task_validator.go validateResource: Value() rounds up to whole units, so 1500m vs 1100m passes
    ("whole-cpu-comparison", container_task([("cpu", "1500m")], [("cpu", "1100m")]), EMPTY, []),
    ("whole-cpu-comparison-platform", container_task([("cpu", "1800m")]), platform_with(limits={"cpu": "1500m"}), []),
    ("whole-cpu-comparison-fails", container_task([("cpu", "2100m")]), platform_with(limits={"cpu": "2"}),
     [("admin.request-above-platform-limit", "requests.cpu")]),
    # task_validator.go requestedResourcesToQuantity: STORAGE and UNKNOWN entries are skipped
    ("storage-skipped", container_task([("storage", "nonsense"), ("unknown", "x")]), MOCK, []),
    # task_validator.go: the whole-GPU check covers limits too
    ("gpu-limit-not-whole", container_task([], [("gpu", "0.5")]), EMPTY, [("admin.gpu-not-whole", "limits.gpu")]),
    # task_validator.go validateK8sPod: nvidia.com/gpu is not a flyteidl name, init containers are not looked at
    ("pod-vendor-gpu-not-checked", pod_task({"containers": [{"name": "p", "resources": {
        "requests": {"nvidia.com/gpu": "16"}, "limits": {"nvidia.com/gpu": "16"}}}],
        "initContainers": [{"name": "i", "resources": {"requests": {"cpu": "64"}}}]}), MOCK, []),
    # task_validator.go resourceListToQuantity: ephemeral-storage maps to EPHEMERAL_STORAGE
    ("pod-ephemeral-above-limit", pod_task({"containers": [{"name": "p", "resources": {
        "requests": {"ephemeral-storage": "2Gi"}, "limits": {"ephemeral-storage": "1Gi"}}}]}), EMPTY,
     [("admin.request-above-limit", "containers[p].requests.ephemeral_storage")]),
    # task_validator.go validateK8sPod: a pod spec that does not decode (UnmarshalStructToObj) is refused
    ("pod-bad-quantity", pod_task({"containers": [{"name": "p", "resources": {"requests": {"cpu": "1 core"}}}]}),
     EMPTY, [("admin.pod-spec-invalid", "k8s_pod.pod_spec.containers[0].resources.requests.cpu")]),
    # resource.Quantity UnmarshalJSON: null decodes as zero, a number as its digits, blanks are trimmed
    ("pod-null-and-number", pod_task({"containers": [{"name": "p", "resources": {
        "requests": {"cpu": None, "memory": 1024}, "limits": {"memory": " 1Ki "}}}]}), EMPTY, []),
    ("pod-containers-not-list", pod_task({"containers": {"name": "p"}}), EMPTY,
     [("admin.pod-spec-invalid", "k8s_pod.pod_spec.containers")]),
    # task_validator.go validateResource: a gpu in a pod spec is compared, but never checked for wholeness
    ("pod-gpu-above-platform", pod_task({"containers": [{"name": "p", "resources": {"requests": {"gpu": "9"}}}]}),
     MOCK, [("admin.request-above-platform-limit", "containers[p].requests.gpu")]),
]


@pytest.mark.parametrize("template,platform,expected", [c[1:] for c in REGISTRATION_CASES],
                         ids=[c[0] for c in REGISTRATION_CASES])
def test_check_registration(template, platform, expected):
    findings = check_registration(template, platform)
    assert codes(findings) == expected
    assert all(f.level == "error" and f.task == "wf.t" for f in findings)


def test_registration_message_names_task_field_value_and_rule_file(tmp_path):
    f = tmp_path / "admin.yaml"
    f.write_text("task_resources:\n  limits:\n    cpu: 4\n")
    platform = load_platform([str(f)])
    [finding] = check_registration(container_task([("cpu", "8")]), platform, task="wf.train")
    assert finding.code == "admin.request-above-platform-limit"
    assert "task 'wf.train'" in finding.text() and "requests.cpu='8'" in finding.text()
    assert finding.task == "wf.train" and "wf.train" not in finding.message  # the place is data, not text
    assert f"task_resources.limits.cpu ({f})" in finding.message
    assert finding.source == f"task_resources.limits.cpu ({f})"
    assert "\n" not in finding.message


def test_registration_uses_builtin_platform_limits():
    # task_resource_provider.go: limits cpu 2, memory 1Gi, gpu 1 when nothing is configured
    findings = check_registration(container_task([("cpu", "3"), ("memory", "2Gi"), ("gpu", "2")]), Platform())
    assert sorted(f.field for f in findings) == ["requests.cpu", "requests.gpu", "requests.memory"]
    assert all("Flyte's default" in f.message for f in findings)


# task_validator_test.go: TestIsWholeNumber
@pytest.mark.parametrize("value,whole", [(v, True) for v in ("1Mi", "1M", "2Gi", "2G", "3Ti", "3T", "4", "7000m")]
                         + [(v, False) for v in ("100n", "7m")])
def test_is_whole_number(value, whole):
    assert (q(value).milli_value() % 1000 == 0) is whole


# task_validator_test.go: TestTaskResourceSetToMap / TestResourceListToQuantity (Value() of each)
@pytest.mark.parametrize("value,expected", [("100Mi", 104857600), ("2", 2), ("1.5Gi", 1610612736), ("500Mi", 524288000),
                                            ("1500m", 2), ("100n", 1), ("-1500m", -2), ("0", 0)])
def test_go_value(value, expected):
    assert q(value).value() == expected


# ---------------------------------------------------------------------------------------- AdjustOrDefaultResource
ADJUST_CASES = [
    # container_helper_test.go: TestAssignResource
    ("leave valid", "1", "2", "10", "20", "1", "2"),
    ("request from limit", "0", "2", "10", "20", "2", "2"),
    ("limit from request", "2", "0", "10", "20", "2", "2"),
    ("platform defaults", "0", "0", "10", "20", "10", "10"),
    ("request > limit", "10", "2", "10", "20", "2", "2"),
    ("limit > platform limit", "1", "40", "10", "20", "1", "20"),
    ("request, limit > platform limit", "40", "50", "10", "20", "20", "20"),
    # container_helper_test.go: TestValidateResource (ensureResourceRange, platform limit 5)
    ("range: request > limit", "4", "3", "0", "5", "3", "3"),
    ("range: request > platform limit", "6", "5", "0", "5", "5", "5"),
    ("range: limit > platform limit", "4", "6", "0", "5", "4", "5"),
    ("range: nothing to do", "1", "2", "0", "5", "1", "2"),
    # container_helper.go ensureResourceLimit: a zero platform limit clamps nothing
    ("no platform limit", "64", "0", "0", "0", "64", "64"),
]


@pytest.mark.parametrize("request_,limit,pdef,plim,want_req,want_lim", [c[1:] for c in ADJUST_CASES],
                         ids=[c[0] for c in ADJUST_CASES])
def test_adjust_or_default_resource(request_, limit, pdef, plim, want_req, want_lim):
    r = adjust_or_default_resource(q(request_), q(limit), q(pdef), q(plim))
    assert (r.request, r.limit) == (q(want_req), q(want_lim))


milli = st.integers(min_value=0, max_value=10**7).map(lambda n: Quantity.parse(f"{n}m"))


@given(milli, milli, milli, milli)
def test_adjust_or_default_resource_invariants(request_, limit, pdef, plim):
    # container_helper.go ensureResourceRange: never above the platform limit, request never above the limit
    r = adjust_or_default_resource(request_, limit, pdef, plim)
    if plim.sign():
        assert r.request <= plim and r.limit <= plim
    assert r.request <= r.limit or not r.limit.sign()
    # values that already fit are kept as given
    if request_.sign() and limit >= request_ and (not plim.sign() or plim >= limit):
        assert (r.request, r.limit) == (request_, limit)
    # an unset limit becomes the (clamped) request
    if not limit.sign():
        assert r.limit == r.request


def test_adjust_or_default_resource_accepts_none_as_unset():
    r = adjust_or_default_resource(None, None, None, None)
    assert (str(r.request), str(r.limit)) == ("0", "0")


# ---------------------------------------------------------------------------------------- setCompiledTaskDefaults
def resources_of(t: tasks_pb2.TaskTemplate) -> Tuple[List[Tuple[str, str]], List[Tuple[str, str]]]:
    inv = {v: k for k, v in NAMES.items()}
    res = t.container.resources
    return ([(inv[e.name], e.value) for e in res.requests], [(inv[e.name], e.value) for e in res.limits])


COMPILE_CASES = [
    # execution_manager_test.go: TestSetDefaults
    ("set-defaults", [("cpu", "250m")], [],
     dict(defaults={"cpu": "200m", "gpu": "4", "memory": "200Gi", "ephemeral_storage": "500Mi"},
          limits={"cpu": "300m", "gpu": "8", "memory": "500Gi", "ephemeral_storage": "501Mi"}),
     [("cpu", "250m"), ("memory", "200Gi"), ("ephemeral_storage", "500Mi"), ("gpu", "4")],
     [("cpu", "250m"), ("memory", "200Gi"), ("ephemeral_storage", "500Mi"), ("gpu", "4")]),
    # execution_manager_test.go: TestSetDefaults_MissingRequests_ExistingRequestsPreserved
    ("existing-requests-preserved", [("cpu", "250m")], [],
     dict(defaults={"cpu": "200m", "gpu": "4", "memory": "200Gi"},
          limits={"cpu": "300m", "gpu": "8", "ephemeral_storage": "100"}),
     [("cpu", "250m"), ("memory", "200Gi"), ("gpu", "4")],
     [("cpu", "250m"), ("memory", "200Gi"), ("gpu", "4")]),
    # execution_manager_test.go: TestSetDefaults_OptionalRequiredResources (only limits in config: not injected)
    ("optional-not-injected", [("cpu", "200m")], [],
     dict(defaults={"cpu": "200m", "memory": "200Gi"},
          limits={"cpu": "300m", "gpu": "1", "memory": "500Gi", "ephemeral_storage": "501Mi"}),
     [("cpu", "200m"), ("memory", "200Gi")], [("cpu", "200m"), ("memory", "200Gi")]),
    # execution_manager_test.go: TestSetDefaults_OptionalRequiredResources (a default exists: injected)
    ("optional-default-injected", [("cpu", "200m")], [],
     dict(defaults={"cpu": "200m", "memory": "200Gi", "ephemeral_storage": "1"},
          limits={"cpu": "300m", "gpu": "1", "memory": "500Gi", "ephemeral_storage": "501Mi"}),
     [("cpu", "200m"), ("memory", "200Gi"), ("ephemeral_storage", "1")],
     [("cpu", "200m"), ("memory", "200Gi"), ("ephemeral_storage", "1")]),
    # execution_manager.go: clamped to the platform limits, request then clamped to the limit
    ("clamped", [("cpu", "4"), ("memory", "3Gi")], [("cpu", "8"), ("memory", "4Gi")],
     dict(limits={"cpu": "2", "memory": "1Gi"}),
     [("cpu", "2"), ("memory", "1Gi")], [("cpu", "2"), ("memory", "1Gi")]),
    # execution_manager.go: STORAGE/UNKNOWN dropped; re-spelled canonically; a GPU limit alone sets the request
    ("dropped-and-respelled", [("storage", "1Gi"), ("memory", "1.5Gi")], [("gpu", "1")], dict(),
     [("cpu", "0"), ("memory", "1536Mi"), ("gpu", "1")], [("cpu", "0"), ("memory", "1536Mi"), ("gpu", "1")]),
    # execution_manager.go + util.GetCompleteTaskResourceRequirements: the last of two entries wins
    ("last-entry-wins", [("cpu", "1"), ("cpu", "3")], [], dict(),
     [("cpu", "3"), ("memory", "0")], [("cpu", "3"), ("memory", "0")]),
]


@pytest.mark.parametrize("requests,limits,pf,want_requests,want_limits", [c[1:] for c in COMPILE_CASES],
                         ids=[c[0] for c in COMPILE_CASES])
def test_compile_task_defaults(requests, limits, pf, want_requests, want_limits):
    template = container_task(requests, limits)
    before = template.SerializeToString()
    new, _ = compile_task_defaults(template, platform_with(**pf))
    assert resources_of(new) == (want_requests, want_limits)
    assert template.SerializeToString() == before  # the input is not modified


def test_compile_findings_say_what_was_added_and_what_was_changed(tmp_path):
    f = tmp_path / "admin.yaml"
    f.write_text("task_resources:\n  defaults: {cpu: 500m, memory: 1Gi}\n  limits: {cpu: 2, memory: 4Gi}\n")
    platform = load_platform([str(f)])
    new, findings = compile_task_defaults(
        container_task([("cpu", "4"), ("storage", "1Gi")], [("memory", "8Gi")]), platform, task="wf.big")
    assert resources_of(new) == ([("cpu", "2"), ("memory", "4Gi")], [("cpu", "2"), ("memory", "4Gi")])
    got = {(x.level, x.code, x.field, x.before, x.after) for x in findings}
    assert got == {
        ("warning", "admin.entry-dropped", "requests.storage", "1Gi", None),
        ("warning", "admin.request-lowered", "requests.cpu", "4", "2"),
        ("info", "admin.default-limit", "limits.cpu", None, "2"),
        ("info", "admin.default-request", "requests.memory", None, "4Gi"),
        ("warning", "admin.limit-lowered", "limits.memory", "8Gi", "4Gi"),
    }
    lowered = next(x for x in findings if x.code == "admin.request-lowered")
    assert lowered.source == f"task_resources.limits.cpu ({f})" and "wf.big" in lowered.text()


def test_compile_defaults_come_from_the_platform_default_with_its_source(tmp_path):
    f = tmp_path / "admin.yaml"
    f.write_text("task_resources:\n  defaults: {memory: 300Mi}\n")
    _, findings = compile_task_defaults(container_task(resources=False), load_platform([str(f)]))
    by_field = {x.field: x for x in findings}
    assert by_field["requests.memory"].after == "300Mi"
    assert by_field["requests.memory"].source == f"task_resources.defaults.memory ({f})"
    assert by_field["requests.cpu"].source == "task_resources.defaults.cpu (Flyte's default)"


def test_compile_zero_counts_as_unset_and_is_reported():
    # container_helper.go AdjustOrDefaultResource: IsZero() is "unset"
    new, findings = compile_task_defaults(container_task([("cpu", "0")]), Platform())
    assert resources_of(new)[0][0] == ("cpu", "2")
    assert ("warning", "admin.zero-replaced") in {(x.level, x.code) for x in findings}


def test_compile_builtin_defaults_without_resources():
    # execution_manager.go: nil resources become empty lists, then cpu and memory from task_resources
    new, findings = compile_task_defaults(container_task(resources=False), Platform())
    assert resources_of(new) == ([("cpu", "2"), ("memory", "200Mi")], [("cpu", "2"), ("memory", "200Mi")])
    assert all(x.level == "info" for x in findings) and len(findings) == 4


def test_compile_leaves_pod_tasks_alone():
    # execution_manager.go: "Not setting default resources ... no container resources found"
    template = pod_task({"containers": [{"name": "p"}]})
    new, findings = compile_task_defaults(template, Platform())
    assert new == template and new is not template and findings == []


def test_compile_respelling_is_not_a_change():
    _, findings = compile_task_defaults(container_task([("cpu", "1.5"), ("memory", "1.5Gi")],
                                                       [("cpu", "1500m"), ("memory", "1536Mi")]), EMPTY)
    assert findings == []


# ---------------------------------------------------------------------------------------- platform resources
def test_platform_resources_builtin():
    # taskexec_context.go convertTaskResourcesToRequirements: always four keys, zero where unset
    requests, limits = platform_resources(Platform())
    assert {k: str(v) for k, v in requests.items()} == {
        "cpu": "2", "memory": "200Mi", "ephemeral-storage": "0", "nvidia.com/gpu": "0"}
    assert {k: str(v) for k, v in limits.items()} == {
        "cpu": "2", "memory": "1Gi", "ephemeral-storage": "0", "nvidia.com/gpu": "1"}


def test_platform_resources_gpu_key_ignores_gpu_resource_name(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("plugins:\n  k8s:\n    gpu-resource-name: amd.com/gpu\ntask_resources:\n  limits: {gpu: 4}\n")
    _, limits = platform_resources(load_platform([str(f)]))
    assert limits["nvidia.com/gpu"] == q("4") and "amd.com/gpu" not in limits
