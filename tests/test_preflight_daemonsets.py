"""Node fit counts daemonsets (preflight.nodefit.daemonsets): which node groups a DaemonSet runs on, and the
room its pods take there before any task pod.

Every case cites the Go test it comes from: the DaemonSet controller's (kubernetes/kubernetes
``pkg/controller/daemon/daemon_controller_test.go``) for where a daemonset runs, the scheduler's
(``pkg/scheduler/framework/plugins/noderesources/fit_test.go``) with the pod already on the node being a
daemonset's, and Karpenter's (kubernetes-sigs/karpenter ``pkg/controllers/provisioning/suite_test.go``,
``Context("Daemonsets")``) for the overhead it subtracts from an instance type before the pod.
"""

from __future__ import annotations

import copy
import textwrap
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flytekitplugins.resources.findings import ERROR, INFO
from flytekitplugins.resources.preflight.nodefit import (
    DaemonSet,
    NodeGroup,
    fit,
    group_reasons,
    parse_daemonset,
    parse_daemonsets,
    runs_on,
)
from flytekitplugins.resources.quantity import Quantity, ResourceValidationError

CPU, MEM = "Insufficient cpu", "Insufficient memory"
EXT_A, HUGE = "example.com/aaa", "hugepages-2Mi"


def group(name: str = "g", alloc: Optional[Dict[str, str]] = None, labels: Optional[Dict[str, str]] = None,
          taints: Any = (), node_name: Optional[str] = None) -> NodeGroup:
    return NodeGroup(name=name, allocatable={k: Quantity.parse(v) for k, v in (alloc or {}).items()},
                     labels=dict(labels or {}), taints=tuple(dict(t, value=t.get("value", "")) for t in taints),
                     source="nodes.yaml", node_name=node_name)


def container(requests: Optional[Dict[str, str]] = None, limits: Optional[Dict[str, str]] = None,
              sidecar: bool = False) -> Dict[str, Any]:
    res: Dict[str, Any] = {}
    if requests is not None:
        res["requests"] = dict(requests)
    if limits is not None:
        res["limits"] = dict(limits)
    out: Dict[str, Any] = {"name": "c", "image": "foo/bar", "resources": res}
    if sidecar:
        out["restartPolicy"] = "Always"
    return out


def ds_doc(name: str = "ds", containers: Sequence[Dict[str, Any]] = (), init: Sequence[Dict[str, Any]] = (),
           namespace: Optional[str] = "default", **spec: Any) -> Dict[str, Any]:
    pod_spec: Dict[str, Any] = {"containers": list(containers) or [container()]}
    if init:
        pod_spec["initContainers"] = list(init)
    pod_spec.update(spec)
    meta: Dict[str, Any] = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    return {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": meta,
            "spec": {"selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": pod_spec}}}


def ds(name: str = "ds", requests: Optional[Dict[str, str]] = None, **kw: Any) -> DaemonSet:
    containers = kw.pop("containers", None) or [container(requests or {})]
    return parse_daemonset(ds_doc(name, containers, **kw), "daemonsets.yaml")


def pod(requests: Optional[Dict[str, str]] = None, init: Sequence[Dict[str, Any]] = (), **spec: Any) -> Dict[str, Any]:
    s: Dict[str, Any] = {"containers": [container(requests or {})]}
    if init:
        s["initContainers"] = list(init)
    s.update(spec)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": s}


def affinity(*terms: List[Dict[str, Any]]) -> Dict[str, Any]:
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": list(t)} for t in terms]}}}


def expr(key: str, op: str, *values: str) -> Dict[str, Any]:
    out: Dict[str, Any] = {"key": key, "operator": op}
    if values:
        out["values"] = list(values)
    return out


# ------------------------------------------------------------------------------------------------ where it runs
# daemon_controller_test.go: newNode("test-node", simpleDaemonSetLabel) with allocatable 100M memory, 1 cpu
SIMPLE = {"name": "simple-daemon", "type": "production"}
SIMPLE2 = {"name": "simple-daemon", "type": "test"}
TEST_NODE = group("test-node", {"cpu": "1", "memory": "100M", "pods": "100"}, SIMPLE, node_name="test-node")
DEDICATED = {"key": "dedicated", "value": "user1", "effect": "NoSchedule"}


def tainted(*taints: Dict[str, str], node_name: Optional[str] = "tainted") -> NodeGroup:
    return group("tainted", {"pods": "100"}, taints=taints, node_name=node_name)


