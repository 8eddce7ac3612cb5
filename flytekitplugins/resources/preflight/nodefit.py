"""Will one pod fit a node group? kube-scheduler's filters for a single pod on an empty node, offline.

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
  Reasons: ``Insufficient <name>``, and ``Too many pods`` when the node allows no pod at all. The
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

The scheduler stops at the first filter plugin that rejects a node; here every check runs, so a group's
reasons are all the ways it does not fit. Not modelled: pods already running on the nodes (each node is
empty), host ports, volumes, pod (anti-)affinity, topology spread, ``spec.unschedulable``, DRA, the
scheduler's added affinity and ignored resources.

Input: ``kubectl get nodes -o json`` (a ``List``/``NodeList``, or one ``Node``), one group per node; or a
node-group file::

    nodeGroups:
      - name: a100
        count: 4
        allocatable: {cpu: "96", memory: 1Ti, nvidia.com/gpu: "8", pods: "110"}
        labels: {k8s.amazonaws.com/accelerator: nvidia-tesla-a100}
        taints: [{key: nvidia.com/gpu, value: present, effect: NoSchedule}]

A group that does not list ``pods`` is not checked for it (a real node always lists it).
"""

from __future__ import annotations

import bisect
import functools
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple

from ..findings import ERROR, INFO, Finding
from ..k8s.manifest import fail as _fail
from ..k8s.manifest import mapping as _mapping
from ..k8s.manifest import parse_yaml_text, quantity
from ..k8s.manifest import sequence as _sequence
from ..k8s.manifest import string as _string
from ..k8s.manifest import type_name as _type_name
from ..k8s.names import is_extended_resource, is_label_value
from ..k8s.names import is_qualified_name as _qualified_name
from ..quantity import Quantity, ResourceValidationError

__all__ = [
    "NodeGroup",
    "fit",
    "group_reasons",
    "parse_node_groups",
    "pod_requests",
]

REASON_AFFINITY = "node(s) didn't match Pod's node affinity/selector"
REASON_NODE_NAME = "node(s) didn't match the requested node name"
REASON_TOO_MANY_PODS = "Too many pods"

_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
_FILTERED_EFFECTS = ("NoSchedule", "NoExecute")  # helper.DoNotScheduleTaintsFilterFunc
_NODE_SELECTOR_OPS = ("In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt")
_POD_LEVEL = ("cpu", "memory")  # plus hugepages-*: resource.IsSupportedPodLevelResource
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1
# labels that say what a node is, shown next to a group's name when the pod selects on none of its labels
_DESCRIPTIVE_LABELS = (
    "k8s.amazonaws.com/accelerator",
    "cloud.google.com/gke-accelerator",
    "nvidia.com/gpu.product",
    "node.kubernetes.io/instance-type",
    "beta.kubernetes.io/instance-type",
)
_GROUP_KEYS = ("name", "count", "allocatable", "labels", "taints", "price-per-hour")  # the price: recommend.cost
_TAINT_KEYS = ("key", "value", "effect", "timeAdded")


# ------------------------------------------------------------------------------------------------ node groups
@dataclass(frozen=True)
class NodeGroup:
    """Nodes that are alike: the same allocatable resources, labels and taints."""

    name: str  #: the group's name (a node's name for ``kubectl get nodes`` input)
    allocatable: Dict[str, Quantity]  #: per node: ``cpu``, ``memory``, ``pods``, ``nvidia.com/gpu``...
    labels: Dict[str, str]
    taints: Tuple[Dict[str, str], ...]  #: ``{"key": .., "value": .., "effect": ..}``
    count: Optional[int] = None  #: how many nodes, when known
    source: str = ""  #: the file it was read from
    node_name: Optional[str] = None  #: the node's ``metadata.name`` (kubectl input), for matchFields/nodeName


