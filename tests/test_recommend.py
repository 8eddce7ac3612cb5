"""recommend: the rules, the records, the costs, the engine's checks and the command (records as the source)."""

import gzip
import json
import math
import pathlib
from collections import OrderedDict
from fractions import Fraction

import pytest
from click.testing import CliRunner
from flytekit import Resources, task, workflow
from hypothesis import given
from hypothesis import strategies as st

from flytekitplugins.resources.accelerators import CATALOG
from flytekitplugins.resources.quantity import Quantity, ResourceValidationError
from flytekitplugins.resources.recommend.cost import load_prices, pod_cost
from flytekitplugins.resources.recommend.history import (
    TaskUsage,
    UsageError,
    label_value,
    percentile,
    usage_from_records,
)
from flytekitplugins.resources.recommend.records import read_records
from flytekitplugins.resources.recommend.rules import (
    Rules,
    memory_text,
    mig_profile,
    round_cpu_milli,
    round_memory,
    size,
)
from flytekitplugins.resources.usage.record import GpuUsage, UsageRecord, format_line

from .helpers import SETTINGS

MI, GI = 1 << 20, 1 << 30
ROOT = pathlib.Path(__file__).resolve().parents[1]
PLATFORM = str(ROOT / "examples" / "platform" / "flyte.yaml")


# --- flytepropeller's label values ------------------------------------------------------------------------------
# utils.TestSanitizeLabelValue (flytepropeller/pkg/utils/k8s_test.go, v1.16.8), and task names as flytekit gives them
@pytest.mark.parametrize("name, label", [
    ("a.b.c", "a-b-c"), ("a.B.c", "a-b-c"), ("a.9.c", "a-9-c"), ("a-b-c", "a-b-c"), ("a-b-c/", "a-b-c"),
    ("a" * 63, "a" * 63), ("a" * 62 + ".", "a" * 62), ("a" * 63 + "b", "a" * 63), ("a" * 63 + ".", "a" * 63),
    ("workflows.basics.prepare", "workflows-basics-prepare"), ("my_mod.My__Task", "my-mod-my-task"),
    ("--x..y--", "x-y"),
])
def test_label_value_is_flytepropellers_sanitized_label(name, label):
    assert label_value(name) == label


@given(st.text(max_size=200))
def test_label_value_is_a_valid_label_value(name):
    out = label_value(name)
    assert len(out) <= 63 and all(c == "-" or c.isdigit() or "a" <= c <= "z" for c in out)
    assert not out.startswith("-") and not out.endswith("-")
    assert label_value(out) == out


# --- the rules ---------------------------------------------------------------------------------------------------
def _step(n):
    return 64 * MI if n < GI else 256 * MI if n < 8 * GI else GI if n < 64 * GI else 4 * GI


@given(st.integers(min_value=64 * MI, max_value=1 << 44))
def test_memory_rounds_up_to_the_step_of_its_size_and_reads_back_exactly(n):
    r = round_memory(n)
    assert n <= r < n + _step(n) and r % _step(n) == 0
    assert round_memory(r) == r  # a rounded value stays put
    assert Quantity.parse(memory_text(r)).as_decimal() == r


@given(st.floats(min_value=0, max_value=512, allow_nan=False))
def test_cpu_rounds_up_to_100m(cores):
    m = round_cpu_milli(cores)
    assert m % 100 == 0 and m >= 100
    assert m >= Fraction(repr(cores)) * 1000 - Fraction(1, 1000)
    assert m < max(100, Fraction(repr(cores)) * 1000) + 100


def test_a_rate_a_hair_above_a_step_stays_on_it():
    assert round_cpu_milli(0.4000000001) == 400 and round_cpu_milli(0.401) == 500


def _q(**kw):
    return {k: Quantity.parse(v) for k, v in kw.items()}


def test_memory_is_the_peak_plus_the_margin_request_equal_to_limit():
    u = TaskUsage("t", runs=3, memory_peak_bytes=3 * GI, cpu_p95_cores=0.8, cpu_peak_cores=1.7)
    s = size(u, _q(cpu="2", memory="8Gi"), _q(cpu="4", memory="8Gi"))
    expect = round_memory(math.ceil(3 * GI * Fraction(115, 100)))
    assert s.requests["mem"] == s.limits["mem"] == memory_text(expect)
    assert s.requests["cpu"] == "800m" and s.limits["cpu"] == "1700m"
    assert set(s.reasons) == {"requests.mem", "limits.mem", "requests.cpu", "limits.cpu"}


