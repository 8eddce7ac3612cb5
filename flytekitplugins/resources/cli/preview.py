"""``flyte-resources preview`` and ``check``: the pods Flyte builds from TARGET's tasks, and what it refuses."""

from __future__ import annotations

from typing import Any, List, Optional, Sequence, Tuple

import click

from ..findings import ERROR, INFO, Finding
from ..quantity import ResourceValidationError
from . import load, render
from .errors import InputError, Refused, exit_for

__all__ = ["check", "preview", "preview_all"]

TARGET_HELP = """\b
TARGET is one of:
  - a `pyflyte package` archive (flyte-package.tgz), or a folder of its .pb files: read as is, without
    importing flytekit;
  - importable modules or packages from the current directory, comma-separated as pyflyte's --pkgs
    (workflows, or workflows.train,workflows.eval): serialized here as `pyflyte package` would, with the
    plugin active."""

_EXIT_HELP = """\b
Exit status: 0 nothing is refused; 1 a finding is an error (flyteadmin, flytepropeller, Kubernetes or the
policy refuses it, or the plugin refused a value while serializing); 2 an input cannot be read (one line
naming the file and the key)."""

_platform_option = click.option(
    "--platform", "platform_files", multiple=True, metavar="FILE",
    help="Flyte platform YAML (plugins.k8s, task_resources, Helm values, ConfigMaps); repeat to merge in order. "
         "Without one (nor a policy naming one), Flyte's built-in defaults are used.",
)
_pod_template_option = click.option(
    "--pod-template", "pod_template_files", multiple=True, metavar="FILE",
    help="PodTemplate manifests (the cluster's default-pod-template-name, or the tasks' pod_template_name); "
         "repeatable.",
)
_policy_options = [
    click.option("--policy", "policy_file", metavar="FILE",
                 help="Policy file (TOML or YAML; default: $FLYTEKITPLUGINS_RESOURCES_POLICY or pyproject.toml's "
                      "[tool.flytekitplugins-resources]): adds the LimitRange, ResourceQuota, node-fit and project "
                      "checks."),
    click.option("--no-policy", is_flag=True, help="No preflight checks, even when a policy is found."),
    click.option("--project", metavar="P", help="The project the pods run in (default: the policy's, else "
                 "flytesnacks)."),
    click.option("--domain", metavar="D", help="The domain the pods run in (default: the policy's, else development)."),
]


def _with_policy_options(f: Any) -> Any:
    for option in reversed(_policy_options):
        f = option(f)
    return f


def _output_option(choices: Sequence[str], what: str) -> Any:
    return click.option("--output", "-o", type=click.Choice(list(choices)), default="table", show_default=True,
                        help=what)


@click.command(help=f"""The pods Flyte will create for TARGET's tasks and overridden nodes, and what Flyte
changed or refuses on the way (every finding, notes included).

{TARGET_HELP}

A task Flyte runs without a pod (echo, SQL engines, sensors, connectors) is listed as such.

{_EXIT_HELP}""", short_help="The pods Flyte builds for TARGET's tasks, and what it changes or refuses.")
@click.argument("target")
@_platform_option
@_pod_template_option
@click.option("--task", "task_name", metavar="NAME", help="Only this task (full name or its last part).")
@_with_policy_options
@_output_option(["table", "yaml", "json"], "table: resources per pod, then the findings; yaml: the pods as "
                "v1 Pod manifests; json: [{task, node, pod, findings}] (pod is null for a task run in no pod).")
def preview(target: str, platform_files: Tuple[str, ...], pod_template_files: Tuple[str, ...],
            task_name: Optional[str], policy_file: Optional[str], no_policy: bool, project: Optional[str],
            domain: Optional[str], output: str) -> None:
    (platform, policy), entities, log = _inputs(target, platform_files, pod_template_files, policy_file, no_policy,
                                                output)
    previews = preview_all(entities, platform, task_name, policy, project, domain)
    if task_name and not previews:
        raise InputError(f"--task {task_name}: no such task in {target}")
    render.emit_previews(previews, output, log)
    exit_for(f.level for p in previews for f in p.findings)


