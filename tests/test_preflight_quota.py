"""ResourceQuota for one pod, offline: cases from kubernetes/kubernetes.

Sources: plugin/pkg/admission/resourcequota/admission_test.go (TestAdmitBelowQuotaLimit, TestAdmitExceedQuotaLimit,
TestAdmitEnforceQuotaConstraints, TestAdmitPodInNamespaceWithoutQuota, TestAdmitBelowTerminatingQuotaLimit,
TestAdmitBelowBestEffortQuotaLimit, TestAdmitBestEffortQuotaLimitIgnoresBurstable,
TestAdmitWhenUnrelatedResourceExceedsQuota, TestAdmitLimitedScopeWithCoverQuota) and
pkg/quota/v1/evaluator/core/pods_test.go (TestPodConstraintsFunc, TestPodEvaluatorUsage). The Go tests give
each quota a ``status.used``; offline the other pods are unknown, so ``used`` is 0 and the cases that need the
other pods' usage to fail are given a larger pod instead (each says so).
"""

from __future__ import annotations

import copy
from typing import Any, Dict, List, Optional

import pytest

from flytekitplugins.resources.findings import ERROR, INFO
from flytekitplugins.resources.preflight.quota import (
    ResourceQuota,
    ScopeRequirement,
    check_quotas,
    parse_resource_quota,
    pod_usage,
)
from flytekitplugins.resources.quantity import Quantity, ResourceValidationError

SOURCE = "quota.yaml"


def res(cpu: str = "", memory: str = "") -> Dict[str, str]:
    """getResourceList."""
    return {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v}


def manifest(hard: Dict[str, str], *, name: str = "quota", namespace: Optional[str] = "test",
             scopes: Optional[List[str]] = None, selector: Optional[List[Dict[str, Any]]] = None) -> Dict[str, Any]:
    spec: Dict[str, Any] = {"hard": dict(hard)}
    if scopes:
        spec["scopes"] = list(scopes)
    if selector:
        spec["scopeSelector"] = {"matchExpressions": list(selector)}
    meta = {"name": name, **({"namespace": namespace} if namespace else {})}
    return {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": meta, "spec": spec}


def quota(hard: Dict[str, str], **kw: Any) -> ResourceQuota:
    return parse_resource_quota(manifest(hard, **kw), SOURCE)


def pod(name: str, n: int, requests: Optional[Dict] = None, limits: Optional[Dict] = None, *,
        priority: str = "", namespace: str = "test", **spec: Any) -> Dict[str, Any]:
    """validPod / validPodWithPriority (containers named, as admission needs for its messages)."""
    resources: Dict[str, Any] = {}
    if requests:
        resources["requests"] = dict(requests)
    if limits:
        resources["limits"] = dict(limits)
    s: Dict[str, Any] = {"containers": [{"name": f"foo-{i}", "image": f"foo:V{i}",
                                         "resources": copy.deepcopy(resources)} for i in range(n)]}
    if priority:
        s["priorityClassName"] = priority
    s.update(spec)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace}, "spec": s}


def messages(findings: List[Any], level: str = ERROR) -> List[str]:
    """The messages of one level without the ``pod: `` prefix and the ``[ResourceQuota ...]`` suffix."""
    out = []
    for f in findings:
        if f.level == level:
            text = f.text().split(": ", 1)[1]
            out.append(text[: text.rindex(" [")] if level == ERROR else text)
    return out