def test_the_margin_is_the_users():
    u = TaskUsage("t", runs=1, memory_peak_bytes=2 * GI)
    s = size(u, _q(memory="4Gi"), _q(memory="4Gi"), rules=Rules(memory_margin=0.5))
    assert s.requests["mem"] == "3Gi"


def test_an_oom_kill_starts_from_the_limit_plus_the_bump():
    u = TaskUsage("t", runs=4, memory_peak_bytes=1900 * MI, oom_kills=2)
    s = size(u, _q(memory="2Gi"), _q(memory="2Gi"))
    expect = round_memory(math.ceil(2 * GI * Fraction(125, 100) * Fraction(115, 100)))
    assert s.changed_requests["mem"] == memory_text(expect) and "2 OOM kills" in s.reasons["requests.mem"]


def test_no_cpu_limit_is_added_where_the_pod_has_none():
    u = TaskUsage("t", runs=1, memory_peak_bytes=GI, cpu_p95_cores=0.3, cpu_peak_cores=2.0)
    s = size(u, _q(cpu="1", memory="2Gi"), _q(memory="2Gi"))
    assert "cpu" not in s.limits and s.requests["cpu"] == "300m"


def test_only_changed_values_are_recommended_and_a_raised_request_takes_its_limit_along():
    u = TaskUsage("t", runs=1, memory_peak_bytes=890 * MI, cpu_p95_cores=3.3, cpu_peak_cores=3.0)
    s = size(u, _q(cpu="1", memory="1Gi"), _q(cpu="2", memory="1Gi"))
    assert "mem" not in s.changed_requests and "mem" not in s.changed_limits  # 890Mi + 15% = 1Gi: unchanged
    assert s.changed_requests["cpu"] == "3300m" and s.changed_limits["cpu"] == "3300m"  # never below the request


@pytest.mark.parametrize("model, used_gib", [("A100 80GB", 7.2), ("A100", 3.0), ("H100", 30.0), ("A100", 16.9)])
def test_the_smallest_mig_profile_that_holds_the_peak_plus_margin(model, used_gib):
    m = CATALOG[model]
    need = math.ceil(used_gib * GI * 1.15)
    sizes = {p: int(p.split(".")[1][:-2]) * 10**9 for p in m.partitions if "+" not in p}
    smaller = {p: b for p, b in sizes.items() if b < max(sizes.values()) and b >= need}
    got = mig_profile(m, need)
    assert got == (min(smaller, key=lambda p: (smaller[p], p)) if smaller else None)
    u = TaskUsage("t", runs=1, gpu_memory_peak_bytes=int(used_gib * GI))
    s = size(u, {}, {}, model=m, gpus=1)
    assert s.accelerator == (f"{m.name} MIG {got}" if got else None)
    assert size(u, {}, {}, model=m, gpus=2).accelerator is None  # MIG is for one GPU


def test_a_gpu_that_needs_the_whole_device_gets_no_profile():
    assert mig_profile(CATALOG["A100 80GB"], 41 * 10**9) is None


# --- the records ------------------------------------------------------------------------------------------------
def _rec(task="m.t", **kw):
    return UsageRecord(task=task, **kw)


