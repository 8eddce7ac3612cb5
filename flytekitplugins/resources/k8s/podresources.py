"""A pod's containers and its effective requests and limits, as the API server and kube-scheduler sum them.

:func:`read_pod` reads a v1 Pod manifest's containers and init containers with their values as the API server
stores them (``SetDefaults_ResourceList``: rounded up to milli units); :func:`aggregate` is
``AggregateContainerRequests``/``Limits`` (containers summed, each init container with the restartable
"sidecar" init containers started before it as a floor, sidecars added to the sum); :func:`pod_requests` and
:func:`pod_limits` add pod-level ``spec.resources`` and ``spec.overhead`` (``PodRequests``/``PodLimits``).
"""

from __future__ import annotations

import functools
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from ..errors import ResourceValidationError
from ..quantity import Quantity
from .manifest import ResourceList, fail, mapping, resource_list, round_up_milli, sequence, type_name

__all__ = [
    "POD_LEVEL_RESOURCES",
    "Container",
    "Rounded",
    "add_into",
    "aggregate",
    "combine",
    "default_requests_from_limits",
    "is_pod_level_resource",
    "max_into",
    "pod_level",
    "pod_limits",
    "pod_namespace",
    "pod_requests",
    "read_pod",
]

#: ``supportedPodLevelResources``: what pod-level ``spec.resources`` may set (plus ``hugepages-*``).
POD_LEVEL_RESOURCES = ("cpu", "memory")


class Container:
    """One container or init container of a pod dict: where it is, and its parsed requests and limits.

    With ``write`` (the default) the values the API server sets (rounded up, defaulted) are also written into
    ``raw``; without, only the parsed values change, and ``raw`` is only read."""

    def __init__(self, raw: Dict[str, Any], kind: str, index: int, where: str, *, write: bool = True) -> None:
        self.raw = raw
        self.write = write
        self.init = kind == "initContainers"
        name = raw.get("name")
        self.name = name if isinstance(name, str) and name else str(index)
        self.label = f"{kind}[{self.name}]"  #: ``containers[train]``, for fields and messages
        path = f"spec.{kind}[{index}].resources"
        self.sidecar = self.init and raw.get("restartPolicy") == "Always"
        res = raw.get("resources")
        if not isinstance(res, dict):
            res = mapping(where, path, res)
        # SetDefaults_ResourceList: the values rounded up to milli units, as the API server stores them
        self.requests, rounded_requests = _stored_values(where, path + ".requests", res.get("requests"))
        self.limits, rounded_limits = _stored_values(where, path + ".limits", res.get("limits"))
        self.rounded: List[Tuple[str, str, Quantity, Quantity]] = []  #: (kind, name, before, after)
        if rounded_requests or rounded_limits:
            self.rounded = [*(("requests", name, q, r) for name, q, r in rounded_requests),
                            *(("limits", name, q, r) for name, q, r in rounded_limits)]
            for kind, name, _, r in self.rounded:
                self.set(kind, name, r)

    def set(self, kind: str, name: str, q: Quantity) -> None:
        """Add ``kind`` (``requests``/``limits``) ``name`` to the parsed values and the pod dict."""
        getattr(self, kind)[name] = q
        if not self.write:
            return
        res = self.raw.get("resources")
        if not isinstance(res, dict):
            res = self.raw["resources"] = {}
        values = res.get(kind)
        if not isinstance(values, dict):
            values = res[kind] = {}
        values[name] = str(q)


Rounded = Tuple[str, Quantity, Quantity]  # (name, before, after)


def _stored_values(where: str, path: str, value: Any) -> Tuple[ResourceList, Tuple[Rounded, ...]]:
    """A container's ``requests`` or ``limits`` (at ``path``) as the API server stores them: each value rounded
    up to milli units; with the values it rounded. A malformed one raises naming ``where`` and ``path``."""
    if value is None:
        return {}, ()
    if type(value) is dict and all(type(k) is str and type(v) is str for k, v in value.items()):
        try:  # the usual case: names and values are strings, and often the same ones from pod to pod
            values, rounded = _stored_strings(tuple(value.items()))
            return dict(values), rounded
        except ResourceValidationError:
            pass  # read again below, to say where
    values = resource_list(where, path, value, non_negative=False, round_milli=False)
    rounded = []
    for name, q in list(values.items()):
        r = round_up_milli(q)
        if r is not q:
            values[name] = r
            rounded.append((name, q, r))
    return values, tuple(rounded)


@functools.lru_cache(maxsize=4096)
def _stored_strings(items: Tuple[Tuple[str, str], ...]) -> Tuple[ResourceList, Tuple[Rounded, ...]]:
    """:func:`_stored_values` of ``{name: value}`` strings, once per distinct set of them (only exact ``str``
    keys and values: a cache key must not equate ``1`` with ``True``). A bad name or value raises."""
    values: ResourceList = {}
    rounded = []
    for name, text in items:
        if not name:
            raise ResourceValidationError("must not be empty")
        q = Quantity.parse(text)
        r = values[name] = round_up_milli(q)
        if r is not q:
            rounded.append((name, q, r))
    return values, tuple(rounded)


