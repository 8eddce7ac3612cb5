"""kube-scheduler's filters for one pod against node groups (preflight.nodefit).

Every case cites the Kubernetes Go test (and the case name inside it) it comes from. The Go tests put
an existing pod on the node; here a node is empty, so a group's allocatable is the Go node's allocatable
minus what that pod uses (the free room), which is what ``fitsRequest`` compares against.
"""

from __future__ import annotations

import copy
import json
from typing import Any, Dict, List, Optional

import pytest

from flytekitplugins.resources.findings import ERROR, INFO
from flytekitplugins.resources.preflight.nodefit import (
    NodeGroup,
    fit,
    group_reasons,
    parse_node_groups,
    pod_requests,
)
from flytekitplugins.resources.quantity import Quantity, ResourceValidationError

CPU, MEM, EPH = "Insufficient cpu", "Insufficient memory", "Insufficient ephemeral-storage"
AFF = "node(s) didn't match Pod's node affinity/selector"
EXT_A, EXT_B = "example.com/aaa", "example.com/bbb"
K8S_A, K8S_B = "kubernetes.io/something", "subdomain.kubernetes.io/something"
HUGE = "hugepages-2Mi"


def group(name: str = "g", alloc: Optional[Dict[str, str]] = None, labels: Optional[Dict[str, str]] = None,
          taints: Any = (), node_name: Optional[str] = None, count: Optional[int] = None) -> NodeGroup:
    return NodeGroup(
        name=name,
        allocatable={k: Quantity.parse(v) for k, v in (alloc or {}).items()},
        labels=dict(labels or {}),
        taints=tuple(dict(t, value=t.get("value", "")) for t in taints),
        count=count,
        source="test",
        node_name=node_name,
    )


def c(cpu: Optional[str] = None, mem: Optional[str] = None, sidecar: bool = False, **extra: str) -> Dict[str, Any]:
    """A container with requests; ``extra`` names other resources by the short names of ``_RES``."""
    reqs: Dict[str, str] = {}
    if cpu is not None:
        reqs["cpu"] = cpu
    if mem is not None:
        reqs["memory"] = mem
    for k, v in extra.items():
        reqs[_RES[k]] = v
    out: Dict[str, Any] = {"name": "c", "resources": {"requests": reqs}}
    if sidecar:
        out["restartPolicy"] = "Always"
    return out


_RES = {"a": EXT_A, "b": EXT_B, "k8s_a": K8S_A, "k8s_b": K8S_B, "huge": HUGE, "eph": "ephemeral-storage",
        "gpu": "nvidia.com/gpu"}


def pod(containers: Any = (), init: Any = (), overhead: Optional[Dict[str, str]] = None, **spec: Any) -> Dict[str, Any]:
    s: Dict[str, Any] = {"containers": list(containers)}
    if init:
        s["initContainers"] = list(init)
    if overhead:
        s["overhead"] = overhead
    s.update(spec)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": s}


# The node of TestEnoughRequests: makeAllocatableResources(10, 20, 32, 5, 20, 5): cpu 10m, memory 20,
# pods 32, example.com/aaa 5, ephemeral-storage 20, hugepages-2Mi 5.
def free(cpu: int = 10, mem: int = 20, a: int = 5, eph: int = 20, huge: int = 5) -> NodeGroup:
    return group(alloc={"cpu": f"{cpu}m", "memory": str(mem), "pods": "32", EXT_A: str(a),
                        "ephemeral-storage": str(eph), HUGE: str(huge)})


