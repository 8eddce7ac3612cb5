"""kube-scheduler's filters for one pod and one node group: pod and group in, reasons out; pure.

What this reproduces, and from where (kubernetes/kubernetes, read at master in 2025):

- the pod's requests, ``k8s.io/component-helpers/resource`` ``PodRequests`` (``helpers.go``): the sum of
  the containers' requests; each init container in turn needs its own requests plus those of the
  restartable ("sidecar", ``restartPolicy: Always``) init containers started before it, and the sidecars
  keep running, so they are added to the sum; the pod needs the larger of the two per resource; pod-level
  ``spec.resources.requests`` (cpu, memory, ``hugepages-*``) replace the containers' figure; ``spec.overhead``
  is added last;
- ``NodeResourcesFit`` (``pkg/scheduler/framework/plugins/noderesources/fit.go``, ``fitsRequest``): values
  are compared as Go's int64s, cpu in ``MilliValue()`` and everything else in ``Value()`` (both rounded up);
  only resources the pod requests (non-zero) are checked; a resource the node does not list counts as 0;
  "scalar" resources are the extended ones (``example.com/foo``), ``hugepages-*``, ``*kubernetes.io/*`` and
  ``attachable-volumes-*``; any other name (``gpu``, ``pods``, ``storage``) is not checked, as in Go.
  What the pods already on the node request (``NodeInfo.Requested``: each pod's requests as int64s, summed)
  is subtracted from allocatable first, and the pods count against ``pods``; here those pods are the
  daemonsets' (:class:`Taken`).
  Reasons: ``Insufficient <name>``, and ``Too many pods`` when the node allows no further pod. The
  scheduler's ``ignoredResources`` options are not modelled: an extended resource the node lacks is
  insufficient;
- ``TaintToleration`` (``tainttoleration/taint_toleration.go`` with ``FindMatchingUntoleratedTaint`` and
  ``Toleration.ToleratesTaint``): only ``NoSchedule`` and ``NoExecute`` taints; a toleration with an empty
  effect matches every effect, an empty key (with ``Exists``) every key, ``Exists`` every value, an empty
  operator is ``Equal``; any other operator matches nothing (``Lt``/``Gt`` are behind the alpha gate
  ``TaintTolerationComparisonOperators``, off by default). Reason: ``node(s) had untolerated taint {k: v}``
  naming the first untolerated taint;
- ``NodeAffinity`` (``nodeaffinity/node_affinity.go`` with component-helpers'
  ``scheduling/corev1/nodeaffinity/nodeaffinity.go`` and apimachinery's ``labels.Requirement``):
  ``spec.nodeSelector`` (every key present with that exact value) AND the required node affinity: its
  ``nodeSelectorTerms`` ORed, a term's expressions ANDed; empty terms are skipped and a selector with no
  non-empty term matches nothing; a term whose requirement is invalid (unknown operator, wrong number of
  values, a key or value that is not a valid label key/value, a ``Gt``/``Lt`` value that is not an int64)
  matches nothing; ``NotIn`` and ``DoesNotExist`` match a node without the label; ``Gt``/``Lt`` compare the
  label's value parsed as an int64 (a node whose value does not parse does not match). ``matchFields``
  supports ``metadata.name`` with ``In``/``NotIn`` and one value; like the scheduler, matchFields is not
  evaluated for a node without a name, which is every group of a node-group file. Reason: ``node(s) didn't
  match Pod's node affinity/selector``;
- ``NodeName``: a pod with ``spec.nodeName`` only fits that node (``node(s) didn't match the requested node
  name``); groups from a node-group file have no node names and are not checked.

Not modelled: pods other than the daemonsets' on the nodes, host ports, volumes, pod (anti-)affinity,
topology spread, ``spec.unschedulable``, DRA, the scheduler's added affinity and ignored resources.
"""

from __future__ import annotations

import functools
from typing import Any, Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple

