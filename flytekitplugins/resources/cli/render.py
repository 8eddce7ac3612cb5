"""What the commands print: the pod table, the findings (one line each), YAML manifests and JSON.

The only place the plugin prints (besides the policy's warnings while ``pyflyte`` serializes)."""

from __future__ import annotations

import json
import sys
from typing import Any, Dict, List, Optional, Sequence, Tuple

import click

from ..findings import Finding

__all__ = ["emit_findings", "emit_previews", "note", "render_findings", "render_table", "stdout_console",
           "stderr_console"]

_STYLE = {"error": "bold red", "warning": "yellow", "info": "dim"}
_SHARED = 3  # a note shared by this many pods or more is printed once


def stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


def stdout_console() -> Any:
    from rich.console import Console

    return Console(soft_wrap=False, width=None if sys.stdout.isatty() else 200)


def note(text: str, output: str) -> None:
    """A line said once, before the output: on stdout above a table, on stderr when stdout is json or yaml."""
    click.echo(f"note: {text}", err=output != "table")


def _primary(pod: Dict[str, Any]) -> Dict[str, Any]:
    containers = pod.get("spec", {}).get("containers") or [{}]
    return containers[0]


def _fmt(values: Optional[Dict[str, Any]]) -> str:
    return " ".join(f"{k}={v}" for k, v in (values or {}).items()) or "-"


def _placement(pod: Dict[str, Any]) -> str:
    spec = pod.get("spec", {})
    parts = [f"{k}={v}" for k, v in (spec.get("nodeSelector") or {}).items()]
    terms = (
        spec.get("affinity", {}).get("nodeAffinity", {}).get("requiredDuringSchedulingIgnoredDuringExecution", {})
    ).get("nodeSelectorTerms") or []
    for term in terms:
        for req in term.get("matchExpressions") or []:
            values = ",".join(req.get("values") or [])
            parts.append(f"{req.get('key')} {req.get('operator')}{' ' + values if values else ''}")
    tolerations = spec.get("tolerations") or []
    if tolerations:
        parts.append(f"{len(tolerations)} toleration{'s' if len(tolerations) != 1 else ''}")
    return "; ".join(parts) or "-"


def _shm(pod: Dict[str, Any]) -> str:
    for volume in pod.get("spec", {}).get("volumes") or []:
        empty = volume.get("emptyDir") or {}
        if empty.get("medium") == "Memory":
            size = str(empty.get("sizeLimit", "0"))
            return "no limit" if size == "0" else size
    return "-"


def _row(p: Any) -> Tuple[str, str, str, str, str]:
    name = p.task if p.node is None else f"{p.node} ({p.task})"
    if p.role:
        name += f" [{p.role}]"
    if p.refused:  # never runs: its (clamped) values are not shown as if they would
        return name, f"refused by {' and '.join(p.refused_by())}", "-", "-", "-"
    if p.pod is None:  # a task Flyte runs without a pod (echo, SQL, sensors, connectors)
        return name, "not run in a pod", "-", "-", "-"
    resources = _primary(p.pod).get("resources") or {}
    return name, _fmt(resources.get("requests")), _fmt(resources.get("limits")), _placement(p.pod), _shm(p.pod)


def render_table(previews: Sequence[Any], console: Any, extra: Sequence[Finding] = ()) -> None:
    """One row per pod (and per task that runs in no pod), then the findings (``extra`` first)."""
    from rich.table import Table

    table = Table(show_lines=False, header_style="bold")
    for column in ("task / node", "requests", "limits", "placement", "shm"):
        table.add_column(column, overflow="fold")
    for p in previews:
        table.add_row(*_row(p))
    console.print(table)
    render_findings(list(extra) + [f for p in previews for f in p.findings], console)


def unique_findings(findings: Sequence[Finding]) -> List[Finding]:
    """Each finding once: the same level, code and text (place and message) printed once."""
    seen, out = set(), []
    for f in findings:
        key = (f.level, f.code, f.text())
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def render_findings(findings: Sequence[Finding], console: Any) -> None:
    """One line per finding; a note that many pods share (the default labels, say) once, with its count."""
    from rich.markup import escape

    unique = unique_findings(findings)
    shared: Dict[Tuple[str, str], int] = {}
    for f in unique:
        if f.level == "info" and f.code != "preview.no-pod":  # each task without a pod is named
            key = (f.code, f.message)
            shared[key] = shared.get(key, 0) + 1
    printed = set()
    counts = {"error": 0, "warning": 0, "info": 0}
    for f in unique:
        message = f.text()  # the place (task, node, role), then the message
        key = (f.code, f.message)
        if key in shared:
            if shared[key] >= _SHARED:
                if key in printed:
                    continue
                printed.add(key)
                message = f"{shared[key]} pods: {key[1]}"
        counts[f.level] = counts.get(f.level, 0) + 1
        console.print(f"[{_STYLE.get(f.level, '')}]{f.level:<7}[/] {escape(f.code):<34} {escape(message)}")
    console.print(f"{counts['error']} errors, {counts['warning']} warnings, {counts['info']} notes")


def emit_previews(previews: Sequence[Any], output: str, extra: Sequence[Finding] = ()) -> None:
    """The previews as a table (with ``extra`` findings), JSON (``extra`` on stderr) or YAML manifests."""
    if output == "json":
        click.echo(json.dumps([p.to_dict() for p in previews], indent=2))
    elif output == "yaml":
        import yaml

        docs = []
        for p in previews:  # a refused task's pod is never created: said in a comment above it
            if p.pod is None:
                continue
            head = (f"# {p.refusals()[0].where()}: refused by {' and '.join(p.refused_by())}; Flyte never creates "
                    "this pod\n") if p.refused else ""
            docs.append(head + yaml.safe_dump(p.pod, sort_keys=False))
        click.echo("---\n".join(docs), nl=False)
    else:
        render_table(previews, stdout_console(), extra)
        return
    if extra:
        render_findings(extra, stderr_console())


def emit_findings(findings: Sequence[Finding], output: str) -> None:
    if output == "json":
        click.echo(json.dumps([f.to_dict() for f in findings], indent=2))
    else:
        render_findings(findings, stdout_console())
