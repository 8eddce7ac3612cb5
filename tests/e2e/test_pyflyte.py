"""End to end: pyflyte in a subprocess on the bundled examples, reading the protobufs back."""

import subprocess
import sys

import pytest

from flytekitplugins.resources.report import read_package, rows

from ..helpers import IMAGE, ROOT, example_project, pyflyte_package, subprocess_env

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

_env = subprocess_env
_project = example_project
_package = pyflyte_package


def _table(path):
    return {r.name: r for r in rows(read_package(str(path)))}


@pytest.fixture(scope="module")
def packaged(tmp_path_factory):
    project = _project(tmp_path_factory.mktemp("pkg"))
    result = _package(project)
    assert result.returncode == 0, result.stdout + result.stderr
    return _table(project / "pkg.tgz")


def test_package_serializes_ints_and_single_values(packaged):
    square = packaged["workflows.basics.square"]
    assert square.requests == {"cpu": "1", "mem": str(1024**3)}
    total = packaged["workflows.basics.total"]
    assert total.requests == {"cpu": "1", "mem": "4Gi", "ephemeral_storage": "10Gi"}
    assert total.limits == {"cpu": "2", "mem": "4Gi", "ephemeral_storage": "10Gi"}  # single value: both


def test_package_serializes_node_overrides(packaged):
    override = packaged["workflows.basics.pipeline/n2"]
    assert (override.requests, override.limits) == ({"cpu": "2", "mem": "8Gi"}, {"cpu": "4", "mem": "8Gi"})
    assert packaged["workflows.basics.pipeline/n1"].limits == {"cpu": "2", "mem": "2Gi"}


def test_package_serializes_gpu_strings_mig_and_shared_memory(packaged):
    train = packaged["workflows.gpu.train"]
    assert (train.requests["gpu"], train.limits["gpu"], train.accelerator, train.shared_memory) == \
        ("2", "2", "nvidia-tesla-a100", "16Gi")
    evaluate = packaged["workflows.gpu.evaluate"]
    assert (evaluate.limits["gpu"], evaluate.accelerator) == ("1", "nvidia-h100 partition 3g.40gb")
    assert packaged["workflows.gpu.embed"].shared_memory == "node-sized"
    override = packaged["workflows.gpu.gpu_pipeline/n1"]
    assert (override.limits["gpu"], override.accelerator) == ("1", "nvidia-a100-80gb")


def test_package_merges_task_resources_into_helper_built_pod_templates(packaged):
    preprocess = packaged["workflows.pod_templates.preprocess"]
    assert preprocess.where == "pod template"
    assert preprocess.limits == {"memory": "16Gi", "ephemeral-storage": "20Gi"}  # template's kept, task's added
    finetune = packaged["workflows.pod_templates.finetune"]
    assert finetune.limits == {"cpu": "16", "memory": "128Gi", "nvidia.com/gpu": "4"}
    assert finetune.accelerator == "nvidia-a100-80gb (node affinity)"
    assert finetune.shared_memory == "32Gi (pod volume)"


def test_register_dry_run_sends_what_package_writes(tmp_path, packaged):
    project = _project(tmp_path)
    dump = tmp_path / "dump"
    result = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "e2e" / "register_dump.py"), "register", "--dry-run", "--copy", "none",
         "--image", IMAGE, "--version", "v1", "workflows"],
        cwd=project, capture_output=True, text=True, env=_env(DUMP_DIR=str(dump)),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Dry run Mode" in result.stdout
    registered = _table(dump)
    assert set(registered) == set(packaged)
    for name, row in packaged.items():
        assert registered[name] == row, name


BAD = {
    "bad_unit.py": """
        from flytekit import Resources, task

        @task(requests=Resources(mem="2GB"))
        def greedy(a: int) -> int:
            return a
    """,
}
BAD_LIMIT = {
    "bad_limit.py": """
        from flytekit import Resources, task

        @task(requests=Resources(cpu="4"), limits=Resources(cpu="2"))
        def inverted(a: int) -> int:
            return a
    """,
}


def test_package_stops_on_an_invalid_unit_with_a_clear_message(tmp_path):
    result = _package(_project(tmp_path, BAD))
    assert result.returncode != 0
    out = result.stdout + result.stderr
    assert "mem='2GB'" in out and "'GB' is not a Kubernetes unit" in out and "'2Gi' (2^30 bytes)" in out


def test_package_stops_on_request_above_limit_naming_the_task(tmp_path):
    result = _package(_project(tmp_path, BAD_LIMIT))
    assert result.returncode != 0
    out = " ".join((result.stdout + result.stderr).split())
    assert "task 'workflows.bad_limit.inverted': cpu='4': the request '4' is greater than the limit '2'" in out


def test_without_the_plugin_stock_flytekit_fails_on_the_same_examples(tmp_path):
    result = _package(_project(tmp_path), FLYTEKITPLUGINS_RESOURCES_DISABLE="1")
    assert result.returncode != 0
    assert "bad argument type for built-in operation" in " ".join((result.stdout + result.stderr).split())
