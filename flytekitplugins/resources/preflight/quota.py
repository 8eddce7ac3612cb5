"""ResourceQuota for one pod: what the ResourceQuota admission plugin would refuse, with the pod alone.

What this reproduces, and from where (kubernetes/kubernetes, read at master in 2025):

- the pod's usage, ``pkg/quota/v1/evaluator/core/pods.go`` (``PodUsageFunc``, ``podComputeUsageHelper``)
  over ``k8s.io/component-helpers/resource`` ``PodRequests``/``PodLimits``: the containers summed, each
  init container with the restartable ("sidecar") init containers before it as a floor, sidecars added to
  the sum; pod-level ``spec.resources`` (cpu, memory, ``hugepages-*``) replacing that figure;
  ``spec.overhead`` added to the requests, and to the limits that are set and non-zero. It charges
  ``pods`` and ``count/pods`` 1, ``cpu``/``requests.cpu``, ``memory``/``requests.memory``,
  ``ephemeral-storage``/``requests.ephemeral-storage``, ``limits.cpu``, ``limits.memory``,
  ``limits.ephemeral-storage``, ``hugepages-*``/``requests.hugepages-*``, and ``requests.<name>`` for an
  extended resource (``requests.nvidia.com/gpu``; a bare ``nvidia.com/gpu`` in ``hard`` is not a pod
  resource and is not counted, as in Kubernetes). The pod is read as the API server has it: a request
  missing where a limit is set is the limit (``SetDefaults_Pod``), every value rounded up to milli units
  (``SetDefaults_ResourceList``);
- which quotas apply, ``generic.Matches`` and ``podMatchesScopeFunc``: the quota tracks at least one pod
  resource, and every scope matches: ``Terminating``/``NotTerminating`` (``activeDeadlineSeconds >= 0``),
  ``BestEffort``/``NotBestEffort`` (QoS: no cpu or memory request or limit above 0, from pod-level
  resources when the pod has ``spec.resources``), ``PriorityClass`` (``Exists`` on a non-empty
  ``priorityClassName``, else ``In``/``NotIn``/``Exists``/``DoesNotExist`` as a label selector on it) and
  ``CrossNamespacePodAffinity``; any other scope matches no pod;
- the admission check, ``k8s.io/apiserver/.../resourcequota/controller.go`` ``CheckRequest``: first the
  evaluator's ``Constraints`` (a quota on ``cpu``, ``memory``, ``requests.*`` or ``limits.*`` of cpu or
  memory needs every container and init container to set it, unless the pod has pod-level resources):
  ``failed quota: NAME: must specify limits.cpu for: a,b; requests.memory for: a`` (``quota.missing``);
  then ``exceeded quota: NAME, requested: limits.cpu=8, used: limits.cpu=0, limited: limits.cpu=4``
  (``quota.exceeds``) for the resources where the pod's non-zero usage is above ``spec.hard``;
- ``parse_resource_quota`` applies ``ValidateResourceQuota``'s rules for names, values (``>= 0``, whole
  numbers for object counts), scopes and scope selectors.

Offline the namespace's other pods are unknown, so ``used`` is 0 and each applicable quota also gets a
``quota.usage-unknown`` info. The API server stops at the first quota that refuses the pod; here every
quota is checked. A quota whose ``metadata.namespace`` differs from the pod's does not apply. Not
modelled: the admission configuration's ``limitedResources``, a default PriorityClass that the
``Priority`` admission plugin would give the pod, pod updates and resize.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ..findings import ERROR, INFO, Finding
from ..k8s.manifest import (
    ResourceList,
    check_keys,
    fail,
    header,
    mapping,
    metadata,
    quantity,
    resource_list,
    sequence,
    string,
)
from ..k8s.names import INTEGER_RESOURCES, is_extended_resource, is_native_resource, is_qualified_name
from ..k8s.podresources import (
    default_requests_from_limits,
    is_pod_level_resource,
    pod_limits,
    pod_namespace,
    pod_requests,
    read_pod,
)
from ..quantity import Quantity
from .limitrange import where_prefix

__all__ = ["SCOPES", "ResourceQuota", "ScopeRequirement", "check_quotas", "parse_resource_quota", "pod_usage"]

SCOPES = ("Terminating", "NotTerminating", "BestEffort", "NotBestEffort", "PriorityClass",
          "CrossNamespacePodAffinity", "VolumeAttributesClass")
OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")

_POD_RESOURCES = frozenset((  # podResources in pods.go
    "count/pods", "cpu", "memory", "ephemeral-storage", "requests.cpu", "requests.memory",
    "requests.ephemeral-storage", "limits.cpu", "limits.memory", "limits.ephemeral-storage", "pods"))
_VALIDATION_SET = ("cpu", "memory", "requests.cpu", "requests.memory", "limits.cpu", "limits.memory")
_STANDARD_QUOTA_RESOURCES = frozenset((  # helper.IsStandardQuotaResourceName
    "pods", "services", "replicationcontrollers", "resourcequotas", "secrets", "configmaps",
    "persistentvolumeclaims", "cpu", "memory", "ephemeral-storage", "requests.cpu", "requests.memory",
    "requests.storage", "requests.ephemeral-storage", "limits.cpu", "limits.memory",
    "limits.ephemeral-storage", "services.nodeports", "services.loadbalancers"))
_POD_COUNT_AND_COMPUTE = frozenset(("pods", "cpu", "memory", "limits.cpu", "limits.memory",
                                    "requests.cpu", "requests.memory"))
_DEVICE_CLASS_PREFIX = "deviceclass.resource.kubernetes.io/"
_ONE = Quantity.parse("1")
_ZERO = Quantity.parse("0")


# ------------------------------------------------------------------------------------------------ the quota
@dataclass(frozen=True)
class ScopeRequirement:
    """One ``scopeSelector.matchExpressions`` entry (a ``spec.scopes`` entry is one with ``Exists``)."""

    scope_name: str
    operator: str
    values: Tuple[str, ...] = ()


@dataclass(frozen=True)
class ResourceQuota:
    """A namespace's ResourceQuota, read from ``source``."""

    name: str
    namespace: Optional[str]
    hard: ResourceList = field(hash=False)
    scopes: Tuple[str, ...] = ()
    scope_selector: Tuple[ScopeRequirement, ...] = ()
    source: str = ""  #: the file it came from

    @property
    def label(self) -> str:
        """``ResourceQuota NAME (file)``: the ``source`` of its findings."""
        return f"ResourceQuota {self.name}" + (f" ({self.source})" if self.source else "")

    @property
    def selectors(self) -> Tuple[ScopeRequirement, ...]:
        """``getScopeSelectorsFromQuota``: the scopes (as ``Exists``), then the scope selector."""
        return tuple(ScopeRequirement(s, "Exists") for s in self.scopes) + self.scope_selector