# ------------------------------------------------------------------------------------------------ NodeResourcesFit
RESOURCE_CASES = [
    # TestEnoughRequests "no resources requested always fits" (existing pod uses 10m/20)
    pytest.param(pod(), free(0, 0), [], id="no resources requested always fits"),
    # TestEnoughRequests "too many resources fails"
    pytest.param(pod([c("1m", "1")]), free(0, 0), [CPU, MEM], id="too many resources fails"),
    # TestEnoughRequests "too many resources fails due to init container cpu" (existing 8m/19)
    pytest.param(pod([c("1m", "1")], [c("3m", "1")]), free(2, 1), [CPU],
                 id="too many resources fails due to init container cpu"),
    # TestEnoughRequests "too many resources fails due to highest init container cpu"
    pytest.param(pod([c("1m", "1")], [c("3m", "1"), c("2m", "1")]), free(2, 1), [CPU],
                 id="too many resources fails due to highest init container cpu"),
    # TestEnoughRequests "too many resources fails due to init container memory" (existing 9m/19)
    pytest.param(pod([c("1m", "1")], [c("1m", "3")]), free(1, 1), [MEM],
                 id="too many resources fails due to init container memory"),
    # TestEnoughRequests "too many resources fails due to highest init container memory"
    pytest.param(pod([c("1m", "1")], [c("1m", "3"), c("1m", "2")]), free(1, 1), [MEM],
                 id="too many resources fails due to highest init container memory"),
    # TestEnoughRequests "init container fits because it's the max, not sum, of containers and init containers"
    pytest.param(pod([c("1m", "1")], [c("1m", "1")]), free(1, 1), [],
                 id="init container fits because it's the max, not sum"),
    # TestEnoughRequests "multiple init containers fit because it's the max, not sum, of containers and init ..."
    pytest.param(pod([c("1m", "1")], [c("1m", "1"), c("1m", "1")]), free(1, 1), [],
                 id="multiple init containers fit because it's the max, not sum"),
    # TestEnoughRequests "both resources fit" (existing 5m/5)
    pytest.param(pod([c("1m", "1")]), free(5, 15), [], id="both resources fit"),
    # TestEnoughRequests "one resource memory fits" (existing 9m/5)
    pytest.param(pod([c("2m", "1")]), free(1, 15), [CPU], id="one resource memory fits"),
    # TestEnoughRequests "one resource cpu fits" (existing 5m/19)
    pytest.param(pod([c("1m", "2")]), free(5, 1), [MEM], id="one resource cpu fits"),
    # TestEnoughRequests "equal edge case" (existing 5m/19)
    pytest.param(pod([c("5m", "1")]), free(5, 1), [], id="equal edge case"),
    # TestEnoughRequests "equal edge case for init container"
    pytest.param(pod([c("4m", "1")], [c("5m", "1")]), free(5, 1), [], id="equal edge case for init container"),
    # TestEnoughRequests "extended resource fits"
    pytest.param(pod([c(a="1")]), free(), [], id="extended resource fits"),
    # TestEnoughRequests "extended resource fits for init container"
    pytest.param(pod([c()], [c(a="1")]), free(), [], id="extended resource fits for init container"),
    # TestEnoughRequests "extended resource capacity enforced" (10 requested, capacity 5)
    pytest.param(pod([c("1m", "1", a="10")]), free(), [f"Insufficient {EXT_A}"],
                 id="extended resource capacity enforced"),
    # TestEnoughRequests "extended resource capacity enforced for init container"
    pytest.param(pod([c()], [c("1m", "1", a="10")]), free(), [f"Insufficient {EXT_A}"],
                 id="extended resource capacity enforced for init container"),
    # TestEnoughRequests "extended resource allocatable enforced" (existing pod uses all 5)
    pytest.param(pod([c("1m", "1", a="1")]), free(a=0), [f"Insufficient {EXT_A}"],
                 id="extended resource allocatable enforced"),
    # TestEnoughRequests "extended resource allocatable enforced for multiple containers" (3+3 > 5-2)
    pytest.param(pod([c("1m", "1", a="3"), c("1m", "1", a="3")]), free(a=3), [f"Insufficient {EXT_A}"],
                 id="extended resource allocatable enforced for multiple containers"),
    # TestEnoughRequests "extended resource allocatable admits multiple init containers"
    pytest.param(pod([c()], [c("1m", "1", a="3"), c("1m", "1", a="3")]), free(a=3), [],
                 id="extended resource allocatable admits multiple init containers"),
    # TestEnoughRequests "extended resource allocatable enforced for multiple init containers"
    pytest.param(pod([c()], [c("1m", "1", a="6"), c("1m", "1", a="3")]), free(a=3), [f"Insufficient {EXT_A}"],
                 id="extended resource allocatable enforced for multiple init containers"),
    # TestEnoughRequests "extended resource allocatable enforced for unknown resource": not on the node at all
    pytest.param(pod([c("1m", "1", b="1")]), free(), [f"Insufficient {EXT_B}"],
                 id="extended resource allocatable enforced for unknown resource"),
    # TestEnoughRequests "extended resource allocatable enforced for unknown resource for init container"
    pytest.param(pod([c()], [c("1m", "1", b="1")]), free(), [f"Insufficient {EXT_B}"],
                 id="extended resource allocatable enforced for unknown resource for init container"),
    # TestEnoughRequests "kubernetes.io resource capacity enforced"
    pytest.param(pod([c("1m", "1", k8s_a="10")]), free(), [f"Insufficient {K8S_A}"],
                 id="kubernetes.io resource capacity enforced"),
    # TestEnoughRequests "kubernetes.io resource capacity enforced for init container"
    pytest.param(pod([c()], [c("1m", "1", k8s_b="10")]), free(), [f"Insufficient {K8S_B}"],
                 id="kubernetes.io resource capacity enforced for init container"),
    # TestEnoughRequests "hugepages resource capacity enforced"
    pytest.param(pod([c("1m", "1", huge="10")]), free(), [f"Insufficient {HUGE}"],
                 id="hugepages resource capacity enforced"),
    # TestEnoughRequests "hugepages resource allocatable enforced for multiple containers" (3+3 > 5-2)
    pytest.param(pod([c("1m", "1", huge="3"), c("1m", "1", huge="3")]), free(huge=3), [f"Insufficient {HUGE}"],
                 id="hugepages resource allocatable enforced for multiple containers"),
    # TestEnoughRequests "resources + pod overhead fits" (existing 5m/5: 1m+3m <= 5m, 1+13 <= 15)
    pytest.param(pod([c("1m", "1")], overhead={"cpu": "3m", "memory": "13"}), free(5, 15), [],
                 id="resources + pod overhead fits"),
    # TestEnoughRequests "requests + overhead does not fit for memory" (1+15 > 15)
    pytest.param(pod([c("1m", "1")], overhead={"cpu": "1m", "memory": "15"}), free(5, 15), [MEM],
                 id="requests + overhead does not fit for memory"),
    # TestEnoughRequests "skip checking extended resource request with quantity zero via resource groups"
    pytest.param(pod([c("1m", "1", b="0")]), free(), [],
                 id="skip checking extended resource request with quantity zero"),
    # TestEnoughRequests "skip checking resource request with quantity zero" (only example.com/aaa 1 requested)
    pytest.param(pod([c(a="1")]), free(0, 0, a=1), [], id="skip checking resource request with quantity zero"),
    # TestStorageRequests "storage ephemeral local storage request exceeds allocatable"
    pytest.param(pod([c(eph="25")]), free(), [EPH], id="storage ephemeral local storage request exceeds allocatable"),
    # TestStorageRequests "pod fits"
    pytest.param(pod([c(eph="10")]), free(), [], id="storage pod fits"),
    # TestStorageRequests "ephemeral local storage is sufficient" (existing pod uses 10 of 20)
    pytest.param(pod([c(eph="5")]), free(eph=10), [], id="ephemeral local storage is sufficient"),
    # TestNotEnoughRequests "even without specified resources, predicate fails when there's no space for
    # additional pod" (pods: 1, one pod running: room for 0)
    pytest.param(pod(), group(alloc={"cpu": "10m", "memory": "20", "pods": "0"}), ["Too many pods"],
                 id="even without specified resources, predicate fails when there's no space for additional pod"),
    # TestNotEnoughRequests "even if both resources fit, predicate fails when there's no space for additional pod"
    pytest.param(pod([c("1m", "1")]), group(alloc={"cpu": "5m", "memory": "15", "pods": "0"}), ["Too many pods"],
                 id="even if both resources fit, predicate fails when there's no space for additional pod"),
    # fitsRequest: MilliValue() rounds up, so 0.1m of cpu is 1m and does not fit in 0 (reason: Insufficient cpu)
    pytest.param(pod([c("0.1m")]), group(alloc={"cpu": "0"}), [CPU], id="fitsRequest MilliValue rounds up"),
    # fitsRequest: a name that is not a scalar resource (no '/', not hugepages-) is not checked
    pytest.param(pod([{"name": "x", "resources": {"requests": {"gpu": "1"}}}]), group(), [],
                 id="fitsRequest ignores non-scalar resource names"),
]


@pytest.mark.parametrize("the_pod, the_group, want", RESOURCE_CASES)
def test_resource_fit(the_pod: Dict[str, Any], the_group: NodeGroup, want: List[str]) -> None:
    assert group_reasons(the_pod, the_group) == want