CASES = [
    # TestAdmitBelowQuotaLimit
    pytest.param(pod("allowed-pod", 1, res("100m", "2Gi")), [manifest({"cpu": "3", "memory": "100Gi", "pods": "5"})],
                 [], ["quota"], id="TestAdmitBelowQuotaLimit"),
    # TestAdmitExceedQuotaLimit: the Go pod (cpu 3) fails because 1 cpu is already used; alone it asks for 4
    pytest.param(pod("not-allowed-pod", 1, res("4", "2Gi")), [manifest({"cpu": "3", "memory": "100Gi", "pods": "5"})],
                 ["exceeded quota: quota, requested: cpu=4, used: cpu=0, limited: cpu=3"], ["quota"],
                 id="TestAdmitExceedQuotaLimit(pod-alone)"),
    # TestAdmitEnforceQuotaConstraints: the quota tracks limits.memory, the pod has no memory limit
    pytest.param(pod("not-allowed-pod", 1, res("100m", "2Gi"), res("200m")),
                 [manifest({"cpu": "3", "memory": "100Gi", "limits.memory": "200Gi", "pods": "5"})],
                 ["failed quota: quota: must specify limits.memory for: foo-0"], ["quota"],
                 id="TestAdmitEnforceQuotaConstraints"),
    # TestAdmitPodInNamespaceWithoutQuota: a quota of another namespace does not apply
    pytest.param(pod("allowed-pod", 1, res("100m", "2Gi"), res("200m")),
                 [manifest({"cpu": "3", "memory": "100Gi", "limits.memory": "200Gi", "pods": "5"}, namespace="other")],
                 [], [], id="TestAdmitPodInNamespaceWithoutQuota"),
    # TestAdmitBelowTerminatingQuotaLimit: a pod with an active deadline is charged to the Terminating quota only
    pytest.param(pod("allowed-pod", 1, res("100m", "2Gi"), activeDeadlineSeconds=30),
                 [manifest({"cpu": "3", "memory": "100Gi", "pods": "5"}, name="quota-non-terminating",
                           scopes=["NotTerminating"]),
                  manifest({"cpu": "3", "memory": "100Gi", "pods": "5"}, name="quota-terminating",
                           scopes=["Terminating"])],
                 [], ["quota-terminating"], id="TestAdmitBelowTerminatingQuotaLimit"),
    # TestAdmitBelowBestEffortQuotaLimit: a pod without requests is BestEffort
    pytest.param(pod("allowed-pod", 1),
                 [manifest({"pods": "5"}, name="quota-besteffort", scopes=["BestEffort"]),
                  manifest({"pods": "5"}, name="quota-not-besteffort", scopes=["NotBestEffort"])],
                 [], ["quota-besteffort"], id="TestAdmitBelowBestEffortQuotaLimit"),
    # TestAdmitBestEffortQuotaLimitIgnoresBurstable
    pytest.param(pod("allowed-pod", 1, res("100m", "1Gi")),
                 [manifest({"pods": "5"}, name="quota-besteffort", scopes=["BestEffort"])],
                 [], [], id="TestAdmitBestEffortQuotaLimitIgnoresBurstable"),
    # TestAdmitWhenUnrelatedResourceExceedsQuota: services are not a pod's usage
    pytest.param(pod("allowed-pod", 1), [manifest({"services": "3", "pods": "4"})], [], ["quota"],
                 id="TestAdmitWhenUnrelatedResourceExceedsQuota"),
    # TestExceedUsagePods (pods=0 here: the pod alone exceeds it)
    pytest.param(pod("p", 1, res("1", "1Gi")), [manifest({"pods": "0"})],
                 ["exceeded quota: quota, requested: pods=1, used: pods=0, limited: pods=0"], ["quota"],
                 id="TestExceedUsagePods(pod-alone)"),
    # TestAdmitLimitedScopeWithCoverQuota "quota fails, though covering quota for configured limited scope
    # PriorityClassNameExists exists." (used 1Gi there, 0 here)
    pytest.param(pod("not-allowed-pod", 1, res("3", "20Gi"), priority="fake-priority"),
                 [manifest({"memory": "10Gi"}, selector=[{"scopeName": "PriorityClass", "operator": "Exists"}])],
                 ["exceeded quota: quota, requested: memory=20Gi, used: memory=0, limited: memory=10Gi"], ["quota"],
                 id="TestAdmitLimitedScopeWithCoverQuota/PriorityClassNameExists-exceeded"),
    # TestAdmitLimitedScopeWithCoverQuota "Pod has different priorityclass than configured limited. Covering quota
    # exists for configured limited scope PriorityClassIn.": the In quota does not match fake-priority
    pytest.param(pod("allowed-pod", 1, res("3", "2Gi"), priority="fake-priority"),
                 [manifest({"pods": "0"}, selector=[{"scopeName": "PriorityClass", "operator": "In",
                                                     "values": ["cluster-services"]}])],
                 [], [], id="TestAdmitLimitedScopeWithCoverQuota/PriorityClassIn-other-class"),
    # ... "Pod has limited priorityclass. Covering quota exists for configured limited scope PriorityClassIn."
    pytest.param(pod("allowed-pod", 1, res("3", "2Gi"), priority="cluster-services"),
                 [manifest({"pods": "0"}, selector=[{"scopeName": "PriorityClass", "operator": "In",
                                                     "values": ["cluster-services"]}])],
                 ["exceeded quota: quota, requested: pods=1, used: pods=0, limited: pods=0"], ["quota"],
                 id="TestAdmitLimitedScopeWithCoverQuota/PriorityClassIn-same-class"),
    # podMatchesSelector: NotIn matches a pod without a priority class
    pytest.param(pod("p", 1, res("1", "1Gi")),
                 [manifest({"pods": "5"}, selector=[{"scopeName": "PriorityClass", "operator": "NotIn",
                                                     "values": ["high"]}])],
                 [], ["quota"], id="podMatchesScopeFunc/PriorityClass-NotIn-without-class"),
    # TestPodConstraintsFunc "init container resource missing" / "container resource missing", with several
    # containers: resources in name order, container names sorted and joined with commas
    pytest.param(pod("p", 2, None, None, initContainers=[{"name": "init", "resources": {"limits": res("1", "1Gi")}}]),
                 [manifest({"limits.cpu": "8", "requests.memory": "8Gi"}, name="compute")],
                 ["failed quota: compute: must specify limits.cpu for: foo-0,foo-1; requests.memory for: foo-0,foo-1"],
                 ["compute"], id="TestPodConstraintsFunc/container-resource-missing"),
    # pod-level resources lift the per-container requirement (Constraints with PodLevelResources)
    pytest.param(pod("p", 1, resources={"requests": res("1", "1Gi"), "limits": res("1", "1Gi")}),
                 [manifest({"limits.cpu": "8", "requests.memory": "8Gi"})], [], ["quota"],
                 id="Constraints/pod-level-resources"),
    # both problems of one quota are reported (the API server would stop at the first)
    pytest.param(pod("p", 1, res("8"), res("8")), [manifest({"limits.cpu": "4", "limits.memory": "1Gi"})],
                 ["failed quota: quota: must specify limits.memory for: foo-0",
                  "exceeded quota: quota, requested: limits.cpu=8, used: limits.cpu=0, limited: limits.cpu=4"],
                 ["quota"], id="CheckRequest/missing-and-exceeded"),
    # extended resources are quota'd as requests.<name>; the request defaults to the limit (SetDefaults_Pod)
    pytest.param(pod("p", 2, res("1", "1Gi"), {"nvidia.com/gpu": "2"}), [manifest({"requests.nvidia.com/gpu": "2"})],
                 ["exceeded quota: quota, requested: requests.nvidia.com/gpu=4, used: requests.nvidia.com/gpu=0, "
                  "limited: requests.nvidia.com/gpu=2"], ["quota"], id="TestPodEvaluatorUsage/container-extended"),
    # a bare nvidia.com/gpu in hard is not a pod resource (MatchingResources): the quota does not apply
    pytest.param(pod("p", 1, res("1", "1Gi"), {"nvidia.com/gpu": "8"}), [manifest({"nvidia.com/gpu": "1"})],
                 [], [], id="MatchingResources/bare-extended-name"),
]


