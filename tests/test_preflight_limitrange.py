"""LimitRanger for one pod, offline: cases from kubernetes/kubernetes.

Sources: plugin/pkg/admission/limitranger/admission_test.go (TestPodLimitFunc, TestMergePodResourceRequirements,
TestPodLimitFuncApplyDefault, TestDefaultContainerResourceRequirements, TestLimitRangerAdmitPod,
TestLimitRangerIgnoresSubresource) and pkg/apis/core/v1/defaults_test.go (TestSetDefaultRequestsPod,
TestSetDefaultLimitRangeItem). The Go unit tests build LimitRanges and pods without the API server's
defaulting; a real cluster stores both defaulted, which this module reproduces, so a few Go error cases are
admitted here (each one says why).
"""

from __future__ import annotations

import copy
from typing import Any, Dict, List, Optional

import pytest

from flytekitplugins.resources.findings import ERROR, INFO
from flytekitplugins.resources.preflight.limitrange import (
    ANNOTATION,
    LimitRange,
    apply_limit_ranges,
    parse_limit_range,
)
from flytekitplugins.resources.quantity import Quantity, ResourceValidationError

SOURCE = "limits.yaml"


def res(cpu: str = "", memory: str = "", **other: str) -> Dict[str, str]:
    """getComputeResourceList / getLocalStorageResourceList: only the values given."""
    out = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v}
    out.update({k.replace("_", "-"): v for k, v in other.items()})
    return out


def storage(value: str) -> Dict[str, str]:
    return {"ephemeral-storage": value} if value else {}


def item(type_: str, min: Optional[Dict] = None, max: Optional[Dict] = None, default: Optional[Dict] = None,
         default_request: Optional[Dict] = None, ratio: Optional[Dict] = None) -> Dict[str, Any]:
    """createLimitRange's one item."""
    out: Dict[str, Any] = {"type": type_}
    for key, value in (("min", min), ("max", max), ("default", default), ("defaultRequest", default_request),
                       ("maxLimitRequestRatio", ratio)):
        if value:
            out[key] = value
    return out


def manifest(*items: Dict[str, Any], name: str = "abc", namespace: Optional[str] = None) -> Dict[str, Any]:
    meta: Dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    return {"apiVersion": "v1", "kind": "LimitRange", "metadata": meta, "spec": {"limits": list(items)}}


def lr(*items: Dict[str, Any], name: str = "abc", namespace: Optional[str] = None) -> LimitRange:
    return parse_limit_range(manifest(*items, name=name, namespace=namespace), SOURCE)


def valid_limit_range() -> LimitRange:
    """validLimitRange()."""
    return lr(item("Pod", max=res("200m", "4Gi"), min=res("50m", "2Mi")),
              item("Container", max=res("100m", "2Gi"), min=res("25m", "1Mi"), default=res("75m", "10Mi"),
                   default_request=res("50m", "5Mi")))


def valid_limit_range_no_defaults() -> LimitRange:
    """validLimitRangeNoDefaults()."""
    return lr(item("Pod", max=res("200m", "4Gi"), min=res("50m", "2Mi")),
              item("Container", max=res("100m", "2Gi"), min=res("25m", "1Mi")))


def reqs(requests: Optional[Dict] = None, limits: Optional[Dict] = None) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    if requests:
        out["requests"] = dict(requests)
    if limits:
        out["limits"] = dict(limits)
    return out


def pod(name: str, n: int, resources: Dict[str, Any], *init: Dict[str, Any],
        sidecars: tuple = (), namespace: str = "test") -> Dict[str, Any]:
    """validPod(name, n, resources) + validPodInit(pod, init...) + withRestartableInitContainer."""
    spec: Dict[str, Any] = {"containers": [{"name": f"foo-{i}", "image": f"foo:V{i}",
                                            "resources": copy.deepcopy(resources)} for i in range(n)]}
    inits = [{"name": f"foo-{i}", "image": f"foo:V{i}", "resources": copy.deepcopy(r)} for i, r in enumerate(init)]
    for r in sidecars:
        i = len(inits)
        inits.append({"name": f"foo-{i}", "image": f"foo:V{i}", "restartPolicy": "Always", "resources": dict(r)})
    if inits:
        spec["initContainers"] = inits
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def errors(findings: List[Any]) -> List[str]:
    """The error messages without the ``task 't': `` prefix and the ``[field, LimitRange ...]`` suffix."""
    out = []
    for f in findings:
        if f.level == ERROR:
            text = f.text().split(": ", 1)[1]
            out.append(text[: text.rindex(" [")])
    return out