def test_records_are_found_among_other_log_lines_in_files_folders_and_gzip(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one.log").write_text(f"hello\n2026-01-01T00:00:00Z {format_line(_rec(memory_peak_bytes=5))}\n")
    with gzip.open(tmp_path / "a" / "two.log.gz", "wt") as f:
        f.write(format_line(_rec(memory_peak_bytes=7)) + "\n")
    records = read_records([str(tmp_path / "a")])
    assert sorted(r.memory_peak_bytes for r in records) == [5, 7]


def test_a_corrupt_record_names_the_file_and_line(tmp_path):
    p = tmp_path / "task.log"
    p.write_text(f"start\n{format_line(_rec())}\nflytekitplugins-resources usage v1 {{\"task\": 3\n")
    with pytest.raises(UsageError) as e:
        read_records([str(p)])
    assert str(e.value).startswith(f"{p}:3: ") and "\n" not in str(e.value)


def test_a_missing_records_path_is_one_line():
    with pytest.raises(UsageError, match="no such file or folder"):
        read_records(["/nonexistent/records"])


def test_records_give_the_peak_the_percentile_of_run_peaks_and_oom_kills():
    limit = 2 * GI
    records = [_rec(memory_peak_bytes=GI + i * MI, cpu_peak_cores=0.1 * (i + 1), succeeded=True,
                    container_limits={"memory_bytes": limit}, wall_seconds=60.0) for i in range(20)]
    records.append(_rec(memory_peak_bytes=limit, succeeded=False, container_limits={"memory_bytes": limit}))
    records.append(_rec(memory_peak_bytes=GI, succeeded=False, container_limits={"memory_bytes": limit}))  # not OOM
    records.append(_rec(gpus=[GpuUsage(0, "NVIDIA A100", 3 * GI, 40 * GI)]))
    [u] = usage_from_records(records, "logs")
    assert u.runs == 23 and u.memory_peak_bytes == limit and u.oom_kills == 1 and u.oom_limit_bytes == limit
    assert u.cpu_p95_cores == pytest.approx(percentile([0.1 * (i + 1) for i in range(20)], 0.95))
    assert u.cpu_peak_cores == pytest.approx(2.0) and u.wall_seconds == 1200.0
    assert u.gpu_memory_peak_bytes == 3 * GI and u.gpu_memory_total_bytes == 40 * GI


@given(st.lists(st.floats(min_value=0, max_value=100), min_size=1, max_size=50), st.floats(0, 1))
def test_percentile_lies_between_the_ranks_it_interpolates(xs, q):
    p = percentile(xs, q)
    assert min(xs) <= p <= max(xs)
    assert percentile(xs, 1.0) == max(xs) and percentile(xs, 0.0) == min(xs)


# --- prices -----------------------------------------------------------------------------------------------------
def _groups(tmp_path, text):
    from flytekitplugins.resources.preflight.nodefit import parse_node_groups

    p = tmp_path / "nodes.yaml"
    p.write_text(text)
    return parse_node_groups(p.read_text(), str(p)), p


def test_a_pod_costs_its_largest_share_of_the_cheapest_group_it_fits(tmp_path):
    groups, _ = _groups(tmp_path, """nodeGroups:
  - {name: small, allocatable: {cpu: "4", memory: 16Gi}, price-per-hour: 0.2}
  - {name: big, allocatable: {cpu: "16", memory: 64Gi}, price-per-hour: 0.8}
  - {name: free, allocatable: {cpu: "64", memory: 256Gi}}
""")
    priced = load_prices(groups)
    assert [(g.name, p) for g, p in priced] == [("small", 0.2), ("big", 0.8)]
    pod = {"spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": "1", "memory": "8Gi"}}}]}}
    assert pod_cost(pod, priced) == ("small", 0.2, pytest.approx(0.2 * 8 / 16))
    pod["spec"]["containers"][0]["resources"]["requests"]["memory"] = "32Gi"
    assert pod_cost(pod, priced) == ("big", 0.8, pytest.approx(0.8 * 32 / 64))
    pod["spec"]["containers"][0]["resources"]["requests"]["cpu"] = "100"
    assert pod_cost(pod, priced) is None



def test_a_pod_is_priced_on_the_group_it_fits_beside_its_daemonsets(tmp_path):
    from flytekitplugins.resources.preflight.nodefit.daemonsets import parse_daemonset

    groups, _ = _groups(tmp_path, """nodeGroups:
  - {name: small, allocatable: {cpu: "4", memory: 16Gi, pods: "110"}, price-per-hour: 0.2}
  - {name: big, allocatable: {cpu: "16", memory: 64Gi, pods: "110"}, price-per-hour: 0.8}
""")
    priced = load_prices(groups)
    agent = parse_daemonset({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"},
                             "spec": {"template": {"spec": {"containers": [
                                 {"name": "a", "resources": {"requests": {"cpu": "1", "memory": "1Gi"}}}]}}}},
                            "ds.yaml")
    pod = {"spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": "3500m", "memory": "8Gi"}}}]}}
    assert pod_cost(pod, priced)[0] == "small"  # an empty small node has room for it
    # the agent on every node leaves 3 cpus on a small one: the pod lands on (and is priced on) a big one
    assert pod_cost(pod, priced, [agent]) == ("big", 0.8, pytest.approx(0.8 * 3.5 / 16))

