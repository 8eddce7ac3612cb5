"""``flyte-resources``: preview the pods Flyte 1.16 builds, check tasks in CI, report a package.

::

    flyte-resources preview TARGET [--platform FILE]... [--pod-template FILE]... [--task NAME]
                                   [--policy FILE | --no-policy] [--project P] [--domain D]
                                   [--output table|yaml|json]
    flyte-resources check   TARGET [--platform FILE]... [--pod-template FILE]... [--policy FILE | --no-policy]
                                   [--project P] [--domain D] [--output table|json]
    flyte-resources report  PKG.tgz

With a policy (``--policy``, ``$FLYTEKITPLUGINS_RESOURCES_POLICY``, or ``[tool.flytekitplugins-resources]`` in
the nearest ``pyproject.toml``), the pods are also checked against the cluster's LimitRanges, ResourceQuotas
and node groups and the project's rules (``preflight``), and the platform files it names are loaded first.

TARGET is a ``pyflyte package`` archive (or a folder of ``.pb`` files), or, like pyflyte's ``--pkgs``,
one or more importable modules or packages (comma-separated) from the current directory, serialized
here as ``pyflyte package`` would, with the plugin active.

Exit status: 0 when nothing is refused; 1 when a finding is an error (flyteadmin, flytepropeller or
Kubernetes will refuse it, or the plugin refused a value while serializing); 2 when an input cannot be
read (one line naming the file and the key, never a traceback).

This is the only module of the plugin that prints; the hook never imports it.
"""

from __future__ import annotations

import json
import os
import pathlib
import sys
from typing import Any, Dict, List, Optional, Sequence, Tuple

import click

from ..findings import ERROR, Finding
from ..quantity import ResourceValidationError

__all__ = ["main"]

_EXIT_OK, _EXIT_ERRORS, _EXIT_INPUT = 0, 1, 2


class InputError(Exception):
    """An input that cannot be read: printed as one line, exit status 2."""


# --- loading -------------------------------------------------------------------------------------------


def load_target(target: str) -> List[Any]:
    """flyteidl protobufs from a package archive/folder, or from serializing importable modules.

    Raises :class:`InputError` for an unreadable package, and lets :class:`ResourceValidationError`
    (a value the plugin refuses while serializing) through for the caller to report."""
    path = pathlib.Path(target)
    if path.exists() and (path.is_dir() and any(path.glob("*.pb")) or path.is_file()):
        return _load_package(target)
    if target.endswith((".tgz", ".tar.gz", ".tar")):
        raise InputError(f"{target}: no such file")
    return _serialize_modules([p.strip() for p in target.split(",") if p.strip()])


def _load_package(path: str) -> List[Any]:
    from flyteidl.admin import launch_plan_pb2, task_pb2, workflow_pb2
    from google.protobuf.message import DecodeError

    from ..report import ReportError, read_package

    kinds = {"_1.pb": task_pb2.TaskSpec, "_2.pb": workflow_pb2.WorkflowSpec, "_3.pb": launch_plan_pb2.LaunchPlan}
    out: List[Any] = []
    try:
        for name, data in read_package(path):
            kind = next((k for suffix, k in kinds.items() if name.endswith(suffix)), None)
            if kind is None:
                continue
            message = kind()
            try:
                message.ParseFromString(data)
            except DecodeError as e:
                raise InputError(f"{path}: {name}: is not a {kind.__name__} protobuf ({e})") from None
            out.append(message)
    except ReportError as e:
        raise InputError(str(e)) from None
    return out


def _serialize_modules(pkgs: List[str]) -> List[Any]:
    if not pkgs:
        raise InputError("no target: give a pyflyte package archive or importable modules")
    from flytekit.configuration import ImageConfig, SerializationSettings
    from flytekit.tools.repo import serialize_get_control_plane_entities, serialize_load_only

    settings = SerializationSettings(image_config=ImageConfig.auto_default_image())
    root = os.getcwd()
    try:
        with _quiet_stdout():
            serialize_load_only(pkgs, settings, root)
    except ModuleNotFoundError as e:
        raise InputError(f"{e.name}: no such module or package under {root}") from None
    from ..enforce import suspended

    with _quiet_stdout(to_stderr=True), suspended():  # the policy is checked below, on every task at once
        entities = serialize_get_control_plane_entities(settings, root)
    return [e.to_flyte_idl() for e in entities]


class _quiet_stdout:
    """Keep stdout for the output (json/yaml): flytekit's loader prints a banner there (dropped), and its
    logger prints warnings there (sent to stderr)."""

    def __init__(self, to_stderr: bool = False) -> None:
        self.to_stderr = to_stderr

    def __enter__(self) -> None:
        import io

        self._stdout, sys.stdout = sys.stdout, sys.stderr if self.to_stderr else io.StringIO()

    def __exit__(self, *exc: Any) -> None:
        sys.stdout = self._stdout


def _platform(files: Sequence[str], pod_templates: Sequence[str]):
    from ..platform import load_platform

    return load_platform(list(files), list(pod_templates))


