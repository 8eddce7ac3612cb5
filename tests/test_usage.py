"""Measuring a running task: cgroup trees of both versions, rusage windows, the sampler, NVML (a fake module:
no GPU here), the record, the Deck, and the hook around ``PythonTask.dispatch_execute``."""

import html.parser
import json
import os
import pathlib
import re
import sys
import time
import types

import pytest
from flytekit import FlyteContextManager, Resources, dynamic, map_task, task, workflow
from hypothesis import given
from hypothesis import strategies as st

from flytekitplugins.resources import hooks
from flytekitplugins.resources.usage import cgroup as cg
from flytekitplugins.resources.usage import deck as deck_module
from flytekitplugins.resources.usage import process
from flytekitplugins.resources.usage import task as usage_task
from flytekitplugins.resources.usage.measure import Meter
from flytekitplugins.resources.usage.record import PREFIX, GpuUsage, UsageRecord, format_line, parse_line

from .helpers import stock_flytekit

MiB = 1 << 20


# -- cgroup-shaped trees -------------------------------------------------------------------------------------

def _tree(root: pathlib.Path, cgroup_lines, mounts, files):
    (root / "proc/self").mkdir(parents=True, exist_ok=True)
    (root / "proc/self/cgroup").write_text("\n".join(cgroup_lines) + "\n")
    lines = []
    for i, (mount_root, point, fstype, options) in enumerate(mounts):
        lines.append(f"{30 + i} 20 0:{40 + i} {mount_root} {point} rw,nosuid - {fstype} {fstype} rw,{options}")
    (root / "proc/self/mountinfo").write_text("\n".join(lines) + "\n")
    for path, text in files.items():
        p = root / path.lstrip("/")
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return str(root)


POD = "/kubepods.slice/kubepods-burstable.slice/pod1/cri-containerd-c1"


def v2_tree(tmp_path, **overrides):
    d = "sys/fs/cgroup" + POD
    files = {
        f"{d}/memory.peak": "314572800\n",
        f"{d}/memory.max": "1073741824\n",
        f"{d}/cpu.stat": "usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\n",
        f"{d}/cpu.max": "200000 100000\n",
        f"{os.path.dirname(d)}/memory.max": "max\n",
        f"{os.path.dirname(d)}/cpu.max": "max 100000\n",
    }
    for name, text in overrides.items():
        key = f"{d}/{name}"
        if text is None:
            files.pop(key, None)
        else:
            files[key] = text
    return _tree(tmp_path, [f"0::{POD}"], [("/", "/sys/fs/cgroup", "cgroup2", "nsdelegate")], files), d


def v1_tree(tmp_path, **overrides):
    files = {
        f"sys/fs/cgroup/memory{POD}/memory.max_usage_in_bytes": "524288000\n",
        f"sys/fs/cgroup/memory{POD}/memory.limit_in_bytes": "2147483648\n",
        f"sys/fs/cgroup/cpu,cpuacct{POD}/cpuacct.usage": "7500000000\n",
        f"sys/fs/cgroup/cpu,cpuacct{POD}/cpu.cfs_quota_us": "150000\n",
        f"sys/fs/cgroup/cpu,cpuacct{POD}/cpu.cfs_period_us": "100000\n",
    }
    for name, text in overrides.items():
        controller = "memory" if name.startswith("memory") else "cpu,cpuacct"
        key = f"sys/fs/cgroup/{controller}{POD}/{name}"
        if text is None:
            files.pop(key, None)
        else:
            files[key] = text
    lines = ["12:memory:" + POD, "4:cpu,cpuacct:" + POD, "1:name=systemd:" + POD, "0::/"]
    mounts = [("/", "/sys/fs/cgroup/memory", "cgroup", "memory"), ("/", "/sys/fs/cgroup/cpu,cpuacct", "cgroup",
              "cpu,cpuacct"), ("/", "/sys/fs/cgroup/unified", "cgroup2", "nsdelegate")]
    return _tree(tmp_path, lines, mounts, files)


def test_v2_tree_is_found_and_read(tmp_path):
    root, d = v2_tree(tmp_path)
    paths = cg.find_cgroup(root)
    assert paths.version == 2 and paths.memory == os.path.join(root, d)
    assert cg.read_memory_peak_bytes(paths) == 314572800
    assert cg.read_cpu_seconds(paths) == 2.5
    assert cg.read_memory_limit_bytes(paths) == 1 << 30
    assert cg.read_cpu_limit_cores(paths) == 2.0