@pytest.mark.parametrize("price", ['"cheap"', "-1", "true"])
def test_a_bad_price_names_the_file_and_key(tmp_path, price):
    groups, p = _groups(tmp_path, f"nodeGroups:\n  - {{name: g, allocatable: {{cpu: '4'}}, price-per-hour: {price}}}\n")
    with pytest.raises(ResourceValidationError) as e:
        load_prices(groups)
    assert str(e.value).startswith(f"{p}: nodeGroups[0].price-per-hour: ")


# --- the engine and the command, with records -----------------------------------------------------------------------
@task(requests=Resources(cpu="2", mem="8Gi"), limits=Resources(cpu="2", mem="8Gi"))
def shrink(n: int) -> int:
    return n


@task(requests=Resources(cpu="1", mem="80Gi"), limits=Resources(mem="80Gi"))
def hungry(n: int) -> int:
    return n


@task(resources=Resources(gpu="A100 80G:1", cpu="4", mem="16Gi"))
def small_gpu(n: int) -> int:
    return n


@workflow
def flow(n: int = 1) -> int:
    return small_gpu(n=hungry(n=shrink(n=n).with_overrides(requests=Resources(mem="4Gi"), limits=Resources(mem="4Gi"))))


@workflow
def gpu_flow(n: int = 1) -> int:
    return small_gpu(n=n).with_overrides(requests=Resources(mem="20Gi"), limits=Resources(mem="20Gi"))


HERE = __name__


def _entities(wf=flow):
    from flyteidl.admin import task_pb2, workflow_pb2
    from flytekit.tools.translator import get_serializable

    mapping = OrderedDict()
    get_serializable(mapping, SETTINGS, wf)
    return [e for e in (m.to_flyte_idl() for m in mapping.values())
            if isinstance(e, (task_pb2.TaskSpec, workflow_pb2.WorkflowSpec))]


def _records():
    out = [_rec(f"{HERE}.shrink", workflow=f"{HERE}.flow", node="n0", memory_peak_bytes=800 * MI,
                cpu_peak_cores=0.3, succeeded=True) for _ in range(3)]
    out += [_rec(f"{HERE}.hungry", workflow=f"{HERE}.flow", node="n1", memory_peak_bytes=80 * GI, succeeded=False,
                 container_limits={"memory_bytes": 80 * GI}, cpu_peak_cores=0.9)]
    out += [_rec(f"{HERE}.small_gpu", workflow=f"{HERE}.flow", node="n2", memory_peak_bytes=3 * GI,
                 cpu_peak_cores=1.0, gpus=[GpuUsage(0, "NVIDIA A100-SXM4-80GB", 4 * GI, 80 * GI)])]
    out += [_rec("elsewhere.task", memory_peak_bytes=GI)]
    return out


def test_each_recommendation_is_previewed_again_and_a_refused_one_says_why():
    from flytekitplugins.resources.platform import load_platform
    from flytekitplugins.resources.recommend.engine import recommend

    report = recommend(_entities(), usage_from_records(_records(), "logs"), load_platform([PLATFORM], []))
    rows = {(r.task.rsplit(".", 1)[1], r.node): r for r in report.rows}
    node = rows[("shrink", f"{HERE}.flow/n0")]
    assert node.recommendation.requests["mem"] == "960Mi" and not node.refused  # 800Mi + 15%, 64Mi steps
    assert rows[("shrink", None)].note == "no usage in the window"  # its only node has overrides of its own
    hungry_row = rows[("hungry", None)]
    # an OOM kill at 80Gi asks for more than the platform's 96Gi limit: flyteadmin refuses it at registration
    assert hungry_row.refused and any(level == "error" for level, _, _ in hungry_row.recommendation.checks)
    gpu = rows[("small_gpu", None)]
    assert gpu.recommendation.accelerator == "A100 80GB MIG 1g.10gb" and not gpu.refused
    assert [u.task for u in report.unmatched] == ["elsewhere.task"]