# ---------------------------------------------------------------------------------------------- validation
ADMITTED = [
    # TestPodLimitFunc successCases (the pod name is the case name)
    pytest.param(pod("ctr-min-cpu-request", 1, reqs(res("100m"))), item("Container", min=res("50m")),
                 id="TestPodLimitFunc/ctr-min-cpu-request"),
    pytest.param(pod("ctr-min-cpu-request-limit", 1, reqs(res("100m"), res("200m"))),
                 item("Container", min=res("50m")), id="TestPodLimitFunc/ctr-min-cpu-request-limit"),
    pytest.param(pod("ctr-min-memory-request-limit", 1, reqs(res("", "60Mi"), res("", "100Mi"))),
                 item("Container", min=res("", "50Mi")), id="TestPodLimitFunc/ctr-min-memory-request-limit"),
    pytest.param(pod("ctr-max-cpu-request-limit", 1, reqs(res("500m"), res("1"))), item("Container", max=res("2")),
                 id="TestPodLimitFunc/ctr-max-cpu-request-limit"),
    pytest.param(pod("ctr-max-cpu-limit", 1, reqs(None, res("1"))), item("Container", max=res("2")),
                 id="TestPodLimitFunc/ctr-max-cpu-limit"),
    # 750m / 500m is exactly 1.5: not above the ratio
    pytest.param(pod("ctr-max-cpu-ratio", 1, reqs(res("500m"), res("750m"))), item("Container", ratio=res("1.5")),
                 id="TestPodLimitFunc/ctr-max-cpu-ratio"),
    pytest.param(pod("pod-min-cpu-request", 2, reqs(res("75m"))), item("Pod", min=res("100m")),
                 id="TestPodLimitFunc/pod-min-cpu-request"),
    pytest.param(pod("pod-min-memory-request-limit", 2, reqs(res("", "60Mi"), res("", "100Mi"))),
                 item("Pod", min=res("", "100Mi")), id="TestPodLimitFunc/pod-min-memory-request-limit"),
    # the init container's 100Mi is the pod's floor
    pytest.param(pod("pod-init-min-memory-request", 2, reqs(res("", "60Mi")), reqs(res("", "100Mi"))),
                 item("Pod", min=res("", "100Mi")), id="TestPodLimitFunc/pod-init-min-memory-request"),
    pytest.param(pod("pod-init-max-cpu-request-limit", 2, reqs(res("500m"), res("1")), reqs(res("1"), res("2")),
                     reqs(res("1"), res("1"))), item("Pod", max=res("2")),
                 id="TestPodLimitFunc/pod-init-max-cpu-request-limit"),
    pytest.param(pod("pod-max-mem-ratio", 3, reqs(res("", "300Mi"), res("", "450Mi"))),
                 item("Pod", max=res("", "2Gi"), ratio=res("", "1.5")), id="TestPodLimitFunc/pod-max-mem-ratio"),
    pytest.param(pod("ctr-2-max-local-ephemeral-storage-limit", 2, reqs(None, storage("500Mi"))),
                 item("Container", max=storage("600Mi")),
                 id="TestPodLimitFunc/ctr-2-max-local-ephemeral-storage-limit"),
    pytest.param(pod("pod-max-local-ephemeral-storage-ratio", 3, reqs(storage("300Mi"), storage("450Mi"))),
                 item("Pod", max=storage("2Gi"), ratio=storage("1.5")),
                 id="TestPodLimitFunc/pod-max-local-ephemeral-storage-ratio"),
    # Go errorCases "ctr-min-cpu-no-request-limit": without the API server's defaulting the container has no
    # request ("No request is specified"); a stored LimitRange's defaultRequest is its min, so it is admitted
    pytest.param(pod("ctr-min-cpu-no-request-limit", 1, reqs()), item("Container", min=res("50m")),
                 id="TestPodLimitFunc/ctr-min-cpu-no-request-limit(stored-defaultRequest-is-min)"),
    # Go errorCases "ctr-max-mem-no-request-limit": a stored LimitRange's default limit is its max
    pytest.param(pod("ctr-max-mem-no-request-limit", 1, reqs()), item("Container", max=res("", "1Gi")),
                 id="TestPodLimitFunc/ctr-max-mem-no-request-limit(stored-default-is-max)"),
    # TestLimitRangerAdmitPod / TestLimitRangerIgnoresSubresource expect an error for a pod without resources;
    # with the stored defaults (default = max: 100m, 2Gi) every constraint holds
    pytest.param(pod("testPod", 1, reqs()), None, id="TestLimitRangerAdmitPod(stored-defaults)"),
    # PersistentVolumeClaim items do not apply to pods (PodValidateLimitFunc ignores them)
    pytest.param(pod("pvc-item", 1, reqs(res("1", "1Gi"))), item("PersistentVolumeClaim", min={"storage": "5Gi"}),
                 id="PodValidateLimitFunc/pvc-item-ignored"),
]


