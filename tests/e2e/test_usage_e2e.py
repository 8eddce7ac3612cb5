"""Real tasks measured in real processes: `pyflyte run` (a local run: rusage), and the commands a Flyte pod runs
(`pyflyte-execute`, `pyflyte-map-execute`, with Flyte's environment: the cgroup when the task is alone in it)."""

import json
import os
import pathlib
import subprocess
import sys
import textwrap

import pytest

from flytekitplugins.resources.usage.record import PREFIX, parse_line

MiB = 1 << 20
BIN = pathlib.Path(sys.executable).parent
PYFLYTE = [sys.executable, "-m", "flytekit.clis.sdk_in_container.pyflyte"]

WORKFLOW = '''
import time
from flytekit import Resources, map_task, task, workflow


@task(requests=Resources(cpu="1", mem="300Mi"), limits=Resources(cpu="2", mem="1Gi"))
def alloc(mib: int, seconds: float) -> int:
    held = bytearray(mib * 1024 * 1024)
    for i in range(0, len(held), 4096):
        held[i] = 1
    t = time.process_time()
    while time.process_time() - t < seconds:
        pass
    return len(held)


@task
def plus_one(x: int) -> int:
    return x + 1


@workflow
def wf(mib: int = 200, seconds: float = 0.5) -> int:
    return plus_one(x=alloc(mib=mib, seconds=seconds))


@workflow
def mapped(xs: list[int] = [1, 2, 3]) -> list[int]:
    return map_task(plus_one)(x=xs)
'''

# Writes the inputs of alloc and of one map-task child, and prints the commands flytekit serializes for them.
COMMANDS = '''
import json, sys
sys.path.insert(0, ".")
from flytekit import map_task
from flytekit.configuration import Image, ImageConfig, SerializationSettings
from flytekit.core.context_manager import FlyteContextManager
from flytekit.core.type_engine import TypeEngine
from flytekit.models.literals import LiteralMap
import wfmod

settings = SerializationSettings(image_config=ImageConfig(default_image=Image(name="d", fqn="img", tag="v")))
ctx = FlyteContextManager.current_context()


def write(path, values, types):
    lm = LiteralMap({k: TypeEngine.to_literal(ctx, v, types[k], TypeEngine.to_literal_type(types[k]))
                     for k, v in values.items()})
    open(path, "wb").write(lm.to_flyte_idl().SerializeToString())


write("alloc.pb", {"mib": 200, "seconds": 0.5}, {"mib": int, "seconds": float})
write("map.pb", {"x": [10, 20, 30]}, {"x": list[int]})
print(json.dumps({"alloc": wfmod.alloc.get_command(settings),
                  "map": map_task(wfmod.plus_one).get_command(settings)}))
'''

FLYTE_ENV = {
    "FLYTE_INTERNAL_EXECUTION_ID": "a1b2c3",
    "FLYTE_INTERNAL_EXECUTION_PROJECT": "ml",
    "FLYTE_INTERNAL_EXECUTION_DOMAIN": "development",
    "FLYTE_INTERNAL_EXECUTION_WORKFLOW": "wfmod.wf",
    "FLYTE_ATTEMPT_NUMBER": "0",
    "HOSTNAME": "a1b2c3-n0-0",
}


def _env(**extra):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("FLYTEKITPLUGINS_RESOURCES") and not k.startswith("FLYTE_INTERNAL")}
    env.update(PYTHONWARNINGS="ignore", COLUMNS="300", **extra)
    return env


def _records(text):
    return [parse_line(line) for line in text.splitlines() if PREFIX in line]


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    d = tmp_path_factory.mktemp("usage")
    (d / "wfmod.py").write_text(textwrap.dedent(WORKFLOW))
    return d


def _run(project, *extra, **env):
    return subprocess.run(PYFLYTE + ["run", "wfmod.py", *extra], cwd=project, capture_output=True, text=True,
                          env=_env(**env), timeout=600)


@pytest.fixture(scope="module")
def local_run(project):
    result = _run(project, "wf")
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_pyflyte_run_prints_a_record_per_task_that_bounds_what_it_used(local_run):
    records = {r.task: r for r in _records(local_run.stderr)}
    assert set(records) == {"wfmod.alloc", "wfmod.plus_one"}
    alloc = records["wfmod.alloc"]
    assert alloc.memory_peak_bytes >= 200 * MiB
    assert alloc.cpu_seconds >= 0.5
    assert alloc.wall_seconds >= 0.5 and alloc.cpu_peak_cores >= alloc.cpu_avg_cores > 0
    assert alloc.succeeded is True
    assert alloc.requests == {"cpu": "1", "memory": "300Mi"} and alloc.limits == {"cpu": "2", "memory": "1Gi"}
    assert alloc.sources["memory"] == alloc.sources["cpu"] == "rusage"  # many tasks share the local process
    # the small task after it does not inherit alloc's peak: the high-water mark is reset per task on Linux, and
    # without the reset it could never be below alloc's (the mark only rises). How far below depends on what the
    # interpreter kept resident between the tasks, so only a small margin is asked for.
    if sys.platform.startswith("linux"):
        assert records["wfmod.plus_one"].memory_peak_bytes < alloc.memory_peak_bytes - 16 * MiB