def _quantity(source: str, path: str, value: Any) -> Quantity:
    """A manifest quantity (``quantity``), refused when negative: allocatable is never below zero."""
    q = quantity(source, path, value)
    if q.sign() < 0:
        raise _fail(source, path, f"{value!r} must be greater than or equal to 0")
    return q


def _allocatable(source: str, path: str, value: Any) -> Dict[str, Quantity]:
    out: Dict[str, Quantity] = {}
    for k, v in _mapping(source, path, value).items():
        name = _string(source, f"{path} (a key)", k, allow_empty=False)
        out[name] = _quantity(source, f"{path}.{name}", v)
    return out


def _labels(source: str, path: str, value: Any) -> Dict[str, str]:
    out: Dict[str, str] = {}
    for k, v in _mapping(source, path, value).items():
        key = _string(source, f"{path} (a key)", k, allow_empty=False)
        out[key] = _string(source, f"{path}.{key}", v)
    return out


def _taints(source: str, path: str, value: Any, *, strict: bool) -> Tuple[Dict[str, str], ...]:
    out = []
    for i, t in enumerate(_sequence(source, path, value)):
        where = f"{path}[{i}]"
        t = _mapping(source, where, t)
        if strict:
            for k in t:
                if k not in _TAINT_KEYS:
                    raise _fail(source, f"{where}.{k}", "is not a key of a taint; use key, value and effect")
        key = _string(source, f"{where}.key", t.get("key"), allow_empty=False)
        val = _string(source, f"{where}.value", t.get("value", "") if t.get("value") is not None else "")
        effect = _string(source, f"{where}.effect", t.get("effect"), allow_empty=False)
        if effect not in _EFFECTS:
            raise _fail(source, f"{where}.effect",
                        f"{effect!r} is not a taint effect; use one of {', '.join(_EFFECTS)}")
        out.append({"key": key, "value": val, "effect": effect})
    return tuple(out)


def _from_node_groups(doc: Dict[str, Any], source: str) -> List[NodeGroup]:
    for k in doc:
        if k != "nodeGroups":
            raise _fail(source, str(k), "is not a key of a node-group file; it holds 'nodeGroups' only")
    groups: List[NodeGroup] = []
    seen: Dict[str, int] = {}
    for i, g in enumerate(_sequence(source, "nodeGroups", doc["nodeGroups"])):
        where = f"nodeGroups[{i}]"
        g = _mapping(source, where, g)
        for k in g:
            if k not in _GROUP_KEYS:
                raise _fail(source, f"{where}.{k}", f"is not a key of a node group; use {', '.join(_GROUP_KEYS)}")
        name = _string(source, f"{where}.name", g.get("name"), allow_empty=False)
        if name in seen:
            raise _fail(source, f"{where}.name", f"{name!r} is given twice (also nodeGroups[{seen[name]}])")
        seen[name] = i
        count = g.get("count")
        if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 0):
            raise _fail(source, f"{where}.count", f"{count!r} must be a whole number >= 0")
        groups.append(NodeGroup(
            name=name,
            allocatable=_allocatable(source, f"{where}.allocatable", g.get("allocatable")),
            labels=_labels(source, f"{where}.labels", g.get("labels")),
            taints=_taints(source, f"{where}.taints", g.get("taints"), strict=True),
            count=count,
            source=source,
        ))
    return groups


def _from_node(item: Any, source: str, where: str) -> NodeGroup:
    item = _mapping(source, where or "(document)", item)
    at = f"{where}." if where else ""
    kind = item.get("kind", "Node")
    if kind != "Node":
        raise _fail(source, f"{at}kind", f"{kind!r} is not a Node")
    meta = _mapping(source, f"{at}metadata", item.get("metadata"))
    name = _string(source, f"{at}metadata.name", meta.get("name"), allow_empty=False)
    spec = _mapping(source, f"{at}spec", item.get("spec"))
    status = _mapping(source, f"{at}status", item.get("status"))
    return NodeGroup(
        name=name,
        allocatable=_allocatable(source, f"{at}status.allocatable", status.get("allocatable")),
        labels=_labels(source, f"{at}metadata.labels", meta.get("labels")),
        taints=_taints(source, f"{at}spec.taints", spec.get("taints"), strict=False),
        count=1,
        source=source,
        node_name=name,
    )


