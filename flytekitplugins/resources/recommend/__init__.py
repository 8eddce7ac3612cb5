"""Right-sizing: usage history -> recommendations (``model.Recommendation``), checked by preview and preflight.

- ``history``: :class:`TaskUsage` (one task's or node's usage over a window), flytepropeller's label values,
  the plugin's records aggregated;
- ``records``: reading the records from log files and folders; ``prometheus``: the PromQL queries (urllib);
- ``rules``: the rules (memory from the peak plus a margin, raised after an OOM kill; CPU from p95; MIG
  profiles; readable rounding), pure;
- ``cost``: a pod's cost per hour on the cheapest priced node group it fits;
- ``engine.recommend``: all of it on a target's tasks, each recommendation previewed and preflighted again.

Imports nothing heavy until used: ``engine`` needs flyteidl (the preview).
"""

from .history import TaskUsage, UsageError, label_value
from .model import Recommendation
from .rules import Rules

__all__ = ["Recommendation", "Rules", "TaskUsage", "UsageError", "label_value"]
