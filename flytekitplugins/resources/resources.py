"""``Resources`` and ``ResourceSpec``: a user's values, validated once, at construction.

Each of ``cpu``, ``mem``, ``gpu`` and ``ephemeral_storage`` is ``None``, a single value, or a
``(request, limit)`` pair. A single value is a ``str`` that :meth:`Quantity.parse` accepts, an
``int``, or (``cpu`` only, as in flytekit) a ``float``; it must not be negative, and ``gpu``
must be whole. A pair's request must not exceed its limit. A list is stored as a tuple.

The same checks run for plain ``flytekit.Resources`` while the plugin is active (see
:mod:`flytekitplugins.resources.hooks`).
"""

from __future__ import annotations

import contextvars
import dataclasses
import functools
import warnings
from typing import Any, Dict, Iterable, Optional, Tuple, Union

from flytekit.core import resources as _stock
from mashumaro.config import BaseConfig

from .accelerators import Accelerator, GPUSpec, parse_gpu_spec
from .errors import ResourceValidationError, digits_of
from .k8s.resourcenames import FIELDS
from .quantity import Quantity

__all__ = [
    "FIELDS",
    "ResourceSpec",
    "ResourceValueWarning",
    "Resources",
    "check_request_within_limit",
    "compare_request_limit",
    "parse_field_value",
    "scalar_value",
    "validate_resources",
]


_ONE_MI = Quantity.parse("1Mi")

# Units people write that Kubernetes does not know, and what they meant.
_BYTE_UNITS = {
    "kb": ("k", "Ki", "10^3", "2^10"),
    "mb": ("M", "Mi", "10^6", "2^20"),
    "gb": ("G", "Gi", "10^9", "2^30"),
    "tb": ("T", "Ti", "10^12", "2^40"),
    "pb": ("P", "Pi", "10^15", "2^50"),
    "eb": ("E", "Ei", "10^18", "2^60"),
}
_BINARY_LOWER = {"ki": "Ki", "mi": "Mi", "gi": "Gi", "ti": "Ti", "pi": "Pi", "ei": "Ei", "kib": "Ki", "mib": "Mi",
                 "gib": "Gi", "tib": "Ti", "pib": "Pi", "eib": "Ei"}
_CPU_WORDS = {"core", "cores", "cpu", "cpus", "vcpu", "vcpus"}
_MILLI_WORDS = {"millicore", "millicores", "millicpu", "mcpu"}
_ASCII_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_ASCII_DIGITS = frozenset("0123456789")


def _number_and_unit(text: str) -> Optional[Tuple[str, str]]:
    """``("1.5", "GB")`` from ``"1.5GB"`` or ``"1.5 GB"``: a signed decimal number, then letters. One pass."""
    n, i = len(text), 0
    if i < n and text[i] in "+-":
        i += 1
    start = i
    while i < n and text[i] in _ASCII_DIGITS:
        i += 1
    whole = i - start
    frac = 0
    if i < n and text[i] == ".":
        i += 1
        dot = i
        while i < n and text[i] in _ASCII_DIGITS:
            i += 1
        frac = i - dot
    if whole == 0 and frac == 0:
        return None
    number = text[:i]
    while i < n and text[i].isspace():
        i += 1
    unit_start = i
    while i < n and text[i] in _ASCII_LETTERS:
        i += 1
    if i == unit_start or i != n:
        return None
    return number, text[unit_start:]


# set while re-building Resources from values that were already validated (and warned about)
_quiet: contextvars.ContextVar[bool] = contextvars.ContextVar("flytekitplugins_resources_quiet", default=False)


class ResourceValueWarning(UserWarning):
    """A valid value that is probably not what was meant (``mem=1024`` is 1 KiB)."""