from ...errors import ResourceValidationError
from ...k8s.manifest import fail as _fail
from ...k8s.manifest import mapping as _mapping
from ...k8s.manifest import sequence as _sequence
from ...k8s.manifest import string as _string
from ...k8s.manifest import type_name as _type_name
from ...k8s.names import is_extended_resource, is_label_value
from ...k8s.names import is_qualified_name as _qualified_name
from ...k8s.podresources import add_into, combine, is_pod_level_resource
from ...quantity import Quantity
from .groups import NodeGroup, nonnegative_quantity

__all__ = [
    "REASON_AFFINITY",
    "REASON_NODE_NAME",
    "REASON_TOO_MANY_PODS",
    "NO_DAEMONSETS",
    "GroupRoom",
    "PodChecks",
    "PodManifest",
    "Reason",
    "Selector",
    "Taken",
    "as_int",
    "group_reasons",
    "insufficient",
    "pod_requests",
    "taint_reason",
    "tolerates",
]

REASON_AFFINITY = "node(s) didn't match Pod's node affinity/selector"
REASON_NODE_NAME = "node(s) didn't match the requested node name"
REASON_TOO_MANY_PODS = "Too many pods"

FILTERED_EFFECTS = ("NoSchedule", "NoExecute")  # helper.DoNotScheduleTaintsFilterFunc
_NODE_SELECTOR_OPS = ("In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt")
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1
# labels that say what a node is, shown next to a group's name when the pod selects on none of its labels
_DESCRIPTIVE_LABELS = (
    "k8s.amazonaws.com/accelerator",
    "cloud.google.com/gke-accelerator",
    "nvidia.com/gpu.product",
    "node.kubernetes.io/instance-type",
    "beta.kubernetes.io/instance-type",
)


# ------------------------------------------------------------------------------------------------ the pod's requests
class PodManifest:
    """The parts of a v1 Pod manifest the filters read, checked for type; errors name ``where`` and the key
    path. ``spec_path`` is where the pod spec is in the document (``spec``; a daemonset's pod template is at
    ``spec.template.spec``)."""

    def __init__(self, pod: Any, where: str, spec_path: str = "spec") -> None:
        self.where = where
        self.at = spec_path
        if not isinstance(pod, dict):
            raise _fail(where, "", f"a pod must be a mapping (a v1 Pod manifest), not {_type_name(pod)}")
        self.spec = _mapping(where, spec_path, pod.get("spec"))

    def get(self, key: str, kind: str) -> Any:
        value = self.spec.get(key)
        if value is None:
            return [] if kind == "list" else {} if kind == "map" else None
        if kind == "list":
            return value if isinstance(value, list) else _sequence(self.where, f"{self.at}.{key}", value)
        if kind == "map":
            return value if isinstance(value, dict) else _mapping(self.where, f"{self.at}.{key}", value)
        return value

    def resource_list(self, path: str, value: Any) -> Dict[str, Quantity]:
        out: Dict[str, Quantity] = {}
        for k, v in _mapping(self.where, path, value).items():
            if type(k) is str and k and type(v) is str:  # the usual case ("cpu": "500m"): no key path to build
                try:
                    q = Quantity.parse(v)
                except ResourceValidationError:
                    q = None
                if q is not None and q.sign() >= 0:
                    out[k] = q
                    continue
            name = _string(self.where, f"{path} (a key)", k, allow_empty=False)
            out[name] = nonnegative_quantity(self.where, f"{path}.{name}", v)  # raises for a bad or negative value
        return out

    def container_requests(self, field: str, i: int, c: Any) -> Tuple[Dict[str, Quantity], bool]:
        path = f"{self.at}.{field}[{i}]"
        c = _mapping(self.where, path, c)
        res = c.get("resources")
        res = res if isinstance(res, dict) else _mapping(self.where, f"{path}.resources", res)
        requests = res.get("requests")
        reqs = self.resource_list(f"{path}.resources.requests", requests) if requests is not None else {}
        return reqs, c.get("restartPolicy") == "Always"