@pytest.mark.parametrize("the_pod, the_item", ADMITTED)
def test_admitted(the_pod, the_item):
    ranges = [valid_limit_range_no_defaults()] if the_item is None else [lr(the_item)]
    _, findings = apply_limit_ranges(the_pod, ranges, task="wf.t")
    assert errors(findings) == []


REFUSED = [
    # TestPodLimitFunc errorCases, with the message PodValidateLimitFunc returns
    pytest.param(pod("ctr-min-cpu-request", 1, reqs(res("40m"))), item("Container", min=res("50m")),
                 ["minimum cpu usage per Container is 50m, but request is 40m"],
                 id="TestPodLimitFunc/ctr-min-cpu-request"),
    # the request is checked before the limit
    pytest.param(pod("ctr-min-cpu-request-limit", 1, reqs(res("40m"), res("200m"))),
                 item("Container", min=res("50m")), ["minimum cpu usage per Container is 50m, but request is 40m"],
                 id="TestPodLimitFunc/ctr-min-cpu-request-limit"),
    pytest.param(pod("ctr-min-memory-request", 1, reqs(res("", "40Mi"))), item("Container", min=res("", "50Mi")),
                 ["minimum memory usage per Container is 50Mi, but request is 40Mi"],
                 id="TestPodLimitFunc/ctr-min-memory-request"),
    pytest.param(pod("ctr-max-cpu-request-limit", 1, reqs(res("500m"), res("2500m"))),
                 item("Container", max=res("2")), ["maximum cpu usage per Container is 2, but limit is 2500m"],
                 id="TestPodLimitFunc/ctr-max-cpu-request-limit"),
    # the request defaults to the limit (2500m), and maxConstraint reports the limit first
    pytest.param(pod("ctr-max-cpu-limit", 1, reqs(None, res("2500m"))), item("Container", max=res("2")),
                 ["maximum cpu usage per Container is 2, but limit is 2500m"], id="TestPodLimitFunc/ctr-max-cpu-limit"),
    pytest.param(pod("ctr-max-cpu-ratio", 1, reqs(res("1250m"), res("2500m"))), item("Container", ratio=res("1")),
                 ["cpu max limit to request ratio per Container is 1, but provided ratio is 2.000000"],
                 id="TestPodLimitFunc/ctr-max-cpu-ratio"),
    pytest.param(pod("ctr-max-mem-request-limit", 1, reqs(res("", "250Mi"), res("", "2Gi"))),
                 item("Container", max=res("", "1Gi")), ["maximum memory usage per Container is 1Gi, but limit is 2Gi"],
                 id="TestPodLimitFunc/ctr-max-mem-request-limit"),
    pytest.param(pod("pod-min-cpu-request", 1, reqs(res("75m"))), item("Pod", min=res("100m")),
                 ["minimum cpu usage per Pod is 100m, but request is 75m"], id="TestPodLimitFunc/pod-min-cpu-request"),
    pytest.param(pod("pod-min-memory-request-limit", 1, reqs(res("", "60Mi"), res("", "100Mi"))),
                 item("Pod", min=res("", "100Mi")), ["minimum memory usage per Pod is 100Mi, but request is 60Mi"],
                 id="TestPodLimitFunc/pod-min-memory-request-limit"),
    # three containers: the pod's limit is 3
    pytest.param(pod("pod-max-cpu-request-limit", 3, reqs(res("500m"), res("1"))), item("Pod", max=res("2")),
                 ["maximum cpu usage per Pod is 2, but limit is 3"], id="TestPodLimitFunc/pod-max-cpu-request-limit"),
    pytest.param(pod("pod-max-mem-limit", 3, reqs(None, res("", "500Mi"))), item("Pod", max=res("", "1Gi")),
                 ["maximum memory usage per Pod is 1Gi, but limit is 1500Mi"], id="TestPodLimitFunc/pod-max-mem-limit"),
    # an init container's limit (1.5Gi, printed 1536Mi) is larger than the containers' sum
    pytest.param(pod("pod-init-max-mem-limit", 1, reqs(None, res("", "500Mi")), reqs(None, res("", "1.5Gi"))),
                 item("Pod", max=res("", "1Gi")), ["maximum memory usage per Pod is 1Gi, but limit is 1536Mi"],
                 id="TestPodLimitFunc/pod-init-max-mem-limit"),
    # 750Mi requested, 1500Mi limit: ratio 2; the enforced 1.5 prints as 1500m
    pytest.param(pod("pod-max-mem-ratio", 3, reqs(res("", "250Mi"), res("", "500Mi"))),
                 item("Pod", max=res("", "2Gi"), ratio=res("", "1.5")),
                 ["memory max limit to request ratio per Pod is 1500m, but provided ratio is 2.000000"],
                 id="TestPodLimitFunc/pod-max-mem-ratio"),
    pytest.param(pod("ctr-1-max-local-ephemeral-storage-request-limit", 1, reqs(storage("250Mi"), storage("2Gi"))),
                 item("Container", max=storage("1Gi")),
                 ["maximum ephemeral-storage usage per Container is 1Gi, but limit is 2Gi"],
                 id="TestPodLimitFunc/ctr-1-max-local-ephemeral-storage-request-limit"),
    # every container is checked: two errors
    pytest.param(pod("ctr-2-min-local-ephemeral-storage-request", 2, reqs(storage("40Mi"))),
                 item("Container", min=storage("50Mi")),
                 ["minimum ephemeral-storage usage per Container is 50Mi, but request is 40Mi"] * 2,
                 id="TestPodLimitFunc/ctr-2-min-local-ephemeral-storage-request"),
    pytest.param(pod("pod-min-local-ephemeral-storage-request", 1, reqs(storage("60Mi"))),
                 item("Pod", min=storage("100Mi")),
                 ["minimum ephemeral-storage usage per Pod is 100Mi, but request is 60Mi"],
                 id="TestPodLimitFunc/pod-min-local-ephemeral-storage-request"),
    # the sidecar's 1500m keeps running: the pod requests 2500m
    pytest.param(pod("ctr-max-cpu-limit-restartable-init-container", 1, reqs(res("1000m"), res("1500m")),
                     sidecars=(reqs(res("1500m")),)), item("Pod", max=res("2")),
                 ["maximum cpu usage per Pod is 2, but request is 2500m"],
                 id="TestPodLimitFunc/ctr-max-cpu-limit-restartable-init-container"),
    # Pod items take no defaults, so "No request/limit is specified" happens for real
    pytest.param(pod("pod-min-memory-no-request", 1, reqs(res("100m"))), item("Pod", min=res("", "100Mi")),
                 ["minimum memory usage per Pod is 100Mi.  No request is specified"],
                 id="minConstraint/pod-no-request"),
    pytest.param(pod("pod-max-cpu-no-limit", 1, reqs(res("100m"))), item("Pod", max=res("2")),
                 ["maximum cpu usage per Pod is 2.  No limit is specified"], id="maxConstraint/pod-no-limit"),
    pytest.param(pod("ctr-ratio-no-request", 1, reqs()), item("Container", ratio=res("2")),
                 ["cpu max limit to request ratio per Container is 2, but no request is specified or request is 0"],
                 id="limitRequestRatioConstraint/no-request"),
    pytest.param(pod("ctr-ratio-request-0", 1, reqs(res("0"), res("1"))), item("Container", ratio=res("2")),
                 ["cpu max limit to request ratio per Container is 2, but no request is specified or request is 0"],
                 id="limitRequestRatioConstraint/request-0"),
    pytest.param(pod("ctr-ratio-no-limit", 1, reqs(res("1"))), item("Container", ratio=res("2")),
                 ["cpu max limit to request ratio per Container is 2, but no limit is specified or limit is 0"],
                 id="limitRequestRatioConstraint/no-limit"),
    pytest.param(pod("ctr-ratio-4", 1, reqs(res("500m"), res("2"))), item("Container", ratio=res("2")),
                 ["cpu max limit to request ratio per Container is 2, but provided ratio is 4.000000"],
                 id="limitRequestRatioConstraint/ratio-4"),
    # extended resources are checked like any other (PodValidateLimitFunc ranges over the item's keys)
    pytest.param(pod("ctr-max-gpu", 1, reqs(None, {"nvidia.com/gpu": "2"})),
                 item("Container", max={"nvidia.com/gpu": "1"}),
                 ["maximum nvidia.com/gpu usage per Container is 1, but limit is 2"], id="maxConstraint/extended"),
    pytest.param(pod("pod-max-gpu", 2, reqs(None, {"nvidia.com/gpu": "1"})), item("Pod", max={"nvidia.com/gpu": "1"}),
                 ["maximum nvidia.com/gpu usage per Pod is 1, but limit is 2"], id="maxConstraint/pod-extended"),
    # min, then max, then ratio; resources in name order
    pytest.param(pod("several", 1, reqs(res("10m", "10Mi"), res("4", "4Gi"))),
                 item("Container", min=res("100m", "100Mi"), max=res("2", "2Gi"), ratio=res("10", "10")),
                 ["minimum cpu usage per Container is 100m, but request is 10m",
                  "minimum memory usage per Container is 100Mi, but request is 10Mi",
                  "maximum cpu usage per Container is 2, but limit is 4",
                  "maximum memory usage per Container is 2Gi, but limit is 4Gi",
                  "cpu max limit to request ratio per Container is 10, but provided ratio is 400.000000",
                  "memory max limit to request ratio per Container is 10, but provided ratio is 409.600000"],
                 id="PodValidateLimitFunc/every-constraint"),
]


