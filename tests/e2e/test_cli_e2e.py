"""End to end: pyflyte package on the bundled examples, then flyte-resources on the archive and on the modules."""

import json
import pathlib
import subprocess
import sys

import pytest

from ..helpers import ROOT
from ..helpers import example_project as _project
from ..helpers import pyflyte_package as _package
from ..helpers import subprocess_env as _env

CLI = [sys.executable, "-m", "flytekitplugins.resources"]
PLATFORM = str(ROOT / "examples" / "platform" / "flyte.yaml")


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    project = _project(tmp_path_factory.mktemp("cli"))
    result = _package(project)
    assert result.returncode == 0, result.stdout + result.stderr
    return project


def _cli(project, *args):
    return subprocess.run(CLI + list(args), cwd=project, capture_output=True, text=True, env=_env())


def _previews(project, *args):
    result = _cli(project, "preview", "pkg.tgz", "--output", "json", *args)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, {(p["task"], p["node"]): p for p in json.loads(result.stdout)}


def _primary(preview):
    return preview["pod"]["spec"]["containers"][0]


def test_preview_shows_platform_defaults_clamps_and_refusals(project):
    status, previews = _previews(project, "--platform", PLATFORM)
    assert status == 1  # finetune asks for 128Gi; the platform's limit is 96Gi: flyteadmin refuses it
    finetune = previews[("workflows.pod_templates.finetune", None)]
    assert any(f["level"] == "error" and "128Gi" in f["message"] for f in finetune["findings"])

    # a limit alone is not checked at registration; at run time it is lowered to the platform's limit,
    # and the node's 150Gi request is clamped by flytepropeller
    node = previews[("workflows.limits.aggregate", "workflows.limits.reduce/n0")]
    assert _primary(node)["resources"]["requests"]["memory"] == "96Gi"
    assert _primary(node)["resources"]["limits"]["memory"] == "96Gi"
    assert any(f["level"] == "warning" for f in node["findings"])

    # the GPU task: the count under the configured resource name, and the GPU toleration added
    train = previews[("workflows.gpu.train", None)]
    assert _primary(train)["resources"]["limits"]["nvidia.com/gpu"] == "2"
    gpu_toleration = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
    assert gpu_toleration in train["pod"]["spec"]["tolerations"]
    assert train["pod"]["metadata"]["labels"]["team"] == "ml-platform"


def test_without_platform_the_container_keeps_what_the_plugin_serialized(project):
    """Differential: with Flyte's defaults, the preview's resources are the serialized ones where they are
    within flyteadmin's default limits (cpu 2, memory 1Gi), plus flyteadmin's default limits."""
    from flytekitplugins.resources.report import read_package, rows

    serialized = {r.name: r for r in rows(read_package(str(project / "pkg.tgz")))}
    _, previews = _previews(project)
    prepare = _primary(previews[("workflows.basics.prepare", None)])["resources"]
    assert serialized["workflows.basics.prepare"].requests == {"cpu": "500m", "mem": "1Gi"}
    assert prepare["requests"] == {"cpu": "500m", "memory": "1Gi"}
    assert prepare["limits"]["cpu"] == "1"  # the task's own limit; its 2Gi memory limit is lowered to 1Gi
    assert prepare["limits"]["memory"] == "1Gi"


def test_check_on_modules_stops_on_the_refused_task(project):
    result = _cli(project, "check", "workflows", "--platform", PLATFORM, "--output", "json")
    assert result.returncode == 1, result.stderr
    findings = json.loads(result.stdout)
    assert any(f["level"] == "error" and f.get("task") == "workflows.pod_templates.finetune" for f in findings)
    assert not any(f["level"] == "info" for f in findings)


def test_check_reports_a_value_the_plugin_refuses_as_a_finding(project, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "__init__.py").write_text("")
    (bad / "tasks.py").write_text(
        "from flytekit import Resources, task\n\n"
        "@task(requests=Resources(cpu='4'), limits=Resources(cpu='2'))\n"
        "def t(x: int) -> int:\n    return x\n"
    )
    result = subprocess.run(CLI + ["check", "bad", "--output", "json"], cwd=tmp_path, capture_output=True, text=True,
                            env=_env())
    assert result.returncode == 1, result.stderr
    (finding,) = json.loads(result.stdout)
    assert finding["code"] == "plugin.invalid-resource" and "greater than the limit" in finding["message"]


def test_console_script_is_installed():
    script = pathlib.Path(sys.executable).parent / "flyte-resources"
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "preview" in result.stdout and "check" in result.stdout
