"""``flyte-resources recommend``: what each task should ask for, from what it used.

::

    flyte-resources recommend TARGET (--prometheus URL | --records PATH...) [--since 14d] [--step 5m]
                              [--platform FILE]... [--pod-template FILE]... [--policy FILE | --no-policy]
                              [--project P] [--domain D] [--task NAME] [--margin 15] [--cpu-percentile 95]
                              [--output table|json|markdown] [--diff | --apply]

Exit status: 0 when every recommendation would be admitted and scheduled (or there is nothing to change);
1 when a recommendation would be refused by Flyte or the cluster (it is printed with the findings that say
why, never as plain advice); 2 when an input cannot be read or reached (a target, a policy, Prometheus, a
records file), when the window holds no usage at all, or when a source file cannot be edited; one line each.
"""

from __future__ import annotations

import json
import sys
from typing import Any, Dict, List, Optional, Tuple

import click

__all__ = ["recommend"]

from .errors import EXIT_ERRORS as _EXIT_REFUSED
from .errors import EXIT_INPUT as _EXIT_INPUT
from .errors import EXIT_OK as _EXIT_OK
from .errors import InputError, Refused


def _fail(message: str, status: int = _EXIT_INPUT) -> None:
    """One line on stderr and the status, through click's exceptions as every command does."""
    raise (Refused if status == _EXIT_REFUSED else InputError)(message)


@click.command()
@click.argument("target")
@click.option("--prometheus", "prometheus_url", metavar="URL",
              help="Prometheus (or a compatible API: Thanos, Mimir, VictoriaMetrics) with cAdvisor, "
                   "kube-state-metrics and, for GPUs, DCGM metrics.")
@click.option("--records", "records", multiple=True, metavar="PATH",
              help="Task logs or folders of them holding the plugin's usage records; repeat for more.")
@click.option("--since", default="14d", show_default=True, metavar="DURATION",
              help="The window of Prometheus history (14d, 12h, 30m).")
@click.option("--step", default="5m", show_default=True, metavar="DURATION",
              help="The CPU rate window and subquery resolution.")
@click.option("--platform", "platform_files", multiple=True, metavar="FILE",
              help="Flyte platform YAML; repeat to merge in order.")
@click.option("--pod-template", "pod_template_files", multiple=True, metavar="FILE", help="PodTemplate manifests.")
@click.option("--policy", "policy_file", metavar="FILE",
              help="Policy file (default: $FLYTEKITPLUGINS_RESOURCES_POLICY or pyproject.toml's "
                   "[tool.flytekitplugins-resources]); its node groups may carry price-per-hour.")
@click.option("--no-policy", is_flag=True, help="No preflight checks, even when a policy is found.")
@click.option("--project", metavar="P", help="The project the pods run in (also filters Prometheus).")
@click.option("--domain", metavar="D", help="The domain the pods run in (also filters Prometheus).")
@click.option("--task", "task_name", metavar="NAME", help="Only this task (full name or its last part).")
@click.option("--margin", type=click.FloatRange(0, 1000), default=15.0, show_default=True, metavar="PERCENT",
              help="Added to the peak memory.")
@click.option("--cpu-percentile", type=click.FloatRange(1, 100), default=95.0, show_default=True,
              metavar="P", help="The percentile of CPU use the request covers.")
@click.option("--output", "-o", type=click.Choice(["table", "json", "markdown"]), default="table",
              show_default=True, help="A table, JSON, or markdown (for a pull-request comment).")
@click.option("--diff", "show_diff", is_flag=True,
              help="Print only the patch --apply would make to the source (for git apply).")
@click.option("--apply", "do_apply", is_flag=True,
              help="Edit the @task(...) decorators and .with_overrides(...) calls (literal values only).")
