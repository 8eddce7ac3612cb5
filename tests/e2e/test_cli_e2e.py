"""End to end: pyflyte package on the bundled examples, then flyte-resources on the archive and on the modules."""

import importlib.util
import json
import pathlib
import subprocess
import sys

import pytest

from ..helpers import ROOT
from ..helpers import example_project as _project
from ..helpers import pyflyte_package as _package
from ..helpers import subprocess_env as _env

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

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


# --- tasks Flyte runs without a pod, from the task types flytekit itself defines, packaged by pyflyte --------

NO_POD = """\
from flytekit import Resources, kwtypes, task, workflow
from flytekit.core.task import Echo
from flytekit.extras.sqlite3.task import SQLite3Config, SQLite3Task
from flytekit.sensor.file_sensor import FileSensor

echo = Echo(name="echo", inputs={"a": int})
sqlite = SQLite3Task(name="sqlite", query_template="select 1", inputs=kwtypes(),
                     task_config=SQLite3Config(uri="https://example.com/db.zip", compressed=True))
sensor = FileSensor(name="sensor")  # a sensor is a connector task (AsyncConnectorExecutorMixin)
{webhook_def}


@task(requests=Resources(cpu="500m"), limits=Resources(cpu="1"))
def double(a: int) -> int:
    return a * 2


@workflow
def wf(a: int) -> int:
    sensor(path="s3://bucket/key")
    sqlite()
    {webhook_call}
    # requests only: flytekit logs that the requests are clamped to the task's limits
    return echo(a=double(a=a).with_overrides(requests=Resources(cpu="750m")))
"""

# flytekit's webhook task (a sync connector task) needs httpx, which flytekit does not require
HAS_HTTPX = importlib.util.find_spec("httpx") is not None
WEBHOOK = """from flytekit.extras.webhook import WebhookTask
webhook = WebhookTask(name="webhook", url="https://example.com/hook", method="POST")"""
_NO_POD_TASKS = {"echo": "echo", "sensor": "sensor", **({"webhook": "webhook"} if HAS_HTTPX else {})}


@pytest.fixture(scope="module")
def no_pod_project(tmp_path_factory):
    root = tmp_path_factory.mktemp("nopod")
    (root / "nopod").mkdir()
    (root / "nopod" / "__init__.py").write_text("")
    source = NO_POD.replace("{webhook_call}", "webhook()" if HAS_HTTPX else "")
    (root / "nopod" / "wf.py").write_text(source.replace("{webhook_def}", WEBHOOK if HAS_HTTPX else ""))
    result = _package(root, pkgs="nopod")
    assert result.returncode == 0, result.stdout + result.stderr
    return root


def _no_pod_findings(previews):
    return {p["task"]: [f for f in p["findings"] if f["code"] == "preview.no-pod"] for p in previews}


@pytest.mark.parametrize("target", ["pkg.tgz", "nopod"], ids=["archive", "modules"])
def test_tasks_without_a_pod_are_listed_and_every_other_task_previewed(no_pod_project, target):
    result = _cli(no_pod_project, "preview", target, "-o", "json")
    assert result.returncode == 0, result.stderr
    previews = json.loads(result.stdout)
    by_task = {(p["task"], p["node"]): p for p in previews}
    for name, task_type in _NO_POD_TASKS.items():
        assert by_task[(name, None)]["pod"] is None
        (finding,) = _no_pod_findings(previews)[name]
        assert finding["level"] == "info" and f"task type '{task_type}' does not run in a pod" in finding["message"]
        assert not [key for key in by_task if key[0] == name and key[1] is not None]  # listed once
    # the SQLite task runs its query in a container: it has a pod, as does the python task and its node
    assert by_task[("sqlite", None)]["pod"]["kind"] == "Pod"
    assert by_task[("nopod.wf.double", None)]["pod"]["kind"] == "Pod"
    node = [p for (task, n), p in by_task.items() if task == "nopod.wf.double" and n is not None]
    assert len(node) == 1 and node[0]["pod"]["spec"]["containers"][0]["resources"]["requests"]["cpu"] == "750m"


def test_check_of_tasks_without_a_pod_exits_0_and_names_them(no_pod_project):
    result = _cli(no_pod_project, "check", "pkg.tgz", "-o", "json")
    assert result.returncode == 0, result.stderr
    named = {(f["task"], f["level"]) for f in json.loads(result.stdout) if f["code"] == "preview.no-pod"}
    assert named == {(name, "info") for name in _NO_POD_TASKS}


def test_flytekits_log_lines_become_findings_never_lines_between_the_rows(no_pod_project):
    checked = _cli(no_pod_project, "check", "nopod", "-o", "json")
    assert checked.returncode == 0, checked.stderr
    logged = [f for f in json.loads(checked.stdout) if f["code"] == "flytekit.log"]
    assert len(logged) == 1 and logged[0]["level"] == "warning"
    assert "Requests overridden on node" in logged[0]["message"] and logged[0]["source"].startswith("flytekit node.py")
    table = _cli(no_pod_project, "preview", "nopod")
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert not [line for line in lines + table.stderr.splitlines() if line.startswith("WARNING")]
    last_row = max(i for i, line in enumerate(lines) if line.startswith("└"))
    (at,) = [i for i, line in enumerate(lines) if "flytekit.log" in line]
    assert at > last_row and "Requests overridden on node" in lines[at]
