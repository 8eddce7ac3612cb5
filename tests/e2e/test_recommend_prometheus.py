"""flyte-resources recommend against a real Prometheus loaded with a generated 13-day history of Flyte pods.

The expected numbers are computed here from the generator's inputs with the README's rules, not read from the
code under test.
"""

import json
import math
import os
import pathlib
import time
from collections import OrderedDict
from fractions import Fraction

import pytest
from click.testing import CliRunner
from flytekit import Resources, task, workflow

from flytekitplugins.resources.accelerators import CATALOG
from tests.e2e import prometheus as prom

from ..helpers import SETTINGS

pytestmark = pytest.mark.skipif(not prom.available(), reason=prom.MISSING)

MI, GI = 1 << 20, 1 << 30
HERE = __name__  # the tasks' module, as flytekit names them
PLATFORM = str(pathlib.Path(__file__).resolve().parents[2] / "examples" / "platform" / "flyte.yaml")


@task(requests=Resources(cpu="2", mem="4Gi"), limits=Resources(cpu="4", mem="4Gi"))
def etl(n: int) -> int:
    return n


@task(requests=Resources(cpu="1", mem="2Gi"), limits=Resources(mem="2Gi"))
def crunch(n: int) -> int:
    return n


@task(resources=Resources(gpu="A100 80G:1", cpu="4", mem="16Gi"))
def embed(n: int) -> int:
    return n


@task(requests=Resources(cpu="1", mem="1Gi"))
def idle(n: int) -> int:
    return n


@workflow
def nightly(n: int = 1) -> int:
    a = etl(n=n)
    b = etl(n=a).with_overrides(requests=Resources(cpu="2", mem="8Gi"), limits=Resources(cpu="4", mem="8Gi"))
    c = crunch(n=b)
    d = embed(n=c)
    return idle(n=d)


def _label(name: str) -> str:  # flytepropeller's SanitizeLabelValue for these (short, lower-case) names
    return name.lower().replace(".", "-").replace("_", "-")


END = int(time.time()) // 60 * 60 - 1800  # half an hour ago: inside the retention window, not in the future
DAY = 86400


def _labels(task_name: str, node: str, execution: str, project: str = "ml"):
    return {"label_project": project, "label_domain": "development", "label_task_name": _label(f"{HERE}.{task_name}"),
            "label_workflow_name": _label(f"{HERE}.nightly"), "label_node_id": node,
            "label_execution_id": execution}


# (task, node, execution, days before END, cores, memory peak, spike, oom, gpu MiB)
RUNS = [
    ("etl", "n0", "e1", 12, 0.37, 700 * MI, 100, False, None),
    ("etl", "n0", "e2", 6, 0.52, 1300 * MI, None, False, None),
    ("etl", "n0", "e3", 2, 0.44, 1100 * MI, 50, False, None),
    ("etl", "n1", "e1", 12, 1.13, 5 * GI + 300 * MI, None, False, None),
    ("etl", "n1", "e2", 6, 0.91, 4 * GI, 70, False, None),
    ("crunch", "n2", "e1", 12, 0.8, 1900 * MI, None, False, None),
    ("crunch", "n2", "e2", 6, 0.8, 2 * GI, None, True, None),
    ("embed", "n3", "e1", 12, 2.6, 6 * GI, None, False, 7000),
    ("embed", "n3", "e2", 6, 2.2, 5 * GI, None, False, 5200),
]


def _pods():
    pods = []
    for i, (t, node, ex, days, cores, mem, spike, oom, gpu) in enumerate(RUNS):
        pods.append(prom.Pod(f"{ex}-{node}-0-{i}", _labels(t, node, ex), END - days * DAY, 240, cores, mem,
                             spike_minute=spike, oom_killed=oom, gpu_mib_peak=gpu,
                             extra_containers={"POD": 50 * GI} if i == 0 else {}))
    pods.append(prom.Pod("not-flyte", {}, END - 3 * DAY, 240, 7.0, 300 * GI))  # no Flyte labels: ignored
    pods.append(prom.Pod("other-project", _labels("etl", "n0", "e9", project="other"), END - DAY, 240, 9.0, 40 * GI))
    return pods