def test_v1_tree_is_found_and_read_even_beside_an_empty_unified_hierarchy(tmp_path):
    paths = cg.find_cgroup(v1_tree(tmp_path))
    assert paths.version == 1 and paths.source == "cgroup1"
    assert cg.read_memory_peak_bytes(paths) == 524288000
    assert cg.read_cpu_seconds(paths) == 7.5
    assert cg.read_memory_limit_bytes(paths) == 2 << 30
    assert cg.read_cpu_limit_cores(paths) == 1.5


@pytest.mark.parametrize("memory_max, cpu_max, memory, cores", [
    ("max\n", "max 100000\n", None, None),
    ("536870912\n", "50000 100000\n", 512 * MiB, 0.5),
    ("536870912", "max", 512 * MiB, None),  # no newline; cpu.max without a period
    ("lots\n", "x y\n", None, None),  # corrupt: unknown, not an error
    ("", "", None, None),
])
def test_v2_limits_including_max_and_corrupt_values(tmp_path, memory_max, cpu_max, memory, cores):
    root, _ = v2_tree(tmp_path, **{"memory.max": memory_max, "cpu.max": cpu_max})
    paths = cg.find_cgroup(root)
    assert cg.read_memory_limit_bytes(paths) == memory
    assert cg.read_cpu_limit_cores(paths) == cores


def test_a_parents_tighter_limit_binds_the_child(tmp_path):
    root, d = v2_tree(tmp_path, **{"memory.max": "max\n", "cpu.max": "max 100000\n"})
    parent = pathlib.Path(root) / os.path.dirname(d)
    (parent / "memory.max").write_text("268435456\n")
    (parent / "cpu.max").write_text("25000 100000\n")
    paths = cg.find_cgroup(root)
    assert cg.read_memory_limit_bytes(paths) == 256 * MiB
    assert cg.read_cpu_limit_cores(paths) == 0.25


@pytest.mark.parametrize("limit, quota, memory, cores", [
    ("9223372036854771712\n", "-1\n", None, None),  # v1's "unlimited"
    ("4294967296\n", "200000\n", 4 << 30, 2.0),
    ("garbage\n", "1.5\n", None, None),
])
def test_v1_limits_including_unlimited_values(tmp_path, limit, quota, memory, cores):
    paths = cg.find_cgroup(v1_tree(tmp_path, **{"memory.limit_in_bytes": limit, "cpu.cfs_quota_us": quota}))
    assert cg.read_memory_limit_bytes(paths) == memory
    assert cg.read_cpu_limit_cores(paths) == cores


@pytest.mark.parametrize("version, missing", [(2, "memory.peak"), (2, "cpu.stat"),
                                              (1, "memory.max_usage_in_bytes"), (1, "cpuacct.usage")])
@pytest.mark.parametrize("how", ["missing", "corrupt"])
def test_missing_or_corrupt_usage_files_fall_back_to_rusage_and_say_so(tmp_path, version, missing, how):
    value = None if how == "missing" else "not a number\n"
    root = v2_tree(tmp_path, **{missing: value})[0] if version == 2 else v1_tree(tmp_path, **{missing: value})
    paths = cg.find_cgroup(root)
    m = Meter(cgroup=paths, use_cgroup=True, tracker=process.PeakTracker(), interval=0.05, nvml=None).start()
    result = m.stop()
    kind = "memory" if "memory" in missing else "cpu"
    other = "cpu" if kind == "memory" else "memory"
    assert result.sources[kind] == "rusage"
    assert result.sources[other] == f"cgroup{version}"
    assert any(f"cgroup{version}" in n and "rusage" in n for n in result.notes)
    assert (result.memory_peak_bytes or 0) > 0 and result.cpu_seconds is not None


