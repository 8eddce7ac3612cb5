"""A recommendation: what one task (or one node's override) should ask for, and why.

The value that flows from the recommender (usage history in, recommendations out) to the renderers (the CLI) and
to the source editor (``apply``: rewrites ``@task(...)`` and ``.with_overrides(...)``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Optional, Tuple

__all__ = ["Recommendation"]


@dataclass(frozen=True)
class Recommendation:
    task: str  #: the task's name as flytekit registers it (``module.function``)
    #: flytekit field names (``cpu``, ``mem``, ``gpu``, ``ephemeral_storage``) -> quantity strings, as the user
    #: would write them in ``Resources(...)``; only the fields that should change
    requests: Dict[str, str] = field(default_factory=dict)
    limits: Dict[str, str] = field(default_factory=dict)
    node: Optional[str] = None  #: the node id when this is for a node's ``.with_overrides``, else ``None``
    workflow: Optional[str] = None  #: the workflow's name (``module.function``) that holds that node
    #: ``"requests.mem"`` -> why (one sentence: the rule and the numbers behind it)
    reasons: Dict[str, str] = field(default_factory=dict)
    #: the GPU model/MIG profile to use instead, when the usage suggests one (``"A100 MIG 3g.20gb"``)
    accelerator: Optional[str] = None
    #: what preview and preflight said of the recommended pod: ``(level, code, message)`` triples
    checks: Tuple[Tuple[str, str, str], ...] = ()