@click.command(help=f"""Validate TARGET's tasks as `pyflyte package` would, plus what Flyte and the cluster
would refuse; writes nothing. Prints the errors and warnings (and the tasks run in no pod), for CI and
pre-commit.

{TARGET_HELP}

{_EXIT_HELP}""", short_help="Errors and warnings for TARGET's tasks (for CI); exit 1 on an error.")
@click.argument("target")
@_platform_option
@_pod_template_option
@_with_policy_options
@_output_option(["table", "json"], "table: one line per finding; json: [{level, code, message, task, ...}].")
def check(target: str, platform_files: Tuple[str, ...], pod_template_files: Tuple[str, ...],
          policy_file: Optional[str], no_policy: bool, project: Optional[str], domain: Optional[str],
          output: str) -> None:
    log: List[Finding] = []
    try:
        (platform, policy), entities, log = _inputs(target, platform_files, pod_template_files, policy_file,
                                                    no_policy, output, refused_as_finding=True)
    except _RefusedWhileSerializing as e:
        render.emit_findings(e.log + [e.finding], output)
        exit_for([ERROR])
    previews = preview_all(entities, platform, None, policy, project, domain)
    findings = log + [f for p in previews for f in p.findings if f.level != INFO or f.code == "preview.no-pod"]
    render.emit_findings(_unique(findings), output)
    exit_for(f.level for f in findings)


class _RefusedWhileSerializing(Exception):
    def __init__(self, finding: Finding, log: List[Finding]) -> None:
        super().__init__(finding.message)
        self.finding, self.log = finding, log


def _inputs(target: str, platform_files: Sequence[str], pod_template_files: Sequence[str],
            policy_file: Optional[str], no_policy: bool, output: str,
            refused_as_finding: bool = False) -> Tuple[Tuple[Any, Any], List[Any], List[Finding]]:
    """((platform, policy), entities, flytekit's log as findings); the built-in defaults note when no platform
    file is given."""
    policy = load.load_policy_file(policy_file, no_policy)
    files, templates = load.platform_files_of(platform_files, pod_template_files, policy)
    platform = load.load_platform_files(files, templates)
    if not files:
        render.note(load.builtin_defaults_note(platform), output)
    log: List[Finding] = []
    try:
        entities = load.load_target(target, log)
    except ResourceValidationError as e:
        if refused_as_finding:
            finding = Finding(ERROR, "plugin.invalid-resource", _detail(e), task=e.task, field=e.field)
            raise _RefusedWhileSerializing(finding, log) from None
        raise Refused(str(e)) from None
    return (platform, policy), entities, log


def preview_all(entities: List[Any], platform: Any, task: Optional[str], policy: Any = None,
                project: Optional[str] = None, domain: Optional[str] = None) -> List[Any]:
    """The previews (then the preflight checks when there is a policy), with a progress bar on a terminal
    (none when piped) for large packages."""
    import sys

    from ..preview import count_previews, preview_entities

    project = project or (policy.project if policy is not None else "flytesnacks")
    domain = domain or (policy.domain if policy is not None else "development")
    total = count_previews(entities)
    kw = dict(task=task, project=project, domain=domain, kubernetes_schema=True)
    try:
        if not (sys.stderr.isatty() and total > 50):
            previews = preview_entities(entities, platform, **kw)
        else:
            from rich.progress import Progress

            with Progress(console=render.stderr_console(), transient=True) as progress:
                bar = progress.add_task("previewing", total=total)
                previews = preview_entities(entities, platform, progress=lambda: progress.advance(bar), **kw)
        if policy is not None:
            from ..preflight import preflight

            previews = preflight(previews, policy, platform, project=project, domain=domain)
    except ResourceValidationError as e:
        raise Refused(str(e)) from None
    return previews


def _detail(e: ResourceValidationError) -> str:
    """The error's text without its task (the finding carries the task): rebuilt from its parts, as pickling
    rebuilds it."""
    _, (problem, kwargs) = e.__reduce__()
    return str(ResourceValidationError(problem, **{k: v for k, v in kwargs.items() if k != "task"}))


def _unique(findings: List[Finding]) -> List[Finding]:
    return render.unique_findings(findings)