# ------------------------------------------------------------------------------------------------ PodRequests
REQUEST_CASES = [
    # component-helpers TestPodResourceRequests "nil options, larger init container"
    pytest.param(pod([c("1")], [c("4")]), {"cpu": "4"}, id="nil options, larger init container"),
    # TestPodResourceRequests "nil options, larger containers"
    pytest.param(pod([c("2"), c("3")], [c("2")]), {"cpu": "5"}, id="nil options, larger containers"),
    # TestPodResourceRequests "pod overhead included"
    pytest.param(pod([c("2"), c("3")], [c("2")], overhead={"cpu": "1", "memory": "1Gi"}),
                 {"cpu": "6", "memory": "1Gi"}, id="pod overhead included"),
    # TestPodRequestsAndLimits "req-and-overhead"
    pytest.param(pod([c("1", "10")], [c("1", "10")], overhead={"cpu": "5", "memory": "5"}),
                 {"cpu": "6", "memory": "15"}, id="req-and-overhead"),
    # TestPodResourceRequests "restartable init container" (restartable init + regular container)
    pytest.param(pod([c("1")], [c("1", sidecar=True)]), {"cpu": "2"}, id="restartable init container"),
    # TestPodResourceRequests "multiple restartable init containers": max(5, 3+2+1 + 1) = 7
    pytest.param(pod([c("1")], [c("5"), c("1", sidecar=True), c("2", sidecar=True), c("3", sidecar=True)]),
                 {"cpu": "7"}, id="multiple restartable init containers"),
    # TestPodResourceRequests "multiple restartable and regular init containers": init-2 needs 5 + (1+2) = 8
    pytest.param(pod([c("1")], [c("5"), c("1", sidecar=True), c("2", sidecar=True), c("5"), c("3", sidecar=True)]),
                 {"cpu": "8"}, id="multiple restartable and regular init containers"),
    # TestPodResourceRequests "restartable-init, init and regular": max(10+200, 10+100) = 210
    pytest.param(pod([c("100")], [c("10", sidecar=True), c("200")]), {"cpu": "210"},
                 id="restartable-init, init and regular"),
    # TestAggregateContainerRequestsAndLimits "regular, init and sidecar containers with requests": 9+8 = 17
    pytest.param(pod([c("9")], [c("8", sidecar=True), c("6")]), {"cpu": "17"},
                 id="regular, init and sidecar containers with requests"),
    # TestPodLevelResourceRequests "container-level resources, init and sidecar container set with
    # SkipPodLevelResources false": max(3Mi+5Mi, 5Mi+6Mi) = 11Mi, max(2m+4m, 4m+8m) = 12m
    pytest.param(pod([c("2m", "3Mi")], [c("4m", "5Mi", sidecar=True), c("8m", "6Mi")]),
                 {"cpu": "12m", "memory": "11Mi"}, id="container-level resources, init and sidecar container set"),
    # TestPodLevelResourceRequests "pod-level resources, container-level resources, init and sidecar container
    # set with SkipPodLevelResources false": the pod-level requests win
    pytest.param(pod([c("2m", "3Mi")], [c("4m", "5Mi", sidecar=True), c("8m", "6Mi")],
                     resources={"requests": {"cpu": "18m", "memory": "15Mi"}}),
                 {"cpu": "18m", "memory": "15Mi"},
                 id="pod-level resources, container-level resources, init and sidecar"),
]


@pytest.mark.parametrize("the_pod, want", REQUEST_CASES)
def test_pod_requests(the_pod: Dict[str, Any], want: Dict[str, str]) -> None:
    got = pod_requests(the_pod)
    assert {k: v.as_decimal() for k, v in got.items()} == {k: Quantity.parse(v).as_decimal() for k, v in want.items()}


def test_sidecar_requests_decide_fit() -> None:
    # TestPodResourceRequests "restartable init container": a sidecar adds to the pod's 1 cpu, so 2 cpus are
    # needed; counted as a regular init container (max, not sum) the pod would fit in 1
    the_pod = pod([c("1")], [c("1", sidecar=True)])
    assert group_reasons(the_pod, group(alloc={"cpu": "1"})) == [CPU]
    plain = pod([c("1")], [c("1")])
    assert group_reasons(plain, group(alloc={"cpu": "1"})) == []


# ------------------------------------------------------------------------------------------------ TaintToleration
def tol(key: str = "", value: str = "", effect: str = "", operator: Optional[str] = None) -> Dict[str, str]:
    t = {"key": key, "value": value, "effect": effect}
    if operator is not None:
        t["operator"] = operator
    return {k: v for k, v in t.items() if v}


def taint(key: str, value: str, effect: str) -> Dict[str, str]:
    return {"key": key, "value": value, "effect": effect}