def recommend(target: str, prometheus_url: Optional[str], records: Tuple[str, ...], since: str, step: str,
              platform_files: Tuple[str, ...], pod_template_files: Tuple[str, ...], policy_file: Optional[str],
              no_policy: bool, project: Optional[str], domain: Optional[str], task_name: Optional[str],
              margin: float, cpu_percentile: float, output: str, show_diff: bool, do_apply: bool) -> None:
    """Per task and overridden node: requested vs used vs recommended, with the reason for each number."""
    from ..recommend.history import UsageError
    from ..recommend.rules import Rules

    if bool(prometheus_url) == bool(records):
        _fail("give one usage source: --prometheus URL or --records PATH")
    if show_diff and do_apply:
        _fail("--diff and --apply: give one (--diff prints what --apply writes)")
    rules = Rules(memory_margin=margin / 100, cpu_quantile=cpu_percentile / 100)
    try:
        usages, where = _usage(prometheus_url, records, since, step, rules.cpu_quantile, project, domain)
    except UsageError as e:
        _fail(str(e))
    if not usages:
        _fail(f"{where}: no usage of any Flyte task"
              + (" (kube_pod_labels with label_task_name: kube-state-metrics needs "
                 "--metric-labels-allowlist=pods=[task-name,workflow-name,node-id,project,domain])"
                 if prometheus_url else " (no line starts with the usage record's prefix)"))
    policy, platform, entities = _load(target, platform_files, pod_template_files, policy_file, no_policy)
    proj = project or (policy.project if policy is not None else "flytesnacks")
    dom = domain or (policy.domain if policy is not None else "development")
    from ..quantity import ResourceValidationError
    from ..recommend.engine import recommend as run

    try:  # each distinct task is previewed (and preflighted) once: a package of 10,000 tasks takes seconds
        report = run(entities, usages, platform, policy, project=proj, domain=dom, rules=rules, task=task_name)
    except ResourceValidationError as e:
        _fail(f"error: {e}", _EXIT_REFUSED)
    if task_name and not report.rows:
        _fail(f"--task {task_name}: no such task in {target}")
    if show_diff:  # the patch alone, for `git apply`; what is refused or left alone goes to stderr
        _edit(report, False)
        raise click.exceptions.Exit(_EXIT_REFUSED if report.refused else _EXIT_OK)
    if output == "json":
        click.echo(json.dumps({"source": where, **report.to_dict()}, indent=2))
    elif output == "markdown":
        click.echo(render_markdown(report, where))
    else:
        render_table(report, where)
    if do_apply:
        _edit(report, True)
    raise click.exceptions.Exit(_EXIT_REFUSED if report.refused else _EXIT_OK)


def _load(target: str, platform_files: Tuple[str, ...], pod_template_files: Tuple[str, ...],
          policy_file: Optional[str], no_policy: bool) -> Tuple[Any, Any, List[Any]]:
    """The policy (or None), the platform (with the policy's files first) and the target's protobufs; an input
    that cannot be read is one line and status 2, a value the plugin refuses while serializing status 1."""
    import os

    from ..platform import load_platform
    from ..preflight.policy import load_policy
    from ..quantity import ResourceValidationError
    from .load import load_target

    policy = None
    try:
        if not no_policy:
            if policy_file is not None and not os.path.isfile(policy_file):
                raise ResourceValidationError(f"{policy_file}: no such policy file")
            policy = load_policy(policy_file)
        files, templates = list(platform_files), list(pod_template_files)
        if policy is not None:
            files, templates = list(policy.platform_files) + files, list(policy.pod_template_files) + templates
        platform = load_platform(files, templates)
        if policy is not None:
            from ..recommend.cost import load_prices

            load_prices(policy.node_groups)  # a bad price-per-hour is the node-group file's problem: status 2
    except ResourceValidationError as e:
        _fail(str(e))
    try:
        return policy, platform, load_target(target)
    except InputError as e:
        _fail(str(e))
    except ResourceValidationError as e:
        _fail(f"error: {e}", _EXIT_REFUSED)
    raise AssertionError("unreachable")


def _usage(url: Optional[str], records: Tuple[str, ...], since: str, step: str, quantile: float,
           project: Optional[str], domain: Optional[str]):
    if url:
        from ..recommend.prometheus import QUERIES, fetch_usage

        labels = {k: v for k, v in (("project", project), ("domain", domain)) if v}
        where = f"{url} over {since}"
        if not sys.stderr.isatty():
            return fetch_usage(url, since, step=step, quantile=quantile, labels=labels), where
        from rich.console import Console
        from rich.progress import Progress

        with Progress(console=Console(stderr=True), transient=True) as progress:
            bar = progress.add_task("querying Prometheus", total=len(QUERIES))
            seen: List[str] = []

            def advance(name: str) -> None:
                if seen:
                    progress.advance(bar)
                seen.append(name)
                progress.update(bar, description=f"querying Prometheus: {name}")

            return fetch_usage(url, since, step=step, quantile=quantile, labels=labels, progress=advance), where
    from ..recommend.history import usage_from_records
    from ..recommend.records import read_records

    where = ", ".join(records)
    return usage_from_records(read_records(list(records)), where, quantile), where