def test_a_node_pointed_to_a_mig_profile_keeps_its_tasks_device(tmp_path):
    from flytekitplugins.resources.platform import load_platform
    from flytekitplugins.resources.preflight.policy import load_policy
    from flytekitplugins.resources.recommend.engine import recommend

    usage = [_rec(f"{HERE}.small_gpu", workflow=f"{HERE}.gpu_flow", node="n0", memory_peak_bytes=3 * GI,
                  cpu_peak_cores=1.0, gpus=[GpuUsage(0, "NVIDIA A100-SXM4-80GB", 4 * GI, 80 * GI)])]
    # a cheaper group of another device with the same partition label: only a pod that lost its device lands there
    text = (ROOT / "examples" / "recommend" / "nodes.yaml").read_text().replace("price-per-hour: 98.32",
                                                                                  "price-per-hour: 1.0")
    (tmp_path / "nodes.yaml").write_text(text)
    (tmp_path / "policy.toml").write_text('node-groups = ["nodes.yaml"]\nproject = "ml"\n')
    policy = load_policy(str(tmp_path / "policy.toml"))
    report = recommend(_entities(gpu_flow), usage_from_records(usage, "logs"), load_platform([PLATFORM], []),
                       policy, project="ml")
    [row] = [r for r in report.rows if r.node is not None]
    assert row.recommendation.accelerator == "A100 80GB MIG 1g.10gb" and not row.refused
    assert row.cost_now[0] == "a100-80gb" and row.cost_after[0] == "a100-80gb-mig-1g"
    assert row.recommendation.node == "n0" and row.recommendation.requests["mem"] == "3584Mi"  # 3Gi + 15%, 256Mi


@pytest.fixture()
def package(tmp_path):
    from flyteidl.admin import task_pb2

    out = tmp_path / "pkg"
    out.mkdir()
    for i, e in enumerate(_entities()):
        (out / f"{i}{'_1' if isinstance(e, task_pb2.TaskSpec) else '_2'}.pb").write_bytes(e.SerializeToString())
    return str(out)


def _cli(*args):
    from flytekitplugins.resources.cli import main

    try:  # click < 8.2 mixes stderr into stdout unless told not to; 8.2 always keeps them apart
        runner = CliRunner(mix_stderr=False)
    except TypeError:
        runner = CliRunner()
    return runner.invoke(main, ["recommend", *args], catch_exceptions=False)


def test_the_command_marks_a_refused_recommendation_and_exits_1(package, tmp_path):
    logs = tmp_path / "logs.txt"
    logs.write_text("\n".join(format_line(r) for r in _records()) + "\n")
    result = _cli(package, "--records", str(logs), "--platform", PLATFORM, "--no-policy")
    assert result.exit_code == 1, result.output
    assert "REFUSED" in result.stdout and "would be refused" in result.stdout
    as_json = _cli(package, "--records", str(logs), "--platform", PLATFORM, "--no-policy", "-o", "json")
    rows = {r["task"].rsplit(".", 1)[1]: r for r in json.loads(as_json.stdout)["rows"] if r["node"] is None}
    assert rows["hungry"]["refused"] and not rows["small_gpu"]["refused"]
    assert rows["small_gpu"]["change"]["accelerator"] == "A100 80GB MIG 1g.10gb"


@pytest.mark.parametrize("args, wanted", [
    ([], "give one usage source"),
    (["--records", "/nonexistent/x"], "/nonexistent/x: no such file or folder"),
    (["--prometheus", "http://127.0.0.1:FREE", "--records", "x"], "give one usage source"),
    (["--prometheus", "http://127.0.0.1:FREE"], "cannot reach Prometheus"),
    (["--records", "EMPTY"], "no usage of any Flyte task"),
    (["--records", "CORRUPT"], "CORRUPT:2: a usage record that is not valid JSON"),
    (["--records", "GOOD", "--policy", "NOPOLICY"], "NOPOLICY: no such policy file"),
    (["--records", "GOOD", "--policy", "policy.toml"], "nodeGroups[0].price-per-hour: 'free' must be a number"),
])
def test_bad_input_is_one_line_and_status_2(package, tmp_path, args, wanted):
    (tmp_path / "EMPTY").write_text("no records here\n")
    (tmp_path / "CORRUPT").write_text(f"{format_line(_rec())}\nflytekitplugins-resources usage v1 {{oops\n")
    (tmp_path / "GOOD").write_text("\n".join(format_line(r) for r in _records()) + "\n")
    (tmp_path / "policy.toml").write_text('node-groups = ["nodes.yaml"]\n')
    (tmp_path / "nodes.yaml").write_text("nodeGroups:\n  - {name: g, allocatable: {cpu: '4'}, price-per-hour: free}\n")
    from tests.e2e.prometheus import free_port

    files = ("EMPTY", "CORRUPT", "GOOD", "policy.toml", "NOPOLICY")
    args = [str(tmp_path / a) if a in files else a.replace("FREE", str(free_port())) for a in args]
    if "--policy" not in args:
        args.append("--no-policy")
    result = _cli(package, *args)
    assert result.exit_code == 2, result.output
    assert wanted in result.stderr and len(result.stderr.strip().splitlines()) == 1