TAINT_CASES = [
    # TestTaintTolerationFilter "A pod having no tolerations can't be scheduled onto a node with nonempty taints"
    pytest.param([], [taint("dedicated", "user1", "NoSchedule")], ["node(s) had untolerated taint {dedicated: user1}"],
                 id="A pod having no tolerations can't be scheduled onto a node with nonempty taints"),
    # TestTaintTolerationFilter "A pod which can be scheduled on a dedicated node assigned to user1 with effect
    # NoSchedule"
    pytest.param([tol("dedicated", "user1", "NoSchedule")], [taint("dedicated", "user1", "NoSchedule")], [],
                 id="A pod which can be scheduled on a dedicated node assigned to user1"),
    # TestTaintTolerationFilter "A pod which can't be scheduled on a dedicated node assigned to user2 with effect
    # NoSchedule"
    pytest.param([tol("dedicated", "user2", "NoSchedule", "Equal")], [taint("dedicated", "user1", "NoSchedule")],
                 ["node(s) had untolerated taint {dedicated: user1}"],
                 id="A pod which can't be scheduled on a dedicated node assigned to user2"),
    # TestTaintTolerationFilter "A pod can be scheduled onto the node, with a toleration uses operator Exists that
    # tolerates the taints on the node"
    pytest.param([tol("foo", effect="NoSchedule", operator="Exists")], [taint("foo", "bar", "NoSchedule")], [],
                 id="toleration with operator Exists tolerates the taints on the node"),
    # TestTaintTolerationFilter "A pod has multiple tolerations, node has multiple taints, all the taints are
    # tolerated, pod can be scheduled onto the node"
    pytest.param([tol("dedicated", "user2", "NoSchedule", "Equal"), tol("foo", effect="NoSchedule", operator="Exists")],
                 [taint("dedicated", "user2", "NoSchedule"), taint("foo", "bar", "NoSchedule")], [],
                 id="multiple tolerations, multiple taints, all tolerated"),
    # TestTaintTolerationFilter "A pod has a toleration that keys and values match the taint on the node, but
    # (non-empty) effect doesn't match, can't be scheduled onto the node"
    pytest.param([tol("foo", "bar", "PreferNoSchedule", "Equal")], [taint("foo", "bar", "NoSchedule")],
                 ["node(s) had untolerated taint {foo: bar}"], id="non-empty effect doesn't match"),
    # TestTaintTolerationFilter "The pod has a toleration that keys and values match the taint on the node, the
    # effect of toleration is empty, and the effect of taint is NoSchedule. Pod can be scheduled onto the node"
    pytest.param([tol("foo", "bar", operator="Equal")], [taint("foo", "bar", "NoSchedule")], [],
                 id="empty toleration effect matches NoSchedule"),
    # TestTaintTolerationFilter "The pod has a toleration that key and value don't match the taint on the node, but
    # the effect of taint on node is PreferNoSchedule. Pod can be scheduled onto the node"
    pytest.param([tol("dedicated", "user2", "NoSchedule", "Equal")], [taint("dedicated", "user1", "PreferNoSchedule")],
                 [], id="PreferNoSchedule taint is not a filter (toleration does not match)"),
    # TestTaintTolerationFilter "The pod has no toleration, but the effect of taint on node is PreferNoSchedule.
    # Pod can be scheduled onto the node"
    pytest.param([], [taint("dedicated", "user1", "PreferNoSchedule")], [],
                 id="PreferNoSchedule taint is not a filter (no toleration)"),
    # ToleratesTaint rule (3): an empty key with operator Exists matches all keys, values and (empty) effects
    pytest.param([tol(operator="Exists")], [taint("a", "1", "NoSchedule"), taint("b", "", "NoExecute")], [],
                 id="ToleratesTaint empty key with Exists tolerates everything"),
    # helper.DoNotScheduleTaintsFilterFunc: NoExecute taints are filtered too; the first untolerated one is named
    pytest.param([tol("a", "1", "NoSchedule")], [taint("a", "1", "NoSchedule"), taint("b", "", "NoExecute")],
                 ["node(s) had untolerated taint {b: }"], id="DoNotScheduleTaintsFilterFunc NoExecute is filtered"),
    # ToleratesTaint: an unknown operator (Lt/Gt without the alpha gate) matches nothing
    pytest.param([tol("a", "1", operator="Gt")], [taint("a", "2", "NoSchedule")],
                 ["node(s) had untolerated taint {a: 2}"], id="ToleratesTaint unknown operator matches nothing"),
]


@pytest.mark.parametrize("tolerations, taints, want", TAINT_CASES)
def test_taint_toleration(tolerations: List[Dict[str, str]], taints: List[Dict[str, str]], want: List[str]) -> None:
    the_pod = pod(tolerations=tolerations) if tolerations else pod()
    assert group_reasons(the_pod, group(taints=taints)) == want


# ------------------------------------------------------------------------------------------------ NodeAffinity
def expr(key: str, op: str, *values: str) -> Dict[str, Any]:
    e: Dict[str, Any] = {"key": key, "operator": op}
    if values:
        e["values"] = list(values)
    return e


def required(*terms: Dict[str, Any]) -> Dict[str, Any]:
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": list(terms)}}}


def term(*exprs: Dict[str, Any], fields: Any = ()) -> Dict[str, Any]:
    t: Dict[str, Any] = {}
    if exprs:
        t["matchExpressions"] = list(exprs)
    if fields:
        t["matchFields"] = list(fields)
    return t


NAME_IS = "metadata.name"