@pytest.mark.parametrize("the_pod, the_item, expected", REFUSED)
def test_refused(the_pod, the_item, expected):
    _, findings = apply_limit_ranges(the_pod, [lr(the_item)], task="wf.t")
    assert errors(findings) == expected


def test_error_finding_fields():
    # TestPodLimitFunc errorCases "ctr-min-cpu-request": code, prefix, field, value and LimitRange named
    _, findings = apply_limit_ranges(pod("p", 1, reqs(res("40m"))), [lr(item("Container", min=res("50m")))],
                                     task="wf.train", node="n0")
    (f,) = [f for f in findings if f.level == ERROR]
    assert f.code == "limitrange.min"
    assert f.text() == ("task 'wf.train', node 'n0': minimum cpu usage per Container is 50m, but request is 40m "
                         "[containers[foo-0].requests.cpu, LimitRange abc (limits.yaml)]")
    assert (f.task, f.node, f.field, f.before, f.source) == (
        "wf.train", "n0", "containers[foo-0].requests.cpu", "40m", "LimitRange abc (limits.yaml)")


@pytest.mark.parametrize("the_item, code, field", [
    # TestPodLimitFunc errorCases "ctr-max-cpu-ratio" / "pod-max-mem-limit": the codes and fields of the others
    pytest.param(item("Container", ratio=res("1")), "limitrange.max-ratio", "containers[foo-0].limits.cpu",
                 id="TestPodLimitFunc/ctr-max-cpu-ratio"),
    pytest.param(item("Pod", max=res("1")), "limitrange.max", "pod.limits.cpu",
                 id="TestPodLimitFunc/pod-max-cpu-limit"),
])
def test_error_codes(the_item, code, field):
    _, findings = apply_limit_ranges(pod("p", 2, reqs(res("1250m"), res("2500m"))), [lr(the_item)])
    bad = [f for f in findings if f.level == ERROR]
    assert {f.code for f in bad} == {code}
    assert bad[0].field == field
    assert bad[0].text().startswith("pod: ")


