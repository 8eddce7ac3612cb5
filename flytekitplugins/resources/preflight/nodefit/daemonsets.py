"""DaemonSets: the pods every node runs before any task pod, and the room they take.

Which nodes a daemonset runs on is the DaemonSet controller's decision (``pkg/controller/daemon``,
``NodeShouldRunDaemonPod`` and ``predicates``): its pod template (``NewPod``, with the tolerations
``AddOrUpdateDaemonPodTolerations`` adds: ``node.kubernetes.io/not-ready`` and ``unreachable`` NoExecute,
``disk-pressure``, ``memory-pressure``, ``pid-pressure`` and ``unschedulable`` NoSchedule, and
``network-unavailable`` NoSchedule for a ``hostNetwork`` pod) must match the node's labels by its
``nodeSelector`` and required node affinity (an invalid term matches nothing), tolerate its NoSchedule and
NoExecute taints, and name no other node in ``spec.nodeName`` (a group of a node-group file is new nodes, so a
template naming a node never runs on one). Resources are not part of the decision: a daemonset whose pod does not
fit still runs there (its pod waits), and, as Karpenter counts it (``buildDaemonOverheadGroups``), its requests
are taken from each node it runs on.

A daemonset's pod requests are computed as for any pod (containers, init containers, sidecars, overhead), after
the API server's defaulting of a missing request to the container's limit (``SetDefaults_Pod``, which Karpenter's
``PodForDaemonSet`` repeats for a daemonset's template).

Input: ``kubectl get ds -A -o yaml`` (a ``List``), or DaemonSet documents; ``apiVersion: apps/v1``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ...k8s.manifest import fail as _fail
from ...k8s.manifest import mapping as _mapping
from ...k8s.manifest import sequence as _sequence
from ...k8s.manifest import string as _string
from ...k8s.manifest import type_name as _type_name
from ...quantity import Quantity
from .filters import NO_DAEMONSETS, GroupRoom, PodChecks, Taken, as_int
from .groups import NodeGroup, nonnegative_quantity

__all__ = ["DaemonSet", "parse_daemonset", "parse_daemonsets", "runs_on", "taken_on"]

# AddOrUpdateDaemonPodTolerations: what every daemonset pod tolerates
_DEFAULT_TOLERATIONS = (
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"},
)
_HOST_NETWORK_TOLERATION = {"key": "node.kubernetes.io/network-unavailable", "operator": "Exists",
                            "effect": "NoSchedule"}
_API_VERSIONS = ("apps/v1",)


@dataclass(frozen=True, eq=False)
class DaemonSet:
    """One DaemonSet: its name and its pod as the filters read it."""

    name: str
    namespace: Optional[str]
    pod: PodChecks  #: the pod it creates on a node (requests defaulted from limits, the controller's tolerations)
    node_name: Optional[str] = None  #: the template's ``spec.nodeName``, when it names a node
    source: str = ""  #: the file it was read from

    @property
    def requests(self) -> Dict[str, Quantity]:
        return self.pod.requests


def _with_limits_as_requests(source: str, spec_path: str, spec: Dict[str, Any]) -> Dict[str, Any]:
    """A shallow copy of the pod spec where each container's missing requests are its limits (the API
    server's defaulting); the limits are checked as quantities, as the requests are."""
    out = dict(spec)
    for field in ("containers", "initContainers"):
        containers = _sequence(source, f"{spec_path}.{field}", spec.get(field))
        copied = []
        for i, c in enumerate(containers):
            path = f"{spec_path}.{field}[{i}]"
            c = _mapping(source, path, c)
            res = _mapping(source, f"{path}.resources", c.get("resources"))
            limits = _mapping(source, f"{path}.resources.limits", res.get("limits"))
            if not limits:
                copied.append(c)
                continue
            for k, v in limits.items():
                name = _string(source, f"{path}.resources.limits (a key)", k, allow_empty=False)
                nonnegative_quantity(source, f"{path}.resources.limits.{name}", v)
            requests = _mapping(source, f"{path}.resources.requests", res.get("requests"))
            copied.append({**c, "resources": {**res, "requests": {**limits, **requests}}})
        if field in spec:
            out[field] = copied
    return out