AFFINITY_CASES = [
    # TestNodeAffinity "missing labels"
    pytest.param({"nodeSelector": {"foo": "bar"}}, {}, None, [AFF], id="missing labels"),
    # TestNodeAffinity "same labels"
    pytest.param({"nodeSelector": {"foo": "bar"}}, {"foo": "bar"}, None, [], id="same labels"),
    # TestNodeAffinity "node labels are superset"
    pytest.param({"nodeSelector": {"foo": "bar"}}, {"foo": "bar", "baz": "blah"}, None, [],
                 id="node labels are superset"),
    # TestNodeAffinity "node labels are subset"
    pytest.param({"nodeSelector": {"foo": "bar", "baz": "blah"}}, {"foo": "bar"}, None, [AFF],
                 id="node labels are subset"),
    # TestNodeAffinity "Pod with matchExpressions using In operator that matches the existing node"
    pytest.param({"affinity": required(term(expr("foo", "In", "bar", "value2")))}, {"foo": "bar"}, None, [],
                 id="Pod with matchExpressions using In operator that matches the existing node"),
    # TestNodeAffinity "Pod with matchExpressions using Gt operator that matches the existing node"
    pytest.param({"affinity": required(term(expr("kernel-version", "Gt", "0204")))}, {"kernel-version": "0206"},
                 None, [], id="Pod with matchExpressions using Gt operator that matches the existing node"),
    # TestNodeAffinity "Pod with matchExpressions using NotIn operator that matches the existing node"
    pytest.param({"affinity": required(term(expr("mem-type", "NotIn", "DDR", "DDR2")))}, {"mem-type": "DDR3"},
                 None, [], id="Pod with matchExpressions using NotIn operator that matches the existing node"),
    # TestNodeAffinity "Pod with matchExpressions using Exists operator that matches the existing node"
    pytest.param({"affinity": required(term(expr("GPU", "Exists")))}, {"GPU": "NVIDIA-GRID-K1"}, None, [],
                 id="Pod with matchExpressions using Exists operator that matches the existing node"),
    # TestNodeAffinity "Pod with affinity that don't match node's labels won't schedule onto the node"
    pytest.param({"affinity": required(term(expr("foo", "In", "value1", "value2")))}, {"foo": "bar"}, None, [AFF],
                 id="Pod with affinity that don't match node's labels won't schedule onto the node"),
    # TestNodeAffinity "Pod with empty MatchExpressions is not a valid value will match no objects and won't
    # schedule onto the node"
    pytest.param({"affinity": required({"matchExpressions": []})}, {"foo": "bar"}, None, [AFF],
                 id="Pod with empty MatchExpressions will match no objects"),
    # TestNodeAffinity "Pod with no Affinity will schedule onto a node"
    pytest.param({}, {"foo": "bar"}, None, [], id="Pod with no Affinity will schedule onto a node"),
    # TestNodeAffinity "Pod with Affinity but nil NodeSelector will schedule onto a node"
    pytest.param({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": None}}},
                 {"foo": "bar"}, None, [], id="Pod with Affinity but nil NodeSelector will schedule onto a node"),
    # TestNodeAffinity "Pod with multiple matchExpressions ANDed that matches the existing node"
    pytest.param({"affinity": required(term(expr("GPU", "Exists"), expr("GPU", "NotIn", "AMD", "INTER")))},
                 {"GPU": "NVIDIA-GRID-K1"}, None, [],
                 id="Pod with multiple matchExpressions ANDed that matches the existing node"),
    # TestNodeAffinity "Pod with multiple matchExpressions ANDed that doesn't match the existing node"
    pytest.param({"affinity": required(term(expr("GPU", "Exists"), expr("GPU", "In", "AMD", "INTER")))},
                 {"GPU": "NVIDIA-GRID-K1"}, None, [AFF],
                 id="Pod with multiple matchExpressions ANDed that doesn't match the existing node"),
    # TestNodeAffinity "Pod with multiple NodeSelectorTerms ORed in affinity, matches the node's labels and will
    # schedule onto the node"
    pytest.param({"affinity": required(term(expr("foo", "In", "bar", "value2")),
                                       term(expr("diffkey", "In", "wrong", "value2")))},
                 {"foo": "bar"}, None, [], id="Pod with multiple NodeSelectorTerms ORed in affinity"),
    # TestNodeAffinity "Pod with an Affinity and a PodSpec.NodeSelector(the old thing that we are deprecating)
    # both are satisfied, will schedule onto the node"
    pytest.param({"nodeSelector": {"foo": "bar"}, "affinity": required(term(expr("foo", "Exists")))},
                 {"foo": "bar"}, None, [], id="Pod with an Affinity and a PodSpec.NodeSelector both are satisfied"),
    # TestNodeAffinity "Pod with an Affinity matches node's labels but the PodSpec.NodeSelector(the old thing that
    # we are deprecating) is not satisfied, won't schedule onto the node"
    pytest.param({"nodeSelector": {"foo": "bar"}, "affinity": required(term(expr("foo", "Exists")))},
                 {"foo": "barrrrrr"}, None, [AFF],
                 id="Pod with an Affinity matches but the PodSpec.NodeSelector is not satisfied"),
    # TestNodeAffinity "Pod with an invalid value in Affinity term won't be scheduled onto the node"
    pytest.param({"affinity": required(term(expr("foo", "NotIn", "invalid value: ___@#$%^")))}, {"foo": "bar"},
                 None, [AFF], id="Pod with an invalid value in Affinity term won't be scheduled onto the node"),
    # TestNodeAffinity "Pod with matchFields using In operator that matches the existing node"
    pytest.param({"affinity": required(term(fields=[expr(NAME_IS, "In", "node1")]))}, {}, "node1", [],
                 id="Pod with matchFields using In operator that matches the existing node"),
    # TestNodeAffinity "Pod with matchFields using In operator that does not match the existing node"
    pytest.param({"affinity": required(term(fields=[expr(NAME_IS, "In", "node1")]))}, {}, "node2", [AFF],
                 id="Pod with matchFields using In operator that does not match the existing node"),
    # TestNodeAffinity "Pod with two terms: matchFields does not match, but matchExpressions matches"
    pytest.param({"affinity": required(term(fields=[expr(NAME_IS, "In", "node1"), expr(NAME_IS, "In", "node2")]),
                                       term(expr("foo", "In", "bar")))},
                 {"foo": "bar"}, "node2", [],
                 id="Pod with two terms: matchFields does not match, but matchExpressions matches"),
    # TestNodeAffinity "Pod with one term: matchFields does not match, but matchExpressions matches"
    pytest.param({"affinity": required(term(expr("foo", "In", "bar"), fields=[expr(NAME_IS, "In", "node1")]))},
                 {"foo": "bar"}, "node2", [AFF], id="Pod with one term: matchFields does not match"),
    # TestNodeAffinity "Pod with one term: both matchFields and matchExpressions match"
    pytest.param({"affinity": required(term(expr("foo", "In", "bar"), fields=[expr(NAME_IS, "In", "node1")]))},
                 {"foo": "bar"}, "node1", [], id="Pod with one term: both matchFields and matchExpressions match"),
    # TestNodeAffinity "Pod with two terms: both matchFields and matchExpressions do not match"
    pytest.param({"affinity": required(term(fields=[expr(NAME_IS, "In", "node1")]),
                                       term(expr("foo", "In", "not-match-to-bar")))},
                 {"foo": "bar"}, "node2", [AFF], id="Pod with two terms: both matchFields and matchExpressions do not"),
    # TestNodeAffinity "Pod with two terms of node.Name affinity"
    pytest.param({"affinity": required(term(fields=[expr(NAME_IS, "In", "node1")]),
                                       term(fields=[expr(NAME_IS, "In", "node2")]))},
                 {}, "node2", [], id="Pod with two terms of node.Name affinity"),
    # TestNodeAffinity "Pod with two conflicting mach field requirements"
    pytest.param({"affinity": required(term(fields=[expr(NAME_IS, "In", "node1"), expr(NAME_IS, "In", "node2")]))},
                 {"foo": "bar"}, "node2", [AFF], id="Pod with two conflicting mach field requirements"),
    # apimachinery labels.Requirement.Matches: Lt compares the label as an int64 ("0206" is 206); DoesNotExist
    # matches a node without the label
    pytest.param({"affinity": required(term(expr("kernel-version", "Lt", "300"), expr("spot", "DoesNotExist")))},
                 {"kernel-version": "0206"}, None, [], id="Requirement.Matches Lt and DoesNotExist"),
    # labels.Requirement.Matches: Gt on a label whose value is not an integer does not match
    pytest.param({"affinity": required(term(expr("kernel-version", "Gt", "1")))}, {"kernel-version": "5.15"},
                 None, [AFF], id="Requirement.Matches Gt on a non-integer label"),
    # labels.NewRequirement: Gt needs an integer value, else the term is invalid and matches nothing
    pytest.param({"affinity": required(term(expr("kernel-version", "Gt", "x")))}, {"kernel-version": "5"},
                 None, [AFF], id="NewRequirement Gt value must be an integer"),
    # nodeSelectorRequirementsAsSelector: an unknown operator makes the term invalid
    pytest.param({"affinity": required(term(expr("foo", "Equals", "bar")))}, {"foo": "bar"}, None, [AFF],
                 id="nodeSelectorRequirementsAsSelector unknown operator"),
    # nodeSelectorTerm.match: matchFields is not evaluated for a node without a name (a node-group file's group)
    pytest.param({"affinity": required(term(fields=[expr(NAME_IS, "In", "node1")]))}, {}, None, [],
                 id="nodeSelectorTerm.match skips matchFields on a nameless node"),
]


@pytest.mark.parametrize("spec, labels, node_name, want", AFFINITY_CASES)
def test_node_affinity(spec: Dict[str, Any], labels: Dict[str, str], node_name: Optional[str], want: List[str]) -> None:
    the_pod = pod(**spec)
    name = node_name or "g"
    assert group_reasons(the_pod, group(name, labels=labels, node_name=node_name)) == want


def test_node_name() -> None:
    # NodeName plugin (node_name.go): a pod with spec.nodeName fits only that node; a nameless group is not checked
    the_pod = pod(nodeName="node1")
    assert group_reasons(the_pod, group("node2", node_name="node2")) == ["node(s) didn't match the requested node name"]
    assert group_reasons(the_pod, group("node1", node_name="node1")) == []
    assert group_reasons(the_pod, group("a100")) == []


# ------------------------------------------------------------------------------------------------ fit(): findings
A100 = group("a100", {"cpu": "96", "memory": "1Ti", "nvidia.com/gpu": "4", "pods": "110"},
             {"k8s.amazonaws.com/accelerator": "nvidia-tesla-a100"},
             [taint("nvidia.com/gpu", "present", "NoSchedule")], count=4)
CPU_GROUP = group("general", {"cpu": "16", "memory": "64Gi", "pods": "110"}, {"pool": "general"}, count=10)
H100 = group("h100", {"cpu": "192", "memory": "2Ti", "nvidia.com/gpu": "8", "pods": "110"},
             {"k8s.amazonaws.com/accelerator": "nvidia-h100-80gb"},
             [taint("nvidia.com/gpu", "present", "NoSchedule")], count=2)
GPU_TOL = [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]


def gpu_pod(gpus: str, accelerator: Optional[str] = None) -> Dict[str, Any]:
    spec: Dict[str, Any] = {"tolerations": GPU_TOL}
    if accelerator:
        spec["nodeSelector"] = {"k8s.amazonaws.com/accelerator": accelerator}
    return pod([{"name": "primary", "resources": {"requests": {"cpu": "8", "memory": "64Gi", "nvidia.com/gpu": gpus},
                                                  "limits": {"nvidia.com/gpu": gpus}}}], **spec)


def test_no_groups_no_findings() -> None:
    # fit() with no node groups has nothing to say
    assert fit(gpu_pod("1"), []) == ([], [])


def test_fits_lists_groups_in_order() -> None:
    # TestEnoughRequests "both resources fit" on two groups; the third lacks GPUs
    names, findings = fit(gpu_pod("2"), [H100, CPU_GROUP, A100], task="wf.train")
    assert names == ["h100", "a100"]
    (f,) = findings
    assert (f.level, f.code, f.task) == (INFO, "nodefit.fits", "wf.train")
    assert f.text() == "task 'wf.train': fits node groups 'h100', 'a100' (2 of 3)"
    assert f.after == "h100, a100"
    assert "nvidia.com/gpu=2" in (f.before or "")


def test_no_fit_names_closest_group_and_what_is_missing() -> None:
    # TestEnoughRequests "extended resource capacity enforced" on the GPU group (one reason); the CPU group
    # also misses the accelerator label (TestNodeAffinity "missing labels"): two reasons, so 'a100' is closest
    names, findings = fit(gpu_pod("8", "nvidia-tesla-a100"), [CPU_GROUP, A100], task="wf.train", node="n0")
    assert names == []
    (f,) = findings
    assert (f.level, f.code, f.node, f.field) == (ERROR, "nodefit.no-fit", "n0", "requests.nvidia.com/gpu")
    assert f.text().startswith("task 'wf.train', node 'n0': fits no node group (2 given); closest is 'a100' ")
    assert f.message.endswith("needs 8 nvidia.com/gpu; the largest node in group 'a100' "
                              "(k8s.amazonaws.com/accelerator=nvidia-tesla-a100) has 4")
    assert f.after == f"general: {AFF}, Insufficient nvidia.com/gpu | a100: Insufficient nvidia.com/gpu"


def test_no_fit_closest_is_fewest_reasons() -> None:
    # 'a100' fails on GPUs only; 'general' fails on GPUs and memory: 'a100' is closer whatever the order
    big = pod([{"name": "p", "resources": {"requests": {"memory": "100Gi", "nvidia.com/gpu": "8"}}}],
              tolerations=GPU_TOL)
    _, (f,) = fit(big, [CPU_GROUP, A100])
    assert "closest is 'a100' (Insufficient nvidia.com/gpu)" in f.message
    assert f.text().startswith("pod: fits no node group")


def test_no_fit_taint_and_affinity_details() -> None:
    # TestTaintTolerationFilter "A pod having no tolerations can't be scheduled onto a node with nonempty taints"
    # plus TestNodeAffinity "Pod with affinity that don't match node's labels won't schedule onto the node"
    no_tol = pod([c("1")], affinity=required(term(expr("k8s.amazonaws.com/accelerator", "In", "nvidia-h100-80gb"))))
    _, (f,) = fit(no_tol, [A100])
    assert "node(s) had untolerated taint {nvidia.com/gpu: present}" in f.message
    assert "has taint nvidia.com/gpu=present:NoSchedule that the pod does not tolerate" in f.message
    assert ("the pod's required node affinity term needs k8s.amazonaws.com/accelerator In [nvidia-h100-80gb]: "
            "it has k8s.amazonaws.com/accelerator=nvidia-tesla-a100") in f.message
    assert f.field == "tolerations"


def test_no_fit_node_selector_detail_for_a_named_node() -> None:
    # TestNodeAffinity "missing labels", on a node read from kubectl (it has a name)
    node = group("ip-10-0-0-1", {"cpu": "4"}, {}, node_name="ip-10-0-0-1")
    _, (f,) = fit(pod([c("1")], nodeSelector={"foo": "bar"}), [node])
    assert f.message.endswith("the pod's nodeSelector needs foo=bar; node 'ip-10-0-0-1' has no label foo")
    assert f.field == "affinity"


def test_fit_does_not_change_the_pod() -> None:
    the_pod = gpu_pod("8", "nvidia-tesla-a100")
    before = copy.deepcopy(the_pod)
    fit(the_pod, [A100, CPU_GROUP, H100])
    pod_requests(the_pod)
    assert the_pod == before


@pytest.mark.parametrize("spec, where", [
    # a pod's quantity that ParseQuantity rejects: the error names the key path
    pytest.param({"containers": [{"name": "p", "resources": {"requests": {"cpu": "1 cpu"}}}]},
                 "spec.containers[0].resources.requests.cpu: '1 cpu' is not a valid Kubernetes quantity",
                 id="quantity"),
    pytest.param({"containers": [], "tolerations": {"key": "x"}}, "spec.tolerations: must be a list", id="tolerations"),
    pytest.param({"containers": [], "overhead": {"cpu": "-1"}}, "spec.overhead.cpu: '-1' must be greater than or equal",
                 id="negative"),
    pytest.param({"containers": [], "affinity": required({"matchExpressions": [{"key": 1}]})},
                 "nodeSelectorTerms[0].matchExpressions[0].key: must be a string", id="affinity"),
])
def test_bad_pod_raises_resource_validation_error(spec: Dict[str, Any], where: str) -> None:
    with pytest.raises(ResourceValidationError) as e:
        fit({"spec": spec}, [A100], task="t")
    assert where in str(e.value)
    assert str(e.value).startswith("task 't': ")


def test_closest_tie_is_broken_by_name() -> None:
    # TestEnoughRequests "too many resources fails" on two groups that fail the same way: 'a' before 'b'
    b, a = group("b", {"cpu": "0"}), group("a", {"cpu": "0"})
    _, (f,) = fit(pod([c("1m")]), [b, a])
    assert "closest is 'a' (Insufficient cpu): needs 1m cpu; the largest node in group 'a' has 0" in f.message


# ------------------------------------------------------------------------------------------------ parse_node_groups
KUBECTL_NODES = {
    "apiVersion": "v1",
    "kind": "List",
    "items": [
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": "ip-10-0-1-5", "labels": {"k8s.amazonaws.com/accelerator": "nvidia-tesla-a100",
                                                             "kubernetes.io/hostname": "ip-10-0-1-5"}},
            "spec": {"taints": [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"},
                                {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute",
                                 "timeAdded": "2025-01-01T00:00:00Z"}]},
            "status": {"allocatable": {"cpu": "95690m", "memory": "1056454880Ki", "nvidia.com/gpu": "8",
                                       "pods": "250", "ephemeral-storage": "95491281146"},
                       "capacity": {"cpu": "96"}},
        },
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "ip-10-0-2-7"},
         "status": {"allocatable": {"cpu": "3920m", "memory": "15Gi", "pods": "58"}}},
    ],
}