@pytest.fixture(scope="session")
def prometheus_server(tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp("prom-history"))
    server = prom.Server.start(prom.write_history_files(_pods(), workdir), os.path.join(workdir, "server"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def entities():
    from flyteidl.admin import task_pb2, workflow_pb2
    from flytekit.tools.translator import get_serializable

    mapping = OrderedDict()
    get_serializable(mapping, SETTINGS, nightly)
    out = [m.to_flyte_idl() for m in mapping.values()]
    return [e for e in out if isinstance(e, (task_pb2.TaskSpec, workflow_pb2.WorkflowSpec))]


# --- the rules, from the README -----------------------------------------------------------------------------
def mem_rounded(n: int) -> int:
    step = 64 * MI if n < GI else 256 * MI if n < 8 * GI else GI if n < 64 * GI else 4 * GI
    return -(-n // step) * step


def mem_text(n: int) -> str:
    return f"{n // GI}Gi" if n % GI == 0 else f"{n // MI}Mi"


def cpu_text(cores: float) -> str:
    milli = max(100, math.ceil(Fraction(str(cores)) * 10) * 100)
    return str(milli // 1000) if milli % 1000 == 0 else f"{milli}m"


def expected_memory(peak: int, oom_limit: int = 0) -> str:
    base = Fraction(max(peak, oom_limit)) * Fraction(5, 4) if oom_limit else Fraction(peak)
    return mem_text(mem_rounded(math.ceil(base * Fraction(115, 100))))


def _runs(task_name, nodes):
    return [r for r in RUNS if r[0] == task_name and r[1] in nodes]


@pytest.fixture(scope="module")
def report(prometheus_server, entities):
    from flytekitplugins.resources.platform import load_platform
    from flytekitplugins.resources.recommend.engine import recommend
    from flytekitplugins.resources.recommend.prometheus import fetch_usage

    usages = fetch_usage(prometheus_server.url, "14d", labels={"project": "ml"}, at=END)
    return recommend(entities, usages, load_platform([PLATFORM], []), project="ml", domain="development")


def _row(report, task_name, node=None):
    return next(r for r in report.rows if r.task == f"{HERE}.{task_name}" and r.node == node)


def test_memory_is_the_peak_plus_margin_and_cpu_the_p95_for_the_task_pods_without_overrides(report):
    row = _row(report, "etl")
    runs = _runs("etl", {"n0"})
    assert row.usage.runs == len(runs)  # the other project's pod is filtered out, the override node's are its own
    assert row.usage.memory_peak_bytes == max(r[5] for r in runs)  # the POD container's 50Gi is not the task's
    assert row.recommendation.requests["mem"] == expected_memory(max(r[5] for r in runs))
    assert row.recommendation.limits["mem"] == row.recommendation.requests["mem"]
    # one-minute spikes (5x) move the peak, not the p95 of a 4-hour run's 5-minute rates
    assert row.recommendation.requests["cpu"] == cpu_text(max(r[4] for r in runs))
    spiked = max(r[4] for r in runs if r[6] is not None)
    assert 1.5 * spiked <= row.usage.cpu_peak_cores <= 2.2 * spiked
    assert row.recommendation.limits["cpu"] == cpu_text(row.usage.cpu_peak_cores)
    assert "p95" in row.recommendation.reasons["requests.cpu"] and "15%" in row.recommendation.reasons["requests.mem"]
    assert not row.refused


def test_a_node_with_overrides_is_sized_from_its_own_pods(report):
    row = _row(report, "etl", f"{HERE}.nightly/n1")
    runs = _runs("etl", {"n1"})
    assert row.usage.runs == len(runs)
    assert row.recommendation.node == "n1" and row.recommendation.workflow == f"{HERE}.nightly"
    assert row.recommendation.requests == {"cpu": cpu_text(max(r[4] for r in runs)),
                                           "mem": expected_memory(max(r[5] for r in runs))}


def test_an_oom_kill_raises_memory_above_the_killed_limit(report):
    row = _row(report, "crunch")
    assert row.usage.oom_kills == 1
    expected = expected_memory(max(r[5] for r in _runs("crunch", {"n2"})), oom_limit=2 * GI)
    assert row.recommendation.requests["mem"] == row.recommendation.limits["mem"] == expected
    assert "OOM" in row.recommendation.reasons["requests.mem"]


def test_a_gpu_using_a_fraction_of_its_memory_is_pointed_to_the_mig_profile_it_fits(report):
    row = _row(report, "embed")
    peak = max(r[8] for r in _runs("embed", {"n3"})) * MI
    assert row.usage.gpu_memory_peak_bytes == peak
    need = peak * 115 / 100
    profiles = sorted((int(p.split(".")[1][:-2]), p) for p in CATALOG["A100 80GB"].partitions if "+" not in p)
    fitting = [p for gb, p in profiles if gb * 10**9 >= need and gb < profiles[-1][0]]
    assert row.recommendation.accelerator == f"A100 80GB MIG {fitting[0]}"


def test_a_task_without_history_is_listed_without_advice(report):
    row = _row(report, "idle")
    assert row.recommendation is None and row.note == "no usage in the window"


def test_a_handful_of_queries_answer_for_every_task(prometheus_server):
    from flytekitplugins.resources.recommend.prometheus import QUERIES, fetch_usage

    calls = []
    usages = fetch_usage(prometheus_server.url, "14d", at=END, progress=calls.append)
    assert calls == [name for name, _ in QUERIES]
    projects = {u.task for u in usages}
    assert projects == {_label(f"{HERE}.{t}") for t in ("etl", "crunch", "embed")}
    # without the project filter the other project's pod counts too
    etl = next(u for u in usages if u.task.endswith("etl") and u.node == "n0")
    assert etl.runs == len(_runs("etl", {"n0"})) + 1


def test_a_short_window_sees_only_its_runs(prometheus_server):
    from flytekitplugins.resources.recommend.prometheus import fetch_usage

    usages = fetch_usage(prometheus_server.url, "4d", labels={"project": "ml"}, at=END)
    etl = next(u for u in usages if u.task.endswith("etl") and u.node == "n0")
    recent = [r for r in _runs("etl", {"n0"}) if r[3] < 4]
    assert etl.runs == len(recent) and etl.memory_peak_bytes == max(r[5] for r in recent)


def test_a_query_prometheus_refuses_is_one_line_naming_it(prometheus_server):
    from flytekitplugins.resources.recommend.history import UsageError
    from flytekitplugins.resources.recommend.prometheus import query

    with pytest.raises(UsageError) as e:
        query(prometheus_server.url, "max by (", name="memory")
    assert "refused the memory query" in str(e.value) and "bad_data" in str(e.value) and "\n" not in str(e.value)


# --- the command -----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def package(entities, tmp_path_factory):
    """The entities as a folder of .pb files, as pyflyte package writes them."""
    from flyteidl.admin import task_pb2, workflow_pb2

    out = tmp_path_factory.mktemp("pkg")
    for i, e in enumerate(entities):
        suffix = "_1.pb" if isinstance(e, task_pb2.TaskSpec) else "_2.pb" if isinstance(e, workflow_pb2.WorkflowSpec) \
            else "_3.pb"
        (out / f"{i}{suffix}").write_bytes(e.SerializeToString())
    return str(out)


def _cli(*args):
    from flytekitplugins.resources.cli import main

    try:  # click < 8.2 mixes stderr into stdout unless told not to; 8.2 always keeps them apart
        runner = CliRunner(mix_stderr=False)
    except TypeError:
        runner = CliRunner()
    return runner.invoke(main, ["recommend", *args], catch_exceptions=False)


def test_the_command_prints_json_and_markdown(prometheus_server, package):
    common = ["--prometheus", prometheus_server.url, "--project", "ml", "--no-policy", "--platform", PLATFORM]
    result = _cli(package, *common, "-o", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    by_task = {(r["task"], r["node"]): r for r in data["rows"]}
    crunch = by_task[(f"{HERE}.crunch", None)]
    assert crunch["change"]["requests"]["mem"] == expected_memory(
        max(r[5] for r in _runs("crunch", {"n2"})), oom_limit=2 * GI)
    assert by_task[(f"{HERE}.idle", None)]["note"] == "no usage in the window"
    md = _cli(package, *common, "-o", "markdown")
    assert md.exit_code == 0 and "| `" + f"{HERE}.crunch" + "` |" in md.stdout and "<details>" in md.stdout


@pytest.mark.parametrize("args, wanted", [
    (["--project", "nosuch"], "no usage of any Flyte task"),
    (["--since", "fortnight"], "--since 'fortnight': not a duration"),
])
def test_an_empty_window_or_a_bad_duration_is_one_line_and_status_2(prometheus_server, package, args, wanted):
    result = _cli(package, "--prometheus", prometheus_server.url, "--no-policy", *args)
    assert result.exit_code == 2
    assert wanted in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_server_that_is_not_prometheus_is_one_line_and_status_2(prometheus_server, package):
    result = _cli(package, "--prometheus", prometheus_server.url + "/not/here", "--no-policy")
    assert result.exit_code == 2 and "HTTP 404" in result.stderr and len(result.stderr.strip().splitlines()) == 1
