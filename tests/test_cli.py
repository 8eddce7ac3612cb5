"""flyte-resources: exit statuses, output shapes, and one clear line for every unreadable input."""

import io
import json
import tarfile

import pytest
import yaml
from click.testing import CliRunner

from flytekitplugins.resources.cli import main
from flytekitplugins.resources.findings import Finding
from flytekitplugins.resources.preview import propeller

from .helpers import task_node as _task_node
from .helpers import task_spec as _task
from .helpers import workflow_spec as _workflow


@pytest.fixture
def package(tmp_path):
    """A folder as pyflyte package writes it: one task within the default platform limits, one above them."""
    folder = tmp_path / "pkg"
    folder.mkdir()
    (folder / "0_wf.small_1.pb").write_bytes(_task("wf.small", cpu="1").SerializeToString())
    (folder / "1_wf.big_1.pb").write_bytes(_task("wf.big", cpu="8").SerializeToString())
    (folder / "2_wf.main_2.pb").write_bytes(
        _workflow("wf.main", _task_node("n0", "wf.small", cpu="500m")).SerializeToString())
    return folder


@pytest.fixture
def builder(monkeypatch):
    def fake(template, platform, *, overrides=None, interruptible=False, task=None, node=None, namespace=None):
        names = {1: "cpu", 2: "gpu", 3: "memory", 4: "storage", 5: "ephemeral-storage"}
        requests = {names[e.name]: e.value for e in template.container.resources.requests}
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"namespace": namespace},
               "spec": {"containers": [{"name": "primary", "image": "img", "resources": {"requests": requests}}]}}
        return [propeller.BuiltPod(pod, [Finding("info", "test.built", f"built {task}")])]

    monkeypatch.setattr(propeller, "build_pods", fake)


def _runner():
    try:  # click < 8.2 mixes stderr into stdout unless told not to; 8.2 always keeps them apart
        return CliRunner(mix_stderr=False)
    except TypeError:
        return CliRunner()


def _run(*args):
    return _runner().invoke(main, list(args), catch_exceptions=False)


def test_json_output_is_a_list_of_task_node_pod_findings(package, builder):
    result = _run("preview", str(package), "--output", "json")
    out = json.loads(result.stdout)
    assert [(p["task"], p["node"]) for p in out] == [("wf.small", None), ("wf.big", None), ("wf.small", "wf.main/n0")]
    assert out[0]["pod"]["kind"] == "Pod"
    assert {"level", "code", "message"} <= set(out[1]["findings"][0])
    assert result.exit_code == 1  # wf.big asks for 8 cpu; flyteadmin's default platform limit is 2


def test_exit_status_is_zero_without_errors(package, builder, tmp_path):
    platform = tmp_path / "platform.yaml"
    platform.write_text("task_resources:\n  limits:\n    cpu: 16\n    memory: 64Gi\n")
    result = _run("preview", str(package), "--platform", str(platform), "--output", "json")
    assert result.exit_code == 0, result.output
    assert not any(f["level"] == "error" for p in json.loads(result.stdout) for f in p["findings"])


def test_yaml_output_is_one_pod_manifest_per_document(package, builder):
    docs = list(yaml.safe_load_all(_run("preview", str(package), "-o", "yaml").stdout))
    assert [d["kind"] for d in docs] == ["Pod"] * 3


def test_table_names_tasks_nodes_and_findings(package, builder):
    result = _run("preview", str(package), "--task", "small")
    assert "wf.small" in result.stdout and "wf.main/n0" in result.stdout and "wf.big" not in result.stdout
    assert "test.built" in result.stdout
    assert result.exit_code == 0


def test_check_lists_errors_and_warnings_not_notes(package, builder):
    result = _run("check", str(package), "--output", "json")
    codes = {f["code"] for f in json.loads(result.stdout)}
    assert "admin.request-above-platform-limit" in codes and "test.built" not in codes
    assert result.exit_code == 1


