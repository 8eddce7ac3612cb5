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

import functools
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from typing import Any, Dict, List, Mapping, NamedTuple, Optional, Sequence, Tuple

from ..findings import ERROR, INFO, Finding
from ..quantity import Quantity, ResourceValidationError

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
_STANDARD_CONTAINER_RESOURCES = ("cpu", "memory", "ephemeral-storage")
_POD_LEVEL = ("cpu", "memory")  # limitranger's supportedPodLevelResources
_ITEM_KEYS = ("type", "max", "min", "default", "defaultRequest", "maxLimitRequestRatio")
_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_NAME_MIDDLE = _ALNUM | frozenset("-_.")
_DNS_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_DNS_MIDDLE = _DNS_ALNUM | frozenset("-")

ResourceList = Dict[str, Quantity]
_ZERO = Quantity.parse("0")


# ------------------------------------------------------------------------------------------------ shared helpers
_JSON_CONTAINERS = (dict, list)


def copy_json(value: Any) -> Any:
    """A deep copy of a JSON document (dicts, lists, scalars), several times faster than ``copy.deepcopy``."""
    if isinstance(value, dict):  # scalars are taken as they are, without a call each
        return {k: copy_json(v) if isinstance(v, _JSON_CONTAINERS) else v for k, v in value.items()}
    if isinstance(value, list):
        return [copy_json(v) if isinstance(v, _JSON_CONTAINERS) else v for v in value]
    return value


def fail(source: str, path: str, problem: str) -> ResourceValidationError:
    """The error for a bad manifest or pod: ``source: key.path: problem``."""
    return ResourceValidationError(problem, field=f"{source}: {path}" if path else source)


def type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def mapping(source: str, path: str, value: Any) -> Dict[Any, Any]:
    """``value`` as a mapping (None is empty); anything else is an error naming ``path``."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise fail(source, path, f"must be a mapping, not {type_name(value)} {value!r}")
    return value


def sequence(source: str, path: str, value: Any) -> List[Any]:
    """``value`` as a list (None is empty); anything else is an error naming ``path``."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise fail(source, path, f"must be a list, not {type_name(value)} {value!r}")
    return value


def string(source: str, path: str, value: Any, *, allow_empty: bool = True) -> str:
    if not isinstance(value, str):
        hint = " (quote it in YAML)" if isinstance(value, (bool, int, float)) else ""
        raise fail(source, path, f"must be a string, not {type_name(value)} {value!r}{hint}")
    if not allow_empty and not value:
        raise fail(source, path, "must not be empty")
    return value