def _scope_valid_for(scope: str, resource: str) -> bool:
    """``helper.IsResourceQuotaScopeValidForResource``."""
    if scope in ("Terminating", "NotTerminating", "NotBestEffort", "PriorityClass", "CrossNamespacePodAffinity"):
        return resource in _POD_COUNT_AND_COMPUTE
    if scope == "BestEffort":
        return resource == "pods"
    if scope == "VolumeAttributesClass":
        return resource in ("persistentvolumeclaims", "requests.storage")
    return True


def _is_standard_quota_resource(name: str) -> bool:
    return name in _STANDARD_QUOTA_RESOURCES or name.startswith(("hugepages-", "requests.hugepages-"))


def _parse_hard(source: str, value: Any) -> ResourceList:
    hard: ResourceList = {}
    for k, v in mapping(source, "spec.hard", value).items():
        name = string(source, "spec.hard (a key)", k, allow_empty=False)
        path = f"spec.hard.{name}"
        if "/" not in name and not _is_standard_quota_resource(name):
            raise fail(source, path, f"{name!r} must be a standard resource for quota (pods, requests.cpu, "
                                     "limits.memory, requests.nvidia.com/gpu, count/pods...)")
        if "/" in name and not is_qualified_name(name):
            raise fail(source, path, f"{name!r} is not a valid resource name")
        q = quantity(source, path, v)
        if q.sign() < 0:
            raise fail(source, path, f"{v!r} must be greater than or equal to 0")
        if (name in INTEGER_RESOURCES or is_extended_resource(name)) and not q.is_integer():
            raise fail(source, path, f"{v!r} must be an integer")
        hard[name] = q
    return hard