def parse_node_groups(doc: Any, source: str) -> List[NodeGroup]:
    """Node groups from ``kubectl get nodes -o json`` output or a node-group file (parsed, or as text).

    Every problem raises :class:`ResourceValidationError` naming ``source`` and the key path, e.g.
    ``nodes.yaml: nodeGroups[2].allocatable.cpu: 'abc' is not a valid Kubernetes quantity (...)``.
    """
    if isinstance(doc, bytes):
        try:
            doc = doc.decode("utf-8")
        except UnicodeDecodeError:
            raise _fail(source, "", "is not UTF-8 text") from None
    if isinstance(doc, str):
        docs = [d for d in parse_yaml_text(source, doc) if d is not None]  # as Flyte reads its files
        if len(docs) != 1:
            raise _fail(source, "", f"must hold one YAML/JSON document, not {len(docs)}")
        doc = docs[0]
    if not isinstance(doc, dict):
        raise _fail(source, "",
                    f"must be a mapping (kubectl get nodes -o json, or 'nodeGroups:'), not {_type_name(doc)}")
    if "nodeGroups" in doc:
        return _from_node_groups(doc, source)
    kind = doc.get("kind")
    if kind == "Node":
        return [_from_node(doc, source, "")]
    if kind in ("List", "NodeList") or (kind is None and "items" in doc):
        groups = []
        seen: Dict[str, int] = {}
        for i, item in enumerate(_sequence(source, "items", doc.get("items"))):
            g = _from_node(item, source, f"items[{i}]")
            if g.name in seen:
                raise _fail(source, f"items[{i}].metadata.name",
                            f"{g.name!r} is given twice (also items[{seen[g.name]}])")
            seen[g.name] = i
            groups.append(g)
        return groups
    raise _fail(source, "kind" if kind is not None else "", (f"{kind!r} is not " if kind is not None else "is not ")
                + "a node list: give 'kubectl get nodes -o json' output (kind: List) or a file with 'nodeGroups:'")


# ------------------------------------------------------------------------------------------------ the pod's requests
class _Pod:
    """The parts of a v1 Pod manifest the filters read, checked for type; errors name the key path."""

    def __init__(self, pod: Any, where: str) -> None:
        self.where = where
        if not isinstance(pod, dict):
            raise _fail(where, "", f"a pod must be a mapping (a v1 Pod manifest), not {_type_name(pod)}")
        self.spec = _mapping(where, "spec", pod.get("spec"))

    def get(self, key: str, kind: str) -> Any:
        value = self.spec.get(key)
        if value is None:
            return [] if kind == "list" else {} if kind == "map" else None
        if kind == "list":
            return value if isinstance(value, list) else _sequence(self.where, f"spec.{key}", value)
        if kind == "map":
            return value if isinstance(value, dict) else _mapping(self.where, f"spec.{key}", value)
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
            out[name] = _quantity(self.where, f"{path}.{name}", v)  # raises for a bad or negative value
        return out

    def container_requests(self, field: str, i: int, c: Any) -> Tuple[Dict[str, Quantity], bool]:
        path = f"spec.{field}[{i}]"
        c = _mapping(self.where, path, c)
        res = c.get("resources")
        res = res if isinstance(res, dict) else _mapping(self.where, f"{path}.resources", res)
        requests = res.get("requests")
        reqs = self.resource_list(f"{path}.resources.requests", requests) if requests is not None else {}
        return reqs, c.get("restartPolicy") == "Always"


def _add(total: Dict[str, Quantity], more: Dict[str, Quantity]) -> None:
    for name, q in more.items():
        total[name] = total[name] + q if name in total else q