RUNS_ON_CASES = [
    # TestNodeShouldRunDaemonPod "ShouldRunDaemonPod" (resourcePodSpec("", "50M", "0.5"))
    pytest.param(ds(requests={"memory": "50M", "cpu": "0.5"}), TEST_NODE, True, id="ShouldRunDaemonPod"),
    # TestNodeShouldRunDaemonPod "InsufficientResourceError": 200M on a 100M node still runs (its pod waits)
    pytest.param(ds(requests={"memory": "200M", "cpu": "0.5"}), TEST_NODE, True, id="InsufficientResourceError"),
    # TestNodeShouldRunDaemonPod "ErrPodNotMatchHostName" (resourcePodSpec("other-node", ...))
    pytest.param(ds(requests={"memory": "50M"}, nodeName="other-node"), TEST_NODE, False,
                 id="ErrPodNotMatchHostName"),
    # the same template against a group of a node-group file: new nodes are never "other-node"
    pytest.param(ds(nodeName="other-node"), group("g"), False, id="ErrPodNotMatchHostName, nameless group"),
    # the template naming the node itself runs there
    pytest.param(ds(nodeName="test-node"), TEST_NODE, True, id="template names this node"),
    # TestNodeShouldRunDaemonPod "ErrNodeSelectorNotMatch" (NodeSelector: simpleDaemonSetLabel2)
    pytest.param(ds(nodeSelector=SIMPLE2), TEST_NODE, False, id="ErrNodeSelectorNotMatch"),
    # TestNodeShouldRunDaemonPod "ShouldRunDaemonPod" (NodeSelector: simpleDaemonSetLabel)
    pytest.param(ds(nodeSelector=SIMPLE), TEST_NODE, True, id="ShouldRunDaemonPod with nodeSelector"),
    # TestNodeShouldRunDaemonPod "ErrPodAffinityNotMatch" (type In [test])
    pytest.param(ds(affinity=affinity([expr("type", "In", "test")])), TEST_NODE, False,
                 id="ErrPodAffinityNotMatch"),
    # TestNodeShouldRunDaemonPod "ShouldRunDaemonPod" (type In [production])
    pytest.param(ds(affinity=affinity([expr("type", "In", "production")])), TEST_NODE, True,
                 id="ShouldRunDaemonPod with node affinity"),
    # TestNodeShouldRunDaemonPod "ShouldRunDaemonPodOnUnschedulableNode": the unschedulable taint is tolerated
    pytest.param(ds(), tainted({"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}), True,
                 id="ShouldRunDaemonPodOnUnschedulableNode"),
    # TestTaintedNodeDaemonDoesNotLaunchIntolerantPod (noScheduleTaints)
    pytest.param(ds(), tainted(DEDICATED), False, id="TestTaintedNodeDaemonDoesNotLaunchIntolerantPod"),
    # TestTaintedNodeDaemonLaunchesToleratePod (noScheduleTolerations)
    pytest.param(ds(tolerations=[DEDICATED]), tainted(DEDICATED), True, id="TestTaintedNodeDaemonLaunchesToleratePod"),
    # TestNoExecuteTaintedDoesEvicitRunningIntolerantPod: a NoExecute taint it does not tolerate
    pytest.param(ds(), tainted(dict(DEDICATED, effect="NoExecute")), False,
                 id="TestNoExecuteTaintedDoesEvicitRunningIntolerantPod"),
    # TestNotReadyNodeDaemonLaunchesPod (node.kubernetes.io/not-ready:NoExecute)
    pytest.param(ds(), tainted({"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"}), True,
                 id="TestNotReadyNodeDaemonLaunchesPod"),
    # TestUnreachableNodeDaemonLaunchesPod (node.kubernetes.io/unreachable:NoExecute)
    pytest.param(ds(), tainted({"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"}), True,
                 id="TestUnreachableNodeDaemonLaunchesPod"),
    # TestTaintPressureNodeDaemonLaunchesPod (disk, memory and PID pressure, NoSchedule)
    pytest.param(ds(), tainted(*({"key": f"node.kubernetes.io/{k}-pressure", "effect": "NoSchedule"}
                                 for k in ("disk", "memory", "pid"))), True,
                 id="TestTaintPressureNodeDaemonLaunchesPod"),
    # TestNodeDaemonLaunchesToleratePod: tolerations on an untainted node
    pytest.param(ds(tolerations=[DEDICATED]), tainted(), True, id="TestNodeDaemonLaunchesToleratePod"),
    # AddOrUpdateDaemonPodTolerations: network-unavailable is tolerated by hostNetwork pods only
    pytest.param(ds(hostNetwork=True), tainted({"key": "node.kubernetes.io/network-unavailable",
                                                "effect": "NoSchedule"}), True, id="hostNetwork network-unavailable"),
    pytest.param(ds(), tainted({"key": "node.kubernetes.io/network-unavailable", "effect": "NoSchedule"}), False,
                 id="network-unavailable without hostNetwork"),
    # karpenter "should consider a daemonset schedulable with a PreferNoSchedule taint"
    pytest.param(ds(), tainted({"key": "test", "effect": "PreferNoSchedule"}), True, id="PreferNoSchedule taint"),
    # karpenter "should ignore daemonsets with an invalid selector" (nodeSelector node: invalid)
    pytest.param(ds(nodeSelector={"node": "invalid"}), group("g"), False, id="invalid selector"),
    # karpenter "should account daemonsets with NotIn operator and unspecified key"
    pytest.param(ds(affinity=affinity([expr("foo", "NotIn", "bar")])), group("g"), True, id="NotIn unspecified key"),
    # karpenter "should consider a daemonset schedulable with multiple node affinity terms"
    pytest.param(ds(affinity=affinity([expr("foo", "In", "voo")], [expr("foo", "In", "bar")])),
                 group("g", labels={"foo": "bar"}), True, id="multiple node affinity terms"),
    # karpenter "should consider a daemonset schedulable with an incompatible node affinity preference"
    pytest.param(ds(affinity={"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 1, "preference": {"matchExpressions": [expr("node", "In", "invalid")]}}]}}), group("g"), True,
                 id="incompatible node affinity preference"),
    # daemon_controller.go predicates: parse errors are ignored, an invalid term matches nothing
    pytest.param(ds(affinity=affinity([expr("type", "Bogus", "x")])), TEST_NODE, False, id="invalid term"),
]


@pytest.mark.parametrize("the_ds, the_group, want", RUNS_ON_CASES)
def test_runs_on(the_ds: DaemonSet, the_group: NodeGroup, want: bool) -> None:
    assert runs_on(the_ds, the_group) is want
    # what runs takes its pod slot: a node that allows one pod has none left for the task
    one_pod = NodeGroup(the_group.name, {"pods": Quantity.parse("1")}, the_group.labels, the_group.taints,
                        node_name=the_group.node_name)
    tolerant = pod(tolerations=[{"operator": "Exists"}])
    assert group_reasons(tolerant, one_pod, [the_ds]) == (["Too many pods"] if want else [])


# ------------------------------------------------------------------------------------------------ scheduler
# fit_test.go TestEnoughRequests, as written in Go: the node is makeAllocatableResources(10, 20, 32, 5, 20, 5)
# (cpu 10m, memory 20, pods 32, example.com/aaa 5, ephemeral-storage 20, hugepages-2Mi 5) and the pod already on
# it (newResourcePod(...)) is a daemonset's
NODE = group("node", {"cpu": "10m", "memory": "20", "pods": "32", EXT_A: "5", "ephemeral-storage": "20", HUGE: "5"})


def existing(cpu: str, mem: str, **scalar: str) -> DaemonSet:
    reqs = {"cpu": cpu, "memory": mem}
    reqs.update({EXT_A if k == "a" else HUGE: v for k, v in scalar.items()})
    return ds("existing", reqs)


SCHEDULER_CASES = [
    pytest.param(pod(), existing("10m", "20"), [], id="no resources requested always fits"),
    pytest.param(pod({"cpu": "1m", "memory": "1"}), existing("10m", "20"), [CPU, MEM], id="too many resources fails"),
    pytest.param(pod({"cpu": "1m", "memory": "1"}, init=[container({"cpu": "3m", "memory": "1"})]),
                 existing("8m", "19"), [CPU], id="too many resources fails due to init container cpu"),
    pytest.param(pod({"cpu": "1m", "memory": "1"}, init=[container({"cpu": "1m", "memory": "3"})]),
                 existing("9m", "19"), [MEM], id="too many resources fails due to init container memory"),
    pytest.param(pod({"cpu": "1m", "memory": "1"}, init=[container({"cpu": "1m", "memory": "1"})]),
                 existing("9m", "19"), [], id="init container fits because it's the max, not sum"),
    pytest.param(pod({"cpu": "1m", "memory": "1"}), existing("5m", "5"), [], id="both resources fit"),
    pytest.param(pod({"cpu": "2m", "memory": "1"}), existing("9m", "5"), [CPU], id="one resource memory fits"),
    pytest.param(pod({"cpu": "1m", "memory": "2"}), existing("5m", "19"), [MEM], id="one resource cpu fits"),
    pytest.param(pod({"cpu": "5m", "memory": "1"}), existing("5m", "19"), [], id="equal edge case"),
    pytest.param(pod({"cpu": "4m", "memory": "1"}, init=[container({"cpu": "5m", "memory": "1"})]),
                 existing("5m", "19"), [], id="equal edge case for init container"),
    pytest.param(pod({"cpu": "1m", "memory": "1", EXT_A: "1"}), existing("0", "0", a="5"),
                 [f"Insufficient {EXT_A}"], id="extended resource allocatable enforced"),
    pytest.param(pod({"cpu": "1m", "memory": "1", EXT_A: "3"}), existing("0", "0", a="2"), [],
                 id="extended resource allocatable admits what is left"),
    pytest.param(pod(containers=[container({"cpu": "1m", "memory": "1", HUGE: "3"})] * 2),
                 existing("0", "0", huge="2"), [f"Insufficient {HUGE}"],
                 id="hugepages resource allocatable enforced for multiple containers"),
    pytest.param(pod({"cpu": "1m", "memory": "1"}, overhead={"cpu": "3m", "memory": "13"}), existing("5m", "5"), [],
                 id="resources + pod overhead fits"),
    pytest.param(pod({"cpu": "1m", "memory": "1"}, overhead={"cpu": "1m", "memory": "15"}), existing("5m", "5"),
                 [MEM], id="requests + overhead does not fit for memory"),
]


@pytest.mark.parametrize("the_pod, the_ds, want", SCHEDULER_CASES)
def test_scheduler_cases_with_a_daemonset_on_the_node(the_pod: Dict[str, Any], the_ds: DaemonSet,
                                                      want: List[str]) -> None:
    assert group_reasons(the_pod, NODE, [the_ds]) == want


def test_too_many_pods_with_daemonsets() -> None:
    # TestNotEnoughRequests "even if both resources fit, predicate fails when there's no space for additional
    # pod": pods 1, one pod (a daemonset's) running
    node = group("node", {"cpu": "10m", "memory": "20", "pods": "1"})
    assert group_reasons(pod({"cpu": "1m", "memory": "1"}), node, [ds("existing", {"cpu": "5m", "memory": "5"})]) \
        == ["Too many pods"]
    assert group_reasons(pod({"cpu": "1m", "memory": "1"}), node) == []


def test_each_daemonset_pod_is_rounded_up_on_its_own() -> None:
    # NodeInfo.Requested adds each pod's MilliValue(): two pods of 0.5m take 2m, not 1m
    node = group("node", {"cpu": "3m"})
    halves = [ds("a", {"cpu": "0.5m"}), ds("b", {"cpu": "0.5m"})]
    assert group_reasons(pod({"cpu": "1m"}), node, halves) == []
    assert group_reasons(pod({"cpu": "2m"}), node, halves) == [CPU]


# ------------------------------------------------------------------------------------------------ karpenter
# pkg/cloudprovider/fake: NewInstanceType gives 4 cpu, 4Gi, 5 pods by default, a kube-reserved overhead of 100m
# and 10Mi, and label size=large above 4 cpu and 8Gi; GetInstanceTypes lists small-instance-type (2, 2Gi),
# default-instance-type and arm-instance-type (16, 128Gi) among others. Karpenter launches the cheapest
# instance type that fits; here, the first group (smallest first) that the pod fits.
def instance_types(labels: Optional[Dict[str, str]] = None, taints: Any = ()) -> List[NodeGroup]:
    out = []
    for name, cpu, mem, size in (("small-instance-type", 2, 2, "small"), ("default-instance-type", 4, 4, "small"),
                                 ("arm-instance-type", 16, 128, "large")):
        out.append(group(name, {"cpu": f"{cpu * 1000 - 100}m", "memory": f"{mem * 1024 - 10}Mi", "pods": "5"},
                         {"node.kubernetes.io/instance-type": name, "size": size, **(labels or {})}, taints))
    return out


def cheapest(the_pod: Dict[str, Any], groups: List[NodeGroup], daemonsets: Sequence[DaemonSet]) -> Optional[str]:
    fitting, _ = fit(the_pod, groups, daemonsets=daemonsets)
    return fitting[0] if fitting else None


ONE = {"cpu": "1", "memory": "1Gi"}
TWO = {"cpu": "2", "memory": "2Gi"}
KARPENTER_CASES = [
    pytest.param(pod(ONE), instance_types(), [ds(requests=TWO)], "default-instance-type",
                 id="should account for daemonsets"),
    pytest.param(pod(), instance_types(), [ds(requests={"cpu": "10000", "memory": "10000Gi"})], None,
                 id="should not schedule if daemonset overhead is too large"),
    pytest.param(pod(), instance_types(),
                 [ds(containers=[container({"cpu": "1"}, {"cpu": "10000", "memory": "10000Gi"})])], None,
                 id="should not schedule if resource requests are not defined and limits (requests) are too large"),
    pytest.param(pod(), instance_types(),
                 [ds(containers=[container({"cpu": "1"}, {"cpu": "10000", "memory": "1Gi"})],
                     init=[container({"cpu": "3"}, {"cpu": "10000", "memory": "3Gi"})])], "default-instance-type",
                 id="should schedule based on the max resource requests of containers and initContainers"),
    pytest.param(pod(), instance_types(),
                 [ds(containers=[container({"cpu": "1"}, {"cpu": "10000", "memory": "1Gi"})],
                     init=[container({"cpu": "1"}, {"cpu": "10000", "memory": "10000Gi"})])], None,
                 id="should not schedule if combined max resources are too large for any node"),
    pytest.param(pod(), instance_types(), [ds(init=[container({"cpu": "10000", "memory": "10000Gi"})])], None,
                 id="should not schedule if initContainer resources are too large"),
    pytest.param(pod(), instance_types(), [ds()], "small-instance-type",
                 id="should be able to schedule pods if resource requests and limits are not defined"),
    pytest.param(pod(ONE, tolerations=[{"operator": "Exists"}]),
                 instance_types(taints=[{"key": "foo", "value": "bar", "effect": "NoSchedule"}]), [ds(requests=TWO)],
                 "small-instance-type", id="should ignore daemonsets without matching tolerations"),
    pytest.param(pod(ONE), instance_types(), [ds(requests=TWO, nodeSelector={"node": "invalid"})],
                 "small-instance-type", id="should ignore daemonsets with an invalid selector"),
    pytest.param(pod(ONE), instance_types(),
                 [ds(requests=TWO, affinity=affinity([expr("node.kubernetes.io/instance-type", "In",
                                                           "non-existent-instance-type")]))],
                 "small-instance-type", id="should ignore daemonsets when no instance types meet the requirements"),
    pytest.param(pod(ONE), instance_types({"purpose": "monitoring"}),
                 [ds(requests=TWO, nodeSelector={"purpose": "monitoring"})], "default-instance-type",
                 id="should account for daemonsets with a custom label nodeSelector that matches the nodepool"),
    pytest.param(pod(ONE), instance_types(),
                 [ds("small-only", {"cpu": "1"}, affinity=affinity([expr("size", "In", "small")])),
                  ds("large-only", {"cpu": "10"}, affinity=affinity([expr("size", "In", "large")]))],
                 "default-instance-type", id="should filter out daemonsets based on instance type requirements"),
    # (the Go test's pod also asks for zone test-zone-2, which these groups do not label)
    pytest.param(pod(ONE), instance_types(), [ds(requests=TWO, affinity=affinity([expr("foo", "NotIn", "bar")]))],
                 "default-instance-type", id="should account daemonsets with NotIn operator and unspecified key"),
    pytest.param(pod(ONE), instance_types({"foo": "bar"}),
                 [ds(requests=TWO, affinity=affinity([expr("foo", "In", "voo")], [expr("foo", "In", "bar")]))],
                 "default-instance-type",
                 id="should consider a daemonset schedulable with multiple node affinity terms"),
    pytest.param(pod(ONE), instance_types(taints=[{"key": "test", "effect": "PreferNoSchedule"}]), [ds(requests=TWO)],
                 "default-instance-type", id="should consider a daemonset schedulable with a PreferNoSchedule taint"),
]


@pytest.mark.parametrize("the_pod, groups, daemonsets, want", KARPENTER_CASES)
def test_karpenter_daemonset_overhead(the_pod: Dict[str, Any], groups: List[NodeGroup],
                                      daemonsets: List[DaemonSet], want: Optional[str]) -> None:
    assert cheapest(the_pod, groups, daemonsets) == want
    # without the daemonsets, every one of these pods fits the smallest instance type
    assert cheapest(the_pod, groups, []) == "small-instance-type"


ALL_CASES = [(p.values[0], [NODE], [p.values[1]]) for p in SCHEDULER_CASES] + \
    [(p.values[0], p.values[1], p.values[2]) for p in KARPENTER_CASES] + \
    [(pod(tolerations=[{"operator": "Exists"}]), [p.values[1]], [p.values[0]]) for p in RUNS_ON_CASES]


@pytest.mark.parametrize("the_pod, groups, daemonsets", ALL_CASES)
def test_fit_and_group_reasons_agree(the_pod: Dict[str, Any], groups: List[NodeGroup],
                                     daemonsets: List[DaemonSet]) -> None:
    # fit decides for every group at once (bisection, cached decisions); group_reasons one group at a time
    fitting, findings = fit(the_pod, groups, daemonsets=daemonsets)
    each = {g.name: group_reasons(the_pod, g, daemonsets) for g in groups}
    assert fitting == [name for name, rs in each.items() if not rs]
    if not fitting:
        assert findings[0].after == " | ".join(f"{name}: {', '.join(rs)}" for name, rs in each.items())


# ------------------------------------------------------------------------------------------------ messages
FLUENT_BIT = ds("fluent-bit", {"cpu": "100m", "memory": "200Mi"}, tolerations=[{"operator": "Exists"}])
DCGM = ds("dcgm-exporter", {"cpu": "500m", "memory": "1Gi"},
          tolerations=[{"key": "nvidia.com/gpu", "operator": "Exists"}],
          nodeSelector={"k8s.amazonaws.com/accelerator": "nvidia-tesla-a100"})
GENERAL = group("general", {"cpu": "4", "memory": "16Gi", "pods": "110"})
A100 = group("a100", {"cpu": "4", "memory": "16Gi", "pods": "110", "nvidia.com/gpu": "8"},
             {"k8s.amazonaws.com/accelerator": "nvidia-tesla-a100"},
             [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}])
GPU_POD = pod({"cpu": "3500m", "nvidia.com/gpu": "1"}, tolerations=[{"key": "nvidia.com/gpu", "operator": "Exists"}],
              nodeSelector={"k8s.amazonaws.com/accelerator": "nvidia-tesla-a100"})


def test_no_fit_names_the_daemonsets_that_took_the_room() -> None:
    fitting, [f] = fit(GPU_POD, [GENERAL, A100], daemonsets=[FLUENT_BIT, DCGM], task="train")
    assert fitting == [] and f.level == ERROR and f.code == "nodefit.no-fit" and f.field == "requests.cpu"
    assert f.text() == (
        "task 'train': fits no node group (2 given); closest is 'a100' (Insufficient cpu): needs 3500m cpu; "
        "the largest node in group 'a100' (k8s.amazonaws.com/accelerator=nvidia-tesla-a100) has 4, "
        "600m taken by daemonsets fluent-bit, dcgm-exporter")
    assert f.source == "nodes.yaml, daemonsets.yaml" and f.task == "train" and not f.message.startswith("task")
    # without the daemonsets it fits, and the message is the one it always was
    assert fit(GPU_POD, [GENERAL, A100], task="train")[1][0].text() == \
        "task 'train': fits node group 'a100' (1 of 2)"


def test_a_daemonset_that_does_not_run_there_is_not_named() -> None:
    # dcgm-exporter selects A100 nodes: on 'general' only fluent-bit takes room
    _, [f] = fit(pod({"cpu": "3950m"}), [GENERAL], daemonsets=[FLUENT_BIT, DCGM])
    assert f.message.endswith("needs 3950m cpu; the largest node in group 'general' has 4, "
                              "100m taken by daemonset fluent-bit")


def test_fits_says_which_daemonsets_run_beside_the_pod() -> None:
    fitting, [f] = fit(pod({"cpu": "1"}), [GENERAL, A100], daemonsets=[FLUENT_BIT, DCGM], task="t")
    assert fitting == ["general"] and f.level == INFO
    assert f.text() == "task 't': fits node group 'general' (1 of 2) beside daemonset fluent-bit"


def test_pods_taken_by_daemonsets_detail() -> None:
    node = group("tiny", {"cpu": "4", "pods": "2"})
    _, [f] = fit(pod({"cpu": "1"}), [node], daemonsets=[ds("a"), ds("b")])
    assert f.message.endswith("(Too many pods): the largest node in group 'tiny' allows 2 pods, "
                              "2 taken by daemonsets a, b")


def test_daemonsets_that_overflow_a_resource_the_pod_does_not_request() -> None:
    # karpenter "should not schedule if daemonset overhead is too large": the daemonsets' overhead and the pod
    # must fit together, whatever the pod requests
    node = group("small", {"cpu": "1900m", "memory": "2038Mi", "pods": "5"})
    _, [f] = fit(pod({"memory": "1Gi"}), [node], daemonsets=[ds("big", {"cpu": "10000"})])
    assert f.message.endswith("(Insufficient cpu): the largest node in group 'small' has 1900m cpu, "
                              "10k taken by daemonset big, more than it has")


def test_same_name_in_two_namespaces_is_shown_with_its_namespace() -> None:
    a = ds("agent", {"cpu": "1"}, namespace="logging")
    b = ds("agent", {"cpu": "1"}, namespace="metrics")
    _, [f] = fit(pod({"cpu": "3"}), [GENERAL], daemonsets=[a, b])
    assert f.message.endswith("has 4, 2 taken by daemonsets logging/agent, metrics/agent")


def test_limits_default_requests_sidecars_and_overhead() -> None:
    # SetDefaults_Pod (a missing request is the limit), a sidecar adds to the containers, overhead is added
    d = parse_daemonset(ds_doc("d", [container({"cpu": "100m"}, {"cpu": "1", "memory": "1Gi"})],
                               init=[container({"cpu": "200m", "memory": "0"}, sidecar=True)],
                               overhead={"cpu": "50m"}), "daemonsets.yaml")
    assert {k: str(v) for k, v in d.requests.items()} == {"cpu": "350m", "memory": "1Gi"}


def test_parsing_does_not_change_the_manifest() -> None:
    doc = ds_doc("d", [container(None, {"cpu": "1"})], tolerations=[DEDICATED])
    before = copy.deepcopy(doc)
    parse_daemonset(doc, "daemonsets.yaml")
    assert doc == before


def test_kubectl_list_and_single_documents() -> None:
    listed = parse_daemonsets({"apiVersion": "v1", "kind": "List", "items": [ds_doc("a"), ds_doc("b")]}, "ds.yaml")
    assert [d.name for d in listed] == ["a", "b"]
    assert [d.name for d in parse_daemonsets(ds_doc("c", namespace=None), "ds.yaml")] == ["c"]


BAD_DAEMONSETS = [
    ({"kind": "List", "items": [ds_doc("a"), "x"]},
     "ds.yaml: items[1]: a DaemonSet manifest must be a mapping, not str"),
    ({"kind": "List", "items": [dict(ds_doc("a"), kind="Deployment")]},
     "ds.yaml: items[0].kind: must be 'DaemonSet', not 'Deployment'"),
    (dict(ds_doc("a"), apiVersion="extensions/v1beta1"), "ds.yaml: apiVersion: must be 'apps/v1', not"),
    ({"kind": "DaemonSet", "metadata": {}}, "ds.yaml: metadata.name: must be a string, not null"),
    ({"kind": "DaemonSet", "metadata": {"name": "a"}, "spec": {"template": []}},
     "ds.yaml: spec.template: must be a mapping, not list"),
    ({"kind": "List", "items": [ds_doc("a", [container({"cpu": "abc"})])]},
     "ds.yaml: items[0].spec.template.spec.containers[0].resources.requests.cpu: 'abc' is not a valid"),
    ({"kind": "List", "items": [ds_doc("a", [container(None, {"memory": "-1"})])]},
     "ds.yaml: items[0].spec.template.spec.containers[0].resources.limits.memory: '-1' must be greater than"),
    (ds_doc("a", tolerations={"key": "x"}), "ds.yaml: spec.template.spec.tolerations: must be a list"),
    (ds_doc("a", tolerations=[{"key": 5}]), "ds.yaml: spec.template.spec.tolerations[0].key: must be a string"),
    (ds_doc("a", nodeSelector={"a": 1}), "ds.yaml: spec.template.spec.nodeSelector.a: must be a string"),
    (ds_doc("a", affinity=affinity([{"key": "k", "operator": "In", "values": "x"}])),
     "ds.yaml: spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution."
     "nodeSelectorTerms[0].matchExpressions[0].values: must be a list"),
]


@pytest.mark.parametrize("doc, message", BAD_DAEMONSETS)
def test_bad_daemonset_manifests(doc: Any, message: str) -> None:
    with pytest.raises(ResourceValidationError) as e:
        parse_daemonsets(doc, "ds.yaml")
    assert str(e.value).startswith(message) and "\n" not in str(e.value)


# ------------------------------------------------------------------------------------------------ the policy
def _policy_dir(tmp_path: Path, daemonsets: str) -> Path:
    (tmp_path / "nodes.yaml").write_text(textwrap.dedent("""\
        nodeGroups:
          - name: general
            allocatable: {cpu: "4", memory: 16Gi, pods: "110"}
        """))
    (tmp_path / "daemonsets.yaml").write_text(textwrap.dedent(daemonsets))
    (tmp_path / "policy.toml").write_text('cluster = ["daemonsets.yaml"]\nnode-groups = ["nodes.yaml"]\n')
    return tmp_path


KUBECTL_LIST = """\
    apiVersion: v1
    kind: List
    items:
      - apiVersion: apps/v1
        kind: DaemonSet
        metadata: {name: fluent-bit, namespace: logging}
        spec:
          template:
            spec:
              containers: [{name: f, image: fluent-bit, resources: {requests: {cpu: 100m, memory: 200Mi}}}]
      - apiVersion: apps/v1
        kind: DaemonSet
        metadata: {name: node-exporter, namespace: monitoring}
        spec:
          template:
            spec:
              containers: [{name: n, image: node-exporter, resources: {limits: {cpu: 500m, memory: 64Mi}}}]
    """
MULTI_DOC = """\
    apiVersion: apps/v1
    kind: DaemonSet
    metadata: {name: fluent-bit, namespace: logging}
    spec:
      template:
        spec:
          containers: [{name: f, resources: {requests: {cpu: 100m}}}]
    ---
    apiVersion: v1
    kind: LimitRange
    metadata: {name: limits}
    spec:
      limits: [{type: Container, defaultRequest: {cpu: 500m}}]
    ---
    apiVersion: apps/v1
    kind: DaemonSet
    metadata: {name: node-exporter, namespace: monitoring}
    spec:
      template:
        spec:
          containers: [{name: n, resources: {requests: {cpu: 500m}}}]
    """


@pytest.mark.parametrize("text", [KUBECTL_LIST, MULTI_DOC], ids=["kubectl get ds -A -o yaml", "multi-document"])
def test_policy_routes_daemonsets_to_node_fit(tmp_path: Path, text: str) -> None:
    from flytekitplugins.resources.preflight.policy import load_policy

    policy = load_policy(str(_policy_dir(tmp_path, text) / "policy.toml"))
    assert policy is not None and [d.name for d in policy.daemonsets] == ["fluent-bit", "node-exporter"]
    _, [f] = fit(pod({"cpu": "3500m"}), policy.node_groups, daemonsets=policy.daemonsets)
    assert f.message.endswith("has 4, 600m taken by daemonsets fluent-bit, node-exporter")


@pytest.mark.parametrize("text, message", [
    ("""\
     kind: List
     items:
       - {apiVersion: apps/v1, kind: DaemonSet, metadata: {name: a}, spec: {template: {spec: {containers: [
           {name: c, resources: {requests: {cpu: lots}}}]}}}}
     """, "daemonsets.yaml: items[0].spec.template.spec.containers[0].resources.requests.cpu: 'lots' is not"),
    ("""\
     {apiVersion: apps/v1, kind: DaemonSet, metadata: {name: a}}
     ---
     {apiVersion: apps/v1, kind: DaemonSet, metadata: {name: a}}
     """, "daemonsets.yaml (document 2): metadata.name: DaemonSet 'a' (namespace 'default') is given twice"),
    ("""\
     {apiVersion: apps/v1, kind: Deployment, metadata: {name: a}}
     """, "daemonsets.yaml: kind: 'Deployment' is not a LimitRange, a ResourceQuota or a DaemonSet"),
])
def test_policy_bad_daemonset_file_is_one_line(tmp_path: Path, text: str, message: str) -> None:
    from flytekitplugins.resources.preflight.policy import load_policy

    path = _policy_dir(tmp_path, textwrap.dedent(text)) / "policy.toml"
    with pytest.raises(ResourceValidationError) as e:
        load_policy(str(path))
    assert message in str(e.value) and "\n" not in str(e.value)


# ------------------------------------------------------------------------------------------------ properties
_milli = st.integers(min_value=0, max_value=20_000)


@settings(max_examples=200, deadline=None)
@given(alloc=_milli, pods=st.integers(min_value=0, max_value=4), task=_milli,
       taken=st.lists(_milli, max_size=4), tolerated=st.booleans())
def test_daemonsets_only_ever_take_room(alloc: int, pods: int, task: int, taken: List[int], tolerated: bool) -> None:
    # a node that runs daemonsets fits a pod only if the same node without them does, and exactly when the
    # pod's cpu is at most what they leave (NodeInfo.Requested) and a pod slot is left
    node = group("n", {"cpu": f"{alloc}m", "pods": str(pods)}, taints=[DEDICATED])
    the_pod = pod({"cpu": f"{task}m"} if task else {}, tolerations=[DEDICATED])
    daemonsets = [ds(f"d{i}", {"cpu": f"{t}m"} if t else {}, tolerations=[DEDICATED] if tolerated else [])
                  for i, t in enumerate(taken)]
    with_them = group_reasons(the_pod, node, daemonsets)
    without = group_reasons(the_pod, node)
    assert set(without) <= set(with_them)
    running = len(taken) if tolerated else 0
    used = sum(taken) if tolerated else 0
    want = []
    if pods - running < 1:
        want.append("Too many pods")
    if (task and task > alloc - used) or (not task and used > alloc):
        want.append(CPU)
    assert with_them == want