@pytest.mark.parametrize("the_pod, docs, expected, applied", CASES)
def test_check_quotas(the_pod, docs, expected, applied):
    before = copy.deepcopy(the_pod)
    findings = check_quotas(the_pod, [parse_resource_quota(d, SOURCE) for d in docs])
    assert the_pod == before
    assert messages(findings) == expected
    unknown = [f for f in findings if f.code == "quota.usage-unknown"]
    assert [f.source for f in unknown] == [f"ResourceQuota {n} ({SOURCE})" for n in applied]
    assert all(f.level == INFO for f in unknown)


def test_finding_fields():
    # TestAdmitExceedQuotaLimit (pod alone): codes, prefix, field, values and source of each finding
    findings = check_quotas(pod("p", 1, res("4", "2Gi")), [quota({"cpu": "3", "requests.cpu": "3", "pods": "5"})],
                            task="wf.train", node="n1")
    exceeds, unknown = findings
    assert exceeds.code == "quota.exceeds" and exceeds.level == ERROR
    assert exceeds.text() == (
        "task 'wf.train', node 'n1': exceeded quota: quota, requested: cpu=4,requests.cpu=4, used: cpu=0,"
        "requests.cpu=0, limited: cpu=3,requests.cpu=3 [ResourceQuota quota (quota.yaml)]")
    assert (exceeds.field, exceeds.before, exceeds.after) == ("cpu,requests.cpu", "cpu=4,requests.cpu=4",
                                                             "cpu=3,requests.cpu=3")
    assert (exceeds.task, exceeds.node, exceeds.source) == ("wf.train", "n1", "ResourceQuota quota (quota.yaml)")
    assert unknown.code == "quota.usage-unknown"
    assert "namespace test" in unknown.message and "requested: cpu=4,pods=1,requests.cpu=4" in unknown.message