def _corrupt(tmp_path):
    bad = tmp_path / "bad.tgz"
    bad.write_bytes(b"not a tarball")
    return bad


def _bad_member(tmp_path):
    path = tmp_path / "member.tgz"
    with tarfile.open(path, "w:gz") as tar:
        data = b"\xff\xff\xff"
        info = tarfile.TarInfo("0_wf.x_1.pb")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return path


@pytest.mark.parametrize("command", ["preview", "check"])
@pytest.mark.parametrize(
    "make, words",
    [
        (lambda tmp: tmp / "missing.tgz", ["missing.tgz", "no such file"]),
        (_corrupt, ["bad.tgz", "not a pyflyte package"]),
        (_bad_member, ["member.tgz", "0_wf.x_1.pb"]),
        (lambda tmp: "no_such_module_anywhere", ["no_such_module_anywhere", "no such module"]),
    ],
)
def test_an_unreadable_target_is_one_line_and_exit_2(tmp_path, command, make, words, builder):
    result = _run(command, str(make(tmp_path)))
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in result.output
    assert all(w in lines[0] for w in words)


@pytest.mark.parametrize(
    "content, words",
    [
        ("plugins:\n  k8s:\n    default-cpu: 1\n", ["platform.yaml", "default-cpu"]),
        ("task_resources:\n  limits:\n    cpu: 2GB\n", ["platform.yaml", "task_resources.limits.cpu"]),
        ("plugins: [\n", ["platform.yaml"]),
    ],
)
def test_a_bad_platform_file_is_one_line_and_exit_2(package, tmp_path, content, words, builder):
    platform = tmp_path / "platform.yaml"
    platform.write_text(content)
    result = _run("preview", str(package), "--platform", str(platform))
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and all(w in lines[0] for w in words), lines


def test_an_unknown_task_is_exit_2(package, builder):
    result = _run("preview", str(package), "--task", "nope")
    assert result.exit_code == 2 and "nope" in result.stderr


def test_report_is_the_report_module(package):
    result = _run("report", str(package))
    assert result.exit_code == 0 and "wf.big" in result.stdout


def test_a_note_many_pods_share_is_printed_once_with_its_count():
    import io

    from rich.console import Console

    from flytekitplugins.resources.cli.render import render_findings

    notes = [Finding("info", "propeller.default-labels", "metadata: label team=ml is added", task=f"t{i}")
             for i in range(4)]
    rare = [Finding("info", "propeller.toleration", "tolerations: x is added", task=f"t{i}")
            for i in range(2)]
    warning = Finding("warning", "propeller.limit-clamped", "limits.cpu='8' is changed to '4'", task="t0")
    out = io.StringIO()
    render_findings(notes + rare + [warning], Console(file=out, width=200))
    text = out.getvalue()
    assert text.count("metadata: label team=ml is added") == 1 and "4 pods: metadata: label team=ml" in text
    assert text.count("tolerations: x is added") == 2  # fewer than three pods: each is printed
    assert "limits.cpu='8' is changed to '4'" in text
    assert text.strip().endswith("0 errors, 1 warnings, 3 notes")