# ---------------------------------------------------------------------------------------------- defaults
def container_resources(p: Dict[str, Any], kind: str = "containers", i: int = 0) -> Dict[str, Any]:
    return p["spec"][kind][i].get("resources", {})


DEFAULTS = [
    # TestMergePodResourceRequirements: no resources -> every default, annotated
    pytest.param(pod("empty-resources", 1, reqs(), reqs()),
                 {"requests": res("50m", "5Mi"), "limits": res("75m", "10Mi")},
                 {"requests": res("50m", "5Mi"), "limits": res("75m", "10Mi")},
                 "LimitRanger plugin set: cpu, memory request for container foo-0; "
                 "cpu, memory limit for container foo-0; cpu, memory request for init container foo-0; "
                 "cpu, memory limit for init container foo-0",
                 id="TestMergePodResourceRequirements/empty-resources"),
    # TestMergePodResourceRequirements "limit-memory": only what is missing is merged. (The Go test shares one
    # map between the container and the init container, so its annotation names the container only.)
    pytest.param(pod("limit-memory", 1, reqs(res("", "512Mi")), reqs(res("", "512Mi"))),
                 {"requests": res("50m", "512Mi"), "limits": res("75m", "10Mi")},
                 {"requests": res("50m", "512Mi"), "limits": res("75m", "10Mi")},
                 "LimitRanger plugin set: cpu request for container foo-0; cpu, memory limit for container foo-0; "
                 "cpu request for init container foo-0; cpu, memory limit for init container foo-0",
                 id="TestMergePodResourceRequirements/limit-memory"),
    # TestMergePodResourceRequirements: all resources enumerated -> nothing merged, no annotation
    pytest.param(pod("limit-memory", 1, reqs(res("100m", "512Mi"), res("200m", "1G")),
                     reqs(res("200m", "1G"), res("400m", "2G"))),
                 {"requests": res("100m", "512Mi"), "limits": res("200m", "1G")},
                 {"requests": res("200m", "1G"), "limits": res("400m", "2G")}, None,
                 id="TestMergePodResourceRequirements/all-set"),
    # TestSetDefaultRequestsPod: a missing request is the limit (API defaulting, before admission), so the
    # LimitRange's defaultRequest (50m) is not used for cpu; its memory defaults still are
    pytest.param(pod("request-from-limit", 1, reqs(None, res("1")), reqs(None, res("1"))),
                 {"requests": res("1", "5Mi"), "limits": res("1", "10Mi")},
                 {"requests": res("1", "5Mi"), "limits": res("1", "10Mi")},
                 "LimitRanger plugin set: memory request for container foo-0; memory limit for container foo-0; "
                 "memory request for init container foo-0; memory limit for init container foo-0",
                 id="TestSetDefaultRequestsPod/request-is-limit"),
]