def _edit(report: Any, do_apply: bool) -> None:
    """The source editor's plan for the recommendations that would be admitted."""
    advice = [r.recommendation for r in report.rows if r.recommendation is not None and not r.refused]
    for r in report.refused:
        click.echo(f"not edited: {r.name}: the cluster would refuse the recommendation "
                   "(flyte-resources recommend without --diff shows why)", err=True)
    if not advice:
        click.echo("nothing to edit: no recommendation the cluster would admit", err=True)
        return
    try:
        from ..recommend.apply import plan
    except ImportError:
        _fail("--diff/--apply need the source editor (flytekitplugins.resources.recommend.apply), "
              "which this build does not have")
    import pathlib

    try:
        edits = plan(advice, root=pathlib.Path.cwd())
        if do_apply:
            written = edits.apply()
        else:
            click.echo(edits.diff(), nl=False)
    except (ValueError, OSError) as e:  # a source file that cannot be parsed or written: nothing is written
        _fail(" ".join(str(e).split()))
    except Exception as e:  # the editor's own errors (libcst's parser) are one line too
        _fail(f"{type(e).__name__}: {' '.join(str(e).split())}")
    for task, node, reason in edits.skipped:
        click.echo(f"left alone: {task}" + (f", node {node}" if node else "") + f": {reason}", err=True)
    if do_apply:
        for path in written:
            click.echo(f"edited {path}", err=True)


# ------------------------------------------------------------------------------------------------ rendering
def _k8s_text(values: Dict[str, str]) -> str:
    short = {"memory": "mem", "nvidia.com/gpu": "gpu", "ephemeral-storage": "disk"}
    return " ".join(f"{short.get(k, k)}={v}" for k, v in values.items()) or "-"


def _requested(row: Any) -> str:
    parts = []
    for key, label in (("cpu", "cpu"), ("memory", "mem")):
        req, lim = row.requests.get(key), row.limits.get(key)
        if req or lim:
            parts.append(f"{label} {req or '-'}" + (f"/{lim}" if lim and lim != req else ""))
    gpu = row.limits.get("nvidia.com/gpu") or row.requests.get("nvidia.com/gpu")
    if gpu:
        parts.append(f"gpu {gpu}" + (f" {row.accelerator}" if row.accelerator else ""))
    return ", ".join(parts) or "-"


def _used(row: Any) -> str:
    from ..recommend.rules import format_bytes, format_cores

    u = row.usage
    if u is None:
        return "-"
    parts = []
    if u.cpu_p95_cores is not None:
        parts.append(f"cpu p95 {format_cores(u.cpu_p95_cores)}"
                     + (f" peak {format_cores(u.cpu_peak_cores)}" if u.cpu_peak_cores is not None else ""))
    if u.memory_peak_bytes is not None:
        parts.append(f"mem peak {format_bytes(u.memory_peak_bytes)}")
    if u.oom_kills:
        parts.append(f"{u.oom_kills} OOMKilled")
    if u.gpu_memory_peak_bytes is not None:
        parts.append(f"gpu mem {format_bytes(u.gpu_memory_peak_bytes)}")
    return ", ".join(parts) + f" ({u.runs} run{'s' if u.runs != 1 else ''})"


def _recommended(row: Any) -> str:
    s = row.sizing
    if s is None:
        return "-"
    parts = []
    for key in ("cpu", "mem"):
        req, lim = s.requests.get(key), s.limits.get(key)
        if req:
            changed = key in s.changed_requests or key in s.changed_limits
            text = f"{key} {req}" + (f"/{lim}" if lim and lim != req else "")
            parts.append(text if changed else f"{text} (same)")
    if s.accelerator:
        parts.append(f"gpu {s.accelerator}")
    return ", ".join(parts) or "-"


def _money(x: Optional[float]) -> str:
    return "-" if x is None else f"${x:,.3f}"


def _cost(row: Any) -> str:
    if row.cost_now is None:
        return "-"
    now = f"{_money(row.cost_now[2])} on {row.cost_now[0]}"
    if row.recommendation is None:
        return now
    if row.cost_after is None:
        return f"{now} -> fits no priced group"
    after = _money(row.cost_after[2]) + ("" if row.cost_after[0] == row.cost_now[0] else f" on {row.cost_after[0]}")
    return f"{now} -> {after}"