# --- rendering -----------------------------------------------------------------------------------------


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


def _render_table(previews: List[Any], console: Any) -> None:
    from rich.table import Table

    table = Table(show_lines=False, header_style="bold")
    for column in ("task / node", "requests", "limits", "placement", "shm"):
        table.add_column(column, overflow="fold")
    for p in previews:
        name = p.task if p.node is None else f"{p.node} ({p.task})"
        if p.role:
            name += f" [{p.role}]"
        resources = _primary(p.pod).get("resources") or {}
        table.add_row(name, _fmt(resources.get("requests")), _fmt(resources.get("limits")), _placement(p.pod),
                      _shm(p.pod))
    console.print(table)
    _render_findings([(p.task, p.node, f) for p in previews for f in p.findings], console)


_STYLE = {"error": "bold red", "warning": "yellow", "info": "dim"}


def _render_findings(findings: List[Tuple[str, Optional[str], Finding]], console: Any) -> None:
    """One line per finding; a note that many pods share (the default labels, say) once, with its count."""
    from rich.markup import escape

    unique: List[Finding] = []
    seen = set()
    for _, _, f in findings:
        key = (f.level, f.code, f.message)
        if key not in seen:
            seen.add(key)
            unique.append(f)
    shared: Dict[Tuple[str, str], int] = {}
    for f in unique:
        if f.level == "info":
            shared[(f.code, _without_where(f.message))] = shared.get((f.code, _without_where(f.message)), 0) + 1
    printed = set()
    counts = {"error": 0, "warning": 0, "info": 0}
    for f in unique:
        message = f.message
        if f.level == "info":
            key = (f.code, _without_where(message))
            if shared[key] >= _SHARED:
                if key in printed:
                    continue
                printed.add(key)
                message = f"{shared[key]} pods: {key[1]}"
        counts[f.level] = counts.get(f.level, 0) + 1
        console.print(f"[{_STYLE.get(f.level, '')}]{f.level:<7}[/] {escape(f.code):<34} {escape(message)}")
    console.print(f"{counts['error']} errors, {counts['warning']} warnings, {counts['info']} notes")


_SHARED = 3  # a note shared by this many pods or more is printed once


def _without_where(message: str) -> str:
    """The message without its ``task '...'[, node '...'] [(role)]: `` prefix."""
    if message.startswith("task '") and ": " in message:
        return message.split(": ", 1)[1]
    return message


def _show_progress() -> bool:
    return sys.stderr.isatty()


def _stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


def _stdout_console() -> Any:
    from rich.console import Console

    return Console(soft_wrap=False, width=None if sys.stdout.isatty() else 200)


# --- commands ------------------------------------------------------------------------------------------


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Preview and check the pods Flyte 1.16 builds from your tasks."""


_platform_option = click.option(
    "--platform", "platform_files", multiple=True, metavar="FILE",
    help="Flyte platform YAML (plugins.k8s, task_resources, Helm values, ConfigMaps); repeat to merge in order.",
)
_pod_template_option = click.option(
    "--pod-template", "pod_template_files", multiple=True, metavar="FILE", help="PodTemplate manifests."
)


_policy_options = [
    click.option("--policy", "policy_file", metavar="FILE",
                 help="Policy file (TOML or YAML; default: $FLYTEKITPLUGINS_RESOURCES_POLICY or pyproject.toml's "
                      "[tool.flytekitplugins-resources])."),
    click.option("--no-policy", is_flag=True, help="No preflight checks, even when a policy is found."),
    click.option("--project", metavar="P", help="The project the pods run in (default: the policy's, else "
                 "flytesnacks)."),
    click.option("--domain", metavar="D", help="The domain the pods run in (default: the policy's, else development)."),
]


def _with_policy_options(f: Any) -> Any:
    for option in reversed(_policy_options):
        f = option(f)
    return f


@main.command()
@click.argument("target")
@_platform_option
@_pod_template_option
@click.option("--task", "task_name", metavar="NAME", help="Only this task (full name or its last part).")
@_with_policy_options
@click.option("--output", "-o", type=click.Choice(["table", "yaml", "json"]), default="table", show_default=True)
def preview(target: str, platform_files: Tuple[str, ...], pod_template_files: Tuple[str, ...],
            task_name: Optional[str], policy_file: Optional[str], no_policy: bool, project: Optional[str],
            domain: Optional[str], output: str) -> None:
    """The pods Flyte will create for TARGET's tasks and overridden nodes, and what it changed."""
    policy = _load_policy_or_exit(policy_file, no_policy)
    platform, entities = _inputs(target, platform_files, pod_template_files, policy)
    previews = preview_all(entities, platform, task_name, policy, project, domain)
    if task_name and not previews:
        _fail(f"--task {task_name}: no such task in {target}", _EXIT_INPUT)
    _emit(previews, output)
    sys.exit(_EXIT_ERRORS if any(f.level == ERROR for p in previews for f in p.findings) else _EXIT_OK)