def _max(total: Dict[str, Quantity], more: Dict[str, Quantity]) -> None:
    for name, q in more.items():
        if name not in total or q > total[name]:
            total[name] = q


def _requests(p: _Pod) -> Dict[str, Quantity]:
    reqs: Dict[str, Quantity] = {}
    for i, c in enumerate(p.get("containers", "list")):
        _add(reqs, p.container_requests("containers", i, c)[0])
    sidecars: Dict[str, Quantity] = {}
    init_peak: Dict[str, Quantity] = {}
    for i, c in enumerate(p.get("initContainers", "list")):
        own, restartable = p.container_requests("initContainers", i, c)
        if restartable:  # a sidecar keeps running: it adds to the pod, and to every later init container
            _add(reqs, own)
            _add(sidecars, own)
            need = dict(sidecars)
        else:
            need = dict(own)
            _add(need, sidecars)
        _max(init_peak, need)
    _max(reqs, init_peak)
    pod_level = p.resource_list("spec.resources.requests", p.get("resources", "map").get("requests"))
    for name, q in pod_level.items():
        if name in _POD_LEVEL or name.startswith("hugepages-"):
            reqs[name] = q
    _add(reqs, p.resource_list("spec.overhead", p.get("overhead", "map")))
    return reqs


def pod_requests(pod: Dict[str, Any]) -> Dict[str, Quantity]:
    """What the scheduler reserves for ``pod`` (``PodRequests``: containers, init containers, sidecars,
    pod-level requests, overhead), exact, by resource name. ``pod`` is not changed."""
    return _requests(_Pod(pod, "pod"))  # _Pod only reads


# ------------------------------------------------------------------------------------------------ names and values
def _label_value(s: str) -> bool:
    return is_label_value(s)


def _go_int64(s: str) -> Optional[int]:
    """``strconv.ParseInt(s, 10, 64)``, None where Go returns an error."""
    digits = s[1:] if s[:1] in ("+", "-") else s
    if not digits or any(ch not in "0123456789" for ch in digits):
        return None
    v = int(digits) * (-1 if s[:1] == "-" else 1)
    return v if _INT64_MIN <= v <= _INT64_MAX else None


@functools.lru_cache(maxsize=1024)
def _is_scalar_resource(name: str) -> bool:
    """The scheduler's ``IsScalarResourceName``: extended, hugepages, prefixed-native, attachable volumes."""
    if name.startswith("hugepages-") or name.startswith("attachable-volumes-"):
        return True
    if "kubernetes.io/" in name:  # IsPrefixedNativeResource
        return True
    return is_extended_resource(name)


def _as_int(q: Quantity, scale: int) -> int:
    """``MilliValue()`` (scale 3) or ``Value()`` (scale 0): rounded up, away from zero, as Go does; exact, with
    no int64 bound (a comparison of two sizes beyond int64 stays right)."""
    return int(q.scaled_decimal(-scale))


def _scale(name: str) -> int:
    return 3 if name == "cpu" else 0


# ------------------------------------------------------------------------------------------------ the filters
class _Reason(NamedTuple):
    text: str  #: kube-scheduler's wording
    kind: str  #: "resource", "pods", "taint", "affinity", "node-name"
    detail: str  #: what is needed and what the group has ("" until _Check.detailed fills it in)
    resource: Optional[str] = None


def _needs(reqs: Dict[str, Quantity]) -> List[Tuple[str, int, Quantity]]:
    """What ``fitsRequest`` compares, once per pod: (name, the request as an int, the request), in its order;
    resources the pod does not request (zero) are skipped, as the scheduler skips them."""
    names = [n for n in ("cpu", "memory", "ephemeral-storage") if n in reqs]
    names += sorted(n for n in reqs if n not in ("cpu", "memory", "ephemeral-storage") and _is_scalar_resource(n))
    out = []
    for name in names:
        need = _as_int(reqs[name], _scale(name))
        if need > 0:
            out.append((name, need, reqs[name]))
    return out


