"""What a task used over a window, aggregated per task (and per workflow node): the recommender's input.

Two sources fill it: Prometheus (``prometheus.fetch_usage``: queries aggregated by task in Prometheus) and the
plugin's own usage records (``usage_from_records``: one JSON line per run). Both give one :class:`TaskUsage` per
``(task, workflow, node)`` that ran; the recommender then matches them to the tasks it previewed.

Flyte labels every task pod with ``task-name``, ``workflow-name`` and ``node-id``, each sanitized by
flytepropeller (``utils.SanitizeLabelValue``: lower case, every run of characters outside ``[-a-z0-9]`` becomes
``-``, cut to 63 characters, ``-`` trimmed from both ends): :func:`label_value` is that function, so that a
task's name (``workflows.basics.prepare``) finds its pods (``workflows-basics-prepare``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from ..usage.record import UsageRecord

__all__ = ["TaskUsage", "UsageError", "label_value", "merge", "percentile", "usage_from_records"]

_LABEL_MAX = 63  # validation.DNS1123LabelMaxLength


class UsageError(ValueError):
    """A usage source that cannot be read or reached: the message is one line naming it (file and line, URL,
    query) and what to do."""


def label_value(name: str) -> str:
    """flytepropeller's ``SanitizeLabelValue``: the value a name gets as a pod label (linear time)."""
    out: List[str] = []
    in_run = False
    for ch in name.lower():
        if ch == "-" or "a" <= ch <= "z" or "0" <= ch <= "9":
            out.append(ch)
            in_run = False
        elif not in_run:  # a run of invalid characters becomes one '-'
            out.append("-")
            in_run = True
    return "".join(out)[:_LABEL_MAX].strip("-")