class _Plan:
    """The source editor's shape (recommend.apply.plan -> EditPlan), recording what the command hands it."""

    def __init__(self, recommendations, root, fail=None):
        self.recommendations, self.root, self.fail = recommendations, root, fail
        self.skipped = [("m.shrink", None, "requests=SIZES is computed, not a literal")]
        self.applied = False

    def diff(self):
        return "".join(f"--- a/{r.task}\n+++ b/{r.task}\n" for r in self.recommendations)

    def apply(self):
        if self.fail:
            raise ValueError(self.fail)
        self.applied = True
        return [pathlib.Path("m.py")]


@pytest.fixture()
def editor(monkeypatch):
    import sys
    import types

    plans = []
    module = types.ModuleType("flytekitplugins.resources.recommend.apply")

    def plan(recommendations, root):
        plans.append(_Plan(list(recommendations), root, getattr(module, "fail", None)))
        return plans[-1]

    module.plan = plan
    monkeypatch.setitem(sys.modules, "flytekitplugins.resources.recommend.apply", module)
    return module, plans


def test_diff_hands_only_admitted_recommendations_to_the_editor_and_prints_only_the_patch(package, tmp_path, editor):
    _, plans = editor
    logs = tmp_path / "logs.txt"
    logs.write_text("\n".join(format_line(r) for r in _records()) + "\n")
    result = _cli(package, "--records", str(logs), "--platform", PLATFORM, "--no-policy", "--diff")
    assert result.exit_code == 1  # one recommendation is refused: said on stderr, not handed to the editor
    [p] = plans
    assert {r.task.rsplit(".", 1)[1] for r in p.recommendations} == {"shrink", "small_gpu"} and not p.applied
    assert result.stdout == p.diff()
    assert "not edited:" in result.stderr and "hungry" in result.stderr
    assert "left alone: m.shrink: requests=SIZES is computed" in result.stderr


def test_an_edit_that_fails_is_one_line_and_status_2(package, tmp_path, editor):
    module, plans = editor
    module.fail = "m.py: line 4: cannot be parsed (unexpected indent)"
    logs = tmp_path / "logs.txt"
    logs.write_text("\n".join(format_line(r) for r in _records()) + "\n")
    result = _cli(package, "--records", str(logs), "--platform", PLATFORM, "--no-policy", "--apply")
    assert result.exit_code == 2 and result.stderr.strip().splitlines()[-1] == f"error: {module.fail}"
    assert not plans[0].applied


@given(st.integers(min_value=1, max_value=1 << 40), st.floats(min_value=0.001, max_value=200),
       st.floats(min_value=0, max_value=1), st.integers(min_value=0, max_value=3))
def test_a_sizing_covers_what_was_used_plus_the_margin_and_no_more_than_a_step(peak, p95, extra, ooms):
    u = TaskUsage("t", runs=5, memory_peak_bytes=peak, cpu_p95_cores=p95, cpu_peak_cores=p95 * (1 + extra),
                  oom_kills=ooms)
    limit = Quantity.parse("4Gi")
    s = size(u, {"cpu": Quantity.parse("1"), "memory": limit}, {"cpu": Quantity.parse("2"), "memory": limit})
    base = Fraction(max(peak, 4 * GI)) * Fraction(5, 4) if ooms else Fraction(peak)
    wanted = math.ceil(base * Fraction(115, 100))
    mem = int(Quantity.parse(s.requests["mem"]).as_decimal())
    floor = max(wanted, 64 * MI)  # never below 64Mi
    assert s.requests["mem"] == s.limits["mem"] and floor <= mem < floor + _step(floor)
    cpu = Quantity.parse(s.requests["cpu"]).as_decimal() * 1000
    assert cpu >= Fraction(repr(p95)) * 1000 - Fraction(1, 1000) and cpu % 100 == 0
    assert Quantity.parse(s.limits["cpu"]) >= Quantity.parse(s.requests["cpu"])