def test_a_cgroup_window_reads_the_cgroups_peak_and_its_cpu_usage_during_the_window(tmp_path):
    root, d = v2_tree(tmp_path)
    stat = pathlib.Path(root) / d / "cpu.stat"
    m = Meter(cgroup=cg.find_cgroup(root), use_cgroup=True, tracker=process.PeakTracker(), interval=10,
              nvml=None).start()
    stat.write_text("usage_usec 4000000\n")  # 1.5 s of CPU in the container during the window
    result = m.stop()
    assert result.sources == {"cpu": "cgroup2", "memory": "cgroup2", "limits": "cgroup2", "shm": "statvfs"} or \
        result.sources == {"cpu": "cgroup2", "memory": "cgroup2", "limits": "cgroup2"}
    assert result.memory_peak_bytes == 314572800
    assert result.cpu_seconds == pytest.approx(1.5)
    assert result.container_limits == {"memory_bytes": 1 << 30, "cpu_cores": 2.0}


def test_cgroup_namespace_root_and_escaped_mount_points(tmp_path):
    files = {"mnt/cg roups/memory.peak": "42\n", "mnt/cg roups/memory.max": "max\n",
             "mnt/cg roups/cpu.stat": "usage_usec 1\n"}
    root = _tree(tmp_path, ["0::/"], [("/", "/mnt/cg\\040roups", "cgroup2", "nsdelegate")], files)
    paths = cg.find_cgroup(root)
    assert paths.memory == os.path.join(root, "mnt/cg roups")
    assert cg.read_memory_peak_bytes(paths) == 42


def test_no_cgroup_files_means_no_cgroup(tmp_path):
    assert cg.find_cgroup(str(tmp_path)) is None
    root = _tree(tmp_path / "x", ["garbage line", "0::/a"], [], {})
    assert cg.find_cgroup(root) is None


@given(st.binary(max_size=200), st.binary(max_size=200))
def test_readers_never_raise_on_any_file_content(tmp_path_factory, peak, quota):
    root, d = v2_tree(tmp_path_factory.mktemp("h"))
    (pathlib.Path(root) / d / "memory.peak").write_bytes(peak)
    (pathlib.Path(root) / d / "cpu.max").write_bytes(quota)
    paths = cg.find_cgroup(root)
    value = cg.read_memory_peak_bytes(paths)
    assert value is None or (isinstance(value, int) and value >= 0 and peak.strip().decode() == str(value))
    cores = cg.read_cpu_limit_cores(paths)
    assert cores is None or cores >= 0


@given(st.integers(1, 10**9), st.integers(1, 10**7))
def test_v2_cpu_limit_is_quota_over_period(tmp_path_factory, quota, period):
    root, _ = v2_tree(tmp_path_factory.mktemp("q"), **{"cpu.max": f"{quota} {period}\n"})
    assert cg.read_cpu_limit_cores(cg.find_cgroup(root)) == quota / period


def test_the_machines_own_cgroup_when_there_is_one():
    paths = cg.find_cgroup("/")
    if paths is None:
        pytest.skip("this machine shows no cgroup v1 or v2 in /proc/self/cgroup and /proc/self/mountinfo")
    if cg.read_memory_peak_bytes(paths) is None:
        pytest.skip(f"{paths.source}: no peak memory file here (memory.peak needs Linux 5.19)")
    # the cgroup holds this process: its peak is at least what this process has resident
    assert cg.read_memory_peak_bytes(paths) >= process.current_rss_bytes()


# -- process windows ----------------------------------------------------------------------------------------

def _touch(n):
    b = bytearray(n)
    for i in range(0, n, 4096):
        b[i] = 1
    return b


def _burn(seconds):
    t = time.process_time()
    while time.process_time() - t < seconds:
        pass


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the high-water mark is reset through /proc")
def test_nested_windows_each_see_their_own_peak():
    tracker = process.PeakTracker()
    outer = tracker.open()
    big = _touch(150 * MiB)
    del big
    inner = tracker.open()  # resets the mark: the 150 MiB already freed are not the inner window's
    small = _touch(20 * MiB)
    inner_peak = tracker.close(inner)
    del small
    outer_peak = tracker.close(outer)
    assert outer_peak >= 150 * MiB
    assert inner_peak >= 20 * MiB
    assert inner_peak < outer_peak - 100 * MiB


def test_without_a_reset_the_peak_is_still_a_bound_of_what_the_window_touched():
    tracker = process.PeakTracker(clear_refs=None)
    w = tracker.open()
    held = _touch(120 * MiB)
    peak = tracker.close(w)
    assert peak >= 120 * MiB
    del held