def _hint_for_invalid(field: Optional[str], text: str) -> Optional[str]:
    """How to fix a string that is not a Kubernetes quantity, when the mistake is recognisable."""
    if text == "":
        return "an empty string is not a quantity: leave the field as None to not set it, or write '0'"
    if text != text.strip():
        return f"remove the surrounding whitespace: {text.strip()!r}"
    if not text.isascii():
        return "use ASCII digits 0-9 and a Kubernetes suffix"
    if text.count(".") > 1:
        return "a number has at most one decimal point"
    if " " in text:
        try:
            Quantity.parse(text.replace(" ", ""))
            return f"a quantity has no spaces: {text.replace(' ', '')!r}"
        except ResourceValidationError:
            pass
    m = _number_and_unit(text)
    if m:
        number, unit = m
        low = unit.lower()
        if low in _BYTE_UNITS or (len(unit) == 1 and low + "b" in _BYTE_UNITS):
            dec, binary, dpow, bpow = _BYTE_UNITS[low if low in _BYTE_UNITS else low + "b"]
            return (f"{unit!r} is not a Kubernetes unit; use '{number}{dec}' ({dpow} bytes) "
                    f"or '{number}{binary}' ({bpow} bytes)")
        if low in _BINARY_LOWER:
            return f"{unit!r} is not a Kubernetes unit (units are case-sensitive); use '{number}{_BINARY_LOWER[low]}'"
        if low in _CPU_WORDS:
            return f"write CPUs as a bare number: '{number}' (cores) or millicores such as '500m'"
        if low in _MILLI_WORDS:
            return f"write millicores with the suffix m: '{number}m'"
    if " " in text:
        return "a quantity has no spaces: a number and a suffix, such as '1.5' or '512Mi'"
    return ("expected a number with an optional suffix: n u m k M G T P E (powers of 10), "
            "Ki Mi Gi Ti Pi Ei (powers of 2) or e<exponent>, such as '500m' or '2Gi'")


def scalar_value(field: str, value: Any) -> Tuple[Quantity, str]:
    """Validate one scalar value of a resource field: its quantity, and the string it is serialized as.

    The string is a valid ``str`` unchanged, an ``int`` its digits, a ``float`` the canonical quantity
    of its shortest repr (``0.5`` -> ``"500m"``); a ``gpu`` string that names an accelerator
    (``"A100:2"``) is serialized as its count. Zero is kept. Raises :class:`ResourceValidationError`
    naming the field and value. Values of the plain types are validated once and remembered.
    """
    kind = type(value)
    if kind in (str, int, float):  # `kind` keeps 1, 1.0 and True apart in the cache
        return _scalar_cached(field, value, kind)
    return _scalar(field, value)


def parse_field_value(field: str, value: Any, *, warn: bool = False) -> Quantity:
    """The quantity of one scalar value of a resource field (see :func:`scalar_value`).

    With ``warn``, a value that is valid but probably not meant (``mem=1024``) gives a
    :class:`ResourceValueWarning`.
    """
    q = scalar_value(field, value)[0]
    if warn and not _quiet.get() and field in ("mem", "shared_memory") and 0 < q.sign() and q < _ONE_MI:
        warnings.warn(_small_memory_message(field, value, q), ResourceValueWarning, stacklevel=_user_stacklevel())
    return q


@functools.lru_cache(maxsize=4096)
def _scalar_cached(field: str, value: Any, kind: type) -> Tuple[Quantity, str]:
    return _scalar(field, value)


def _scalar(field: str, value: Any) -> Tuple[Quantity, str]:
    if isinstance(value, bool):
        raise ResourceValidationError(
            "a bool is not a quantity", field=field, value=value,
            hint="use a number such as 1 or a string such as '500m'",
        )
    if field == "gpu" and isinstance(value, str):
        spec = gpu_spec(value)
        if spec is not None:  # the count as its decimal digits, as stock writes gpu="1000" (never "1k")
            return Quantity.from_value(spec.count), str(spec.count)
    try:
        if isinstance(value, str):
            q = Quantity.parse(value)
        elif isinstance(value, (int, float)):
            q = Quantity.from_value(value)
        else:
            raise ResourceValidationError(
                f"a {type(value).__name__} is not a quantity", hint="use a str such as '500m' or '2Gi', or an int"
            )
    except ResourceValidationError as e:
        problem = "is not a valid Kubernetes quantity" if isinstance(value, str) else e.problem
        hint = _hint_for_invalid(field, value) if isinstance(value, str) else e.hint
        raise ResourceValidationError(problem, field=field, value=value, hint=hint) from None
    if q.sign() < 0:
        raise ResourceValidationError(
            "must not be negative", field=field, value=value, hint="Kubernetes rejects negative requests and limits"
        )
    if field == "gpu" and not q.is_integer():
        raise ResourceValidationError(
            "GPUs are whole devices",
            field=field,
            value=value,
            hint="request a whole number such as '1'; for a fraction of a GPU use a MIG partition "
            "(accelerator=A100.partition_1g_5gb)",
        )
    if isinstance(value, str):
        return q, value
    return q, digits_of(int(value)) if isinstance(value, int) else str(q)