@pytest.mark.parametrize("the_pod, want, want_init, annotation", DEFAULTS)
def test_defaults(the_pod, want, want_init, annotation):
    lr_defaults = lr(item("Container", default=res("75m", "10Mi"), default_request=res("50m", "5Mi")))
    before = copy.deepcopy(the_pod)
    new, _ = apply_limit_ranges(the_pod, [lr_defaults])
    assert the_pod == before  # the input is not changed
    assert container_resources(new) == want
    assert container_resources(new, "initContainers") == want_init
    assert new["metadata"].get("annotations", {}).get(ANNOTATION) == annotation


def test_default_findings():
    # TestPodLimitFuncApplyDefault: container and init container get 75m/10Mi limits and 50m/5Mi requests
    new, findings = apply_limit_ranges(pod("foo", 1, reqs(), reqs()), [valid_limit_range()], task="wf.t")
    for kind in ("containers", "initContainers"):
        assert container_resources(new, kind) == {"requests": res("50m", "5Mi"), "limits": res("75m", "10Mi")}
    infos = [(f.code, f.field, f.before, f.after) for f in findings if f.level == INFO]
    assert infos == [
        ("limitrange.default-request", "containers[foo-0].requests.cpu", None, "50m"),
        ("limitrange.default-request", "containers[foo-0].requests.memory", None, "5Mi"),
        ("limitrange.default-limit", "containers[foo-0].limits.cpu", None, "75m"),
        ("limitrange.default-limit", "containers[foo-0].limits.memory", None, "10Mi"),
        ("limitrange.default-request", "initContainers[foo-0].requests.cpu", None, "50m"),
        ("limitrange.default-request", "initContainers[foo-0].requests.memory", None, "5Mi"),
        ("limitrange.default-limit", "initContainers[foo-0].limits.cpu", None, "75m"),
        ("limitrange.default-limit", "initContainers[foo-0].limits.memory", None, "10Mi"),
    ]
    first = findings[0]
    assert first.source == "LimitRange abc (limits.yaml)"
    assert first.text() == "task 'wf.t': containers[foo-0].requests.cpu = 50m: the default request of " \
                            "LimitRange abc (limits.yaml)"
    assert errors(findings) == []


def test_request_from_limit_finding():
    # TestSetDefaultRequestsPod: the request copied from the limit is reported, and request=0 is preserved
    p = pod("p", 1, reqs(res("", "0"), res("100m", "3Gi")))
    new, findings = apply_limit_ranges(p, [])
    assert container_resources(new) == {"requests": res("100m", "0"), "limits": res("100m", "3Gi")}
    assert [(f.code, f.field, f.after) for f in findings] == [
        ("limitrange.request-from-limit", "containers[foo-0].requests.cpu", "100m")]


def test_rounded_up_to_milli():
    # TestSetMinimumScalePod (SetDefaults_ResourceList): a 1n memory request and a 2n cpu limit are stored as
    # 1m, in containers and init containers; the cpu request is then the limit (TestSetDefaultRequestsPod)
    p = pod("p", 1, reqs(res("", "1n"), res("2n")), reqs(res("", "1n"), res("2n")))
    new, findings = apply_limit_ranges(p, [lr(item("Container", min=res("2m")))])
    for kind in ("containers", "initContainers"):
        assert container_resources(new, kind) == {"requests": res("1m", "1m"), "limits": res("1m")}
    assert [(f.field, f.before, f.after) for f in findings if f.code == "limitrange.rounded-up"] == [
        ("containers[foo-0].requests.memory", "1n", "1m"), ("containers[foo-0].limits.cpu", "2n", "1m"),
        ("initContainers[foo-0].requests.memory", "1n", "1m"), ("initContainers[foo-0].limits.cpu", "2n", "1m")]
    # ...which is below a 2m minimum
    assert errors(findings) == ["minimum cpu usage per Container is 2m, but request is 1m"] * 2