def requests_of(p: PodManifest) -> Dict[str, Quantity]:
    """``PodRequests`` of a read pod: containers, init containers, sidecars, pod-level requests, overhead."""
    regular = [p.container_requests("containers", i, c)[0] for i, c in enumerate(p.get("containers", "list"))]
    inits = [p.container_requests("initContainers", i, c) for i, c in enumerate(p.get("initContainers", "list"))]
    reqs: Dict[str, Quantity] = combine(regular, inits)
    pod_level = p.resource_list(f"{p.at}.resources.requests", p.get("resources", "map").get("requests"))
    for name, q in pod_level.items():
        if is_pod_level_resource(name):
            reqs[name] = q
    add_into(reqs, p.resource_list(f"{p.at}.overhead", p.get("overhead", "map")))
    return reqs


def pod_requests(pod: Dict[str, Any]) -> Dict[str, Quantity]:
    """What the scheduler reserves for ``pod`` (``PodRequests``: containers, init containers, sidecars,
    pod-level requests, overhead), exact, by resource name. ``pod`` is not changed."""
    return requests_of(PodManifest(pod, "pod"))  # PodManifest only reads


# ------------------------------------------------------------------------------------------------ names and values
def _go_int64(s: str) -> Optional[int]:
    """``strconv.ParseInt(s, 10, 64)``, None where Go returns an error."""
    digits = s[1:] if s[:1] in ("+", "-") else s
    if not digits or any(ch not in "0123456789" for ch in digits):
        return None
    v = int(digits) * (-1 if s[:1] == "-" else 1)
    return v if _INT64_MIN <= v <= _INT64_MAX else None


@functools.lru_cache(maxsize=1024)
def is_scalar_resource(name: str) -> bool:
    """The scheduler's ``IsScalarResourceName``: extended, hugepages, prefixed-native, attachable volumes."""
    if name.startswith("hugepages-") or name.startswith("attachable-volumes-"):
        return True
    if "kubernetes.io/" in name:  # IsPrefixedNativeResource
        return True
    return is_extended_resource(name)


def as_int(q: Quantity, name: str) -> int:
    """How the scheduler counts ``q`` of resource ``name``: ``MilliValue()`` for cpu, ``Value()`` for the
    rest, rounded up, away from zero, as Go does; exact, with no int64 bound (a comparison of two sizes beyond
    int64 stays right)."""
    return int(q.scaled_decimal(-3 if name == "cpu" else 0))


# ------------------------------------------------------------------------------------------------ the filters
class Reason(NamedTuple):
    text: str  #: kube-scheduler's wording
    kind: str  #: "resource", "pods", "taint", "affinity", "node-name"
    detail: str  #: what is needed and what the group has ("" until PodChecks.detailed fills it in)
    resource: Optional[str] = None


def checked_order(names: Iterable[str]) -> List[str]:
    """The names ``fitsRequest`` checks, in its order: cpu, memory, ephemeral-storage, then the scalar ones."""
    names = list(names)
    out = [n for n in ("cpu", "memory", "ephemeral-storage") if n in names]
    return out + sorted(n for n in names if n not in ("cpu", "memory", "ephemeral-storage") and is_scalar_resource(n))


def needs_of(reqs: Dict[str, Quantity]) -> List[Tuple[str, int, Quantity]]:
    """What ``fitsRequest`` compares, once per pod: (name, the request as an int, the request), in its order;
    resources the pod does not request (zero) are skipped, as the scheduler skips them."""
    names = checked_order(reqs)
    out = []
    for name in names:
        need = as_int(reqs[name], name)
        if need > 0:
            out.append((name, need, reqs[name]))
    return out


class Taken(NamedTuple):
    """What the daemonsets' pods take on each node of a group, before any other pod."""

    ints: Dict[str, int]  #: per resource, each pod's request as the scheduler counts it (:func:`as_int`), summed
    exact: Dict[str, Quantity]  #: per resource, the requests summed exactly (for messages)
    by: Dict[str, Tuple[str, ...]]  #: per resource, the daemonsets that request some
    names: Tuple[str, ...] = ()  #: the daemonsets that run on the group; each takes one of its ``pods``