def test_missing_finding_fields():
    # TestAdmitEnforceQuotaConstraints: the code and the field list the resources
    (missing, _) = check_quotas(pod("p", 1), [quota({"requests.cpu": "1", "limits.memory": "1Gi"})], task="t")
    assert (missing.code, missing.field) == ("quota.missing", "limits.memory,requests.cpu")
    assert missing.text() == ("task 't': failed quota: quota: must specify limits.memory for: foo-0; requests.cpu "
                               "for: foo-0 [ResourceQuota quota (quota.yaml)]")


def q(text: str) -> Quantity:
    return Quantity.parse(text)


USAGE = [
    # TestPodEvaluatorUsage "init container CPU"
    pytest.param({"initContainers": [{"name": "i", "resources": {"requests": {"cpu": "1m"}, "limits": {"cpu": "2m"}}}]},
                 {"requests.cpu": "1m", "limits.cpu": "2m", "pods": "1", "cpu": "1m", "count/pods": "1"},
                 id="TestPodEvaluatorUsage/init-container-CPU"),
    # "init container local ephemeral storage"
    pytest.param({"initContainers": [{"name": "i", "resources": {"requests": {"ephemeral-storage": "32Mi"},
                                                                 "limits": {"ephemeral-storage": "64Mi"}}}]},
                 {"ephemeral-storage": "32Mi", "requests.ephemeral-storage": "32Mi",
                  "limits.ephemeral-storage": "64Mi", "pods": "1", "count/pods": "1"},
                 id="TestPodEvaluatorUsage/init-container-local-ephemeral-storage"),
    # "container hugepages"
    pytest.param({"containers": [{"name": "c", "resources": {"requests": {"hugepages-2Mi": "100Mi"}}}]},
                 {"hugepages-2Mi": "100Mi", "requests.hugepages-2Mi": "100Mi", "pods": "1", "count/pods": "1"},
                 id="TestPodEvaluatorUsage/container-hugepages"),
    # "container extended resources"
    pytest.param({"containers": [{"name": "c", "resources": {"requests": {"example.com/dongle": "3"},
                                                             "limits": {"example.com/dongle": "3"}}}]},
                 {"requests.example.com/dongle": "3", "pods": "1", "count/pods": "1"},
                 id="TestPodEvaluatorUsage/container-extended-resources"),
    # "init container maximums override sum of containers"
    pytest.param({
        "initContainers": [
            {"name": "i0", "resources": {"requests": {"cpu": "4", "memory": "100M", "example.com/dongle": "4"},
                                         "limits": {"cpu": "8", "memory": "200M", "example.com/dongle": "4"}}},
            {"name": "i1", "resources": {"requests": {"cpu": "1", "memory": "50M", "example.com/dongle": "2"},
                                         "limits": {"cpu": "2", "memory": "100M", "example.com/dongle": "2"}}}],
        "containers": [
            {"name": "c0", "resources": {"requests": {"cpu": "1", "memory": "50M", "example.com/dongle": "1"},
                                         "limits": {"cpu": "2", "memory": "100M", "example.com/dongle": "1"}}},
            {"name": "c1", "resources": {"requests": {"cpu": "2", "memory": "25M", "example.com/dongle": "2"},
                                         "limits": {"cpu": "5", "memory": "50M", "example.com/dongle": "2"}}}]},
        {"requests.cpu": "4", "requests.memory": "100M", "limits.cpu": "8", "limits.memory": "200M", "pods": "1",
         "cpu": "4", "memory": "100M", "requests.example.com/dongle": "4", "count/pods": "1"},
        id="TestPodEvaluatorUsage/init-container-maximums-override-sum-of-containers"),
    # resourcehelper.PodRequests/PodLimits: overhead is added to the requests and to the non-zero limits
    pytest.param({"containers": [{"name": "c", "resources": {"requests": {"cpu": "1", "memory": "1Gi"},
                                                             "limits": {"cpu": "2"}}}],
                  "overhead": {"cpu": "250m", "memory": "120Mi"}},
                 {"cpu": "1250m", "requests.cpu": "1250m", "limits.cpu": "2250m", "memory": "1144Mi",
                  "requests.memory": "1144Mi", "pods": "1", "count/pods": "1"},
                 id="resourcehelper.PodRequests+PodLimits/overhead"),
    # PodLimits adds the overhead to non-zero limits only: a limit of 0 stays 0
    pytest.param({"containers": [{"name": "c", "resources": {"limits": {"cpu": "0"}}}],
                  "overhead": {"cpu": "250m"}},
                 {"cpu": "250m", "requests.cpu": "250m", "limits.cpu": "0", "pods": "1", "count/pods": "1"},
                 id="PodLimits/overhead-not-added-to-zero-limit"),
    # a sidecar (restartPolicy Always) runs with the containers: 1 + 500m; the init container's 1200m with the
    # sidecar before it is 1700m, larger
    pytest.param({"containers": [{"name": "c", "resources": {"requests": {"cpu": "1"}}}],
                  "initContainers": [
                      {"name": "s", "restartPolicy": "Always", "resources": {"requests": {"cpu": "500m"}}},
                      {"name": "i", "resources": {"requests": {"cpu": "1200m"}}}]},
                 {"cpu": "1700m", "requests.cpu": "1700m", "pods": "1", "count/pods": "1"},
                 id="resourcehelper.AggregateContainerRequests/restartable-init-container"),
]