def test_default_gpu_limit_reaches_every_container():
    # SetDefaults_LimitRangeItem + mergeContainerResources: a Container max on nvidia.com/gpu becomes a default
    # limit and request of 1 for every container that does not set it (the side container too), so the pod
    # asks for 2 and a Pod max of 1 refuses it
    p = pod("p", 2, reqs())
    p["spec"]["containers"][0]["resources"] = reqs(None, {"nvidia.com/gpu": "1"})
    new, findings = apply_limit_ranges(
        p, [lr(item("Container", max={"nvidia.com/gpu": "1"}), item("Pod", max={"nvidia.com/gpu": "1"}))])
    assert container_resources(new, i=1) == {"requests": {"nvidia.com/gpu": "1"}, "limits": {"nvidia.com/gpu": "1"}}
    assert [f.field for f in findings if f.code.startswith("limitrange.default")] == [
        "containers[foo-1].requests.nvidia.com/gpu", "containers[foo-1].limits.nvidia.com/gpu"]
    assert errors(findings) == ["maximum nvidia.com/gpu usage per Pod is 1, but limit is 2"]


def test_first_range_default_wins_and_every_range_validates():
    # mergeContainerResources only fills what is missing: the first LimitRange's default stays; each range is
    # then validated (the API server would stop at the first refusal)
    first = lr(item("Container", default=res("2"), default_request=res("1")), name="first")
    second = lr(item("Container", default=res("500m"), max=res("1")), name="second")
    new, findings = apply_limit_ranges(pod("p", 1, reqs()), [first, second])
    assert container_resources(new) == {"requests": res("1"), "limits": res("2")}
    assert [(f.code, f.source) for f in findings if f.level == ERROR] == [
        ("limitrange.max", "LimitRange second (limits.yaml)")]


@pytest.mark.parametrize("range_ns, pod_ns, applies", [
    # GetLimitRanges lists the LimitRanges of the pod's namespace only
    pytest.param("other", "test", False, id="GetLimitRanges/other-namespace"),
    pytest.param("test", "test", True, id="GetLimitRanges/same-namespace"),
    pytest.param(None, "test", True, id="GetLimitRanges/range-without-namespace"),
])
def test_namespace(range_ns, pod_ns, applies):
    the_range = lr(item("Container", max=res("1")), namespace=range_ns)
    _, findings = apply_limit_ranges(pod("p", 1, reqs(None, res("2")), namespace=pod_ns), [the_range])
    assert bool(errors(findings)) is applies


# ---------------------------------------------------------------------------------------------- parsing
def test_parse_applies_stored_defaults():
    # TestSetDefaultLimitRangeItem: default cpu <- max 100m, defaultRequest cpu <- that default, defaultRequest
    # memory <- min 100Mi
    q = Quantity.parse
    (c,) = lr(item("Container", max=res("100m"), min=res("", "100Mi"))).items
    assert (c.default, c.default_request) == ({"cpu": q("100m")}, {"cpu": q("100m"), "memory": q("100Mi")})
    # TestDefaultContainerResourceRequirements (validLimitRange): given defaults are kept; Pod items get none
    parsed = valid_limit_range()
    p, c = parsed.items
    assert (c.default, c.default_request) == ({"cpu": q("75m"), "memory": q("10Mi")},
                                              {"cpu": q("50m"), "memory": q("5Mi")})
    assert (p.default, p.default_request) == ({}, {})
    # a given default (512Mi) wins over the max, and is the default request
    (c,) = lr(item("Container", max=res("1", "1Gi"), default=res("", "512Mi"))).items
    assert c.default_request == {"cpu": q("1"), "memory": q("512Mi")}
    assert (parsed.name, parsed.namespace, parsed.source) == ("abc", None, SOURCE)


def _with(**changes: Any) -> Dict[str, Any]:
    doc = manifest(item("Container", max=res("1")))
    for path, value in changes.items():
        target = doc
        keys = path.split("__")
        for k in keys[:-1]:
            target = target[int(k)] if isinstance(target, list) else target[k]
        last = keys[-1]
        if isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value
    return doc