class _GroupView:
    """What the filters read of a group, worked out once per group (a NodeGroup is frozen): the taints the
    scheduler filters on, whether it allows no pod at all, and the allocatable values as ints, each converted
    the first time a pod asks for it."""

    __slots__ = ("allocatable", "ints", "taints", "no_pods")

    def __init__(self, g: NodeGroup) -> None:
        self.allocatable = g.allocatable
        self.ints: Dict[str, Optional[int]] = {}
        self.taints = tuple(t for t in g.taints if t["effect"] in _FILTERED_EFFECTS)
        pods = self.have("pods")
        self.no_pods = pods is not None and pods < 1

    def have(self, name: str) -> Optional[int]:
        """The allocatable ``name`` as an int, None when the group has none."""
        try:
            return self.ints[name]
        except KeyError:
            q = self.allocatable.get(name)
            have = self.ints[name] = _as_int(q, _scale(name)) if q is not None else None
            return have


def _view(g: NodeGroup) -> _GroupView:
    """The group's :class:`_GroupView`, kept on the group itself."""
    view = g.__dict__.get("_view")
    if view is None:
        view = _GroupView(g)
        object.__setattr__(g, "_view", view)  # frozen dataclass: a cache, not a field (not in ==, repr)
    return view


# the reasons without details are shared (immutable): the details are worked out for the closest group only
_WRONG_NODE = _Reason(REASON_NODE_NAME, "node-name", "")
_TOO_MANY_PODS = _Reason(REASON_TOO_MANY_PODS, "pods", "")
_NO_AFFINITY = _Reason(REASON_AFFINITY, "affinity", "")
_FITS: Tuple[_Reason, ...] = ()


@functools.lru_cache(maxsize=1024)
def _insufficient(name: str) -> _Reason:
    """``Insufficient <name>``, without details."""
    return _Reason(f"Insufficient {name}", "resource", "", name)


class _Decisions(NamedTuple):
    """What the filters decide for one pod against a :class:`_GroupList` (groups by index): all that the groups'
    reasons (without details) depend on, so that they are put together once for pods that decide alike."""

    wrong_node: Tuple[int, ...]  #: named nodes other than the one the pod names (``spec.nodeName``)
    taints: Optional[Tuple[Tuple[int, int], ...]]  #: (group, its first untolerated taint); None: each one's first
    affinity: Tuple[int, ...]  #: the groups its nodeSelector or required node affinity does not match
    short: Tuple[Tuple[str, int], ...]  #: per request: (resource, how many groups, least first, have too little)


class _Outcome(NamedTuple):
    """The groups' reasons for one set of :class:`_Decisions`."""

    reasons: Tuple[Tuple[_Reason, ...], ...]  #: per group, why the pod does not fit it (no details); () if it does
    fitting: Tuple[str, ...]  #: the names of the groups it fits
    closest: int  #: when it fits none: the group with the fewest reasons, then the first by name
    after: str  #: when it fits none: every group's reasons (``name: reason, reason | name: ...``)


