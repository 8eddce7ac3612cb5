"""Findings: one small record for every place Flyte or Kubernetes changes or refuses what a user wrote.

Shared by the preview (``preview``), the preflight checks and the policy the hook enforces. A finding's place
(task, node, replica role) is data, in its fields; its message says only what happened. :meth:`Finding.text`
is the one place the two are put together (``task 'wf.t', node 'n0' (ray-head): requests.cpu ...``); the
CLI's tables and the hook's errors print that, JSON gets the fields.

- ``error``: flyteadmin, flytepropeller or Kubernetes will refuse it;
- ``warning``: a value the user gave is changed (clamped, dropped, renamed);
- ``info``: something is added (a default request, a toleration, an affinity term, the shm volume).

Codes are stable strings (``"FR101"``-style is not used: codes are readable, e.g.
``"admin.gpu-not-whole"``, ``"propeller.request-clamped"``) so that CI can match on them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
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
    message: str  #: one line: the field, the before and after, and the rule (never the task, node or role)
    task: Optional[str] = None  #: the task's name (its identifier's name)
    node: Optional[str] = None  #: the node id, when a node override is involved
    field: Optional[str] = None  #: e.g. ``requests.cpu``, ``tolerations``, ``volumes``
    before: Optional[str] = None  #: the value as the user (or the previous step) had it
    after: Optional[str] = None  #: the value Flyte ends up with
    source: Optional[str] = None  #: the rule: a config key (``plugins.k8s.default-cpus`` in ``file.yaml``), a test...
    role: Optional[str] = None  #: the replica pod of a plugin task: ``ray-head``, ``worker x4``, ...
    pod: Optional[str] = None  #: when no task is known (a bare pod manifest): the pod's name, ``""`` if it has none

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"Finding.level must be one of {LEVELS}, not {self.level!r}")

    def to_dict(self) -> Dict[str, Any]:
        """JSON-ready: ``level``, ``code``, ``message`` always; the other fields when set."""
        d: Dict[str, Any] = {"level": self.level, "code": self.code, "message": self.message}
        for k in ("task", "node", "role", "pod", "field", "before", "after", "source"):
            v = getattr(self, k)
            if v is not None:
                d[k] = v
        return d

    def where(self, *, with_task: bool = True) -> str:
        """The place: ``task 'T'``, then ``, node 'N'`` and `` (ROLE)`` when set; ``pod 'NAME'`` (or ``pod``) for a
        pod no task is known for; ``""`` for a finding without a place (a platform file's). ``with_task=False``
        leaves the task out (for a message that already names it): ``node 'N' (ROLE)``."""
        if not with_task:
            parts = [f"node '{self.node}'"] if self.node else []
            if self.role:
                parts.append(f"({self.role})")
            return " ".join(parts)
        if self.task:
            head = f"task '{self.task}'"
        elif self.pod:
            head = f"pod '{self.pod}'"
        elif self.pod is not None or self.node or self.role:
            head = "pod"
        else:
            return ""
        if self.node:
            head += f", node '{self.node}'"
        if self.role:
            head += f" ({self.role})"
        return head

    def text(self, *, with_task: bool = True) -> str:
        """The one line a person reads: the place, then the message (``task 'T', node 'N': MESSAGE``)."""
        where = self.where(with_task=with_task)
        return f"{where}: {self.message}" if where else self.message

    def placed(self, *, task: Optional[str], node: Optional[str] = None, role: Optional[str] = None) -> Finding:
        """The same finding at another place (a check run once for many pods, named after each)."""
        return replace(self, task=task, node=node, role=role, pod=None if task else self.pod)