def test_a_process_window_bounds_what_was_used():
    m = Meter(cgroup=None, use_cgroup=False, tracker=process.PeakTracker(), interval=0.05, nvml=None).start()
    held = _touch(100 * MiB)
    _burn(0.4)
    r = m.stop()
    del held
    assert r.sources["cpu"] == r.sources["memory"] == "rusage"
    assert r.memory_peak_bytes >= 100 * MiB
    assert r.cpu_seconds >= 0.4
    assert r.wall_seconds >= r.cpu_seconds * 0.9
    assert r.cpu_peak_cores >= r.cpu_avg_cores > 0


@pytest.mark.skipif(not os.path.isdir("/dev/shm"), reason="needs /dev/shm")
def test_shm_peak_is_the_windows_increase_locally():
    m = Meter(cgroup=None, use_cgroup=False, tracker=process.PeakTracker(), interval=0.02, nvml=None).start()
    path = f"/dev/shm/flytekitplugins-resources-test-{os.getpid()}"
    try:
        with open(path, "wb") as f:
            f.write(b"\1" * (16 * MiB))
        time.sleep(0.15)
    finally:
        os.unlink(path)
    r = m.stop()
    assert r.sources["shm"] == "statvfs"
    assert r.shm_peak_bytes >= 16 * MiB


def test_a_short_window_reports_its_average_as_its_peak():
    m = Meter(cgroup=None, use_cgroup=False, tracker=process.PeakTracker(), interval=5, nvml=None).start()
    _burn(0.05)
    r = m.stop()
    assert r.cpu_peak_cores == r.cpu_avg_cores


# -- NVML (no GPU on this machine: a fake pynvml of the same shape) ------------------------------------------

def _fake_nvml(used_sequences, utils, fail_init=False):
    mod = types.ModuleType("pynvml")
    state = {"calls": {i: 0 for i in range(len(used_sequences))}, "shutdown": False}

    class Mem:
        def __init__(self, used, total):
            self.used, self.total = used, total

    class Util:
        def __init__(self, gpu):
            self.gpu, self.memory = gpu, 0

    def init():
        if fail_init:
            raise RuntimeError("NVML Shared Library Not Found")

    def info(h):
        seq = used_sequences[h]
        k = min(state["calls"][h], len(seq) - 1)
        state["calls"][h] += 1
        return Mem(seq[k], 80 << 30)

    mod.nvmlInit = init
    mod.nvmlShutdown = lambda: state.update(shutdown=True)
    mod.nvmlDeviceGetCount = lambda: len(used_sequences)
    mod.nvmlDeviceGetHandleByIndex = lambda i: i
    mod.nvmlDeviceGetName = lambda h: b"NVIDIA A100-SXM4-80GB"
    mod.nvmlDeviceGetMemoryInfo = info
    mod.nvmlDeviceGetUtilizationRates = lambda h: Util(utils[h])
    return mod, state


def test_nvml_peaks_per_device_from_a_fake_pynvml():
    nvml, state = _fake_nvml([[1 << 30, 5 << 30, 3 << 30], [0, 0, 0]], [87, 0])
    m = Meter(cgroup=None, use_cgroup=False, tracker=process.PeakTracker(), interval=0.02, nvml=nvml).start()
    time.sleep(0.2)
    r = m.stop()
    assert r.sources["gpu"] == "nvml"
    assert r.gpus == [
        GpuUsage(0, "NVIDIA A100-SXM4-80GB", 5 << 30, 80 << 30, 87.0),
        GpuUsage(1, "NVIDIA A100-SXM4-80GB", 0, 80 << 30, 0.0),
    ]
    for _ in range(100):  # NVML is shut down in the sampler thread, off the task's path
        if state["shutdown"]:
            break
        time.sleep(0.02)
    assert state["shutdown"]


def test_nvml_that_cannot_start_leaves_no_gpus_and_a_note():
    nvml, _ = _fake_nvml([[1]], [1], fail_init=True)
    m = Meter(cgroup=None, use_cgroup=False, tracker=process.PeakTracker(), interval=0.02, nvml=nvml).start()
    time.sleep(0.05)
    r = m.stop()
    assert r.gpus == [] and "gpu" not in r.sources
    assert any("NVML" in n for n in r.notes)


# -- the record ---------------------------------------------------------------------------------------------