class _GroupList:
    """Node groups as :func:`fit` reads them, worked out once per list of groups (:func:`_group_list`): each
    group's :class:`_GroupView`, the groups with taints the scheduler filters on, those that allow no pod,
    those that are named nodes, per resource the groups ordered by how much of it they have (the groups short
    of a request are found by bisection, not one by one), and the outcome of each set of decisions seen."""

    def __init__(self, groups: Sequence[NodeGroup]) -> None:
        self.groups = tuple(groups)  # held: the ids in the cache key stay these groups' ids
        self.names = [g.name for g in self.groups]
        self.sources = ", ".join(dict.fromkeys(g.source for g in self.groups if g.source)) or None  #: their files
        self.views = [_view(g) for g in self.groups]
        self.tainted = [i for i, v in enumerate(self.views) if v.taints]
        self.no_pods = [i for i, v in enumerate(self.views) if v.no_pods]
        self.named = [i for i, g in enumerate(self.groups) if g.node_name]
        self._amounts: Dict[str, Tuple[List[int], List[int]]] = {}
        self._outcomes: Dict[_Decisions, _Outcome] = {}

    def by_amount(self, name: str) -> Tuple[List[int], List[int]]:
        """(how much ``name`` the groups have, least first, a group without it having 0; the groups in that
        order), once per resource."""
        found = self._amounts.get(name)
        if found is None:
            have = [v.have(name) or 0 for v in self.views]
            order = sorted(range(len(have)), key=have.__getitem__)
            found = self._amounts[name] = ([have[i] for i in order], order)
        return found

    def short(self, name: str, need: int) -> int:
        """How many groups have less than ``need`` of ``name``: the first ones of :meth:`by_amount`."""
        return bisect.bisect_left(self.by_amount(name)[0], need)

    def outcome(self, d: _Decisions) -> _Outcome:
        """The groups' reasons for ``d``, put together once per distinct decisions."""
        found = self._outcomes.get(d)
        if found is None:
            if len(self._outcomes) >= 1024:
                self._outcomes.clear()
            found = self._outcomes[d] = self._assemble(d)
        return found

    def _assemble(self, d: _Decisions) -> _Outcome:
        found: Dict[int, List[_Reason]] = {}  # a group's reasons come in the order of the filters
        for i in d.wrong_node:
            found.setdefault(i, []).append(_WRONG_NODE)
        for i, t in ((i, 0) for i in self.tainted) if d.taints is None else d.taints:
            found.setdefault(i, []).append(_taint_reason(self.views[i].taints[t]))
        for i in d.affinity:
            found.setdefault(i, []).append(_NO_AFFINITY)
        for i in self.no_pods:
            found.setdefault(i, []).append(_TOO_MANY_PODS)
        for name, k in d.short:
            reason = _insufficient(name)
            for i in sorted(self.by_amount(name)[1][:k]):
                found.setdefault(i, []).append(reason)
        reasons = tuple(tuple(found.get(i, _FITS)) for i in range(len(self.groups)))
        fitting = tuple(name for name, rs in zip(self.names, reasons) if not rs)
        closest, after = -1, ""
        if reasons and not fitting:
            closest = min(range(len(reasons)), key=lambda i: (len(reasons[i]), self.names[i]))
            after = " | ".join(f"{name}: {', '.join(r.text for r in rs)}" for name, rs in zip(self.names, reasons))
        return _Outcome(reasons, fitting, closest, after)


_GROUP_LISTS: Dict[Tuple[int, ...], _GroupList] = {}


def _group_list(groups: Sequence[NodeGroup]) -> _GroupList:
    """The :class:`_GroupList` of ``groups``, kept for the next pods checked against the same groups (a
    policy's node groups are checked against every pod). The key is the groups' identities; the entry holds
    the groups, so that no id in a key can belong to another object while the entry is kept."""
    key = tuple(map(id, groups))
    found = _GROUP_LISTS.get(key)
    if found is None:
        if len(_GROUP_LISTS) >= 16:
            _GROUP_LISTS.clear()
        found = _GROUP_LISTS[key] = _GroupList(groups)
    return found


def _tolerates(tol: Dict[str, Any], taint: Dict[str, str]) -> bool:
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


def _taint_reason(first: Dict[str, str]) -> _Reason:
    """The taint reason, naming the first taint the pod does not tolerate (without details)."""
    return _Reason(f"node(s) had untolerated taint {{{first['key']}: {first['value']}}}", "taint", "")


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
        if not _label_value(v):
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