def _check_scope(source: str, path: str, scope: str, hard: ResourceList) -> None:
    if scope not in SCOPES:
        raise fail(source, path, f"{scope!r} is an unsupported scope; use one of {', '.join(SCOPES)}")
    for k in sorted(hard):
        if _is_standard_quota_resource(k) and not _scope_valid_for(scope, k):
            raise fail(source, path, f"unsupported scope applied to resource: scope {scope} cannot limit {k}")


def _parse_selector(source: str, value: Any, hard: ResourceList) -> Tuple[ScopeRequirement, ...]:
    if value is None:
        return ()
    sel = mapping(source, "spec.scopeSelector", value)
    check_keys(source, "spec.scopeSelector", sel, ("matchExpressions",))
    out = []
    for i, raw in enumerate(sequence(source, "spec.scopeSelector.matchExpressions", sel.get("matchExpressions"))):
        path = f"spec.scopeSelector.matchExpressions[{i}]"
        req = mapping(source, path, raw)
        check_keys(source, path, req, ("scopeName", "operator", "values"))
        scope = string(source, f"{path}.scopeName", req.get("scopeName"), allow_empty=False)
        _check_scope(source, f"{path}.scopeName", scope, hard)
        op = string(source, f"{path}.operator", req.get("operator"), allow_empty=False)
        if op not in OPERATORS:
            raise fail(source, f"{path}.operator", f"{op!r} is not a valid selector operator; use one of "
                                                   f"{', '.join(OPERATORS)}")
        values = tuple(string(source, f"{path}.values[{j}]", v)
                       for j, v in enumerate(sequence(source, f"{path}.values", req.get("values"))))
        if scope not in ("PriorityClass", "VolumeAttributesClass") and op != "Exists":
            raise fail(source, f"{path}.operator", f"must be 'Exists' when scope is {scope}")
        if op in ("In", "NotIn") and not values:
            raise fail(source, f"{path}.values", "must be at least one value when `operator` is 'In' or 'NotIn' "
                                                 "for scope selector")
        if op in ("Exists", "DoesNotExist") and values:
            raise fail(source, f"{path}.values", "must be no value when `operator` is 'Exist' or 'DoesNotExist' "
                                                 "for scope selector")
        out.append(ScopeRequirement(scope, op, values))
    return tuple(out)


def parse_resource_quota(doc: Any, source: str) -> ResourceQuota:
    """A ResourceQuota manifest (a parsed YAML/JSON document).

    Anything the API server (or ``kubectl apply``'s strict field validation) would refuse raises
    :class:`ResourceValidationError` naming ``source`` and the key path, e.g.
    ``quota.yaml: spec.hard.limits.cpu: '4 cores' is not a valid Kubernetes quantity ...``.
    """
    doc = header(doc, source, "ResourceQuota")
    check_keys(source, "", doc, ("apiVersion", "kind", "metadata", "spec", "status"))
    name, namespace = metadata(doc, source)
    spec = mapping(source, "spec", doc.get("spec"))
    check_keys(source, "spec", spec, ("hard", "scopes", "scopeSelector"))
    hard = _parse_hard(source, spec.get("hard"))
    scopes = []
    for i, s in enumerate(sequence(source, "spec.scopes", spec.get("scopes"))):
        scope = string(source, f"spec.scopes[{i}]", s, allow_empty=False)
        _check_scope(source, f"spec.scopes[{i}]", scope, hard)
        scopes.append(scope)
    for pair in (("BestEffort", "NotBestEffort"), ("Terminating", "NotTerminating")):
        if set(pair) <= set(scopes):
            raise fail(source, "spec.scopes", f"conflicting scopes: {pair[0]} and {pair[1]}")
    selector = _parse_selector(source, spec.get("scopeSelector"), hard)
    return ResourceQuota(name=name, namespace=namespace, hard=hard, scopes=tuple(scopes),
                         scope_selector=selector, source=source)