def quantity(source: str, path: str, value: Any) -> Quantity:
    """A quantity from a manifest value (string or YAML number); errors name ``source`` and ``path``."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise fail(source, path, f"{value!r} is not a valid Kubernetes quantity (a {type_name(value)})")
    try:
        return Quantity.from_value(value)
    except ResourceValidationError as e:
        raise fail(source, path, f"{value!r} {e.problem}") from None


def round_up_milli(q: Quantity) -> Quantity:
    """``Quantity.RoundUp(-3)``, which ``SetDefaults_ResourceList`` applies to every resource value the API
    server stores: a value finer than ``1m`` becomes a whole number of milli units, rounded away from zero
    (``2n`` -> ``1m``). Any other value is returned as it is."""
    if int(q.as_decimal().as_tuple().exponent) >= -3:
        return q
    return Quantity(int(q.scaled_decimal(-3)), -3, q.format)


def resource_list(source: str, path: str, value: Any, *, non_negative: bool = True,
                  round_milli: bool = True) -> ResourceList:
    """A ``{name: quantity}`` map, each value rounded up to milli units (unless ``round_milli`` is false);
    with ``non_negative``, a negative value is refused as the API server does (``>= 0``)."""
    out: ResourceList = {}
    for k, v in mapping(source, path, value).items():
        if type(k) is str and k and type(v) is str:  # the usual case ("cpu": "500m"): no key path to build
            name = k
            try:
                q = Quantity.parse(v)
            except ResourceValidationError:
                q = quantity(source, f"{path}.{name}", v)  # raises, naming the key path
        else:
            name = string(source, f"{path} (a key)", k, allow_empty=False)
            q = quantity(source, f"{path}.{name}", v)
        if non_negative and q.sign() < 0:
            raise fail(source, f"{path}.{name}", f"{v!r} must be greater than or equal to 0")
        out[name] = round_up_milli(q) if round_milli else q
    return out


def check_keys(source: str, path: str, value: Dict[Any, Any], known: Sequence[str]) -> None:
    """Strict field validation, as ``kubectl apply`` does: an unknown key is an error."""
    for k in value:
        if k not in known:
            where = f"{path}.{k}" if path else str(k)
            raise fail(source, where, f"unknown field {k!r}; expected one of: {', '.join(known)}")


def metadata(doc: Dict[Any, Any], source: str) -> Tuple[str, Optional[str]]:
    """``metadata.name`` (required) and ``metadata.namespace`` (optional)."""
    meta = mapping(source, "metadata", doc.get("metadata"))
    name = string(source, "metadata.name", meta.get("name"), allow_empty=False)
    ns = meta.get("namespace")
    return name, (string(source, "metadata.namespace", ns) or None) if ns is not None else None


def header(doc: Any, source: str, kind: str) -> Dict[Any, Any]:
    """Check ``apiVersion: v1`` and ``kind``; the document as a mapping."""
    if not isinstance(doc, dict):
        raise fail(source, "", f"a {kind} manifest must be a mapping, not {type_name(doc)}")
    if doc.get("kind") != kind:
        raise fail(source, "kind", f"must be {kind!r}, not {doc.get('kind')!r}")
    api = doc.get("apiVersion")
    if api is not None and api != "v1":
        raise fail(source, "apiVersion", f"must be 'v1', not {api!r}")
    return doc


def where_prefix(task: Optional[str], node: Optional[str]) -> str:
    """``task 'NAME'`` (+ ``, node 'ID'``); ``pod`` when no task is named."""
    if not task:
        return "pod" + (f", node '{node}'" if node else "")
    return f"task '{task}'" + (f", node '{node}'" if node else "")


def dns_subdomain(s: str) -> bool:
    if not s or len(s) > 253:
        return False
    for part in s.split("."):
        if not part or part[0] not in _DNS_ALNUM or part[-1] not in _DNS_ALNUM:
            return False
        if any(ch not in _DNS_MIDDLE for ch in part):
            return False
    return True


def _name_part(s: str) -> bool:
    return 0 < len(s) <= 63 and s[0] in _ALNUM and s[-1] in _ALNUM and all(ch in _NAME_MIDDLE for ch in s)


def qualified_name(s: str) -> bool:
    """apimachinery ``validation.IsQualifiedName``: ``[prefix/]name``."""
    parts = s.split("/")
    if len(parts) == 1:
        return _name_part(s)
    return len(parts) == 2 and dns_subdomain(parts[0]) and _name_part(parts[1])


def is_native_resource(name: str) -> bool:
    """``IsNativeResource``: no domain, or a ``kubernetes.io/`` one."""
    return "/" not in name or "kubernetes.io/" in name


@functools.lru_cache(maxsize=1024)
def is_extended_resource(name: str) -> bool:
    """``IsExtendedResourceName``: ``example.com/dongle``, not ``requests.*``, valid as ``requests.<name>``."""
    if is_native_resource(name) or name.startswith("requests."):
        return False
    return qualified_name("requests." + name)


# ------------------------------------------------------------------------------------------------ the pod
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
    total: ResourceList = {}
    for c in containers:
        if not c.init:
            add_into(total, getattr(c, kind))
    sidecars: ResourceList = {}
    init_peak: ResourceList = {}
    for c in containers:
        if not c.init:
            continue
        own = getattr(c, kind)
        if c.sidecar:
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
        if name not in _STANDARD_CONTAINER_RESOURCES and not name.startswith("hugepages-"):
            raise fail(source, path, f"{name!r} must be a standard resource for containers "
                                     f"({', '.join(_STANDARD_CONTAINER_RESOURCES)}, hugepages-<size>) "
                                     "or an extended resource such as nvidia.com/gpu")
    elif not qualified_name(name):
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
        overcommit_allowed = is_native_resource(k) and not k.startswith("hugepages-")
        if not overcommit_allowed and d is not None and dr is not None and d != dr:
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
        self.prefix = where_prefix(task, node)
        self.findings: List[Finding] = []

    def add(self, level: str, code: str, text: str, **kw: Any) -> None:
        self.findings.append(Finding(level, code, f"{self.prefix}: {text}", task=self.task, node=self.node, **kw))

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
                            if name in _POD_LEVEL:
                                values[name] = q
                adm.check(lr, item, "pod", *pod_totals)
    return new, adm.findings