class _Selector:
    """``spec.nodeSelector`` and the required node affinity of a pod, type-checked."""

    def __init__(self, p: _Pod) -> None:
        w = self.where = p.where
        self.node_selector = {
            _string(w, "spec.nodeSelector (a key)", k): _string(w, f"spec.nodeSelector.{k}", v)
            for k, v in p.get("nodeSelector", "map").items()
        }
        self.terms: Optional[List[Dict[str, List[Dict[str, Any]]]]] = None  # None: no required affinity
        aff = _mapping(w, "spec.affinity", p.get("affinity", "map").get("nodeAffinity"))
        req_path = "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution"
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


def _tolerations(p: _Pod) -> List[Dict[str, Any]]:
    out = []
    for i, t in enumerate(p.get("tolerations", "list")):
        path = f"spec.tolerations[{i}]"
        t = _mapping(p.where, path, t)
        out.append({k: _string(p.where, f"{path}.{k}", t[k]) for k in ("key", "operator", "value", "effect")
                    if t.get(k) is not None})
    return out


def _describe(g: NodeGroup, keys: Iterable[str]) -> str:
    shown = [k for k in dict.fromkeys(keys) if k in g.labels][:2]
    if not shown:
        shown = [k for k in _DESCRIPTIVE_LABELS if k in g.labels][:1]
    return f" ({', '.join(f'{k}={g.labels[k]}' for k in shown)})" if shown else ""


class _Check:
    def __init__(self, pod: Any, where: str) -> None:
        p = _Pod(pod, where)  # only read
        self.requests = _requests(p)
        self.needs = _needs(self.requests)
        self.tolerations = _tolerations(p)
        self.selector = _Selector(p)
        node_name = p.spec.get("nodeName")
        self.node_name = _string(where, "spec.nodeName", node_name) if node_name else None

    def decide(self, groups: _GroupList) -> _Decisions:
        """The filters' decisions for this pod against ``groups``: one group at a time only where a filter
        needs it (named nodes, tainted groups when the pod has tolerations, every group when it selects
        nodes); the groups short of a request by bisection."""
        wrong_node: Tuple[int, ...] = ()
        if self.node_name:
            wrong_node = tuple(i for i in groups.named if groups.groups[i].node_name != self.node_name)
        taints: Optional[Tuple[Tuple[int, int], ...]] = None  # no toleration: every tainted group, its first taint
        if self.tolerations:
            firsts = ((i, self.first_untolerated(groups.views[i].taints)) for i in groups.tainted)
            taints = tuple((i, t) for i, t in firsts if t is not None)
        affinity: Tuple[int, ...] = ()
        if not self.selector.any_group:
            affinity = tuple(i for i, g in enumerate(groups.groups) if not self.selector.matches(g))
        short = tuple((name, groups.short(name, need)) for name, need, _ in self.needs)
        return _Decisions(wrong_node, taints, affinity, short)

    def first_untolerated(self, taints: Sequence[Dict[str, str]]) -> Optional[int]:
        """The index of the first of ``taints`` that the pod does not tolerate; None when it tolerates them all."""
        for t, taint in enumerate(taints):
            if not any(_tolerates(tol, taint) for tol in self.tolerations):
                return t
        return None

    def untolerated(self, taints: Sequence[Dict[str, str]]) -> List[Dict[str, str]]:
        return [t for t in taints if not any(_tolerates(tol, t) for tol in self.tolerations)]

    def reasons(self, g: NodeGroup) -> Tuple[_Reason, ...]:
        """Every reason the pod does not fit ``g`` (empty: it fits), without details."""
        one = _GroupList((g,))
        return one.outcome(self.decide(one)).reasons[0]

    def detailed(self, r: _Reason, g: NodeGroup) -> _Reason:
        """``r``, a reason the pod does not fit ``g``, with its detail: what is needed and what the group has."""
        if r.kind == "node-name":
            detail = f"the pod names node '{self.node_name}'"
        elif r.kind == "taint":
            untolerated = self.untolerated(_view(g).taints)
            which = ", ".join(_taint_text(t) for t in untolerated)
            plural = "s" if len(untolerated) > 1 else ""
            detail = f"{{node}} has taint{plural} {which} that the pod does not tolerate"
        elif r.kind == "affinity":
            detail = self.selector.problems(g)
        elif r.kind == "pods":
            detail = f"{{node}} allows {g.allocatable['pods']} pods"
        else:
            name = r.resource or ""
            have = f"has {g.allocatable[name]}" if _view(g).have(name) is not None else f"has no {name}"
            detail = f"needs {self.requests[name]} {name}; {{node}} {have}"
        return r._replace(detail=detail)