def test_tasks_that_differ_only_in_name_share_a_preview_with_the_same_findings_and_resources():
    from flyteidl.admin import task_pb2

    from flytekitplugins.resources.platform import load_platform
    from flytekitplugins.resources.preview import preview_entities
    from flytekitplugins.resources.recommend.engine import preview_distinct

    platform = load_platform([PLATFORM], [])
    entities = _entities() + _entities(gpu_flow)
    tasks = [e for e in entities if isinstance(e, task_pb2.TaskSpec)]
    workflows = [e for e in entities if not isinstance(e, task_pb2.TaskSpec)]
    copies = []
    for e in tasks:
        for i in range(2):
            c = type(e)()
            c.CopyFrom(e)
            c.template.id.name += f"_copy{i}"
            copies.append(c)
    everything = tasks + copies + workflows
    specs = {e.template.id.name: e for e in tasks + copies}
    plain = {(p.task, p.node): p for p in preview_entities(everything, platform)}
    shared = {(p.task, p.node): p for p in preview_distinct(specs, workflows, platform, None, "flytesnacks",
                                                           "development")}
    assert plain.keys() == shared.keys()
    for key, p in plain.items():
        q = shared[key]
        assert [(f.level, f.code, f.message, f.task) for f in p.findings] == \
               [(f.level, f.code, f.message, f.task) for f in q.findings]
        assert p.pod["spec"]["containers"][0]["resources"] == q.pod["spec"]["containers"][0]["resources"]


def test_apply_with_the_real_editor_edits_the_source_and_the_pod_then_asks_for_the_recommendation(tmp_path):
    """recommend --apply on a module target: the decorator is rewritten, and the pod previewed from the edited
    source (in a fresh process) carries exactly the recommended values; a second run has nothing to change."""
    import subprocess
    import sys

    project = tmp_path / "proj"
    project.mkdir()
    (project / "__init__.py").write_text("")
    source = project / "jobs.py"
    source.write_text(
        "from flytekit import Resources, task, workflow\n\n\n"
        "# the team's first guess\n"
        "@task(requests=Resources(cpu=\"2\", mem=\"8Gi\"), limits=Resources(cpu=\"2\", mem=\"8Gi\"))\n"
        "def big(n: int) -> int:\n    return n\n\n\n"
        "@workflow\ndef wf(n: int = 1) -> int:\n    return big(n=n)\n"
    )
    logs = tmp_path / "logs.txt"
    logs.write_text("".join(format_line(UsageRecord(task="proj.jobs.big", memory_peak_bytes=(900 + 10 * i) << 20,
                                                    cpu_peak_cores=0.3 + i / 100, cpu_avg_cores=0.2,
                                                    succeeded=True, wall_seconds=60.0)) + "\n" for i in range(8)))

    def run(*args):
        return subprocess.run([sys.executable, "-m", "flytekitplugins.resources", *args], cwd=tmp_path,
                              capture_output=True, text=True, timeout=300)

    advice = run("recommend", "proj", "--records", str(logs), "--platform", PLATFORM, "--no-policy", "-o", "json")
    assert advice.returncode == 0, advice.stderr
    [row] = [r for r in json.loads(advice.stdout)["rows"] if r["task"] == "proj.jobs.big"]
    change = row["change"]
    assert change["requests"]["mem"] != "8Gi" and change["requests"]["cpu"] != "2"
    applied = run("recommend", "proj", "--records", str(logs), "--platform", PLATFORM, "--no-policy", "--apply")
    assert applied.returncode == 0, applied.stderr
    text = source.read_text()
    assert "# the team's first guess" in text and f'mem="{change["requests"]["mem"]}"' in text
    preview = run("preview", "proj", "--platform", PLATFORM, "--no-policy", "-o", "json")
    assert preview.returncode == 0, preview.stderr
    [pod] = [p["pod"] for p in json.loads(preview.stdout) if p["task"] == "proj.jobs.big"]
    resources = pod["spec"]["containers"][0]["resources"]
    for kind in ("requests", "limits"):
        for field, value in change[kind].items():
            name = {"mem": "memory"}.get(field, field)
            assert Quantity.parse(resources[kind][name]) == Quantity.parse(value), (kind, field)
    again = run("recommend", "proj", "--records", str(logs), "--platform", PLATFORM, "--no-policy", "-o", "json")
    [row] = [r for r in json.loads(again.stdout)["rows"] if r["task"] == "proj.jobs.big"]
    assert not (row["change"] or {}).get("requests") and not (row["change"] or {}).get("limits")