NO_DAEMONSETS = Taken({}, {}, {}, ())


class GroupRoom:
    """What the filters read of a group, worked out once per group and daemonsets: the taints the scheduler
    filters on, whether it allows no further pod, and per resource the allocatable values as ints and the room
    left after the daemonsets, each converted the first time a pod asks for it."""

    __slots__ = ("allocatable", "ints", "taints", "no_pods", "taken", "overflow")

    def __init__(self, g: NodeGroup, taken: Taken = NO_DAEMONSETS) -> None:
        self.allocatable = g.allocatable
        self.taken = taken
        self.ints: Dict[str, Optional[int]] = {}
        self.taints = tuple(t for t in g.taints if t["effect"] in FILTERED_EFFECTS)
        pods = self.have("pods")
        self.no_pods = pods is not None and pods - len(taken.names) < 1
        #: the resources it lists that its daemonsets alone need more of than it has: no pod fits, as Karpenter
        #: decides (the daemon overhead and the pod's requests must fit allocatable together), whatever the pod
        #: requests. A resource the group does not list is only checked when the pod requests it.
        self.overflow = tuple(n for n in checked_order(taken.ints) if n in g.allocatable and self.free(n) < 0)

    def have(self, name: str) -> Optional[int]:
        """The allocatable ``name`` as an int, None when the group has none."""
        try:
            return self.ints[name]
        except KeyError:
            q = self.allocatable.get(name)
            have = self.ints[name] = as_int(q, name) if q is not None else None
            return have

    def free(self, name: str) -> int:
        """What is left of ``name`` for the pod: allocatable (0 when the group has none) less the daemonsets'."""
        return (self.have(name) or 0) - self.taken.ints.get(name, 0)


# the reasons without details are shared (immutable): the details are worked out for the closest group only
WRONG_NODE = Reason(REASON_NODE_NAME, "node-name", "")
TOO_MANY_PODS = Reason(REASON_TOO_MANY_PODS, "pods", "")
NO_AFFINITY = Reason(REASON_AFFINITY, "affinity", "")


@functools.lru_cache(maxsize=1024)
def insufficient(name: str) -> Reason:
    """``Insufficient <name>``, without details."""
    return Reason(f"Insufficient {name}", "resource", "", name)


def tolerates(tol: Dict[str, Any], taint: Dict[str, str]) -> bool:
    """``Toleration.ToleratesTaint``."""
    effect, key = tol.get("effect") or "", tol.get("key") or ""
    if effect and effect != taint["effect"]:
        return False
    if key and key != taint["key"]:
        return False
    op = tol.get("operator") or ""
    if op in ("", "Equal"):
        return (tol.get("value") or "") == taint["value"]
    return op == "Exists"


def _taint_text(t: Dict[str, str]) -> str:
    return f"{t['key']}={t['value']}:{t['effect']}" if t["value"] else f"{t['key']}:{t['effect']}"


def taint_reason(first: Dict[str, str]) -> Reason:
    """The taint reason, naming the first taint the pod does not tolerate (without details)."""
    return Reason(f"node(s) had untolerated taint {{{first['key']}: {first['value']}}}", "taint", "")


def _values_text(values: Sequence[str]) -> str:
    return "[" + ", ".join(values) + "]"


def _requirement_problem(r: Dict[str, Any], *, field: bool) -> Optional[str]:
    """Why a requirement does not parse (``labels.NewRequirement`` / the field selector), or None."""
    key, op, values = r["key"], r["operator"], r["values"]
    if field:
        if op not in ("In", "NotIn"):
            return f"{op!r} is not a valid node field selector operator"
        if len(values) != 1:
            return f"operator {op} of a field selector needs exactly one value, not {len(values)}"
        return None
    if op not in _NODE_SELECTOR_OPS:
        return f"{op!r} is not a valid node selector operator"
    if not _qualified_name(key):
        return f"{key!r} is not a valid label key"
    if op in ("In", "NotIn") and not values:
        return f"operator {op} needs at least one value"
    if op in ("Exists", "DoesNotExist") and values:
        return f"operator {op} takes no values"
    if op in ("Gt", "Lt"):
        if len(values) != 1:
            return f"operator {op} needs exactly one value"
        if _go_int64(values[0]) is None:
            return f"the value of operator {op} must be an integer, not {values[0]!r}"
    for v in values:
        if not is_label_value(v):
            return f"{v!r} is not a valid label value"
    return None