NODE_GROUP_YAML = """
nodeGroups:
  - name: a100
    count: 4
    allocatable: {cpu: "96", memory: 1Ti, nvidia.com/gpu: "8"}
    labels: {k8s.amazonaws.com/accelerator: nvidia-tesla-a100}
    taints:
      - {key: nvidia.com/gpu, value: present, effect: NoSchedule}
  - name: general
    allocatable:
      cpu: 16
      memory: 64Gi
"""


def test_parse_kubectl_get_nodes() -> None:
    # kubectl get nodes -o json: one group per node, named after it, with its taints (timeAdded dropped)
    a, b = parse_node_groups(KUBECTL_NODES, "nodes.json")
    assert (a.name, a.node_name, a.count, a.source) == ("ip-10-0-1-5", "ip-10-0-1-5", 1, "nodes.json")
    assert a.allocatable["nvidia.com/gpu"] == Quantity.parse("8")
    assert a.allocatable["memory"] == Quantity.parse("1056454880Ki")
    assert a.taints == ({"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"},
                        {"key": "node.kubernetes.io/unreachable", "value": "", "effect": "NoExecute"})
    assert (b.labels, b.taints, str(b.allocatable["cpu"])) == ({}, (), "3920m")
    # the same as JSON text, as a NodeList, and one Node on its own
    assert parse_node_groups(json.dumps(KUBECTL_NODES), "nodes.json") == [a, b]
    assert parse_node_groups(dict(KUBECTL_NODES, kind="NodeList"), "nodes.json") == [a, b]
    assert parse_node_groups(KUBECTL_NODES["items"][1], "node.json") == [
        NodeGroup("ip-10-0-2-7", b.allocatable, {}, (), 1, "node.json", "ip-10-0-2-7")]


