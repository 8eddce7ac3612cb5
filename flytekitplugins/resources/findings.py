"""Findings: one small record for every place Flyte or Kubernetes changes or refuses what a user wrote.

Shared by the preview (``preview``) and, later, the preflight checks. Renderers live in the CLI only.

- ``error``: flyteadmin, flytepropeller or Kubernetes will refuse it;
- ``warning``: a value the user gave is changed (clamped, dropped, renamed);
- ``info``: something is added (a default request, a toleration, an affinity term, the shm volume).

Codes are stable strings (``"FR101"``-style is not used: codes are readable, e.g.
``"admin.gpu-not-whole"``, ``"propeller.request-clamped"``) so that CI can match on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Optional

__all__ = ["ERROR", "INFO", "LEVELS", "WARNING", "Finding"]

ERROR = "error"
WARNING = "warning"
INFO = "info"
LEVELS = (ERROR, WARNING, INFO)


@dataclass(frozen=True)
class Finding:
    """One change or refusal: what, where, before and after, and the rule (config key or object) behind it."""

    level: str  #: ``error``, ``warning`` or ``info``
    code: str  #: stable, dotted: ``<component>.<what>``, e.g. ``propeller.limit-clamped``
    message: str  #: one line naming the task/node, the field, the before and after, and the rule
    task: Optional[str] = None  #: the task's name (its identifier's name)
    node: Optional[str] = None  #: the node id, when a node override is involved
    field: Optional[str] = None  #: e.g. ``requests.cpu``, ``tolerations``, ``volumes``
    before: Optional[str] = None  #: the value as the user (or the previous step) had it
    after: Optional[str] = None  #: the value Flyte ends up with
    source: Optional[str] = None  #: the rule: a config key (``plugins.k8s.default-cpus`` in ``file.yaml``), a test...

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"Finding.level must be one of {LEVELS}, not {self.level!r}")

    def to_dict(self) -> Dict[str, Any]:
        """JSON-ready: ``level``, ``code``, ``message`` always; the other fields when set."""
        d: Dict[str, Any] = {"level": self.level, "code": self.code, "message": self.message}
        for k in ("task", "node", "field", "before", "after", "source"):
            v = getattr(self, k)
            if v is not None:
                d[k] = v
        return d