def parse_daemonset(doc: Any, source: str, at: str = "") -> DaemonSet:
    """A DaemonSet manifest (``at`` is its place in the file, e.g. ``items[3].``). Every problem raises
    :class:`ResourceValidationError` naming ``source`` and the key path, e.g. ``ds.yaml: items[3].spec.template.
    spec.containers[0].resources.requests.cpu: 'abc' is not a valid Kubernetes quantity (...)``."""
    if not isinstance(doc, dict):
        raise _fail(source, at.rstrip("."), f"a DaemonSet manifest must be a mapping, not {_type_name(doc)}")
    if doc.get("kind") != "DaemonSet":
        raise _fail(source, f"{at}kind", f"must be 'DaemonSet', not {doc.get('kind')!r}")
    api = doc.get("apiVersion")
    if api is not None and api not in _API_VERSIONS:
        raise _fail(source, f"{at}apiVersion", f"must be 'apps/v1', not {api!r}")
    meta = _mapping(source, f"{at}metadata", doc.get("metadata"))
    name = _string(source, f"{at}metadata.name", meta.get("name"), allow_empty=False)
    ns = meta.get("namespace")
    namespace = (_string(source, f"{at}metadata.namespace", ns) or None) if ns is not None else None
    spec = _mapping(source, f"{at}spec", doc.get("spec"))
    template = _mapping(source, f"{at}spec.template", spec.get("template"))
    spec_path = f"{at}spec.template.spec"
    pod_spec = _with_limits_as_requests(source, spec_path, _mapping(source, spec_path, template.get("spec")))
    tolerations = _sequence(source, f"{spec_path}.tolerations", pod_spec.get("tolerations"))
    added = list(_DEFAULT_TOLERATIONS) + ([_HOST_NETWORK_TOLERATION] if pod_spec.get("hostNetwork") is True else [])
    pod_spec["tolerations"] = list(tolerations) + [dict(t) for t in added]  # after the template's: paths hold
    node_name = pod_spec.get("nodeName")
    checks = PodChecks({"spec": pod_spec}, source, spec_path)
    return DaemonSet(name=name, namespace=namespace, pod=checks,
                     node_name=checks.node_name if node_name else None, source=source)


def parse_daemonsets(doc: Any, source: str) -> List[DaemonSet]:
    """The DaemonSets of one document: a ``DaemonSet``, or a ``List``/``DaemonSetList`` of them
    (``kubectl get ds -A -o yaml``)."""
    if isinstance(doc, dict) and doc.get("kind") in ("List", "DaemonSetList"):
        return [parse_daemonset(item, source, f"items[{i}].")
                for i, item in enumerate(_sequence(source, "items", doc.get("items")))]
    return [parse_daemonset(doc, source)]


def runs_on(ds: DaemonSet, g: NodeGroup, room: Optional[GroupRoom] = None) -> bool:
    """Whether the DaemonSet controller runs ``ds`` on a node of ``g`` (``NodeShouldRunDaemonPod``'s
    ``shouldRun``): the template names no other node, its node selector and required affinity match the
    group's labels, and it tolerates the group's NoSchedule and NoExecute taints."""
    if ds.node_name is not None and ds.node_name != g.node_name:
        return False
    if not ds.pod.selector.matches(g):
        return False
    taints = (room or GroupRoom(g)).taints
    return ds.pod.first_untolerated(taints) is None


def display_names(daemonsets: Sequence[DaemonSet]) -> Dict[int, str]:
    """How messages name each daemonset (by ``id``): its name, or ``namespace/name`` when two namespaces
    have one of that name."""
    namespaces: Dict[str, set] = {}
    for ds in daemonsets:
        namespaces.setdefault(ds.name, set()).add(ds.namespace)
    return {id(ds): ds.name if len(namespaces[ds.name]) == 1 else f"{ds.namespace or 'default'}/{ds.name}"
            for ds in daemonsets}


def taken_on(daemonsets: Sequence[DaemonSet], g: NodeGroup, names: Optional[Dict[int, str]] = None) -> Taken:
    """What the daemonsets that run on ``g`` take on each of its nodes: the scheduler's ``NodeInfo.Requested``
    (each pod's requests as int64s, summed), the exact sums, and which daemonsets take each resource."""
    if not daemonsets:
        return NO_DAEMONSETS
    names = names if names is not None else display_names(daemonsets)
    room = GroupRoom(g)
    ints: Dict[str, int] = {}
    exact: Dict[str, Quantity] = {}
    by: Dict[str, List[str]] = {}
    running: List[str] = []
    for ds in daemonsets:
        if not runs_on(ds, g, room):
            continue
        label = names[id(ds)]
        running.append(label)
        for res, q in ds.requests.items():
            n = as_int(q, res)
            if n == 0:
                continue
            ints[res] = ints.get(res, 0) + n
            exact[res] = exact[res] + q if res in exact else q
            by.setdefault(res, []).append(label)
    if not running:
        return NO_DAEMONSETS
    frozen: Dict[str, Tuple[str, ...]] = {k: tuple(v) for k, v in by.items()}
    return Taken(ints, exact, frozen, tuple(running))
