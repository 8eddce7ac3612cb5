"""``ResourceValidationError``: the one error the plugin raises for a value Kubernetes or Flyte would reject.

The lowest floor: it imports nothing of the package, so every module can raise it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Optional

__all__ = ["ResourceValidationError", "digits_of", "value_repr"]

_MISSING: Any = object()


def digits_of(n: int) -> str:
    """``str(n)`` for an int of any size: Python refuses ``str()`` and ``repr()`` of an int of more than
    ``sys.get_int_max_str_digits()`` digits (4,300 by default), Decimal has no such limit."""
    try:
        return str(n)
    except ValueError:
        return format(Decimal(n), "f")


def value_repr(value: Any) -> str:
    """``repr(value)`` for a message, also for an int too long for ``repr`` (its digits, as ``repr`` would print
    them were there no limit)."""
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return repr(value)
        except ValueError:
            return digits_of(int(value))
    return repr(value)


class ResourceValidationError(ValueError):
    """A resource value that Kubernetes or Flyte would reject, or that cannot be what was meant.

    The message names the task (when known), the field, the value, what is wrong and how to
    fix it, e.g. ``task 'wf.train': mem='2GB': 'GB' is not a Kubernetes unit; use '2G' ...``.
    The parts are also attributes: ``task``, ``field``, ``value``, ``problem``, ``hint``.
    """

    def __init__(
        self,
        problem: str,
        *,
        field: Optional[str] = None,
        value: Any = _MISSING,
        hint: Optional[str] = None,
        task: Optional[str] = None,
    ) -> None:
        self.problem = problem
        self.field = field
        self.value = None if value is _MISSING else value
        self._has_value = value is not _MISSING
        self.hint = hint
        self.task = task
        super().__init__(self._message())

    def _message(self) -> str:
        parts = []
        if self.task:
            parts.append(f"task {self.task!r}")
        if self.field and self._has_value:
            parts.append(f"{self.field}={value_repr(self.value)}")
        elif self.field:
            parts.append(self.field)
        elif self._has_value:
            parts.append(value_repr(self.value))
        parts.append(self.problem + (f"; {self.hint}" if self.hint else ""))
        return ": ".join(parts)

    def __reduce__(self):  # keep the attributes through pickling (multiprocessing, pytest-xdist)
        kwargs = dict(field=self.field, hint=self.hint, task=self.task)
        if self._has_value:
            kwargs["value"] = self.value
        return (_rebuild_error, (self.problem, kwargs))

    def with_context(self, *, task: Optional[str] = None, field: Optional[str] = None) -> ResourceValidationError:
        """The same error with the task and/or field filled in where they were unknown."""
        kwargs = dict(field=self.field or field, hint=self.hint, task=self.task or task)
        if self._has_value:
            kwargs["value"] = self.value
        return ResourceValidationError(self.problem, **kwargs)


def _rebuild_error(problem: str, kwargs: dict) -> ResourceValidationError:
    return ResourceValidationError(problem, **kwargs)