def test_parse_node_group_file_yaml_and_dict() -> None:
    a100, general = parse_node_groups(NODE_GROUP_YAML, "nodes.yaml")
    assert (a100.name, a100.count, a100.node_name) == ("a100", 4, None)
    assert a100.allocatable == {"cpu": Quantity.parse("96"), "memory": Quantity.parse("1Ti"),
                                "nvidia.com/gpu": Quantity.parse("8")}
    assert a100.taints == ({"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"},)
    assert (general.count, general.labels, general.allocatable["cpu"]) == (None, {}, Quantity.parse("16"))
    as_dict = {"nodeGroups": [{"name": "a100", "count": 4,
                               "allocatable": {"cpu": "96", "memory": "1Ti", "nvidia.com/gpu": "8"},
                               "labels": {"k8s.amazonaws.com/accelerator": "nvidia-tesla-a100"},
                               "taints": [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}]}]}
    assert parse_node_groups(as_dict, "nodes.yaml") == [a100]


def test_parsed_groups_feed_fit() -> None:
    # the brief's example: 8 GPUs asked, the A100 group's nodes have 4
    groups = parse_node_groups(NODE_GROUP_YAML.replace('nvidia.com/gpu: "8"', 'nvidia.com/gpu: "4"'), "nodes.yaml")
    _, (f,) = fit(gpu_pod("8", "nvidia-tesla-a100"), groups, task="wf.train")
    assert ("needs 8 nvidia.com/gpu; the largest node in group 'a100' (k8s.amazonaws.com/accelerator="
            "nvidia-tesla-a100) has 4") in f.message
    assert f.source == "nodes.yaml"


