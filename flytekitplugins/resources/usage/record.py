"""The usage record: what one run of a task used, as one JSON line in the task's log.

A line is ``PREFIX`` followed by one JSON object (no newline inside); the prefix is stable and documented, so
that log shippers and ``flyte-resources recommend --records`` can find the lines among the task's other output::

    flytekitplugins-resources usage v1 {"task": "wf.train", "wall_seconds": 12.5, ...}

Fields (a missing or ``null`` value is "not measured"; numbers are measurements, not user quantities):

- ``task`` (str), ``project``, ``domain``, ``workflow``, ``node``, ``execution`` (str or null): where it ran
  (from Flyte's ``FLYTE_INTERNAL_*`` environment when in a cluster; ``node`` from ``FLYTE_EXECUTION_URL`` or the
  pod's name), ``attempt`` (int or null: ``FLYTE_ATTEMPT_NUMBER``, 0 for the first);
- ``started`` (ISO 8601 UTC), ``wall_seconds`` (float), ``succeeded`` (bool);
- ``requests``, ``limits`` (``{"cpu": "2", "memory": "4Gi", "nvidia.com/gpu": "1", ...}``, Kubernetes names):
  what the task declared, as strings;
- ``container_limits``: what the container actually got, ``{"memory_bytes": int|null, "cpu_cores": float|null}``;
- ``memory_peak_bytes`` (int), ``cpu_seconds`` (float), ``cpu_avg_cores`` (float), ``cpu_peak_cores`` (float),
  ``shm_peak_bytes`` (int);
- ``gpus``: ``[{"index": int, "name": str, "memory_peak_bytes": int, "memory_total_bytes": int,
  "utilization_peak_percent": float}]``;
- ``sources``: how each was read, e.g. ``{"memory": "cgroup2", "cpu": "cgroup2", "gpu": "nvml"}``
  (``cgroup2``, ``cgroup1``, ``rusage``, ``nvml``, ``statvfs``; ``limits`` says where ``container_limits``
  came from);
- ``notes``: list of str, why a value is missing or came from a fallback (e.g. ``cgroup2: peak memory
  unreadable, used rusage``).

``parse_line`` is tolerant of other writers' versions: unknown fields are ignored, and a known field of the
wrong type in an optional place (``notes`` not a list of strings, ``attempt`` not an integer) is dropped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from typing import Any, Dict, List, Optional

__all__ = ["PREFIX", "GpuUsage", "UsageRecord", "format_line", "parse_line"]

PREFIX = "flytekitplugins-resources usage v1 "


@dataclass(frozen=True)
class GpuUsage:
    index: int
    name: Optional[str] = None
    memory_peak_bytes: Optional[int] = None
    memory_total_bytes: Optional[int] = None
    utilization_peak_percent: Optional[float] = None


@dataclass(frozen=True)
class UsageRecord:
    task: str
    project: Optional[str] = None
    domain: Optional[str] = None
    workflow: Optional[str] = None
    node: Optional[str] = None
    execution: Optional[str] = None
    attempt: Optional[int] = None
    started: Optional[str] = None
    wall_seconds: Optional[float] = None
    succeeded: Optional[bool] = None
    requests: Dict[str, str] = field(default_factory=dict)
    limits: Dict[str, str] = field(default_factory=dict)
    container_limits: Dict[str, Any] = field(default_factory=dict)
    memory_peak_bytes: Optional[int] = None
    cpu_seconds: Optional[float] = None
    cpu_avg_cores: Optional[float] = None
    cpu_peak_cores: Optional[float] = None
    shm_peak_bytes: Optional[int] = None
    gpus: List[GpuUsage] = field(default_factory=list)
    sources: Dict[str, str] = field(default_factory=dict)
    notes: List[str] = field(default_factory=list)

    def to_dict(self) -> Dict[str, Any]:
        # what dataclasses.asdict gives, without its deep copies (this runs at the end of every task)
        out = {name: getattr(self, name) for name in _NAMES}
        for key in ("requests", "limits", "container_limits", "sources"):
            out[key] = dict(out[key])
        out["gpus"] = [{name: getattr(g, name) for name in _GPU_NAMES} for g in self.gpus]
        out["notes"] = list(self.notes)
        return out


_NAMES = tuple(f.name for f in fields(UsageRecord))
_GPU_NAMES = tuple(f.name for f in fields(GpuUsage))
_FIELDS = set(_NAMES)
_GPU_FIELDS = set(_GPU_NAMES)
_NUMBERS = {"wall_seconds", "memory_peak_bytes", "cpu_seconds", "cpu_avg_cores", "cpu_peak_cores", "shm_peak_bytes",
            "memory_total_bytes", "utilization_peak_percent"}
_TEXTS = {"task", "project", "domain", "workflow", "node", "execution", "started", "name"}


def _check(where: str, value: Any, key: Optional[str] = None) -> None:
    """A measurement is a finite number >= 0 (or null), a place a string (or null): anything else is a corrupt
    record, named by its key, never a value silently dropped or read as something else."""
    key = key or where
    if value is None:
        return
    if key in _NUMBERS:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < float("inf"):
            raise ValueError(f"a usage record's {where!r} must be a number >= 0, not {json.dumps(value)[:40]}")
    elif key in _TEXTS and not isinstance(value, str):
        raise ValueError(f"a usage record's {where!r} must be a string, not {json.dumps(value)[:40]}")
    elif key == "succeeded" and not isinstance(value, bool):
        raise ValueError(f"a usage record's 'succeeded' must be true or false, not {json.dumps(value)[:40]}")


def format_line(record: UsageRecord) -> str:
    """``PREFIX`` + compact JSON, one line."""
    return PREFIX + json.dumps(record.to_dict(), separators=(",", ":"), sort_keys=True)


def parse_line(line: str) -> Optional[UsageRecord]:
    """The record in a log line, or ``None`` when the line holds none (the prefix may follow other text, such as a
    log shipper's timestamp). Raises ``ValueError`` naming the problem when the prefix is there but what follows
    is not a valid record."""
    at = line.find(PREFIX)
    if at < 0:
        return None
    text = line[at + len(PREFIX):].strip()
    try:
        data = json.loads(text)
    except ValueError as e:
        raise ValueError(f"a usage record that is not valid JSON: {e}") from None
    if not isinstance(data, dict) or not isinstance(data.get("task"), str):
        raise ValueError("a usage record must be a JSON object with a string 'task'")
    data = {k: v for k, v in data.items() if k in _FIELDS}  # newer writers may add fields
    gpus = data.get("gpus") or []
    if not isinstance(gpus, list) or not all(isinstance(g, dict) and isinstance(g.get("index"), int) for g in gpus):
        raise ValueError("a usage record's 'gpus' must be a list of objects with an integer 'index'")
    for key, value in data.items():
        _check(key, value)
    for g in gpus:
        for key, value in g.items():
            _check(f"gpus[].{key}", value, key)
    data["gpus"] = [GpuUsage(**{k: v for k, v in g.items() if k in _GPU_FIELDS}) for g in gpus]
    if not isinstance(data.get("attempt"), (int, type(None))) or isinstance(data.get("attempt"), bool):
        data.pop("attempt")
    notes = data.get("notes")
    if not (isinstance(notes, list) and all(isinstance(n, str) for n in notes)):
        data.pop("notes", None)
    for key in ("requests", "limits", "container_limits", "sources"):
        if not isinstance(data.get(key, {}), dict):
            raise ValueError(f"a usage record's {key!r} must be a JSON object")
    return UsageRecord(**data)