def _status(row: Any) -> str:
    if row.refused:
        return "REFUSED" + (" (as now)" if row.refused_now else "")
    if row.recommendation is not None:
        return "change"
    return row.note or "-"


def render_table(report: Any, where: str) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console(soft_wrap=False, width=None if sys.stdout.isatty() else 200)
    table = Table(header_style="bold", title=f"usage: {escape(where)}", title_justify="left")
    columns = ["task / node", "requested (request/limit)", "used", "recommended"]
    if report.priced:
        columns.append("$/hour now -> recommended")
    columns.append("status")
    for c in columns:
        table.add_column(c, overflow="fold")
    for row in report.rows:
        cells = [row.name, _requested(row), _used(row), _recommended(row)]
        if report.priced:
            cells.append(_cost(row))
        status = _status(row)
        cells.append(f"[bold red]{status}[/]" if row.refused else escape(status))
        table.add_row(*[escape(c) for c in cells[:-1]], cells[-1])
    console.print(table)
    for row in report.rows:
        rec = row.recommendation
        if rec is None:
            continue
        console.print(f"[bold]{escape(row.name)}[/]" + (" [bold red]would be refused:[/]" if row.refused else ""))
        for key, why in rec.reasons.items():
            console.print(f"  {escape(key)}: {escape(why)}")
        for level, code, message in rec.checks:
            style = "bold red" if level == "error" else "yellow"
            console.print(f"  [{style}]{level}[/] {escape(code)}: {escape(message)}")
        if row.saving_per_hour:
            console.print(f"  {_saving(row)}")
    for u in report.unmatched[:20]:
        console.print(f"[dim]usage of {escape(_place(u))} matches no task in the target[/]")
    if len(report.unmatched) > 20:
        console.print(f"[dim]... and {len(report.unmatched) - 20} more usage groups that match no task[/]")
    console.print("[dim]rules: " + escape("; ".join(report.rules.explain())) + "[/]")
    changes = len(report.recommendations())
    refused = len(report.refused)
    total = sum(r.saving_per_hour or 0 for r in report.rows if r.recommendation is not None and not r.refused)
    console.print(f"{changes} recommendation{'s' if changes != 1 else ''}, {refused} the cluster would refuse"
                  + (f", saving {_money(total)} per hour with one pod of each running" if report.priced else ""))


def _saving(row: Any) -> str:
    text = f"saves {_money(row.saving_per_hour)} per pod-hour"
    hours = (row.usage.wall_seconds or 0) / 3600 if row.usage is not None else 0
    if hours:
        text += f" ({_money(row.saving_per_hour * hours)} over the {hours:,.1f} hours its {row.usage.runs} runs took)"
    return text


def _place(u: Any) -> str:
    return u.task + (f" (workflow {u.workflow}, node {u.node})" if u.workflow or u.node else "")


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(report: Any, where: str) -> str:
    """A pull-request comment: the table, then each change's reasons in a collapsed section."""
    lines = ["### Resource recommendations", "", f"From `{_md(where)}`.", ""]
    header = ["task / node", "requested", "used", "recommended"] + (["$/hour"] if report.priced else []) + ["status"]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "---|" * len(header))
    for row in report.rows:
        cells = [f"`{row.name}`", _requested(row), _used(row), _recommended(row)]
        if report.priced:
            cells.append(_cost(row))
        status = _status(row)
        cells.append(f"**{status}**" if row.refused else status)
        lines.append("| " + " | ".join(_md(c) for c in cells) + " |")
    details = [r for r in report.rows if r.recommendation is not None]
    if details:
        lines += ["", "<details><summary>Why each number</summary>", ""]
        for row in details:
            lines.append(f"- `{row.name}`" + (" — **the cluster would refuse it**" if row.refused else ""))
            for key, why in row.recommendation.reasons.items():
                lines.append(f"  - `{key}`: {_md(why)}")
            for level, code, message in row.recommendation.checks:
                lines.append(f"  - {level} `{code}`: {_md(message)}")
            if row.saving_per_hour:
                lines.append(f"  - {_saving(row)}")
        lines += ["", "</details>"]
    lines += ["", "Rules: " + "; ".join(report.rules.explain()) + "."]
    return "\n".join(lines)