def _label_matches(r: Dict[str, Any], labels: Dict[str, str]) -> bool:
    key, op, values = r["key"], r["operator"], r["values"]
    if op == "In":
        return key in labels and labels[key] in values
    if op == "NotIn":
        return key not in labels or labels[key] not in values
    if op == "Exists":
        return key in labels
    if op == "DoesNotExist":
        return key not in labels
    if key not in labels:  # Gt, Lt
        return False
    have, want = _go_int64(labels[key]), _go_int64(values[0])
    if have is None or want is None:
        return False
    return have > want if op == "Gt" else have < want


def _has_text(key: str, labels: Dict[str, str]) -> str:
    return f"{{node}} has {key}={labels[key]}" if key in labels else f"{{node}} has no label {key}"


def _requirement_text(r: Dict[str, Any]) -> str:
    if r["operator"] in ("Exists", "DoesNotExist"):
        return f"{r['key']} {r['operator']}"
    if r["operator"] in ("Gt", "Lt") and len(r["values"]) == 1:
        return f"{r['key']} {r['operator']} {r['values'][0]}"
    return f"{r['key']} {r['operator']} {_values_text(r['values'])}"


def _term_invalid(term: Dict[str, List[Dict[str, Any]]]) -> Optional[str]:
    """Why a nodeSelectorTerm matches no node whatever its labels (a requirement does not parse), or None."""
    for r in term["matchExpressions"]:
        problem = _requirement_problem(r, field=False)
        if problem is not None:
            return f"is invalid ({problem}), so it matches no node"
    for r in term["matchFields"]:
        problem = _requirement_problem(r, field=True)
        if problem is not None:
            return f"is invalid ({problem}), so it matches no node"
    return None


def _term_failure(term: Dict[str, List[Dict[str, Any]]], invalid: Optional[str], g: NodeGroup) -> Optional[str]:
    """Why a (non-empty) nodeSelectorTerm does not match the group, or None when it matches; ``invalid`` is
    :func:`_term_invalid` of the term."""
    if invalid is not None:
        return invalid
    for r in term["matchExpressions"]:
        if not _label_matches(r, g.labels):
            return f"needs {_requirement_text(r)}: {_has_text(r['key'], g.labels)}"
    if g.node_name:  # the scheduler skips matchFields for a node without a name
        fields = {"metadata.name": g.node_name}
        for r in term["matchFields"]:
            have = fields.get(r["key"], "")
            if (have == r["values"][0]) != (r["operator"] == "In"):
                return f"needs field {_requirement_text(r)}: the node's {r['key']} is {have!r}"
    return None