@pytest.mark.parametrize("spec, expected", USAGE)
def test_pod_usage(spec, expected):
    usage = pod_usage({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec})
    assert {k: str(v) for k, v in usage.items()} == expected


def test_parse():
    parsed = quota({"requests.cpu": "4", "count/pods": "10", "requests.nvidia.com/gpu": "2"}, scopes=["NotBestEffort"],
                   selector=[{"scopeName": "PriorityClass", "operator": "In", "values": ["high"]}])
    assert parsed.hard == {"requests.cpu": q("4"), "count/pods": q("10"), "requests.nvidia.com/gpu": q("2")}
    assert (parsed.name, parsed.namespace, parsed.source) == ("quota", "test", SOURCE)
    assert parsed.selectors == (ScopeRequirement("NotBestEffort", "Exists"),
                                ScopeRequirement("PriorityClass", "In", ("high",)))


def _doc(**spec: Any) -> Dict[str, Any]:
    doc = manifest({"pods": "10"})
    doc["spec"].update(spec)
    return doc


BAD = [
    # ValidateResourceQuota: each error names the file and the key path
    pytest.param(_doc(hard={"limits.cpu": "4 cores"}), "spec.hard.limits.cpu", "'4 cores'", id="bad-quantity"),
    pytest.param(_doc(hard={"limits.cpu": "-1"}), "spec.hard.limits.cpu", "greater than or equal to 0",
                 id="negative"),
    pytest.param(_doc(hard={"pods": "1.5"}), "spec.hard.pods", "must be an integer", id="pods-not-integer"),
    pytest.param(_doc(hard={"gpu": "1"}), "spec.hard.gpu", "standard resource for quota", id="unknown-resource"),
    pytest.param(_doc(hard=["pods"]), "spec.hard", "must be a mapping", id="hard-not-a-mapping"),
    pytest.param(_doc(scopes="BestEffort"), "spec.scopes", "must be a list", id="scopes-not-a-list"),
    pytest.param(_doc(scopes=["Fast"]), "spec.scopes[0]", "unsupported scope", id="unknown-scope"),
    pytest.param(_doc(scopes=["BestEffort", "NotBestEffort"]), "spec.scopes", "conflicting scopes",
                 id="conflicting-scopes"),
    pytest.param(_doc(hard={"requests.cpu": "1"}, scopes=["BestEffort"]), "spec.scopes[0]",
                 "unsupported scope applied to resource", id="besteffort-cpu"),
    pytest.param(_doc(scopeSelector={"matchExpressions": [{"scopeName": "PriorityClass", "operator": "In"}]}),
                 "spec.scopeSelector.matchExpressions[0].values", "at least one value", id="in-without-values"),
    pytest.param(_doc(scopeSelector={"matchExpressions": [{"scopeName": "Terminating", "operator": "DoesNotExist"}]}),
                 "spec.scopeSelector.matchExpressions[0].operator", "must be 'Exists'", id="terminating-operator"),
    pytest.param(_doc(scopeSelector={"matchExpressions": [{"scopeName": "PriorityClass", "operator": "Has"}]}),
                 "spec.scopeSelector.matchExpressions[0].operator", "not a valid selector operator",
                 id="bad-operator"),
    pytest.param(_doc(hardd={"pods": "1"}), "spec.hardd", "unknown field", id="unknown-key"),
]