@pytest.mark.parametrize(
    "files, words",
    [
        ({"policy.toml": "max-gpus-per-task = -1\n"}, ["policy.toml", "max-gpus-per-task"]),
        ({"policy.toml": "cluster = ['limits.yaml']\n", "limits.yaml": "kind: LimitRange\nmetadata: {name: x}\n"
          "spec: {limits: [{type: Container, max: {cpu: 2GB}}]}\n"}, ["limits.yaml", "max.cpu"]),
        ({"policy.toml": "node-groups = ['nodes.yaml']\n", "nodes.yaml": "nodeGroups: [{name: a, allocatable: 7}]\n"},
         ["nodes.yaml", "nodeGroups[0].allocatable"]),
        ({"policy.toml": "scopes = [\n"}, ["policy.toml", "TOML"]),
        ({}, ["policy.toml", "no such policy file"]),
        ({"policy.toml": "cluster = ['ds.yaml']\n", "ds.yaml": "kind: List\nitems:\n- {kind: DaemonSet, metadata: "
          "{name: x}, spec: {template: {spec: {containers: [{resources: {limits: {cpu: lots}}}]}}}}\n"},
         ["ds.yaml", "items[0].spec.template.spec.containers[0].resources.limits.cpu"]),
    ],
    ids=["bad-rule", "bad-limit-range", "bad-node-group", "bad-toml", "missing", "bad-daemonset"],
)
def test_a_bad_policy_is_one_line_and_exit_2(package, tmp_path, files, words, builder, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    for command in ("preview", "check"):
        result = _run(command, str(package), "--policy", "policy.toml")
        assert result.exit_code == 2, result.output
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and all(w in lines[0] for w in words), lines


def test_a_policy_adds_the_preflight_findings_and_no_policy_leaves_them_out(package, tmp_path, builder, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "nodes.yaml").write_text("nodeGroups: [{name: tiny, allocatable: {cpu: 100m, pods: '10'}}]\n")
    (tmp_path / "pyproject.toml").write_text("[tool.flytekitplugins-resources]\nnode-groups = ['nodes.yaml']\n"
                                             "project = 'ml'\n")
    found = json.loads(_run("preview", str(package), "-o", "json").stdout)  # the pyproject policy, found
    assert {p["pod"]["metadata"]["namespace"] for p in found} == {"ml-development"}
    # every pod that reaches the cluster is checked; wf.big, which flyteadmin refuses, never does
    assert all(any(f["code"] == "nodefit.no-fit" for f in p["findings"]) for p in found if not p.get("refused"))
    assert [p["task"] for p in found if p.get("refused")] == ["wf.big"]
    plain = json.loads(_run("preview", str(package), "-o", "json", "--no-policy").stdout)
    assert not any(f["code"].startswith("nodefit.") for p in plain for f in p["findings"])
    checked = _run("check", str(package), "-o", "json", "--domain", "production")
    assert checked.exit_code == 1 and any(f["code"] == "nodefit.no-fit" for f in json.loads(checked.stdout))


# --- one CLI: the same exit status for the same situation, click's own exceptions, help for everything -------


@pytest.mark.parametrize("command", ["preview", "check", "report"])
@pytest.mark.parametrize("make, words", [
    (lambda tmp: tmp / "missing.tgz", ["missing.tgz", "no such file"]),
    (_corrupt, ["bad.tgz", "not a pyflyte package"]),
    (_bad_member, ["member.tgz", "0_wf.x_1.pb"]),
], ids=["missing", "corrupt", "bad-member"])
def test_every_command_gives_an_unreadable_package_one_line_and_exit_2(tmp_path, command, make, words):
    result = _run(command, str(make(tmp_path)))
    assert result.exit_code == 2, (result.stdout, result.stderr)
    errors = [line for line in result.stderr.strip().splitlines() if not line.startswith("note: ")]
    assert len(errors) == 1 and errors[0].startswith("error: ") and all(w in errors[0] for w in words), errors
    assert "Traceback" not in result.output


@pytest.mark.parametrize("args, status", [
    (["preview", "MISSING"], 2),
    (["check", "MISSING"], 2),
    (["report", "MISSING"], 2),
    (["preview", "PACKAGE", "--task", "nope"], 2),
])
def test_commands_raise_clicks_own_exceptions_when_embedded(package, tmp_path, args, status):
    """Called with standalone_mode=False (as a tool embedding the group does), a command raises a ClickException
    carrying the exit status instead of ending the process."""
    import click

    args = [str(tmp_path / "missing.tgz") if a == "MISSING" else str(package) if a == "PACKAGE" else a for a in args]
    with pytest.raises(click.ClickException) as info:
        main.main(args, standalone_mode=False)
    assert info.value.exit_code == status


def test_an_error_finding_is_exit_1_through_clicks_exit(package, builder, tmp_path):
    # click turns its Exit into the return value when not standalone: 1 for wf.big's 8 cpu (above flyteadmin's
    # default platform limit of 2), 0 with a platform that allows it
    assert main.main(["check", str(package), "-o", "json"], standalone_mode=False) == 1
    platform = tmp_path / "platform.yaml"
    platform.write_text("task_resources:\n  limits:\n    cpu: 16\n    memory: 64Gi\n")
    assert main.main(["check", str(package), "-o", "json", "--platform", str(platform)], standalone_mode=False) == 0


def test_version_is_the_packages_version():
    import importlib.metadata

    import flytekitplugins.resources as plugin

    result = _run("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"flyte-resources {plugin.__version__}"
    assert plugin.__version__ == importlib.metadata.version("flytekitplugins-resources")


def _commands():
    return [(name, command) for name, command in main.commands.items()]


@pytest.mark.parametrize("name, command", _commands(), ids=[n for n, _ in _commands()])
def test_every_option_has_help_text(name, command):
    for param in command.params:
        if param.param_type_name == "option":
            assert (param.help or "").strip(), f"{name} {param.opts}: no help text"


@pytest.mark.parametrize("args", [["--help"], ["preview", "--help"], ["check", "--help"]])
def test_help_explains_what_target_can_be(args):
    result = _run(*args)
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert "TARGET is one of" in text and "`pyflyte package` archive" in text and "folder of its .pb files" in text
    assert "importable modules or packages" in text
    assert "Exit status" in text


def test_report_help_says_what_package_is():
    text = " ".join(_run("report", "--help").stdout.split())
    assert "PACKAGE is a `pyflyte package` archive" in text and "Exit status" in text


# --- Flyte's built-in defaults are named once, at the top ---------------------------------------------------


def test_without_a_platform_the_builtin_defaults_are_named_once_at_the_top(package, builder):
    table = _run("preview", str(package))
    first = table.stdout.splitlines()[0]
    assert first.startswith("note: no platform configuration given: Flyte's built-in defaults are in use")
    assert "cpu 2, memory 1Gi" in first and "--platform FILE" in first
    assert table.stdout.count("built-in defaults") == 1
    machine = _run("preview", str(package), "-o", "json")
    json.loads(machine.stdout)  # stdout stays JSON: the note is on stderr
    assert machine.stderr.count("built-in defaults are in use") == 1
    checked = _run("check", str(package))
    assert checked.stdout.splitlines()[0].startswith("note: no platform configuration given")


def test_with_a_platform_there_is_no_defaults_note(package, builder, tmp_path):
    platform = tmp_path / "platform.yaml"
    platform.write_text("task_resources:\n  limits:\n    cpu: 16\n")
    for args in (["preview", str(package)], ["check", str(package)], ["preview", str(package), "-o", "json"]):
        result = _run(*args, "--platform", str(platform))
        assert "built-in defaults" not in result.stdout + result.stderr


# --- a task Flyte runs without a pod ------------------------------------------------------------------------


def _podless(name, task_type):
    from flyteidl.admin import task_pb2
    from flyteidl.core import identifier_pb2, tasks_pb2

    t = tasks_pb2.TaskTemplate(id=identifier_pb2.Identifier(resource_type=1, name=name), type=task_type)
    t.metadata.runtime.version = "1.16.0"
    t.interface.SetInParent()
    return task_pb2.TaskSpec(template=t)


@pytest.fixture
def mixed(tmp_path):
    """A package with an echo task, a sensor, a container task and a workflow overriding both kinds."""
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "0_echo_1.pb").write_bytes(_podless("echo", "echo").SerializeToString())
    (folder / "1_sensor_1.pb").write_bytes(_podless("sensor", "sensor").SerializeToString())
    (folder / "2_wf.small_1.pb").write_bytes(_task("wf.small", cpu="1").SerializeToString())
    (folder / "3_wf.main_2.pb").write_bytes(_workflow(
        "wf.main", _task_node("n0", "wf.small", cpu="500m"), _task_node("n1", "echo", cpu="2")).SerializeToString())
    return folder


def test_a_task_without_a_pod_is_listed_once_and_the_others_are_previewed(mixed):
    result = _run("preview", str(mixed), "-o", "json")
    assert result.exit_code == 0, result.stderr
    out = {(p["task"], p["node"]): p for p in json.loads(result.stdout)}
    assert set(out) == {("echo", None), ("sensor", None), ("wf.small", None), ("wf.small", "wf.main/n0")}
    for name, task_type in (("echo", "echo"), ("sensor", "sensor")):
        assert out[(name, None)]["pod"] is None
        (finding,) = out[(name, None)]["findings"]
        assert finding["level"] == "info" and finding["code"] == "preview.no-pod" and finding["task"] == name
        assert f"task type '{task_type}' does not run in a pod" in finding["message"]
    assert out[("wf.small", None)]["pod"]["kind"] == "Pod"


def test_the_table_has_a_row_for_a_task_without_a_pod_and_check_names_it(mixed):
    table = _run("preview", str(mixed))
    rows = [line for line in table.stdout.splitlines() if line.startswith("│")]
    assert any("echo" in r and "not run in a pod" in r for r in rows)
    assert sum("preview.no-pod" in line for line in table.stdout.splitlines()) == 2
    assert table.exit_code == 0
    yaml_docs = list(yaml.safe_load_all(_run("preview", str(mixed), "-o", "yaml").stdout))
    assert [d["kind"] for d in yaml_docs] == ["Pod", "Pod"]  # the container task and its overridden node
    checked = _run("check", str(mixed), "-o", "json")
    assert checked.exit_code == 0
    assert [(f["task"], f["level"]) for f in json.loads(checked.stdout) if f["code"] == "preview.no-pod"] == [
        ("echo", "info"), ("sensor", "info")]


def test_a_policy_leaves_a_task_without_a_pod_alone(mixed, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "nodes.yaml").write_text("nodeGroups: [{name: big, allocatable: {cpu: '8', memory: 8Gi, pods: '9'}}]\n")
    (tmp_path / "policy.toml").write_text("node-groups = ['nodes.yaml']\n")
    result = _run("preview", str(mixed), "-o", "json", "--policy", "policy.toml")
    assert result.exit_code == 0, result.stderr
    out = {(p["task"], p["node"]): p for p in json.loads(result.stdout)}
    assert [f["code"] for f in out[("echo", None)]["findings"]] == ["preview.no-pod"]
    assert any(f["code"] == "nodefit.fits" for f in out[("wf.small", None)]["findings"])


# --- flytekit's own log lines become findings ---------------------------------------------------------------


def test_flytekits_log_lines_become_findings_and_are_not_printed(capfd):
    import logging

    from flytekit.loggers import logger

    from flytekitplugins.resources.cli.load import capture_flytekit_log

    handlers = list(logger.handlers)
    found = []
    with capture_flytekit_log(found):
        logger.warning("Requests overridden on node n0 without specifying limits. Requests are clamped.")
        logger.warning("Requests overridden on node n0 without specifying limits. Requests are clamped.")
        logging.getLogger("flytekit.core.node").error("something %s", "odd")
        logger.info("not a finding")
    out, err = capfd.readouterr()
    assert "Requests overridden" not in out + err and "odd" not in out + err
    assert [(f.level, f.code) for f in found] == [("warning", "flytekit.log")] * 2
    assert "Requests are clamped" in found[0].message and found[1].message == "flytekit logged: something odd"
    assert found[0].source.startswith("flytekit test_cli.py:")
    assert list(logger.handlers) == handlers  # flytekit's handlers are back
