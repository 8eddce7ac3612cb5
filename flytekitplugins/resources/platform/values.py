"""What every part of the platform loader shares: the error form, and values as Flyte's config decoding reads them."""

from __future__ import annotations

from typing import Any, Optional

from ..errors import ResourceValidationError
from ..quantity import Quantity

__all__ = ["NO_VALUE", "config_quantity", "fail", "jsonable"]

NO_VALUE: Any = object()  #: "there is no value to show" (None is a value)


def fail(where: str, key: str, value: Any, problem: str, hint: Optional[str] = None) -> ResourceValidationError:
    """``<file>: <dotted.key>=<value>: <problem>; <hint>`` (the key alone when there is no value to show)."""
    if value is NO_VALUE:
        return ResourceValidationError(problem, field=f"{where}: {key}", hint=hint)
    return ResourceValidationError(problem, field=f"{where}: {key}", value=value, hint=hint)


def config_quantity(where: str, key: str, value: Any) -> Quantity:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise fail(where, key, value, "is not a quantity", "write a Kubernetes quantity such as '500m', 2 or '4Gi'")
    try:
        return Quantity.from_value(value)
    except ResourceValidationError as e:
        raise fail(where, key, value, e.problem, e.hint) from None


def jsonable(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    return v