class Selector:
    """``spec.nodeSelector`` and the required node affinity of a pod, type-checked."""

    def __init__(self, p: PodManifest) -> None:
        w = self.where = p.where
        at = p.at
        self.node_selector = {
            _string(w, f"{at}.nodeSelector (a key)", k): _string(w, f"{at}.nodeSelector.{k}", v)
            for k, v in p.get("nodeSelector", "map").items()
        }
        self.terms: Optional[List[Dict[str, List[Dict[str, Any]]]]] = None  # None: no required affinity
        aff = _mapping(w, f"{at}.affinity", p.get("affinity", "map").get("nodeAffinity"))
        req_path = f"{at}.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution"
        required = aff.get("requiredDuringSchedulingIgnoredDuringExecution")
        if required is not None:
            required = _mapping(w, req_path, required)
            self.terms = []
            for i, t in enumerate(_sequence(w, f"{req_path}.nodeSelectorTerms", required.get("nodeSelectorTerms"))):
                tp = f"{req_path}.nodeSelectorTerms[{i}]"
                t = _mapping(w, tp, t)
                term = {kind: [self._requirement(f"{tp}.{kind}[{j}]", r)
                               for j, r in enumerate(_sequence(w, f"{tp}.{kind}", t.get(kind)))]
                        for kind in ("matchExpressions", "matchFields")}
                self.terms.append(term)
        #: the non-empty terms (the others are skipped), each with why it is invalid (or None)
        self.nonempty = [(t, _term_invalid(t)) for t in self.terms or () if t["matchExpressions"] or t["matchFields"]]
        self.any_group = not self.node_selector and self.terms is None  #: nothing to match

    def _requirement(self, path: str, r: Any) -> Dict[str, Any]:
        w = self.where
        r = _mapping(w, path, r)
        values = [_string(w, f"{path}.values[{k}]", v)
                  for k, v in enumerate(_sequence(w, f"{path}.values", r.get("values")))]
        return {
            "key": _string(w, f"{path}.key", r.get("key") or ""),
            "operator": _string(w, f"{path}.operator", r.get("operator") or ""),
            "values": values,
        }

    def keys(self) -> List[str]:
        out = list(self.node_selector)
        for t in self.terms or []:
            out += [r["key"] for r in t["matchExpressions"]]
        return out

    def matches(self, g: NodeGroup) -> bool:
        """The nodeSelector matches the group, and so does a non-empty term when there are terms (else
        :meth:`problems` says why not)."""
        if self.any_group:
            return True
        labels = g.labels
        for k, v in self.node_selector.items():
            if labels.get(k) != v:
                return False
        return self.terms is None or any(_term_failure(t, invalid, g) is None for t, invalid in self.nonempty)

    def problems(self, g: NodeGroup) -> str:
        """Why the group does not match (the detail of the affinity reason; empty when it matches)."""
        problems = []
        for k, v in self.node_selector.items():
            if g.labels.get(k) != v:
                problems.append(f"the pod's nodeSelector needs {k}={v}; {_has_text(k, g.labels)}")
                break
        if self.terms is not None:
            terms = self.nonempty
            failures = [_term_failure(t, invalid, g) for t, invalid in terms]
            if not terms:
                problems.append("the pod's required node affinity has no non-empty nodeSelectorTerm, "
                                "so it matches no node")
            elif all(f is not None for f in failures):
                if len(failures) == 1:
                    problems.append(f"the pod's required node affinity term {failures[0]}")
                else:
                    problems.append("the pod's required node affinity matches none of its "
                                    f"{len(failures)} nodeSelectorTerms: "
                                    + ", ".join(f"[{i}] {f}" for i, f in enumerate(failures)))
        return "; ".join(problems)


def _tolerations(p: PodManifest) -> List[Dict[str, Any]]:
    out = []
    for i, t in enumerate(p.get("tolerations", "list")):
        path = f"{p.at}.tolerations[{i}]"
        t = _mapping(p.where, path, t)
        out.append({k: _string(p.where, f"{path}.{k}", t[k]) for k in ("key", "operator", "value", "effect")
                    if t.get(k) is not None})
    return out


def _describe(g: NodeGroup, keys: Iterable[str]) -> str:
    shown = [k for k in dict.fromkeys(keys) if k in g.labels][:2]
    if not shown:
        shown = [k for k in _DESCRIPTIVE_LABELS if k in g.labels][:1]
    return f" ({', '.join(f'{k}={g.labels[k]}' for k in shown)})" if shown else ""


def _taken_text(amount: Any, names: Sequence[str]) -> str:
    return f", {amount} taken by daemonset{'s' if len(names) > 1 else ''} {', '.join(names)}"