@pytest.mark.parametrize("doc, path, text", BAD)
def test_parse_errors(doc, path, text):
    with pytest.raises(ResourceValidationError) as e:
        parse_resource_quota(doc, SOURCE)
    assert f"{SOURCE}: {path}" in str(e.value)
    assert text in str(e.value)


@pytest.mark.parametrize("doc, text", [
    pytest.param({"kind": "LimitRange", "metadata": {"name": "x"}}, "quota.yaml: kind: must be 'ResourceQuota'",
                 id="wrong-kind"),
    pytest.param("hard: {pods: 1}", "quota.yaml: a ResourceQuota manifest must be a mapping", id="not-a-mapping"),
])
def test_parse_document_errors(doc, text):
    with pytest.raises(ResourceValidationError) as e:
        parse_resource_quota(doc, SOURCE)
    assert str(e.value).startswith(text)


def test_bad_pod():
    # a malformed pod raises ResourceValidationError naming the task and the key
    bad = {"spec": {"containers": [{"name": "a", "resources": {"limits": {"memory": "1GB"}}}]}}
    with pytest.raises(ResourceValidationError) as e:
        check_quotas(bad, [quota({"pods": "1"})], task="wf.t")
    assert str(e.value).startswith("task 'wf.t': spec.containers[0].resources.limits.memory")