def _small_memory_message(field: str, value: Any, q: Quantity) -> str:
    size = q.as_decimal()
    if size == size.to_integral_value() and int(size) % 1024 == 0:
        human = f"{int(size) // 1024} KiB"
    else:
        human = f"{size.normalize():f} byte" + ("" if size == 1 else "s")
    text = str(value)
    digits = text.lstrip("0")
    plausible_mib = text.isascii() and text.isdigit() and len(digits) <= 5 and int(digits or "0") <= 65536
    suggestion = f"'{text}Mi'" if plausible_mib else "a size such as '512Mi' or '1Gi'"
    return f"{field}={value!r} is {human}; did you mean {suggestion}?"


def _user_stacklevel() -> int:
    """The stack level of the first frame outside this package and dataclasses, for warnings."""
    import sys

    frame = sys._getframe(1)
    level = 1
    while frame is not None:
        name = frame.f_globals.get("__name__", "")
        generated_init = frame.f_code.co_filename == "<string>" and frame.f_code.co_name == "__init__"
        if not (name.startswith("flytekitplugins.resources") or name in ("dataclasses", "flytekit.core.resources")
                or generated_init):
            return level
        frame = frame.f_back
        level += 1
    return 1


@functools.lru_cache(maxsize=1024)
def gpu_spec(value: str) -> Optional[GPUSpec]:
    """The accelerator and count of a ``gpu=`` string such as ``"A100:2"``; None for a plain quantity."""
    try:
        Quantity.parse(value)
        return None
    except ResourceValidationError:
        return parse_gpu_spec(value)


def _check_pair(field: str, pair: Tuple[Any, Any]) -> None:
    request, limit = pair
    compare_request_limit(field, request, limit, parse_field_value(field, request, warn=True),
                          parse_field_value(field, limit, warn=True), value=pair)


def require_resources(value: Any, argument: str) -> None:
    """Refuse anything but ``None`` or a ``flytekit.Resources`` for ``argument``."""
    if value is not None and not isinstance(value, _stock.Resources):
        raise ResourceValidationError(
            f"must be a flytekit Resources, not {type(value).__name__}",
            field=argument,
            value=value,
            hint=f"write {argument}=Resources(cpu='1', mem='1Gi')",
        )


def compare_request_limit(
    resource: str,
    request: Any,
    limit: Any,
    q_request: Quantity,
    q_limit: Quantity,
    *,
    value: Any,
    field: Optional[str] = None,
    whose: Tuple[str, str] = ("the", "the"),
    hint: Optional[str] = None,
) -> None:
    """The one rule for a request against its limit: not above it, and equal for GPUs (``resource``
    is ``"gpu"``), which Kubernetes does not overcommit. ``field`` (default ``resource``), ``value``,
    ``whose`` (e.g. ``("the override's", "the task's")``) and ``hint`` shape the error."""
    if q_request > q_limit:
        problem = "is greater than"
        default_hint = "Kubernetes rejects a request above its limit: lower the request or raise the limit"
    elif resource == "gpu" and q_request != q_limit:
        problem = "is not equal to"
        default_hint = ("Kubernetes does not overcommit GPUs and rejects a request that differs from its limit: "
                        "give one value (resources=Resources(gpu=...)) or equal ones")
    else:
        return
    raise ResourceValidationError(
        f"{whose[0]} request {request!r} {problem} {whose[1]} limit {limit!r}",
        field=field or resource,
        value=value,
        hint=hint or default_hint,
    )