# ------------------------------------------------------------------------------------------------ the pod's usage
class _PodFacts:
    """The pod as the quota evaluator reads it (after the API server's request defaulting); ``pod`` is only
    read. What the quotas ask of it is worked out once (``usage``, ``best_effort``, ``container_usage``)."""

    def __init__(self, pod: Any, where: str) -> None:
        self.pod = pod
        self.spec, self.containers = read_pod(pod, where, write=False)
        default_requests_from_limits(self.containers)
        self._usage: Optional[ResourceList] = None
        self._best_effort: Optional[bool] = None
        self._container_usage: Optional[List[ResourceList]] = None
        self._missing: Dict[Tuple[str, ...], Dict[str, List[str]]] = {}
        self._requested: Dict[Tuple[str, ...], Tuple[ResourceList, str]] = {}
        self.level_requests: ResourceList = {}
        self.level_limits: ResourceList = {}
        self.has_level = self.spec.get("resources") is not None
        if self.has_level:
            res = mapping(where, "spec.resources", self.spec.get("resources"))
            self.level_requests = resource_list(where, "spec.resources.requests", res.get("requests"),
                                                non_negative=False)
            self.level_limits = resource_list(where, "spec.resources.limits", res.get("limits"), non_negative=False)
        self.overhead = resource_list(where, "spec.overhead", self.spec.get("overhead"), non_negative=False)
        #: ``IsPodLevelResourcesSet``: a supported resource in pod-level requests or limits
        self.level_set = any(is_pod_level_resource(k) for k in list(self.level_requests) + list(self.level_limits))

    def level_resources_set(self) -> bool:
        """``IsPodLevelResourcesSet``: a supported resource in pod-level requests or limits."""
        return self.level_set

    def usage(self) -> ResourceList:
        """:func:`_usage`, once."""
        if self._usage is None:
            self._usage = _usage(self)
        return self._usage

    def best_effort(self) -> bool:
        """:func:`_is_best_effort`, once."""
        if self._best_effort is None:
            self._best_effort = _is_best_effort(self)
        return self._best_effort

    def missing(self, tracked: Tuple[str, ...]) -> Dict[str, List[str]]:
        """:func:`_missing`, once per set of tracked resources (quotas often track the same ones)."""
        missing = self._missing.get(tracked)
        if missing is None:
            missing = self._missing[tracked] = _missing(self, tracked)
        return missing

    def requested(self, names: Tuple[str, ...]) -> Tuple[ResourceList, str]:
        """The pod's non-zero usage of ``names`` (a quota's ``hard``, in its order), and as ``prettyPrint``
        shows it (``nothing`` when empty); once per set of names."""
        out = self._requested.get(names)
        if out is None:
            usage = self.usage()
            requested = {k: usage[k] for k in names if k in usage and usage[k].sign() != 0}
            out = self._requested[names] = (requested, _pretty(requested, list(requested)) or "nothing")
        return out

    def container_usage(self) -> List[ResourceList]:
        """Each container's and init container's own usage (``podComputeUsageHelper`` of its resources)."""
        if self._container_usage is None:
            self._container_usage = [_compute_usage(c.requests, c.limits) for c in self.containers]
        return self._container_usage

    def requests(self) -> ResourceList:
        """``PodRequests`` (overhead included)."""
        return pod_requests(self.containers, self.level_requests, self.overhead)

    def limits(self) -> ResourceList:
        """``PodLimits`` (overhead added to the non-zero limits)."""
        return pod_limits(self.containers, self.level_limits, self.level_resources_set(), self.overhead)


_COMPUTE = tuple((name, f"requests.{name}", f"limits.{name}") for name in ("cpu", "memory", "ephemeral-storage"))


def _compute_usage(requests: ResourceList, limits: ResourceList) -> ResourceList:
    """``podComputeUsageHelper``."""
    out: ResourceList = {"pods": _ONE}
    for name, request_name, limit_name in _COMPUTE:
        if name in requests:
            out[name] = requests[name]
            out[request_name] = requests[name]
        if name in limits:
            out[limit_name] = limits[name]
    for name, q in requests.items():
        if name.startswith("hugepages-"):
            out[name] = q
            out[f"requests.{name}"] = q
        if is_extended_resource(name) or name.startswith(_DEVICE_CLASS_PREFIX):  # IsDRAExtendedResourceName
            out[f"requests.{name}"] = q
    return out