def test_new_fields_round_trip_and_bad_optional_ones_are_dropped():
    r = UsageRecord(task="t", attempt=2, notes=["cgroup2: peak memory unreadable, used rusage"])
    assert parse_line(format_line(r)) == r
    line = PREFIX + json.dumps({"task": "t", "attempt": True, "notes": "x", "future_field": 1})
    assert parse_line(line) == UsageRecord(task="t")



@pytest.mark.parametrize("field, value, wanted", [
    ("memory_peak_bytes", "lots", "'memory_peak_bytes' must be a number >= 0"),
    ("memory_peak_bytes", -1, "'memory_peak_bytes' must be a number >= 0"),
    ("cpu_peak_cores", True, "'cpu_peak_cores' must be a number >= 0"),
    ("cpu_avg_cores", [1], "'cpu_avg_cores' must be a number >= 0"),
    ("wall_seconds", float("nan"), "'wall_seconds' must be a number >= 0"),
    ("wall_seconds", float("inf"), "'wall_seconds' must be a number >= 0"),
    ("succeeded", "yes", "'succeeded' must be true or false"),
    ("node", 3, "'node' must be a string"),
    ("gpus", [{"index": 0, "memory_peak_bytes": "x"}], "'gpus[].memory_peak_bytes' must be a number >= 0"),
    ("gpus", [{"index": 0, "name": 7}], "'gpus[].name' must be a string"),
])
def test_a_measurement_of_the_wrong_type_is_a_corrupt_record_naming_its_key(field, value, wanted):
    line = PREFIX + json.dumps({"task": "t", field: value})
    with pytest.raises(ValueError, match=re.escape(wanted)):
        parse_line(line)


@pytest.mark.parametrize("field, value", [("memory_peak_bytes", 0), ("cpu_peak_cores", 0.25), ("wall_seconds", None),
                                          ("succeeded", False), ("node", "n0")])
def test_a_measurement_of_the_right_type_is_read_as_written(field, value):
    assert getattr(parse_line(PREFIX + json.dumps({"task": "t", field: value})), field) == value

# -- the Deck -----------------------------------------------------------------------------------------------

class _Bars(html.parser.HTMLParser):
    """resource -> kind -> value, and resource -> kind -> drawn width (per cent)."""

    def __init__(self):
        super().__init__()
        self.resources, self.widths, self._current, self._kind = {}, {}, None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("class") == "resource":
            self._current = a["data-resource"]
            self.resources[self._current], self.widths[self._current] = {}, {}
        elif a.get("class") == "bar":
            self._kind = a["data-kind"]
            self.resources[self._current][self._kind] = float(a["data-value"])
        elif tag == "span" and "background:" in a.get("style", ""):
            width = a["style"].split("width:", 1)[1].split("%", 1)[0]
            self.widths[self._current][self._kind] = float(width)


def test_the_deck_has_a_bar_per_resource_with_the_right_numbers():
    r = UsageRecord(task="wf.train", wall_seconds=3.0, requests={"cpu": "2", "memory": "4Gi"},
                    limits={"memory": "6Gi"}, container_limits={"memory_bytes": 6 << 30, "cpu_cores": 3.0},
                    memory_peak_bytes=3 << 30, cpu_seconds=4.5, cpu_avg_cores=1.5, cpu_peak_cores=2.75,
                    shm_peak_bytes=64 * MiB, gpus=[GpuUsage(0, "A100", 10 << 30, 40 << 30, 55.0)],
                    sources={"memory": "cgroup2"})
    text = deck_module.render(r)
    parser = _Bars()
    parser.feed(text)
    assert parser.resources == {
        "cpu": {"requested": 2.0, "limit": 3.0, "used": 2.75, "average": 1.5},  # limit: the container's
        "memory": {"requested": 4 << 30, "limit": 6 << 30, "used": 3 << 30},
        "shm": {"used": 64 * MiB},
        "gpu0-memory": {"capacity": 40 << 30, "used": 10 << 30},
        "gpu0-utilization": {"capacity": 100.0, "used": 55.0},
    }
    # each bar's length is its share of the resource's largest value
    assert parser.widths["memory"] == {"requested": pytest.approx(66.7), "limit": 100.0, "used": 50.0}
    assert parser.widths["cpu"] == {"requested": pytest.approx(66.7), "limit": 100.0, "used": pytest.approx(91.7),
                                    "average": 50.0}
    assert "3.0 GiB" in text and "2.75 cores" in text