def test_off_prints_nothing_and_the_outputs_are_the_same(project, local_run):
    off = _run(project, "wf", FLYTEKITPLUGINS_RESOURCES_USAGE="off")
    assert off.returncode == 0, off.stderr[-3000:]
    assert _records(off.stderr) == [] and _records(off.stdout) == []
    assert off.stdout.strip().splitlines()[-1] == local_run.stdout.strip().splitlines()[-1] == str(200 * MiB + 1)


@pytest.fixture(scope="module")
def commands(project):
    out = subprocess.run([sys.executable, "-c", COMMANDS], cwd=project, capture_output=True, text=True,
                         env=_env(), timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def _pod_command(command, project, inputs, name):
    out = project / f"out-{name}"
    values = {"{{.input}}": str(project / inputs), "{{.outputPrefix}}": str(out),
              "{{.rawOutputDataPrefix}}": str(project / f"raw-{name}"), "{{.checkpointOutputPrefix}}": str(out / "cp"),
              "{{.prevCheckpointPrefix}}": ""}
    argv = [values.get(a, a) for a in command]
    return [str(BIN / argv[0])] + argv[1:], out


def _pod(project, commands, which, **env):
    inputs = {"alloc": "alloc.pb", "map": "map.pb"}[which]
    argv, out = _pod_command(commands[which], project, inputs, f"{which}-{len(env)}")
    result = subprocess.run(argv, cwd=project, capture_output=True, text=True, timeout=600,
                            env=_env(**FLYTE_ENV, **env))
    assert result.returncode == 0, result.stderr[-3000:]
    assert (out / "outputs.pb").exists(), result.stderr[-3000:]
    return result


def test_a_task_in_its_pod_reads_its_cgroup_and_names_its_execution(project, commands):
    result = _pod(project, commands, "alloc")
    (record,) = _records(result.stderr)
    assert (record.project, record.domain, record.workflow, record.execution, record.node, record.attempt) == (
        "ml", "development", "wfmod.wf", "a1b2c3", "n0", 0)
    assert record.memory_peak_bytes >= 200 * MiB and record.cpu_seconds >= 0.5
    # alone in its container: the cgroup, when this machine has a readable one; else rusage, and why
    assert record.sources["memory"] in ("cgroup1", "cgroup2", "rusage")
    if record.sources["memory"] == "rusage":
        assert record.notes


def _fake_v2(root: pathlib.Path):
    (root / "proc/self").mkdir(parents=True)
    (root / "proc/self/cgroup").write_text("0::/\n")
    (root / "proc/self/mountinfo").write_text("30 20 0:40 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n")
    d = root / "sys/fs/cgroup"
    d.mkdir(parents=True)
    (d / "memory.peak").write_text(f"{3 << 30}\n")
    (d / "memory.max").write_text(f"{4 << 30}\n")
    (d / "cpu.stat").write_text("usage_usec 1000000\n")
    (d / "cpu.max").write_text("150000 100000\n")
    return root


def test_in_a_pod_the_cgroup_is_what_is_read(project, commands, tmp_path):
    root = _fake_v2(tmp_path / "root")
    result = _pod(project, commands, "alloc", FLYTEKITPLUGINS_RESOURCES_CGROUP_ROOT=str(root))
    (record,) = _records(result.stderr)
    assert record.sources["memory"] == record.sources["cpu"] == record.sources["limits"] == "cgroup2"
    assert record.memory_peak_bytes == 3 << 30  # the container's peak, as the kernel accounts it
    assert record.cpu_seconds == 0.0  # the (static) file's counter did not move
    assert record.container_limits == {"memory_bytes": 4 << 30, "cpu_cores": 1.5}


def test_a_map_task_child_in_its_pod_is_measured(project, commands):
    result = _pod(project, commands, "map", BATCH_JOB_ARRAY_INDEX_VAR_NAME="MY_INDEX", MY_INDEX="1")
    (record,) = _records(result.stderr)
    assert "plus_one" in record.task and record.succeeded is True
    assert record.execution == "a1b2c3"