def read_pod(pod: Any, where: str, *, write: bool = True) -> Tuple[Dict[str, Any], List[Container]]:
    """The pod's spec and its containers, then init containers; a malformed pod raises naming ``where``.
    Without ``write`` the pod is only read (see :class:`Container`)."""
    if not isinstance(pod, dict):
        raise fail(where, "", f"a pod must be a mapping (a v1 Pod manifest), not {type_name(pod)}")
    spec = mapping(where, "spec", pod.get("spec"))
    out: List[Container] = []
    for kind in ("containers", "initContainers"):
        for i, c in enumerate(sequence(where, f"spec.{kind}", spec.get(kind))):
            out.append(Container(mapping(where, f"spec.{kind}[{i}]", c), kind, i, where, write=write))
    return spec, out


def pod_namespace(pod: Dict[str, Any]) -> Optional[str]:
    meta = pod.get("metadata")
    ns = meta.get("namespace") if isinstance(meta, dict) else None
    return ns if isinstance(ns, str) and ns else None


def pod_level(spec: Dict[str, Any], where: str) -> Tuple[Optional[ResourceList], Optional[ResourceList]]:
    """``spec.resources`` requests and limits (None when the pod has no ``spec.resources``)."""
    if spec.get("resources") is None:
        return None, None
    res = mapping(where, "spec.resources", spec.get("resources"))
    return (resource_list(where, "spec.resources.requests", res.get("requests"), non_negative=False),
            resource_list(where, "spec.resources.limits", res.get("limits"), non_negative=False))


def add_into(total: ResourceList, more: Mapping[str, Quantity]) -> None:
    """``addResourceList``: Go's ``Quantity.Add``, the first value kept as it is."""
    for name, q in more.items():
        total[name] = total[name] + q if name in total else q


def max_into(total: ResourceList, more: Mapping[str, Quantity]) -> None:
    """``maxResourceList``: the larger per resource, the existing one on a tie."""
    for name, q in more.items():
        if name not in total or q > total[name]:
            total[name] = q


def aggregate(containers: Sequence[Container], kind: str) -> ResourceList:
    """``AggregateContainerRequests``/``Limits``: containers summed, init containers (with the sidecars
    started before them) as a floor, sidecars added to the sum."""
    return combine([getattr(c, kind) for c in containers if not c.init],
                   [(getattr(c, kind), c.sidecar) for c in containers if c.init])


def combine(regular: Iterable[Mapping[str, Quantity]],
            inits: Iterable[Tuple[Mapping[str, Quantity], bool]]) -> ResourceList:
    """The rule every pod-resource sum in Kubernetes follows (``PodRequests``, ``AggregateContainerRequests``):
    the regular containers summed; then each init container in order, with the sidecars (``restartPolicy:
    Always``) started before it, is a floor; a sidecar keeps running, so it is also added to the sum.
    ``inits`` is ``(resources, is_sidecar)`` in the pod's order."""
    total: ResourceList = {}
    for own in regular:
        add_into(total, own)
    sidecars: ResourceList = {}
    init_peak: ResourceList = {}
    for own, sidecar in inits:
        if sidecar:
            add_into(total, own)
            add_into(sidecars, own)
            need = dict(sidecars)
        else:
            need = dict(own)
            add_into(need, sidecars)
        max_into(init_peak, need)
    max_into(total, init_peak)
    return total


def default_requests_from_limits(containers: Sequence[Container]) -> List[Tuple[Container, str, Quantity]]:
    """``SetDefaults_Pod``: a request missing where the container has a limit becomes the limit."""
    added = []
    for c in containers:
        for name in sorted(c.limits):
            if name not in c.requests:
                q = c.limits[name]
                c.set("requests", name, q)
                added.append((c, name, q))
    return added


def is_pod_level_resource(name: str) -> bool:
    """``IsSupportedPodLevelResource``: cpu, memory and ``hugepages-*``."""
    return name in POD_LEVEL_RESOURCES or name.startswith("hugepages-")


def pod_requests(containers: Sequence[Container], level_requests: Mapping[str, Quantity],
                 overhead: Mapping[str, Quantity]) -> ResourceList:
    """``PodRequests``: :func:`aggregate` of the requests, pod-level requests replacing the supported resources
    when one is set (``IsPodLevelRequestsSet``), then the overhead added."""
    reqs = aggregate(containers, "requests")
    if any(is_pod_level_resource(k) for k in level_requests):
        for k, q in level_requests.items():
            if is_pod_level_resource(k):
                reqs[k] = q
    add_into(reqs, overhead)
    return reqs


def pod_limits(containers: Sequence[Container], level_limits: Mapping[str, Quantity], level_set: bool,
               overhead: Mapping[str, Quantity]) -> ResourceList:
    """``PodLimits``: :func:`aggregate` of the limits, pod-level limits replacing the supported resources when
    pod-level resources are set (``level_set``, ``IsPodLevelResourcesSet``), and the overhead added to the
    limits that are set and non-zero."""
    lims = aggregate(containers, "limits")
    if level_set:
        for k, q in level_limits.items():
            if is_pod_level_resource(k):
                lims[k] = q
    for k, q in overhead.items():
        if k in lims and lims[k].sign() != 0:
            lims[k] = lims[k] + q
    return lims