def validate_resources(resources: _stock.Resources) -> None:
    """Validate every field of a ``Resources`` (stock or ours) in place; lists become tuples."""
    for field in FIELDS:
        value = getattr(resources, field)
        if value is None:
            continue
        if isinstance(value, list):
            value = tuple(value)
            object.__setattr__(resources, field, value)
        if isinstance(value, tuple):
            _check_pair(field, value)
        else:
            parse_field_value(field, value, warn=True)
    gpu_accelerator(resources)


def with_gpu_counts(resources: Optional[_stock.Resources]) -> Optional[_stock.Resources]:
    """A copy of ``resources`` whose ``gpu="MODEL:N"`` values are just ``"N"`` (the same object when
    there is nothing to change). The accelerator must have been taken from it already."""
    if resources is None or not isinstance(resources, _stock.Resources):
        return resources
    value = resources.gpu
    values = value if isinstance(value, tuple) else (value,)
    counts = tuple(str(gpu_spec(v).count) if isinstance(v, str) and gpu_spec(v) else v for v in values)
    if counts == values:
        return resources
    return dataclasses.replace(resources, gpu=counts if isinstance(value, tuple) else counts[0])


def gpu_accelerator(*resources: Optional[_stock.Resources]) -> Optional[Accelerator]:
    """The accelerator that ``gpu`` values such as ``"A100:2"`` name, across requests, limits and pairs.

    Raises when two values name different accelerators.
    """
    values = []
    for r in resources:
        value = getattr(r, "gpu", None)
        if value is None:
            continue
        if type(value) is str:
            values.append(value)
        elif isinstance(value, (tuple, list)):
            values.extend(v for v in value if isinstance(v, str))
    found: Optional[Accelerator] = None
    found_in: Optional[str] = None
    for value in values:
        spec = gpu_spec(value)
        if spec is None or spec.accelerator is None:
            continue
        if found is not None and spec.accelerator != found:
            raise ResourceValidationError(
                f"names {spec.accelerator!r} but {found_in!r} names {found!r}",
                field="gpu",
                value=value,
                hint="name one accelerator for the request and the limit",
            )
        found, found_in = spec.accelerator, value
    return found


def scalar_quantities(resources: Optional[_stock.Resources]) -> Dict[str, Quantity]:
    """field -> quantity for the single (non-pair) values that are set."""
    return {
        field: parse_field_value(field, value)
        for field, value in iter_set_fields(resources)
        if not isinstance(value, (tuple, list))
    }


def check_request_within_limit(
    requests: Optional[_stock.Resources],
    limits: Optional[_stock.Resources],
    parsed: Optional[Tuple[Dict[str, Quantity], Dict[str, Quantity]]] = None,
) -> None:
    """Raise when a field's request exceeds its limit across separate ``requests=`` and ``limits=``.

    ``parsed`` is (request quantities, limit quantities) when the caller already has them.
    """
    if requests is None or limits is None:
        return
    q_requests, q_limits = parsed if parsed is not None else (scalar_quantities(requests), scalar_quantities(limits))
    for field, q_request in q_requests.items():
        q_limit = q_limits.get(field)
        if q_limit is not None:
            request, limit = getattr(requests, field), getattr(limits, field)
            compare_request_limit(field, request, limit, q_request, q_limit, value=request)


def check_override_within_task(
    requests: Optional[_stock.Resources], limits: Optional[_stock.Resources], task: _stock.ResourceSpec
) -> None:
    """A node override replaces the task's request or limit per resource: the request and limit in
    effect (the override's, else the task's) must still fit, or flytepropeller silently clamps."""
    for field in FIELDS:
        override_request, override_limit = getattr(requests, field, None), getattr(limits, field, None)
        if override_request is None and override_limit is None:
            continue
        request = override_request if override_request is not None else getattr(task.requests, field)
        limit = override_limit if override_limit is not None else getattr(task.limits, field)
        if request is None or limit is None or isinstance(request, tuple) or isinstance(limit, tuple):
            continue
        compare_request_limit(
            field, request, limit, parse_field_value(field, request), parse_field_value(field, limit),
            value=override_request if override_request is not None else override_limit,
            whose=("the override's" if override_request is not None else "the task's",
                   "the override's" if override_limit is not None else "the task's"),
            hint="override both the request and the limit, or keep the override within the task's values",
        )