@main.command()
@click.argument("target")
@_platform_option
@_pod_template_option
@_with_policy_options
@click.option("--output", "-o", type=click.Choice(["table", "json"]), default="table", show_default=True)
def check(target: str, platform_files: Tuple[str, ...], pod_template_files: Tuple[str, ...],
          policy_file: Optional[str], no_policy: bool, project: Optional[str], domain: Optional[str],
          output: str) -> None:
    """Validate TARGET's tasks as pyflyte package would, plus what Flyte and the cluster would refuse; writes
    nothing."""
    policy = _load_policy_or_exit(policy_file, no_policy)
    platform = _load_platform_or_exit(platform_files, pod_template_files, policy)
    try:
        entities = load_target(target)
    except InputError as e:
        _fail(str(e), _EXIT_INPUT)
    except ResourceValidationError as e:
        finding = Finding(ERROR, "plugin.invalid-resource", str(e), task=e.task, field=e.field)
        _emit_findings([finding], output)
        sys.exit(_EXIT_ERRORS)
    previews = preview_all(entities, platform, None, policy, project, domain)
    findings = [f for p in previews for f in p.findings if f.level != "info"]
    _emit_findings(_unique(findings), output)
    sys.exit(_EXIT_ERRORS if any(f.level == ERROR for f in findings) else _EXIT_OK)


@main.command()
@click.argument("package")
def report(package: str) -> None:
    """Per task and overridden node: requests, limits, accelerator and shared memory in PACKAGE."""
    from .. import report as report_module

    sys.exit(report_module.main([package]))


def preview_all(entities: List[Any], platform: Any, task: Optional[str], policy: Any = None,
                project: Optional[str] = None, domain: Optional[str] = None) -> List[Any]:
    """The previews (then the preflight checks when there is a policy), with a progress bar on a terminal
    (none when piped) for large packages."""
    from ..preview import count_previews, preview_entities

    project = project or (policy.project if policy is not None else "flytesnacks")
    domain = domain or (policy.domain if policy is not None else "development")
    total = count_previews(entities)
    kw = dict(task=task, project=project, domain=domain, kubernetes_schema=True)
    try:
        if not (_show_progress() and total > 50):
            previews = preview_entities(entities, platform, **kw)
        else:
            from rich.progress import Progress

            with Progress(console=_stderr_console(), transient=True) as progress:
                bar = progress.add_task("previewing", total=total)
                previews = preview_entities(entities, platform, progress=lambda: progress.advance(bar), **kw)
        if policy is not None:
            from ..preflight import preflight

            previews = preflight(previews, policy, platform, project=project, domain=domain)
    except ResourceValidationError as e:
        _fail(f"error: {e}", _EXIT_ERRORS)
    return previews


def _inputs(target: str, platform_files: Sequence[str], pod_template_files: Sequence[str],
            policy: Any = None) -> Tuple[Any, List[Any]]:
    platform = _load_platform_or_exit(platform_files, pod_template_files, policy)
    try:
        return platform, load_target(target)
    except InputError as e:
        _fail(str(e), _EXIT_INPUT)
    except ResourceValidationError as e:
        _fail(f"error: {e}", _EXIT_ERRORS)
    raise AssertionError("unreachable")


def _load_policy_or_exit(policy_file: Optional[str], no_policy: bool) -> Any:
    if no_policy:
        return None
    from ..preflight.policy import load_policy

    try:
        if policy_file is not None and not os.path.isfile(policy_file):
            raise ResourceValidationError(f"{policy_file}: no such policy file")
        return load_policy(policy_file)
    except ResourceValidationError as e:
        _fail(str(e), _EXIT_INPUT)


def _load_platform_or_exit(platform_files: Sequence[str], pod_template_files: Sequence[str],
                           policy: Any = None) -> Any:
    if policy is not None:
        platform_files = list(policy.platform_files) + list(platform_files)
        pod_template_files = list(policy.pod_template_files) + list(pod_template_files)
    try:
        return _platform(platform_files, pod_template_files)
    except ResourceValidationError as e:
        _fail(str(e), _EXIT_INPUT)


def _fail(message: str, status: int) -> None:
    click.echo(message if message.startswith("error") else f"error: {message}", err=True)
    sys.exit(status)


def _unique(findings: List[Finding]) -> List[Finding]:
    seen, out = set(), []
    for f in findings:
        key = (f.level, f.code, f.message)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def _emit(previews: List[Any], output: str) -> None:
    if output == "json":
        click.echo(json.dumps([p.to_dict() for p in previews], indent=2))
    elif output == "yaml":
        import yaml

        click.echo(yaml.safe_dump_all([p.pod for p in previews], sort_keys=False), nl=False)
    else:
        _render_table(previews, _stdout_console())


def _emit_findings(findings: List[Finding], output: str) -> None:
    if output == "json":
        click.echo(json.dumps([f.to_dict() for f in findings], indent=2))
    else:
        _render_findings([(f.task or "", f.node, f) for f in findings], _stdout_console())


from .recommend import recommend as _recommend  # noqa: E402  (a command in a module of its own)

main.add_command(_recommend)