def pod_usage(pod: Dict[str, Any]) -> ResourceList:
    """What creating ``pod`` charges to a quota that matches it (``PodUsageFunc``), by resource name.

    ``pod`` is not changed; a malformed pod raises :class:`ResourceValidationError`.
    """
    facts = _PodFacts(pod, "pod")
    return _usage(facts)


def _usage(facts: _PodFacts) -> ResourceList:
    usage: ResourceList = {"count/pods": _ONE}
    usage.update(_compute_usage(facts.requests(), facts.limits()))
    return usage


# ------------------------------------------------------------------------------------------------ scopes
def _is_terminating(spec: Dict[str, Any]) -> bool:
    ads = spec.get("activeDeadlineSeconds")
    return isinstance(ads, int) and not isinstance(ads, bool) and ads >= 0


def _is_best_effort(facts: _PodFacts) -> bool:
    """``qos.GetPodQOS(pod) == BestEffort``: no cpu or memory request or limit above 0."""
    if facts.has_level:
        lists: List[ResourceList] = [facts.level_requests, facts.level_limits]
    else:
        lists = [r for c in facts.containers for r in (c.requests, c.limits)]
    return not any(q.sign() > 0 for values in lists for k, q in values.items() if k in ("cpu", "memory"))


def _cross_namespace_affinity(spec: Dict[str, Any]) -> bool:
    """``usesCrossNamespacePodAffinity``: a pod (anti-)affinity term with namespaces or a namespaceSelector."""
    affinity = spec.get("affinity")
    if not isinstance(affinity, dict):
        return False

    def crosses(term: Any) -> bool:
        return isinstance(term, dict) and (bool(term.get("namespaces")) or term.get("namespaceSelector") is not None)

    for kind in ("podAffinity", "podAntiAffinity"):
        a = affinity.get(kind)
        if not isinstance(a, dict):
            continue
        required = a.get("requiredDuringSchedulingIgnoredDuringExecution")
        if isinstance(required, list) and any(crosses(t) for t in required):
            return True
        preferred = a.get("preferredDuringSchedulingIgnoredDuringExecution")
        if isinstance(preferred, list) and any(isinstance(w, dict) and crosses(w.get("podAffinityTerm"))
                                               for w in preferred):
            return True
    return False


def _priority_matches(req: ScopeRequirement, spec: Dict[str, Any]) -> bool:
    """``podMatchesSelector``: a label selector over ``{"PriorityClass": priorityClassName}``."""
    pc = spec.get("priorityClassName")
    pc = pc if isinstance(pc, str) and pc else None
    if req.operator == "Exists":
        return pc is not None
    if req.operator == "DoesNotExist":
        return pc is None
    if req.operator == "In":
        return pc is not None and pc in req.values
    if req.operator == "NotIn":
        return pc is None or pc not in req.values
    return False


def _scope_matches(req: ScopeRequirement, facts: _PodFacts) -> bool:
    """``podMatchesScopeFunc`` (the operator of the non-PriorityClass scopes is not read, as in Go)."""
    s = req.scope_name
    if s in ("Terminating", "NotTerminating"):
        return _is_terminating(facts.spec) == (s == "Terminating")
    if s in ("BestEffort", "NotBestEffort"):
        return facts.best_effort() == (s == "BestEffort")
    if s == "PriorityClass":
        return _priority_matches(req, facts.spec)
    if s == "CrossNamespacePodAffinity":
        return _cross_namespace_affinity(facts.spec)
    return False


def _matching_resources(names: Sequence[str]) -> List[str]:
    """``podEvaluator.MatchingResources``: the quota's resources that a pod can use."""
    out = []
    for name in names:
        if name in _POD_RESOURCES or name.startswith(("hugepages-", "requests.hugepages-")):
            out.append(name)
        elif name.startswith("requests.") and (not is_native_resource(name) or
                                               name.startswith("requests." + _DEVICE_CLASS_PREFIX)):
            out.append(name)  # isExtendedResourceNameForQuota
    return out


def _missing(facts: _PodFacts, required: Sequence[str]) -> Dict[str, List[str]]:
    """``Constraints``: for each required resource, the containers that do not set it."""
    wanted = [r for r in required if r in _VALIDATION_SET]
    missing: Dict[str, List[str]] = {}
    if not wanted or facts.level_resources_set():
        return missing
    for c, has in zip(facts.containers, facts.container_usage()):
        for r in wanted:
            if r not in has and c.name not in missing.setdefault(r, []):
                missing[r].append(c.name)
    return {r: sorted(names) for r, names in missing.items() if names}