def test_the_deck_escapes_the_task_name():
    assert "<script>" not in deck_module.render(UsageRecord(task="<script>x</script>"))


# -- the hook around dispatch_execute -------------------------------------------------------------------------

def _records(err: str, name=None):
    out = [parse_line(line) for line in err.splitlines() if PREFIX in line]
    return [r for r in out if name is None or r.task == name]


@task(requests=Resources(cpu="1", mem="200Mi"), limits=Resources(cpu="2", mem="1Gi"))
def grow(n: int) -> int:
    return len(_touch(n * MiB))


@task
def plus_one(x: int) -> int:
    return x + 1


@workflow
def pipeline(n: int) -> int:
    return plus_one(x=grow(n=n))


def test_every_task_of_a_local_run_prints_one_record(capsys):
    assert pipeline(n=30) == 30 * MiB + 1
    records = {r.task: r for r in _records(capsys.readouterr().err)}
    assert set(records) == {"tests.test_usage.grow", "tests.test_usage.plus_one"}
    g = records["tests.test_usage.grow"]
    assert g.memory_peak_bytes >= 30 * MiB and g.succeeded is True
    assert g.requests == {"cpu": "1", "memory": "200Mi"} and g.limits == {"cpu": "2", "memory": "1Gi"}
    assert g.sources["memory"] == "rusage"  # a local run is not alone in its cgroup


def test_the_site_is_routed_and_restored_identically():
    from flytekit.core.base_task import PythonTask

    active = PythonTask.__dict__["dispatch_execute"]
    assert getattr(active, "__flytekitplugins_resources__", False)
    with stock_flytekit():
        stock = PythonTask.__dict__["dispatch_execute"]
        assert stock is hooks._stock["PythonTask.dispatch_execute"]
        assert not hasattr(stock, "__flytekitplugins_resources__")
    assert PythonTask.__dict__["dispatch_execute"] is active


@pytest.mark.parametrize("where", ["process", "task"])
def test_off_records_nothing(capsys, monkeypatch, where):
    if where == "process":
        monkeypatch.setenv("FLYTEKITPLUGINS_RESOURCES_USAGE", "off")
        t = plus_one
    else:
        t = task(environment={"FLYTEKITPLUGINS_RESOURCES_USAGE": "off"})(_add_two)
    assert t(x=1) in (2, 3)
    assert _records(capsys.readouterr().err) == []


def _add_two(x: int) -> int:
    return x + 2


def _breaks(*args, **kwargs):
    raise RuntimeError("measuring broke")


@pytest.mark.parametrize("target", ["Meter.start", "Meter.stop", "TaskWindow._build", "format_line", "_deck"])
def test_a_measurement_that_raises_never_fails_the_task_nor_changes_its_outputs(monkeypatch, capsys, target):
    def run():
        return pipeline(n=3), map_task(plus_one)(x=[1, 2, 3])

    with stock_flytekit():
        stock = run()
    owner, _, name = target.rpartition(".")
    holder = {"Meter": usage_task.Meter, "TaskWindow": usage_task.TaskWindow, "": usage_task}[owner]
    monkeypatch.setattr(holder, name, _breaks)
    assert run() == stock
    monkeypatch.undo()
    assert run() == stock


def test_a_failing_task_is_recorded_as_failed_and_fails_as_it_would_without_the_plugin(capsys):
    @task
    def boom(x: int) -> int:
        if x:
            raise ValueError(f"bad {x}")
        return x

    with stock_flytekit():
        with pytest.raises(ValueError) as stock:
            boom(x=1)
    with pytest.raises(ValueError) as routed:
        boom(x=1)
    assert str(routed.value) == str(stock.value)
    (record,) = _records(capsys.readouterr().err)
    assert record.succeeded is False and record.task.endswith("boom")


def test_map_task_and_dynamic_children_are_measured(capsys):
    @dynamic
    def fan(n: int) -> list[int]:
        return [plus_one(x=i) for i in range(n)]

    assert fan(n=2) == [1, 2]
    assert map_task(plus_one)(x=[5, 6]) == [6, 7]
    names = [r.task for r in _records(capsys.readouterr().err)]
    assert names.count("tests.test_usage.plus_one") == 2  # the dynamic's children
    assert any(n.endswith("fan") for n in names)
    assert any("map" in n and "plus_one" in n for n in names)  # a local map task is one window


