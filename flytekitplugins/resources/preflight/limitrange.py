"""LimitRange for one pod: the defaults Kubernetes' LimitRanger admission plugin adds, and what it refuses.

What this reproduces, and from where (kubernetes/kubernetes, read at master in 2025):

- the stored LimitRange, as the API server keeps it after ``SetDefaults_LimitRangeItem``
  (``pkg/apis/core/v1/defaults.go``): for a ``Container`` item, a missing ``default`` is the ``max``, a
  missing ``defaultRequest`` is the ``default``, else the ``min``; and ``ValidateLimitRange``
  (``pkg/apis/core/validation/validation.go``): a ``Pod`` item takes no defaults, a type appears once,
  ``min <= defaultRequest <= default <= max``, a ratio is at least 1 and at most max/min, an extended
  resource or ``hugepages-*`` may not be overcommitted (its default request equals its default), values
  are ``>= 0``. :func:`parse_limit_range` applies both, so a manifest as written and one read back with
  ``kubectl get limitrange -o yaml`` give the same result;
- the pod as the API server has it before admission: ``SetDefaults_Pod`` (a container's, or init
  container's, missing request for a resource it has a limit for is that limit) and
  ``SetDefaults_ResourceList`` (every value rounded up to a whole number of milli units, ``2n`` -> ``1m``;
  LimitRange and ResourceQuota values too);
- ``plugin/pkg/admission/limitranger/admission.go``: ``defaultContainerResourceRequirements`` (every
  ``Container`` item's ``default`` -> limits, ``defaultRequest`` -> requests, a later item winning) and
  ``mergeContainerResources`` (a value is added only where the container, or init container, has none for
  that resource; the pod is annotated ``kubernetes.io/limit-ranger``); then ``PodValidateLimitFunc``:
  ``minConstraint``, ``maxConstraint`` and ``limitRequestRatioConstraint`` for every container and init
  container of a ``Container`` item, and for the pod's ``podRequests``/``podLimits`` of a ``Pod`` item:
  the containers summed, each init container with the restartable ("sidecar", ``restartPolicy: Always``)
  init containers before it, sidecars added to the sum, the larger of the two per resource, and pod-level
  ``spec.resources`` (cpu, memory) replacing the figure (the ``PodLevelResources`` gate, on by default
  since 1.34). Pod overhead is not counted, as in LimitRanger. Every resource is checked, extended ones
  (``nvidia.com/gpu``) included. ``PersistentVolumeClaim`` items are parsed and ignored here.

Values are compared as ``requestLimitEnforcedValues`` does: as ``MilliValue()``, or ``Value()`` (rounded
up) when one of them is over ``MaxMilliValue``. The limit-to-request ratio is compared exactly and
shown as Go's ``%f`` of ``float64(limit) / float64(request)``: the one place a float appears, because that
is how Kubernetes prints it. The messages are Kubernetes' own
(``minimum cpu usage per Container is 100m, but request is 50m``), after ``task 'NAME'``, with the field
and the LimitRange named in parentheses.

Admission mutates with every LimitRange of the namespace first, then validates with each; the API server
stops at the first LimitRange that refuses the pod, here every refusal of every range is reported. A range
whose ``metadata.namespace`` differs from the pod's does not apply. Pod updates, resize and the
``status``-based resources are not modelled (a preflight pod is always being created).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Tuple

from ..findings import ERROR, INFO, Finding
from ..k8s.manifest import (
    ResourceList,
    check_keys,
    copy_json,
    fail,
    header,
    mapping,
    metadata,
    resource_list,
    string,
    type_name,
)
from ..k8s.names import (
    STANDARD_CONTAINER_RESOURCES,
    is_extended_resource,
    is_native_resource,
    is_qualified_name,
    overcommit_allowed,
)
from ..k8s.podresources import (
    POD_LEVEL_RESOURCES,
    Container,
    aggregate,
    default_requests_from_limits,
    pod_level,
    pod_namespace,
    read_pod,
)
from ..quantity import Quantity

__all__ = [
    "CONTAINER",
    "LIMIT_TYPES",
    "PERSISTENT_VOLUME_CLAIM",
    "POD",
    "LimitRange",
    "LimitRangeItem",
    "apply_limit_ranges",
    "parse_limit_range",
]

CONTAINER = "Container"
POD = "Pod"
PERSISTENT_VOLUME_CLAIM = "PersistentVolumeClaim"
LIMIT_TYPES = (CONTAINER, POD, PERSISTENT_VOLUME_CLAIM)
ANNOTATION = "kubernetes.io/limit-ranger"

_MAX_MILLI_VALUE = ((1 << 63) - 1) // 1000  # resource.MaxMilliValue
_MAX_MILLI_DECIMAL = Decimal(_MAX_MILLI_VALUE)  # for comparing with Decimals (an int is converted every time)
_ITEM_KEYS = ("type", "max", "min", "default", "defaultRequest", "maxLimitRequestRatio")

_ZERO = Quantity.parse("0")


# ------------------------------------------------------------------------------------------------ messages
def where_prefix(task: Optional[str], node: Optional[str]) -> str:
    """``task 'NAME'`` (+ ``, node 'ID'``); ``pod`` when no task is named."""
    if not task:
        return "pod" + (f", node '{node}'" if node else "")
    return f"task '{task}'" + (f", node '{node}'" if node else "")


# ------------------------------------------------------------------------------------------------ LimitRange
@dataclass(frozen=True)
class LimitRangeItem:
    """One ``spec.limits`` entry, as stored (with the API server's defaults for a ``Container`` item)."""

    type: str  #: ``Container``, ``Pod`` or ``PersistentVolumeClaim``
    max: ResourceList = field(default_factory=dict, hash=False)
    min: ResourceList = field(default_factory=dict, hash=False)
    default: ResourceList = field(default_factory=dict, hash=False)  #: default limits
    default_request: ResourceList = field(default_factory=dict, hash=False)  #: ``defaultRequest``
    max_limit_request_ratio: ResourceList = field(default_factory=dict, hash=False)  #: ``maxLimitRequestRatio``


@dataclass(frozen=True)
class LimitRange:
    """A namespace's LimitRange, read from ``source``."""

    name: str
    namespace: Optional[str]
    items: Tuple[LimitRangeItem, ...]
    source: str = ""  #: the file it came from

    @property
    def label(self) -> str:
        """``LimitRange NAME (file)``: the ``source`` of its findings."""
        return f"LimitRange {self.name}" + (f" ({self.source})" if self.source else "")


def _check_container_resource_name(source: str, path: str, name: str) -> None:
    """``validateContainerResourceName`` for ``Container`` and ``Pod`` items."""
    if "/" not in name:
        if name not in STANDARD_CONTAINER_RESOURCES and not name.startswith("hugepages-"):
            raise fail(source, path, f"{name!r} must be a standard resource for containers "
                                     f"({', '.join(STANDARD_CONTAINER_RESOURCES)}, hugepages-<size>) "
                                     "or an extended resource such as nvidia.com/gpu")
    elif not is_qualified_name(name):
        raise fail(source, path, f"{name!r} is not a valid resource name")
    elif not is_native_resource(name) and not is_extended_resource(name):
        raise fail(source, path, f"{name!r} doesn't follow extended resource name standard")


class _Enforced(NamedTuple):
    """What ``requestLimitEnforcedValues`` reads of one quantity."""

    milli_ok: bool  #: the value is at most ``MaxMilliValue``
    milli: Decimal  #: ``MilliValue()``
    unit: Decimal  #: ``Value()``


_ENFORCED: Dict[Decimal, _Enforced] = {}


def _enforced(q: Quantity) -> _Enforced:
    """:class:`_Enforced` of a quantity, once per value: these depend on the value alone, and a LimitRange's
    values are checked against every container of every pod. (Kept by the exact Decimal, which hashes in C.)"""
    value = q.as_decimal()
    try:
        return _ENFORCED[value]
    except KeyError:
        if len(_ENFORCED) >= 4096:
            _ENFORCED.clear()
        out = _ENFORCED[value] = _Enforced(value <= _MAX_MILLI_DECIMAL, q.scaled_decimal(-3), q.scaled_decimal(0))
        return out


def _milli_or_unit(a: Quantity, b: Quantity, z: _Enforced) -> Tuple[Decimal, Decimal, Decimal]:
    """``requestLimitEnforcedValues`` of ``a``, ``b`` and the enforced value (``z`` is its :func:`_enforced`):
    each value's ``MilliValue()`` (x1000, rounded up) when every ``Value()`` is at most ``MaxMilliValue``,
    else each ``Value()`` (rounded up)."""
    x, y = _enforced(a), _enforced(b)
    if x.milli_ok and y.milli_ok and z.milli_ok:
        return x.milli, y.milli, z.milli
    return x.unit, y.unit, z.unit


def _mul(a: Decimal, b: Decimal) -> Decimal:
    """An exact product of two Decimals (whatever the number of digits)."""
    with localcontext() as ctx:
        ctx.prec = len(a.as_tuple().digits) + len(b.as_tuple().digits) + 2
        ctx.Emax, ctx.Emin = 999999999999999999, -999999999999999999
        return a * b


def _go_float_ratio(a: Decimal, b: Decimal) -> str:
    """Go's ``fmt.Sprintf("%f", float64(a) / float64(b))`` for two integers."""
    x = float(a) / float(b) if b else float("inf")
    if x != x:
        return "NaN"
    if x in (float("inf"), float("-inf")):
        return "+Inf" if x > 0 else "-Inf"
    return f"{x:.6f}"


def _apply_item_defaults(item: LimitRangeItem) -> LimitRangeItem:
    """``SetDefaults_LimitRangeItem``: for a Container item, default <- max, defaultRequest <- default, min."""
    if item.type != CONTAINER:
        return item
    default = dict(item.default)
    for k, v in item.max.items():
        default.setdefault(k, v)
    default_request = dict(item.default_request)
    for k, v in default.items():
        default_request.setdefault(k, v)
    for k, v in item.min.items():
        default_request.setdefault(k, v)
    return LimitRangeItem(item.type, dict(item.max), dict(item.min), default, default_request,
                          dict(item.max_limit_request_ratio))


def _validate_item(item: LimitRangeItem, source: str, path: str) -> None:
    """``ValidateLimitRange``'s checks of one (defaulted) item; the first problem raises."""
    keys = sorted(set(item.max) | set(item.min) | set(item.default) | set(item.default_request)
                  | set(item.max_limit_request_ratio))
    for k in keys:
        mn, mx = item.min.get(k), item.max.get(k)
        d, dr, ratio = item.default.get(k), item.default_request.get(k), item.max_limit_request_ratio.get(k)
        if mn is not None and mx is not None and mn > mx:
            raise fail(source, f"{path}.min.{k}", f"min value {mn} is greater than max value {mx}")
        if dr is not None and mn is not None and mn > dr:
            raise fail(source, f"{path}.min.{k}", f"min value {mn} is greater than default request value {dr}")
        if dr is not None and mx is not None and dr > mx:
            raise fail(source, f"{path}.defaultRequest.{k}",
                       f"default request value {dr} is greater than max value {mx}")
        if dr is not None and d is not None and dr > d:
            raise fail(source, f"{path}.defaultRequest.{k}",
                       f"default request value {dr} is greater than default limit value {d}")
        if d is not None and mn is not None and mn > d:
            raise fail(source, f"{path}.default.{k}", f"min value {mn} is greater than default value {d}")
        if d is not None and mx is not None and d > mx:
            raise fail(source, f"{path}.default.{k}", f"default value {d} is greater than max value {mx}")
        if ratio is not None and ratio < Quantity.parse("1"):
            raise fail(source, f"{path}.maxLimitRequestRatio.{k}", f"ratio {ratio} is less than 1")
        if ratio is not None and mn is not None and mx is not None:
            if all(q.as_decimal() < _MAX_MILLI_VALUE for q in (ratio, mn, mx)):  # milli values
                r, lo, hi = (q.scaled_decimal(-3) for q in (ratio, mn, mx))
                above = lo > 0 and _mul(r, lo) > _mul(hi, Decimal(1000))  # r/1000 > hi/lo
            else:
                r, lo, hi = (q.scaled_decimal(0) for q in (ratio, mn, mx))
                above = lo > 0 and _mul(r, lo) > hi
            if above:
                raise fail(source, f"{path}.maxLimitRequestRatio.{k}",
                           f"ratio {ratio} is greater than max/min = {_go_float_ratio(hi, lo)}")
        if not overcommit_allowed(k) and d is not None and dr is not None and d != dr:
            raise fail(source, f"{path}.defaultRequest.{k}",
                       f"default value {d} must equal to defaultRequest value {dr} in {k}")


def _parse_item(raw: Any, source: str, path: str) -> LimitRangeItem:
    raw = mapping(source, path, raw)
    if not raw:
        raise fail(source, path, "must not be empty; give at least 'type'")
    check_keys(source, path, raw, _ITEM_KEYS)
    kind = string(source, f"{path}.type", raw.get("type"), allow_empty=False)
    if kind not in LIMIT_TYPES:
        raise fail(source, f"{path}.type", f"{kind!r} is not a LimitRange type; use one of {', '.join(LIMIT_TYPES)}")
    lists: Dict[str, ResourceList] = {}
    for key in _ITEM_KEYS[1:]:
        lists[key] = resource_list(source, f"{path}.{key}", raw.get(key))
        if kind in (CONTAINER, POD):
            for name in lists[key]:
                _check_container_resource_name(source, f"{path}.{key}.{name}", name)
    if kind == POD:
        for key in ("default", "defaultRequest"):
            if lists[key]:
                raise fail(source, f"{path}.{key}", "may not be specified when `type` is 'Pod'")
    if kind == PERSISTENT_VOLUME_CLAIM and "storage" not in lists["min"] and "storage" not in lists["max"]:
        raise fail(source, path, "either minimum or maximum storage value is required, but neither was provided")
    item = _apply_item_defaults(LimitRangeItem(
        kind, lists["max"], lists["min"], lists["default"], lists["defaultRequest"], lists["maxLimitRequestRatio"]))
    _validate_item(item, source, path)
    return item


def parse_limit_range(doc: Any, source: str) -> LimitRange:
    """A LimitRange manifest (a parsed YAML/JSON document) as the API server would store it.

    Anything Kubernetes (or ``kubectl apply``'s strict field validation) would refuse raises
    :class:`ResourceValidationError` naming ``source`` and the key path, e.g.
    ``limits.yaml: spec.limits[0].max.cpu: '2GB' is not a valid Kubernetes quantity ...``.
    """
    doc = header(doc, source, "LimitRange")
    check_keys(source, "", doc, ("apiVersion", "kind", "metadata", "spec", "status"))
    name, namespace = metadata(doc, source)
    if doc.get("spec") is None:
        raise fail(source, "spec", "is required (a mapping with 'limits')")
    spec = mapping(source, "spec", doc.get("spec"))
    check_keys(source, "spec", spec, ("limits",))
    if "limits" not in spec:
        raise fail(source, "spec.limits", "is required (a list of limit items)")
    raw_items = spec.get("limits")
    if not isinstance(raw_items, list):
        raise fail(source, "spec.limits", f"must be a list, not {type_name(raw_items)} {raw_items!r}")
    items: List[LimitRangeItem] = []
    seen: Dict[str, int] = {}
    for i, raw in enumerate(raw_items):
        item = _parse_item(raw, source, f"spec.limits[{i}]")
        if item.type in seen:
            raise fail(source, f"spec.limits[{i}].type",
                       f"Duplicate value: {item.type!r} (already in spec.limits[{seen[item.type]}])")
        seen[item.type] = i
        items.append(item)
    return LimitRange(name=name, namespace=namespace, items=tuple(items), source=source)


# ------------------------------------------------------------------------------------------------ admission
def _min_problem(kind: str, name: str, enforced: Quantity, ev: _Enforced, req: Optional[Quantity],
                 lim: Optional[Quantity]) -> Optional[Tuple[str, str, Optional[Quantity]]]:
    """``minConstraint``: (message, "requests"/"limits", the value at fault) or None; ``ev`` is
    :func:`_enforced` of ``enforced``."""
    if req is None:
        return f"minimum {name} usage per {kind} is {enforced}.  No request is specified", "requests", None
    r, lv, e = _milli_or_unit(req, lim if lim is not None else _ZERO, ev)
    if r < e:
        return f"minimum {name} usage per {kind} is {enforced}, but request is {req}", "requests", req
    if lim is not None and lv < e:
        return f"minimum {name} usage per {kind} is {enforced}, but limit is {lim}", "limits", lim
    return None


def _max_problem(kind: str, name: str, enforced: Quantity, ev: _Enforced, req: Optional[Quantity],
                 lim: Optional[Quantity]) -> Optional[Tuple[str, str, Optional[Quantity]]]:
    """``maxConstraint``."""
    if lim is None:
        return f"maximum {name} usage per {kind} is {enforced}.  No limit is specified", "limits", None
    r, lv, e = _milli_or_unit(req if req is not None else _ZERO, lim, ev)
    if lv > e:
        return f"maximum {name} usage per {kind} is {enforced}, but limit is {lim}", "limits", lim
    if req is not None and r > e:
        return f"maximum {name} usage per {kind} is {enforced}, but request is {req}", "requests", req
    return None


def _ratio_problem(kind: str, name: str, enforced: Quantity, ev: _Enforced, req: Optional[Quantity],
                   lim: Optional[Quantity]) -> Optional[Tuple[str, str, Optional[Quantity]]]:
    """``limitRequestRatioConstraint``."""
    r, lv, _ = _milli_or_unit(req if req is not None else _ZERO, lim if lim is not None else _ZERO, ev)
    if req is None or r == 0:
        return _ratio_head(kind, name, enforced) + ", but no request is specified or request is 0", "requests", req
    if lim is None or lv == 0:
        return _ratio_head(kind, name, enforced) + ", but no limit is specified or limit is 0", "limits", lim
    if ev.milli_ok:  # observed * 1000 > enforced.MilliValue()
        exceeded = _mul(lv, Decimal(1000)) > _mul(ev.milli, r)
    else:
        exceeded = lv > _mul(ev.unit, r)
    if exceeded:
        return f"{_ratio_head(kind, name, enforced)}, but provided ratio is {_go_float_ratio(lv, r)}", "limits", lim
    return None


def _ratio_head(kind: str, name: str, enforced: Quantity) -> str:
    return f"{name} max limit to request ratio per {kind} is {enforced}"


_CHECKS = (("min", "limitrange.min", _min_problem), ("max", "limitrange.max", _max_problem),
           ("max_limit_request_ratio", "limitrange.max-ratio", _ratio_problem))
Constraint = Tuple[str, Any, str, Quantity, _Enforced]  # (finding code, _*_problem, resource, enforced, its values)


def _constraints(item: LimitRangeItem) -> Tuple[Constraint, ...]:
    """An item's constraints in the order they are checked (min, max, then ratio; each by resource name),
    worked out once per item and kept on it (a LimitRangeItem is frozen)."""
    out = item.__dict__.get("_constraints")
    if out is None:
        out = tuple((code, fn, name, enforced, _enforced(enforced)) for attr, code, fn in _CHECKS
                    for name, enforced in sorted(getattr(item, attr).items()))
        object.__setattr__(item, "_constraints", out)  # a cache, not a field (not in ==, repr)
    return out


def _range_defaults(lr: LimitRange) -> Tuple[ResourceList, ResourceList]:
    """``defaultContainerResourceRequirements`` of a LimitRange: (requests, limits), its Container items'
    ``defaultRequest`` and ``default`` (a later item winning), sorted by name; worked out once per range."""
    out = lr.__dict__.get("_defaults")
    if out is None:
        limits: ResourceList = {}
        requests: ResourceList = {}
        for item in lr.items:
            if item.type == CONTAINER:
                requests.update(item.default_request)
                limits.update(item.default)
        out = (dict(sorted(requests.items())), dict(sorted(limits.items())))
        object.__setattr__(lr, "_defaults", out)  # a cache, not a field (not in ==, repr)
    return out


class _Admission:
    def __init__(self, task: Optional[str], node: Optional[str]) -> None:
        self.task, self.node = task, node
        self.findings: List[Finding] = []

    def add(self, level: str, code: str, text: str, **kw: Any) -> None:
        self.findings.append(Finding(level, code, text, task=self.task, node=self.node,
                                     pod=None if self.task else "", **kw))

    def check(self, lr: LimitRange, item: LimitRangeItem, where: str, requests: ResourceList,
              limits: ResourceList) -> None:
        for code, fn, name, enforced, ev in _constraints(item):
            problem = fn(item.type, name, enforced, ev, requests.get(name), limits.get(name))
            if problem is None:
                continue
            text, kind, value = problem
            path = f"{where}.{kind}.{name}"
            self.add(ERROR, code, f"{text} [{path}, {lr.label}]", field=path,
                     before=None if value is None else str(value), source=lr.label)


def _merge_defaults(lr: LimitRange, containers: Sequence[Container], adm: _Admission,
                    pod: Dict[str, Any]) -> None:
    """``PodMutateLimitFunc``: ``defaultContainerResourceRequirements`` + ``mergePodResourceRequirements``."""
    requests, limits = _range_defaults(lr)
    if not requests and not limits:
        return
    notes: List[str] = []
    ordered = [c for c in containers if not c.init] + [c for c in containers if c.init]
    for c in ordered:
        set_requests = [k for k in requests if k not in c.requests]
        set_limits = [k for k in limits if k not in c.limits]
        if not set_requests and not set_limits:  # the usual case: the container has them all
            continue
        for kind, names, values, code, what in (
                ("requests", set_requests, requests, "limitrange.default-request", "default request"),
                ("limits", set_limits, limits, "limitrange.default-limit", "default limit")):
            for k in names:
                c.set(kind, k, values[k])
                path = f"{c.label}.{kind}.{k}"
                adm.add(INFO, code, f"{path} = {values[k]}: the {what} of {lr.label}", field=path,
                        after=str(values[k]), source=lr.label)
        what = "init container" if c.init else "container"
        if set_requests:
            notes.append(f"{', '.join(set_requests)} request for {what} {c.name}")
        if set_limits:
            notes.append(f"{', '.join(set_limits)} limit for {what} {c.name}")
    if notes:
        meta = pod.get("metadata")
        if not isinstance(meta, dict):
            meta = pod["metadata"] = {}
        annotations = meta.get("annotations")
        if not isinstance(annotations, dict):
            annotations = meta["annotations"] = {}
        annotations[ANNOTATION] = "LimitRanger plugin set: " + "; ".join(notes)


def apply_limit_ranges(
    pod: Dict[str, Any],
    ranges: Sequence[LimitRange],
    *,
    task: Optional[str] = None,
    node: Optional[str] = None,
) -> Tuple[Dict[str, Any], List[Finding]]:
    """The pod as admitted (a new dict, ``pod`` is not changed) and what admission did or refused.

    Findings, in order: ``limitrange.rounded-up`` and ``limitrange.request-from-limit`` (info: the API
    server's own defaulting: a value finer than 1m rounded up, a missing request set to the limit);
    ``limitrange.default-request`` / ``limitrange.default-limit`` (info: a value a LimitRange added, field
    ``containers[NAME].requests.cpu``); then ``limitrange.min``, ``limitrange.max`` and
    ``limitrange.max-ratio`` (errors, with Kubernetes' message text; the field is the container's or the
    pod's (``pod.limits.memory``) value at fault). A malformed pod raises :class:`ResourceValidationError`.
    """
    where = where_prefix(task, node)
    new = copy_json(pod)
    spec, containers = read_pod(new, where)
    adm = _Admission(task, node)
    for c in containers:
        for kind, name, before, after in c.rounded:
            path = f"{c.label}.{kind}.{name}"
            adm.add(INFO, "limitrange.rounded-up",
                    f"{path} = {after}: {before} is rounded up to a whole number of milli units "
                    "(Kubernetes API defaulting)", field=path, before=str(before), after=str(after),
                    source="Kubernetes API defaulting (SetDefaults_ResourceList)")
    for c, name, q in default_requests_from_limits(containers):
        path = f"{c.label}.requests.{name}"
        adm.add(INFO, "limitrange.request-from-limit",
                f"{path} = {q}: a missing request defaults to the container's limit (Kubernetes API defaulting)",
                field=path, after=str(q), source="Kubernetes API defaulting (SetDefaults_Pod)")
    namespace = pod_namespace(new)
    applicable = [lr for lr in ranges if not (lr.namespace and namespace and lr.namespace != namespace)]
    for lr in applicable:
        _merge_defaults(lr, containers, adm, new)
    level_requests, level_limits = pod_level(spec, where)
    pod_totals: Optional[Tuple[ResourceList, ResourceList]] = None  # the same for every Pod item
    for lr in applicable:
        for item in lr.items:
            if item.type == CONTAINER:
                for c in containers:
                    adm.check(lr, item, c.label, c.requests, c.limits)
            elif item.type == POD:
                if pod_totals is None:
                    pod_totals = aggregate(containers, "requests"), aggregate(containers, "limits")
                    for values, level in zip(pod_totals, (level_requests, level_limits)):
                        for name, q in (level or {}).items():
                            if name in POD_LEVEL_RESOURCES:
                                values[name] = q
                adm.check(lr, item, "pod", *pod_totals)
    return new, adm.findings