def _pretty(values: ResourceList, names: Sequence[str]) -> str:
    """``prettyPrint``: ``name=value`` sorted by name, joined with commas."""
    return ",".join([f"{k}={values[k]}" for k in sorted(names)])


class _QuotaFacts:
    """What the admission check reads of a quota, worked out once per quota (a ResourceQuota is frozen)."""

    __slots__ = ("label", "tracked", "tracked_text", "selectors", "names", "hard_text", "hard_values")

    def __init__(self, rq: ResourceQuota) -> None:
        self.label = rq.label
        self.tracked = tuple(_matching_resources(sorted(rq.hard)))  #: the quota's resources that a pod uses
        self.tracked_text = ",".join(sorted(self.tracked))
        self.selectors = rq.selectors
        self.names = tuple(rq.hard)
        self.hard_text = _pretty(rq.hard, list(rq.hard))
        self.hard_values = {k: q.as_decimal() for k, q in rq.hard.items()}  #: exact, to compare with the usage


def _quota_facts(rq: ResourceQuota) -> _QuotaFacts:
    """The quota's :class:`_QuotaFacts`, kept on the quota itself."""
    facts = rq.__dict__.get("_facts")
    if facts is None:
        facts = _QuotaFacts(rq)
        object.__setattr__(rq, "_facts", facts)  # a cache, not a field (not in ==, repr)
    return facts


def check_quotas(
    pod: Dict[str, Any],
    quotas: Sequence[ResourceQuota],
    *,
    task: Optional[str] = None,
    node: Optional[str] = None,
) -> List[Finding]:
    """What the ResourceQuota admission plugin says to ``pod`` alone, quota by quota (in the order given).

    For each quota that applies: ``quota.missing`` (error) when it tracks cpu or memory and a container
    does not set it, ``quota.exceeds`` (error) when the pod's own usage is above ``hard``, and one
    ``quota.usage-unknown`` (info): other pods' usage is unknown offline. ``pod`` is not changed; a
    malformed pod raises :class:`ResourceValidationError`.
    """
    where = where_prefix(task, node)
    facts = _PodFacts(pod, where)
    namespace = pod_namespace(facts.pod)
    findings: List[Finding] = []
    for rq in quotas:
        if rq.namespace and namespace and rq.namespace != namespace:
            continue
        qf = _quota_facts(rq)
        tracked, label = qf.tracked, qf.label
        if not tracked or (qf.selectors and not all(_scope_matches(s, facts) for s in qf.selectors)):
            continue
        missing = facts.missing(tracked)
        if missing:
            text = "; ".join(f"{r} for: {','.join(names)}" for r, names in sorted(missing.items()))
            findings.append(Finding(ERROR, "quota.missing",
                                    f"failed quota: {rq.name}: must specify {text} [{label}]",
                                    task=task, node=node, pod=None if task else "",
                                    field=",".join(sorted(missing)), source=label))
        requested, requested_text = facts.requested(qf.names)
        hard = qf.hard_values
        exceeded = sorted([k for k, q in requested.items() if q.as_decimal() > hard[k]])
        if exceeded:
            used = {k: _ZERO for k in exceeded}
            findings.append(Finding(
                ERROR, "quota.exceeds",
                f"exceeded quota: {rq.name}, requested: {_pretty(requested, exceeded)}, used: "
                f"{_pretty(used, exceeded)}, limited: {_pretty(rq.hard, exceeded)} [{label}]",
                task=task, node=node, pod=None if task else "", field=",".join(exceeded),
                before=_pretty(requested, exceeded), after=_pretty(rq.hard, exceeded), source=label))
        ns = rq.namespace or namespace
        findings.append(Finding(
            INFO, "quota.usage-unknown",
            f"{label} also counts the other pods in {f'namespace {ns}' if ns else 'the namespace'}; their "
            "usage is unknown offline, so this pod was checked alone "
            f"(requested: {requested_text}; hard: {qf.hard_text})",
            task=task, node=node, pod=None if task else "", field=qf.tracked_text, source=label))
    return findings
