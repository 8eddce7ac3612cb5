"""A task flyteadmin or flytepropeller refuses never runs: the preview shows the refusals, and no later step's
change (a clamp of the very value refused, a toleration, a preflight check) as if the pod would run."""

import json

import pytest
import yaml
from click.testing import CliRunner
from flyteidl.admin import task_pb2
from flyteidl.core import identifier_pb2, tasks_pb2
from hypothesis import given
from hypothesis import strategies as st

from flytekitplugins.resources.cli import main
from flytekitplugins.resources.platform import Platform, TaskResources, TaskResourceSet
from flytekitplugins.resources.preflight import preflight
from flytekitplugins.resources.preflight.nodefit import parse_node_groups
from flytekitplugins.resources.preflight.policy import Policy
from flytekitplugins.resources.preview import is_refusal, preview_entities
from flytekitplugins.resources.quantity import Quantity

R = tasks_pb2.Resources


def _task(name="wf.t", requests=(), limits=(), shm=None):
    t = tasks_pb2.TaskTemplate(id=identifier_pb2.Identifier(resource_type=1, name=name), type="python-task")
    t.metadata.runtime.version = "1.16.0"
    t.container.image = "img"
    t.interface.SetInParent()
    for n, v in requests:
        t.container.resources.requests.add(name=n, value=v)
    for n, v in limits:
        t.container.resources.limits.add(name=n, value=v)
    if shm is not None:
        t.extended_resources.shared_memory.CopyFrom(shm)
    return task_pb2.TaskSpec(template=t)


def _platform(cpu_limit="4"):
    limits = TaskResourceSet(cpu=Quantity.parse(cpu_limit), memory=Quantity.parse("8Gi"))
    defaults = TaskResourceSet(cpu=Quantity.parse("500m"), memory=Quantity.parse("1Gi"))
    return Platform(task_resources=TaskResources(defaults=defaults, limits=limits))


def test_a_request_flyteadmin_refuses_is_not_also_lowered():
    (p,) = preview_entities([_task(requests=[(R.CPU, "8")], limits=[(R.CPU, "8")])], _platform())
    codes = [f.code for f in p.findings]
    assert p.refused and p.refused_by() == ["flyteadmin"]
    assert "admin.request-above-platform-limit" in codes and "admin.limit-above-platform-limit" in codes
    # the contradiction the preview used to print: the same 8 cpu refused, then "lowered to 4" and "clamped"
    assert not [c for c in codes if c.endswith(("-lowered", "-clamped"))]
    assert all(is_refusal(f) for f in p.findings)


def test_the_same_task_within_the_limit_runs_and_its_changes_are_shown():
    (p,) = preview_entities([_task(requests=[(R.CPU, "8")])], _platform(cpu_limit="16"))
    assert not p.refused and p.refused_by() == []
    assert "admin.default-limit" in [f.code for f in p.findings]


def test_flytepropeller_refusing_keeps_flyteadmins_execution_defaults_and_drops_its_own_notes():
    shm = tasks_pb2.SharedMemory(mount_path="/dev/shm")  # no mount name: flytepropeller fails the task
    (p,) = preview_entities([_task(requests=[(R.CPU, "1")], shm=shm)], _platform())
    assert p.refused and p.refused_by() == ["flytepropeller"]
    codes = [f.code for f in p.findings]
    assert "propeller.shared-memory" in codes and "admin.default-limit" in codes  # admin did run: the execution
    assert not [f for f in p.findings if f.code.startswith("propeller.") and f.level != "error"]
    assert not [f for f in p.findings if f.code.startswith("k8s.")]


def test_both_refusals_are_kept():
    shm = tasks_pb2.SharedMemory(mount_path="/dev/shm")
    (p,) = preview_entities([_task(requests=[(R.CPU, "8")], shm=shm)], _platform())
    assert p.refused_by() == ["flyteadmin", "flytepropeller"]
    assert {f.code for f in p.findings} == {"admin.request-above-platform-limit", "propeller.shared-memory"}