@dataclass(frozen=True)
class TaskUsage:
    """One task's (or one node's) usage over the window; ``None`` is "not measured"."""

    task: str  #: the task's name (records) or its ``task-name`` label (Prometheus)
    workflow: Optional[str] = None  #: the workflow's name or ``workflow-name`` label
    node: Optional[str] = None  #: the node id or ``node-id`` label
    runs: int = 0  #: pods (Prometheus) or records seen
    memory_peak_bytes: Optional[int] = None  #: the highest working set (or peak RSS) of any run
    cpu_p95_cores: Optional[float] = None  #: the high percentile of CPU use (see the source for how)
    cpu_peak_cores: Optional[float] = None  #: the highest CPU use of any run
    oom_kills: int = 0  #: runs that ended OOMKilled
    gpu_memory_peak_bytes: Optional[int] = None  #: the most GPU memory any one device of any run used
    gpu_memory_total_bytes: Optional[int] = None  #: that device's memory
    gpu_model: Optional[str] = None  #: the device's model name as the source reports it
    wall_seconds: Optional[float] = None  #: total run time, when known
    source: str = ""  #: "prometheus" or the records' path
    oom_limit_bytes: Optional[int] = None  #: the memory limit a killed run had, when known

    @property
    def key(self) -> Tuple[str, Optional[str], Optional[str]]:
        return (self.task, self.workflow, self.node)


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) with linear interpolation between the closest ranks (Prometheus'
    ``quantile_over_time``, numpy's default)."""
    xs = sorted(values)
    if not xs:
        raise ValueError("percentile of no values")
    rank = q * (len(xs) - 1)
    lo = math.floor(rank)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (rank - lo)


def _max(a: Optional[float], b: Optional[float]):
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


def merge(usages: Iterable[TaskUsage], task: str, workflow: Optional[str] = None,
          node: Optional[str] = None) -> Optional[TaskUsage]:
    """Several groups' usage as one (a task's pods from every node without overrides of its own): maxima of
    the peaks and of the percentiles (the busiest group decides), sums of runs and OOM kills."""
    out: Optional[TaskUsage] = None
    for u in usages:
        if out is None:
            out = replace(u, task=task, workflow=workflow, node=node)
            continue
        gpu_from_u = (u.gpu_memory_peak_bytes or 0) > (out.gpu_memory_peak_bytes or 0)
        out = replace(
            out,
            runs=out.runs + u.runs,
            memory_peak_bytes=_max(out.memory_peak_bytes, u.memory_peak_bytes),
            cpu_p95_cores=_max(out.cpu_p95_cores, u.cpu_p95_cores),
            cpu_peak_cores=_max(out.cpu_peak_cores, u.cpu_peak_cores),
            oom_kills=out.oom_kills + u.oom_kills,
            oom_limit_bytes=_max(out.oom_limit_bytes, u.oom_limit_bytes),
            gpu_memory_peak_bytes=_max(out.gpu_memory_peak_bytes, u.gpu_memory_peak_bytes),
            gpu_memory_total_bytes=u.gpu_memory_total_bytes if gpu_from_u else out.gpu_memory_total_bytes,
            gpu_model=u.gpu_model if gpu_from_u and u.gpu_model else out.gpu_model,
            wall_seconds=(out.wall_seconds or 0) + (u.wall_seconds or 0)
            if out.wall_seconds is not None or u.wall_seconds is not None else None,
            source=out.source if u.source == out.source else f"{out.source}, {u.source}",
        )
    return out


# an OOM kill leaves no record of its own (the process is killed); a record of a failed run whose peak reached
# this share of the container's memory limit counts as one
OOM_SHARE = 0.95


@dataclass
class _Acc:
    runs: int = 0
    memory: Optional[int] = None
    cpu: List[float] = field(default_factory=list)
    cpu_peak: Optional[float] = None
    oom: int = 0
    oom_limit: Optional[int] = None
    gpu_peak: Optional[int] = None
    gpu_total: Optional[int] = None
    gpu_model: Optional[str] = None
    wall: Optional[float] = None


def usage_from_records(records: Iterable[UsageRecord], source: str, cpu_quantile: float = 0.95) -> List[TaskUsage]:
    """One :class:`TaskUsage` per (task, workflow, node) in the records.

    Memory: the highest ``memory_peak_bytes``. CPU: the ``cpu_quantile`` across runs of each run's
    ``cpu_peak_cores`` (a run's record has its average and its peak, not a time series: the peak is the
    closest to a high percentile of its use), its ``cpu_avg_cores`` when the peak is missing; the highest
    peak for the limit. An OOM kill: a run that did not succeed with a peak of at least 95% of the
    container's memory limit. GPU: the device that used the most memory."""
    acc: Dict[Tuple[str, Optional[str], Optional[str]], _Acc] = {}
    for r in records:
        a = acc.setdefault((r.task, r.workflow, r.node), _Acc())
        a.runs += 1
        if isinstance(r.memory_peak_bytes, (int, float)) and not isinstance(r.memory_peak_bytes, bool):
            a.memory = _max(a.memory, int(r.memory_peak_bytes))
        cpu = r.cpu_peak_cores if isinstance(r.cpu_peak_cores, (int, float)) else r.cpu_avg_cores
        if isinstance(cpu, (int, float)) and not isinstance(cpu, bool):
            a.cpu.append(float(cpu))
            a.cpu_peak = _max(a.cpu_peak, float(cpu))
        limit = (r.container_limits or {}).get("memory_bytes")
        if (r.succeeded is False and isinstance(limit, int) and limit > 0
                and isinstance(r.memory_peak_bytes, (int, float)) and r.memory_peak_bytes >= OOM_SHARE * limit):
            a.oom += 1
            a.oom_limit = _max(a.oom_limit, limit)
        for g in r.gpus:
            if isinstance(g.memory_peak_bytes, int) and (a.gpu_peak is None or g.memory_peak_bytes > a.gpu_peak):
                a.gpu_peak, a.gpu_total, a.gpu_model = g.memory_peak_bytes, g.memory_total_bytes, g.name
        if isinstance(r.wall_seconds, (int, float)):
            a.wall = (a.wall or 0.0) + float(r.wall_seconds)
    out = []
    for (task, workflow, node), a in acc.items():
        out.append(TaskUsage(
            task=task, workflow=workflow, node=node, runs=a.runs, memory_peak_bytes=a.memory,
            cpu_p95_cores=percentile(a.cpu, cpu_quantile) if a.cpu else None, cpu_peak_cores=a.cpu_peak,
            oom_kills=a.oom, oom_limit_bytes=a.oom_limit, gpu_memory_peak_bytes=a.gpu_peak,
            gpu_memory_total_bytes=a.gpu_total, gpu_model=a.gpu_model, wall_seconds=a.wall, source=source,
        ))
    return out
