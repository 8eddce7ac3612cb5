"""The "Resources" Flyte Deck: requested, limit and used side by side, a bar per resource (pure HTML, no
plotting dependency).

``render(record)`` returns the HTML. Each resource is a ``<div class="resource" data-resource="...">`` holding
one ``<div class="bar" data-kind="requested|limit|used|average|capacity" data-value="...">`` per known value
(``data-value`` in cores, bytes or percent, as the record has it), its width proportional to the largest value of
that resource, and the value written out. Resources: ``cpu`` (cores: requested, limit, peak used, average),
``memory`` (bytes: requested, limit, peak used), ``shm`` (bytes used), and per GPU ``gpu<i>-memory`` (bytes:
capacity, peak used) and ``gpu<i>-utilization`` (percent). The limit is the task's declared one, else the one
its container got.
"""

from __future__ import annotations

import html
from typing import List, Optional, Tuple

from ..quantity import Quantity
from .record import UsageRecord

__all__ = ["DECK_NAME", "bars", "format_bytes", "render"]

DECK_NAME = "Resources"

_COLOURS = {"requested": "#4c78a8", "limit": "#e45756", "used": "#54a24b", "average": "#9ecf8f",
            "capacity": "#bab0ac"}


def _value(text: Optional[str]) -> Optional[float]:
    if text is None:
        return None
    try:
        return float(Quantity.parse(str(text)).as_decimal())
    except (ValueError, ArithmeticError):
        return None


def format_bytes(n: float) -> str:
    for unit, size in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{int(n)} B"


def _cores(n: float) -> str:
    return f"{n:.2f} cores"


Bar = Tuple[str, float]  # (kind, value)


def bars(record: UsageRecord) -> List[Tuple[str, str, List[Bar]]]:
    """(resource, unit, bars) for every resource with at least one known value: what ``render`` draws."""
    out: List[Tuple[str, str, List[Bar]]] = []
    limits = record.container_limits or {}

    def row(resource: str, unit: str, values: List[Tuple[str, Optional[float]]]) -> None:
        known = [(k, float(v)) for k, v in values if v is not None]
        if known:
            out.append((resource, unit, known))

    cpu_limit = _value(record.limits.get("cpu"))
    row("cpu", "cores", [("requested", _value(record.requests.get("cpu"))),
                         ("limit", cpu_limit if cpu_limit is not None else limits.get("cpu_cores")),
                         ("used", record.cpu_peak_cores), ("average", record.cpu_avg_cores)])
    memory_limit = _value(record.limits.get("memory"))
    row("memory", "bytes", [("requested", _value(record.requests.get("memory"))),
                            ("limit", memory_limit if memory_limit is not None else limits.get("memory_bytes")),
                            ("used", record.memory_peak_bytes)])
    row("shm", "bytes", [("used", record.shm_peak_bytes)])
    for g in record.gpus:
        row(f"gpu{g.index}-memory", "bytes", [("capacity", g.memory_total_bytes), ("used", g.memory_peak_bytes)])
        row(f"gpu{g.index}-utilization", "percent", [("capacity", 100.0 if g.utilization_peak_percent is not None
                                                       else None), ("used", g.utilization_peak_percent)])
    return out


def _written(unit: str, value: float) -> str:
    if unit == "bytes":
        return format_bytes(value)
    if unit == "cores":
        return _cores(value)
    return f"{value:.0f}%"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def render(record: UsageRecord) -> str:
    esc = html.escape
    parts = [
        '<div class="flytekitplugins-resources-usage" style="font-family:sans-serif;max-width:760px">',
        f"<h3>Resources of {esc(record.task)}</h3>",
        f"<p>wall time {record.wall_seconds or 0:.2f} s; "
        + ", ".join(f"{esc(k)} from {esc(v)}" for k, v in sorted(record.sources.items()))
        + "</p>",
    ]
    for resource, unit, values in bars(record):
        top = max(v for _, v in values) or 1.0
        parts.append(f'<div class="resource" data-resource="{esc(resource)}" data-unit="{unit}" '
                     'style="margin:8px 0">')
        parts.append(f'<div class="label" style="font-weight:bold">{esc(resource)}</div>')
        for kind, value in values:
            width = max(0.5, min(100.0, 100.0 * value / top))
            parts.append(
                f'<div class="bar" data-kind="{kind}" data-value="{_number(value)}" '
                f'style="display:flex;align-items:center;margin:2px 0">'
                f'<span style="width:80px;font-size:12px">{kind}</span>'
                f'<span style="display:inline-block;height:14px;width:{width:.1f}%;'
                f'background:{_COLOURS[kind]}"></span>'
                f'<span style="margin-left:6px;font-size:12px">{esc(_written(unit, value))}</span></div>'
            )
        parts.append("</div>")
    if len(parts) == 3:
        parts.append("<p>nothing was measured</p>")
    parts.append("</div>")
    return "\n".join(parts)