# flytekit's own __post_init__; when this module is imported again while the plugin is active, the class
# holds an earlier copy's validating_post_init, which remembers the stock one
_stock_post_init = _stock.Resources.__post_init__
_stock_post_init = getattr(_stock_post_init, "__flytekitplugins_stock__", _stock_post_init)


def validating_post_init(self: _stock.Resources) -> None:
    """flytekit's own type checks, then this plugin's validation. Installed on ``flytekit.Resources``."""
    _stock_post_init(self)
    validate_resources(self)


validating_post_init.__flytekitplugins_stock__ = _stock_post_init  # type: ignore[attr-defined]


class _LazyConfig(BaseConfig):
    # compile to_dict/from_dict on first use, not at import (keeps `import flytekit` cheap)
    lazy_compilation = True


def _same_fields(a: Any, b: Any) -> bool:
    return all(getattr(a, f) == getattr(b, f) for f in FIELDS)


@dataclasses.dataclass(eq=False)
class Resources(_stock.Resources):
    """``flytekit.Resources``, validated at construction with Kubernetes' own rules.

    >>> Resources(cpu=("1", "2"), mem="2Gi")
    Resources(cpu=('1', '2'), mem='2Gi', gpu=None, ephemeral_storage=None)
    >>> Resources(mem="2GB")
    Traceback (most recent call last):
    ...
    flytekitplugins.resources.quantity.ResourceValidationError: mem='2GB': is not a valid Kubernetes quantity; ...

    It equals a ``flytekit.Resources`` with the same values.
    """

    #: a (request, limit) pair like the other fields: flytekit types it ``Union[str, int]``, so its JSON form
    #: of a pair came back as the string "['1Gi', '2Gi']"
    ephemeral_storage: Optional[Union[str, int, list, tuple]] = None

    class Config(_LazyConfig):
        pass

    def __post_init__(self) -> None:
        validating_post_init(self)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _stock.Resources):
            return NotImplemented
        return _same_fields(self, other)

    __hash__ = None  # type: ignore[assignment]  # mutable, like flytekit.Resources


def from_multiple_resource(cls: type, resource: _stock.Resources) -> _stock.ResourceSpec:
    """Split a ``Resources`` into requests and limits: a pair gives both; a single value sets the
    request AND the limit, as flytekit's documentation of ``resources=`` says."""
    require_resources(resource, "resources")
    resources_cls = getattr(cls, "_resources_class", _stock.Resources)
    requests: Dict[str, Any] = {}
    limits: Dict[str, Any] = {}
    for field in FIELDS:
        value = getattr(resource, field)
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            requests[field], limits[field] = value
        else:
            requests[field] = limits[field] = value
    token = _quiet.set(True)
    try:
        return cls(requests=resources_cls(**requests), limits=resources_cls(**limits))
    finally:
        _quiet.reset(token)


@dataclasses.dataclass(eq=False)
class ResourceSpec(_stock.ResourceSpec):
    """``flytekit.core.resources.ResourceSpec`` whose parts are validated :class:`Resources`.

    ``ResourceSpec.from_multiple_resource(Resources(cpu="2"))`` sets both the request and the
    limit to 2. It equals a flytekit ``ResourceSpec`` with the same values.
    """

    requests: Resources
    limits: Resources
    _resources_class = Resources

    class Config(_LazyConfig):
        pass

    def __post_init__(self) -> None:
        require_resources(self.requests, "requests")
        require_resources(self.limits, "limits")
        check_request_within_limit(self.requests, self.limits)
        gpu_accelerator(self.requests, self.limits)  # one accelerator for both

    from_multiple_resource = classmethod(from_multiple_resource)  # type: ignore[assignment]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _stock.ResourceSpec):
            return NotImplemented
        return self.requests == other.requests and self.limits == other.limits

    __hash__ = None  # type: ignore[assignment]


def iter_set_fields(resources: Optional[_stock.Resources], order: Iterable[str] = FIELDS):
    """(field, value) for the fields of ``resources`` that are set, in ``order``."""
    if resources is None:
        return
    for field in order:
        value = getattr(resources, field)
        if value is not None:
            yield field, value