class PodChecks:
    """A pod as the filters read it, once: its requests (and what ``fitsRequest`` compares), tolerations,
    node selector and affinity, and node name. ``pod`` is only read."""

    def __init__(self, pod: Any, where: str, spec_path: str = "spec") -> None:
        p = PodManifest(pod, where, spec_path)
        self.requests = requests_of(p)
        self.needs = needs_of(self.requests)
        self.tolerations = _tolerations(p)
        self.selector = Selector(p)
        node_name = p.spec.get("nodeName")
        self.node_name = _string(where, f"{spec_path}.nodeName", node_name) if node_name else None

    def first_untolerated(self, taints: Sequence[Dict[str, str]]) -> Optional[int]:
        """The index of the first of ``taints`` that the pod does not tolerate; None when it tolerates them all."""
        for t, taint in enumerate(taints):
            if not any(tolerates(tol, taint) for tol in self.tolerations):
                return t
        return None

    def untolerated(self, taints: Sequence[Dict[str, str]]) -> List[Dict[str, str]]:
        return [t for t in taints if not any(tolerates(tol, t) for tol in self.tolerations)]

    def detailed(self, r: Reason, g: NodeGroup, room: GroupRoom) -> Reason:
        """``r``, a reason the pod does not fit ``g``, with its detail: what is needed and what the group has
        (and what its daemonsets take of it)."""
        if r.kind == "node-name":
            detail = f"the pod names node '{self.node_name}'"
        elif r.kind == "taint":
            untolerated = self.untolerated(room.taints)
            which = ", ".join(_taint_text(t) for t in untolerated)
            plural = "s" if len(untolerated) > 1 else ""
            detail = f"{{node}} has taint{plural} {which} that the pod does not tolerate"
        elif r.kind == "affinity":
            detail = self.selector.problems(g)
        elif r.kind == "pods":
            detail = f"{{node}} allows {g.allocatable['pods']} pods"
            if room.taken.names:
                detail += _taken_text(len(room.taken.names), room.taken.names)
        else:
            name = r.resource or ""
            requested = any(n == name for n, _, _ in self.needs)
            if room.have(name) is None:
                have = f"has no {name}"
            else:
                have = f"has {g.allocatable[name]}" + ("" if requested else f" {name}")
            by = room.taken.by.get(name)
            if by and (room.have(name) is not None or not requested):
                have += _taken_text(room.taken.exact[name], by)
            if requested:
                detail = f"needs {self.requests[name]} {name}; {{node}} {have}"
            else:  # the daemonsets alone do not fit
                detail = f"{{node}} {have}, more than it has"
        return r._replace(detail=detail)

    def closest_detail(self, g: NodeGroup, reasons: List[Reason]) -> str:
        """The reasons' details; the first ``{node}`` names the node (and what it is), later ones say "it"."""
        desc = "" if reasons[0].kind == "affinity" else _describe(g, self.selector.keys())  # affinity shows labels
        first = f"node '{g.name}'{desc}" if g.node_name else f"the largest node in group '{g.name}'{desc}"
        text = "; ".join(r.detail for r in reasons)
        head, sep, tail = text.partition("{node}")
        return head + (first + tail.replace("{node}", "it") if sep else "")


def group_reasons(check: PodChecks, g: NodeGroup, room: GroupRoom) -> Tuple[Reason, ...]:
    """Every reason the pod does not fit one node of ``g`` (empty: it fits), without details, in the order of
    the scheduler's filters: node name, taints, node affinity, then resources (pods first)."""
    found: List[Reason] = []
    if check.node_name and g.node_name and g.node_name != check.node_name:
        found.append(WRONG_NODE)
    first = check.first_untolerated(room.taints)
    if first is not None:
        found.append(taint_reason(room.taints[first]))
    if not check.selector.matches(g):
        found.append(NO_AFFINITY)
    if room.no_pods:
        found.append(TOO_MANY_PODS)
    for name, need, _ in check.needs:
        if room.free(name) < need:
            found.append(insufficient(name))
    requested = {name for name, _, _ in check.needs}
    found += [insufficient(name) for name in room.overflow if name not in requested]
    return tuple(found)