def test_preflight_skips_a_refused_task():
    groups = parse_node_groups({"nodeGroups": [{"name": "tiny", "allocatable": {"cpu": "100m", "pods": "10"}}]},
                               "nodes.yaml")
    previews = preview_entities([_task("wf.no", requests=[(R.CPU, "8")]), _task("wf.yes", requests=[(R.CPU, "1")])],
                                _platform())
    no, yes = preflight(previews, Policy(source="test", node_groups=groups), _platform())
    assert no.refused and not [f for f in no.findings if f.code.startswith("nodefit.")]
    assert any(f.code == "nodefit.no-fit" for f in yes.findings)


@given(request=st.integers(1, 20_000), limit=st.one_of(st.none(), st.integers(1, 20_000)),
       platform=st.integers(1, 20_000))
def test_a_preview_is_refused_or_runs_never_both(request, limit, platform):
    task = _task(requests=[(R.CPU, f"{request}m")], limits=[(R.CPU, f"{limit}m")] if limit else [])
    (p,) = preview_entities([task], _platform(cpu_limit=f"{platform}m"))
    errors = [f for f in p.findings if f.level == "error"]
    if p.refused:
        assert errors and all(is_refusal(f) for f in p.findings)  # only the refusals: nothing lowered or added
    else:
        assert not [f for f in errors if is_refusal(f)]
        cpu = Quantity.parse(p.pod["spec"]["containers"][0]["resources"]["requests"]["cpu"])
        assert cpu <= Quantity.parse(f"{platform}m")


# --------------------------------------------------------------------------------------------- the CLI
@pytest.fixture
def package(tmp_path):
    folder = tmp_path / "pkg"
    folder.mkdir()
    (folder / "0_wf.big_1.pb").write_bytes(_task("wf.big", [(R.CPU, "8")], [(R.CPU, "8")]).SerializeToString())
    (folder / "1_wf.small_1.pb").write_bytes(_task("wf.small", [(R.CPU, "1")]).SerializeToString())
    platform = tmp_path / "platform.yaml"
    platform.write_text("task_resources:\n  limits:\n    cpu: 4\n    memory: 8Gi\n")
    return folder, platform


def _run(*args):
    try:
        runner = CliRunner(mix_stderr=False)
    except TypeError:
        runner = CliRunner()
    return runner.invoke(main, list(args), catch_exceptions=False)


def test_the_table_shows_a_refused_task_as_refused_not_with_clamped_values(package):
    folder, platform = package
    result = _run("preview", str(folder), "--platform", str(platform))
    assert result.exit_code == 1
    (row,) = [line for line in result.stdout.splitlines() if "wf.big" in line and "│" in line]
    assert "refused by flyteadmin" in row and "cpu=4" not in row and "cpu=8" not in row
    (small,) = [line for line in result.stdout.splitlines() if "wf.small" in line and "│" in line]
    assert "cpu=1" in small
    assert "task 'wf.big': requests.cpu='8' is above the platform limit '4'" in result.stdout
    assert "lowered" not in result.stdout and "clamped" not in result.stdout


def test_json_and_yaml_say_the_pod_is_never_created(package):
    folder, platform = package
    out = json.loads(_run("preview", str(folder), "--platform", str(platform), "-o", "json").stdout)
    assert [(p["task"], p.get("refused", False)) for p in out] == [("wf.big", True), ("wf.small", False)]
    text = _run("preview", str(folder), "--platform", str(platform), "-o", "yaml").stdout
    assert text.startswith("# task 'wf.big': refused by flyteadmin; Flyte never creates this pod\n")
    assert [d["kind"] for d in yaml.safe_load_all(text)] == ["Pod", "Pod"]
    assert text.count("never creates") == 1


def test_tasks_sharing_a_preview_share_its_refusal_and_each_finding_names_its_own_task():
    from flytekitplugins.resources.recommend.engine import preview_distinct

    specs = {name: _task(name, [(R.CPU, "8")]) for name in ("wf.a", "wf.b")}
    out = preview_distinct(specs, [], _platform(), None, "flytesnacks", "development")
    assert [(p.task, p.refused) for p in out] == [("wf.a", True), ("wf.b", True)]
    assert all(f.task == p.task and f.text().startswith(f"task '{p.task}'") for p in out for f in p.findings)