def group_reasons(pod: Dict[str, Any], group: NodeGroup) -> List[str]:
    """kube-scheduler's reasons why ``pod`` does not fit one node of ``group`` (empty: it fits)."""
    return [r.text for r in _Check(pod, "pod").reasons(group)]


def _where(task: Optional[str], node: Optional[str]) -> str:
    if not task:
        return "pod" + (f", node '{node}'" if node else "")
    return f"task '{task}'" + (f", node '{node}'" if node else "")


def _closest_detail(g: NodeGroup, reasons: List[_Reason], keys: List[str]) -> str:
    """The reasons' details; the first ``{node}`` names the node (and what it is), later ones say "it"."""
    desc = "" if reasons[0].kind == "affinity" else _describe(g, keys)  # the affinity detail shows the labels
    first = f"node '{g.name}'{desc}" if g.node_name else f"the largest node in group '{g.name}'{desc}"
    text = "; ".join(r.detail for r in reasons)
    head, sep, tail = text.partition("{node}")
    return head + (first + tail.replace("{node}", "it") if sep else "")


def _field_of(r: _Reason) -> str:
    if r.kind == "resource":
        return f"requests.{r.resource}"
    return {"taint": "tolerations", "affinity": "affinity", "pods": "pods", "node-name": "nodeName"}[r.kind]


def fit(
    pod: Dict[str, Any],
    groups: Sequence[NodeGroup],
    *,
    task: Optional[str] = None,
    node: Optional[str] = None,
) -> Tuple[List[str], List[Finding]]:
    """The names of the groups whose nodes ``pod`` fits (in the order given), and one finding.

    ``nodefit.fits`` (info) lists the groups; ``nodefit.no-fit`` (error) names the closest group (fewest
    reasons, then name) and what it lacks, with every group's reasons in ``after``. No groups: ``([], [])``.
    ``pod`` is not changed; a malformed pod raises :class:`ResourceValidationError`.
    """
    if not groups:
        return [], []
    where = _where(task, node)
    check = _Check(pod, where)
    group_list = _group_list(groups)
    outcome = group_list.outcome(check.decide(group_list))  # the details only for the closest group
    fitting = list(outcome.fitting)
    sources = group_list.sources
    reqs = ", ".join(f"{k}={v}" for k, v in sorted(check.requests.items()))
    if fitting:
        names = "'" + "', '".join(fitting) + "'"
        msg = f"fits node group{'s' if len(fitting) > 1 else ''} {names} ({len(fitting)} of {len(groups)})"
        return fitting, [Finding(INFO, "nodefit.fits", msg, task=task, node=node, pod=None if task else "",
                                 before=reqs or None,
                                 after=", ".join(fitting), source=sources)]
    g = group_list.groups[outcome.closest]
    rs = [check.detailed(r, g) for r in outcome.reasons[outcome.closest]]
    detail = _closest_detail(g, rs, check.selector.keys())
    msg = (f"fits no node group ({len(groups)} given); closest is '{g.name}' "
           f"({', '.join(r.text for r in rs)}): {detail}")
    return [], [Finding(ERROR, "nodefit.no-fit", msg, task=task, node=node, pod=None if task else "",
                        field=_field_of(rs[0]),
                        before=reqs or None, after=outcome.after, source=sources)]