def test_enable_deck_adds_a_resources_deck_with_the_tasks_numbers(capsys):
    @task(enable_deck=True, requests=Resources(cpu="1", mem="100Mi"))
    def decked(n: int) -> int:
        return len(_touch(n * MiB))

    assert decked(n=40) == 40 * MiB
    ctx = FlyteContextManager.current_context()
    decks = [d for d in ctx.user_space_params.decks if d.name == "Resources"]
    assert decks
    parser = _Bars()
    parser.feed(decks[-1].html)
    (record,) = _records(capsys.readouterr().err, decks[-1]._window.name)
    assert parser.resources["memory"] == {"requested": 100 * MiB, "used": record.memory_peak_bytes}
    assert parser.resources["memory"]["used"] >= 40 * MiB
    assert parser.resources["cpu"]["requested"] == 1.0


def test_deck_opt_in_writes_a_file_for_a_task_without_decks(capsys, monkeypatch):
    monkeypatch.setenv("FLYTEKITPLUGINS_RESOURCES_USAGE_DECK", "on")
    assert plus_one(x=1) == 2
    err = capsys.readouterr().err
    (line,) = [ln for ln in err.splitlines() if "Resources deck at file://" in ln]
    path = line.split("file://", 1)[1]
    parser = _Bars()
    parser.feed(pathlib.Path(path).read_text())
    assert "cpu" in parser.resources and "memory" in parser.resources


@pytest.mark.parametrize("env, node", [
    ({"FLYTE_EXECUTION_URL": "https://flyte.example/console/projects/p/domains/d/executions/ex1/nodeId/n3/nodes"},
     "n3"),
    ({"HOSTNAME": "ex1-n0-2"}, "n0"),
    ({"HOSTNAME": "ex1-dn0-0-n1-2"}, "dn0-0-n1"),
    ({"HOSTNAME": "a7f3k2b9c1d0e5f6g8h4-1"}, None),  # a hashed pod name: the node is not in it
])
def test_identity_from_flytes_environment(monkeypatch, env, node):
    for k in ("FLYTE_EXECUTION_URL", "HOSTNAME"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("FLYTE_INTERNAL_EXECUTION_ID", "ex1")
    monkeypatch.setenv("_F_PRJ", "ml")  # flytekit's short names work too
    monkeypatch.setenv("FLYTE_INTERNAL_EXECUTION_DOMAIN", "production")
    monkeypatch.setenv("FLYTE_INTERNAL_EXECUTION_WORKFLOW", "wf.train")
    monkeypatch.setenv("FLYTE_ATTEMPT_NUMBER", "2")
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert usage_task.identity() == {"project": "ml", "domain": "production", "workflow": "wf.train",
                                     "execution": "ex1", "attempt": 2, "node": node}


@pytest.mark.parametrize("resources, requests", [
    (dict(resources=Resources(cpu="2", mem="4Gi", gpu="A100:2")), {"cpu": "2", "memory": "4Gi", "nvidia.com/gpu": "2"}),
    (dict(requests=Resources(gpu="MI300X:1")), {"amd.com/gpu": "1"}),
    (dict(requests=Resources(cpu=1, mem=2**30, ephemeral_storage="1Gi")),
     {"cpu": "1", "memory": "1073741824", "ephemeral-storage": "1Gi"}),
    ({}, {}),
])
def test_declared_resources_use_kubernetes_names(resources, requests):
    t = task(**resources)(_add_two)
    assert usage_task.declared_resources(t)["requests"] == requests


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_child_forked_while_a_task_is_measured_can_measure_its_own():
    tracker = process.PeakTracker()
    parent = Meter(cgroup=None, use_cgroup=False, tracker=tracker, interval=0.02, nvml=None).start()
    time.sleep(0.05)
    pid = os.fork()
    if pid == 0:  # the child: its own sampler thread, its own windows
        try:
            r = Meter(cgroup=None, use_cgroup=False, tracker=tracker, interval=0.02, nvml=None).start()
            _burn(0.1)
            ok = r.stop().cpu_seconds >= 0.1
        except BaseException:
            ok = False
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert parent.stop().cpu_seconds is not None
    assert os.WEXITSTATUS(status) == 0