BAD = [
    # every case: the ResourceValidationError names the file and the key path (ValidateLimitRange's field paths)
    pytest.param(_with(spec__limits__0__max={"cpu": "2GB"}), "spec.limits[0].max.cpu", "'2GB'", id="bad-quantity"),
    pytest.param(_with(spec__limits__0__max={"cpu": True}), "spec.limits[0].max.cpu", "True", id="bool-quantity"),
    pytest.param(_with(spec__limits__0__type="container"), "spec.limits[0].type", "'container'", id="unknown-type"),
    pytest.param(_with(spec__limits={"type": "Container"}), "spec.limits", "must be a list", id="limits-not-a-list"),
    pytest.param(_with(spec={}), "spec.limits", "is required", id="limits-missing"),
    pytest.param(_with(spec__limits__0__maxx={"cpu": "1"}), "spec.limits[0].maxx", "unknown field", id="unknown-key"),
    pytest.param(_with(kind="ResourceQuota"), "kind", "'LimitRange'", id="wrong-kind"),
    pytest.param(_with(apiVersion="v2"), "apiVersion", "'v1'", id="wrong-apiVersion"),
    pytest.param(_with(metadata={}), "metadata.name", "string", id="no-name"),
    pytest.param(_with(spec__limits__0__max={"gpu": "1"}), "spec.limits[0].max.gpu", "standard resource",
                 id="validateContainerResourceName"),
    pytest.param(_with(spec__limits__0__max={"cpu": "-1"}), "spec.limits[0].max.cpu", "greater than or equal to 0",
                 id="negative"),
    pytest.param(_with(spec__limits__0={"type": "Pod", "default": {"cpu": "1"}}), "spec.limits[0].default",
                 "may not be specified when `type` is 'Pod'", id="pod-default"),
    pytest.param(_with(spec__limits__0=item("Container", min=res("2"), max=res("1"))), "spec.limits[0].min.cpu",
                 "min value 2 is greater than max value 1", id="min-above-max"),
    pytest.param(_with(spec__limits__0=item("Container", default=res("1"), default_request=res("2"))),
                 "spec.limits[0].defaultRequest.cpu", "default request value 2 is greater than default limit value 1",
                 id="defaultRequest-above-default"),
    pytest.param(_with(spec__limits__0=item("Container", default=res("2"), default_request=res("500m"), max=res("1"))),
                 "spec.limits[0].default.cpu", "default value 2 is greater than max value 1", id="default-above-max"),
    pytest.param(_with(spec__limits__0=item("Container", ratio=res("500m"))), "spec.limits[0].maxLimitRequestRatio.cpu",
                 "ratio 500m is less than 1", id="ratio-below-1"),
    pytest.param(_with(spec__limits__0=item("Container", min=res("100m"), max=res("1"), ratio=res("20"))),
                 "spec.limits[0].maxLimitRequestRatio.cpu", "ratio 20 is greater than max/min = 10.000000",
                 id="ratio-above-max-over-min"),
    pytest.param(_with(spec__limits__0=item("Container", default={"nvidia.com/gpu": "2"},
                                            default_request={"nvidia.com/gpu": "1"})),
                 "spec.limits[0].defaultRequest.nvidia.com/gpu",
                 "default value 2 must equal to defaultRequest value 1 in nvidia.com/gpu", id="gpu-overcommit"),
    pytest.param(_with(spec__limits=[item("Container"), item("Container")]), "spec.limits[1].type", "Duplicate",
                 id="duplicate-type"),
    pytest.param(_with(spec__limits=[item("PersistentVolumeClaim")]), "spec.limits[0]", "storage",
                 id="pvc-needs-min-or-max"),
    pytest.param(_with(spec__limits=[None]), "spec.limits[0]", "must not be empty", id="empty-item"),
    pytest.param(_with(spec__limits=["Container"]), "spec.limits[0]", "mapping", id="item-not-a-mapping"),
]


@pytest.mark.parametrize("doc, path, text", BAD)
def test_parse_errors(doc, path, text):
    with pytest.raises(ResourceValidationError) as e:
        parse_limit_range(doc, SOURCE)
    assert f"{SOURCE}: {path}" in str(e.value)
    assert text in str(e.value)


def test_parse_not_a_mapping():
    with pytest.raises(ResourceValidationError, match="^limits.yaml: a LimitRange manifest must be a mapping"):
        parse_limit_range([manifest()], SOURCE)


@pytest.mark.parametrize("bad_pod, path", [
    # a malformed pod raises ResourceValidationError naming the task and the key
    pytest.param({"spec": {"containers": [{"name": "a", "resources": {"requests": {"cpu": "lots"}}}]}},
                 "spec.containers[0].resources.requests.cpu", id="bad-quantity"),
    pytest.param({"spec": {"containers": {"name": "a"}}}, "spec.containers", id="containers-not-a-list"),
    pytest.param(["not", "a", "pod"], "", id="not-a-mapping"),
])
def test_bad_pod(bad_pod, path):
    with pytest.raises(ResourceValidationError) as e:
        apply_limit_ranges(bad_pod, [valid_limit_range()], task="wf.t")
    assert str(e.value).startswith(f"task 'wf.t': {path}")