def _groups(*gs: Dict[str, Any]) -> Dict[str, Any]:
    return {"nodeGroups": list(gs)}


BAD_FILES = [
    pytest.param(_groups({"name": "a"}, {"name": "b"}, {"name": "c", "allocatable": {"cpu": "abc"}}),
                 "nodes.yaml: nodeGroups[2].allocatable.cpu: 'abc' is not a valid Kubernetes quantity", id="quantity"),
    pytest.param(_groups({"name": "a", "allocatable": {"memory": "-1Gi"}}),
                 "nodes.yaml: nodeGroups[0].allocatable.memory: '-1Gi' must be greater than or equal to 0",
                 id="negative quantity"),
    pytest.param(_groups({"name": "a", "allocatable": {"cpu": True}}),
                 "nodes.yaml: nodeGroups[0].allocatable.cpu: True is not a valid Kubernetes quantity", id="bool"),
    pytest.param(_groups({"count": 2}), "nodes.yaml: nodeGroups[0].name: must be a string, not null", id="no name"),
    pytest.param(_groups({"name": "a"}, {"name": "a"}),
                 "nodes.yaml: nodeGroups[1].name: 'a' is given twice (also nodeGroups[0])", id="duplicate name"),
    pytest.param(_groups({"name": "a", "count": -1}), "nodes.yaml: nodeGroups[0].count: -1 must be a whole number",
                 id="negative count"),
    pytest.param(_groups({"name": "a", "labels": {"gpu": True}}),
                 "nodes.yaml: nodeGroups[0].labels.gpu: must be a string, not bool True (quote it in YAML)",
                 id="label not a string"),
    pytest.param(_groups({"name": "a", "taints": [{"key": "x", "effect": "NoScheduel"}]}),
                 "nodes.yaml: nodeGroups[0].taints[0].effect: 'NoScheduel' is not a taint effect", id="taint effect"),
    pytest.param(_groups({"name": "a", "taints": [{"value": "x", "effect": "NoSchedule"}]}),
                 "nodes.yaml: nodeGroups[0].taints[0].key: must be a string, not null", id="taint without key"),
    pytest.param(_groups({"name": "a", "taints": {"key": "x"}}),
                 "nodes.yaml: nodeGroups[0].taints: must be a list", id="taints not a list"),
    pytest.param(_groups({"name": "a", "allocatble": {"cpu": "1"}}),
                 "nodes.yaml: nodeGroups[0].allocatble: is not a key of a node group", id="unknown key"),
    pytest.param({"nodeGroups": [], "nodes": []}, "nodes.yaml: nodes: is not a key of a node-group file",
                 id="unknown top-level key"),
    pytest.param({"nodeGroups": {"a": {}}}, "nodes.yaml: nodeGroups: must be a list", id="nodeGroups not a list"),
    pytest.param(["a"], "nodes.yaml: must be a mapping", id="not a mapping"),
    pytest.param({"kind": "Pod"}, "nodes.yaml: kind: 'Pod' is not a node list", id="wrong kind"),
    pytest.param({"kind": "List", "items": [{"kind": "Pod", "metadata": {"name": "x"}}]},
                 "nodes.yaml: items[0].kind: 'Pod' is not a Node", id="kubectl item not a node"),
    pytest.param({"kind": "List", "items": [{"metadata": {"name": "n"}, "status": {"allocatable": {"cpu": "1x"}}}]},
                 "nodes.yaml: items[0].status.allocatable.cpu: '1x' is not a valid Kubernetes quantity",
                 id="kubectl bad allocatable"),
    pytest.param({"kind": "List", "items": [{"metadata": {}}]},
                 "nodes.yaml: items[0].metadata.name: must be a string, not null", id="kubectl node without a name"),
    pytest.param("nodeGroups: [\n  {name: a", "nodes.yaml: (YAML): is not valid YAML", id="bad YAML"),
    pytest.param("---\nnodeGroups: []\n---\nnodeGroups: []\n", "nodes.yaml: must hold one YAML/JSON document, not 2",
                 id="two documents"),
]


@pytest.mark.parametrize("doc, message", BAD_FILES)
def test_bad_node_files(doc: Any, message: str) -> None:
    with pytest.raises(ResourceValidationError) as e:
        parse_node_groups(doc, "nodes.yaml")
    assert str(e.value).startswith(message), str(e.value)


@pytest.mark.parametrize("affinity, detail", [
    # TestNodeAffinity "Pod with empty MatchExpressions is not a valid value will match no objects and won't
    # schedule onto the node": the finding says why
    pytest.param(required({"matchExpressions": []}),
                 "the pod's required node affinity has no non-empty nodeSelectorTerm, so it matches no node",
                 id="empty term"),
    # TestNodeAffinity "Pod with an invalid value in Affinity term won't be scheduled onto the node"
    pytest.param(required(term(expr("foo", "NotIn", "invalid value: ___@#$%^"))),
                 "the pod's required node affinity term is invalid "
                 "('invalid value: ___@#$%^' is not a valid label value), so it matches no node",
                 id="invalid value"),
    # TestNodeAffinity "Pod with two terms: both matchFields and matchExpressions do not match"
    pytest.param(required(term(fields=[expr(NAME_IS, "In", "node1")]), term(expr("foo", "In", "not-match-to-bar"))),
                 "the pod's required node affinity matches none of its 2 nodeSelectorTerms: [0] needs field "
                 "metadata.name In [node1]: the node's metadata.name is 'node2', [1] needs foo In [not-match-to-bar]: "
                 "node 'node2' has foo=bar",
                 id="two terms"),
])
def test_no_fit_affinity_detail(affinity: Dict[str, Any], detail: str) -> None:
    _, (f,) = fit(pod(affinity=affinity), [group("node2", labels={"foo": "bar"}, node_name="node2")])
    assert f.message.endswith(detail), f.message


def test_no_fit_too_many_pods_detail() -> None:
    # TestNotEnoughRequests "even without specified resources, predicate fails when there's no space for
    # additional pod": the finding names the group and its pod count
    _, (f,) = fit(pod(), [group("full", {"pods": "0"})])
    assert f.message.endswith("closest is 'full' (Too many pods): the largest node in group 'full' allows 0 pods")
    assert f.field == "pods"
