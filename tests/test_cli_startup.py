"""A CLI that starts fast: --help, --version and every command on a package archive import neither flytekit nor
kubernetes (flyteidl reads an archive). Each runs in a fresh interpreter, as a user's shell starts it."""

import io
import json
import subprocess
import sys
import tarfile

import pytest

from .helpers import task_node, task_spec, workflow_spec

pytestmark = pytest.mark.slow  # a fresh interpreter per case

_PROBE = """
import json, runpy, sys
sys.argv = ["flyte-resources"] + json.loads(sys.argv[1])
try:
    runpy.run_module("flytekitplugins.resources", run_name="__main__", alter_sys=True)
except SystemExit as e:
    status = e.code
else:
    status = 0
heavy = sorted({m.split(".")[0] for m in sys.modules} & {"flytekit", "kubernetes"})
sys.stderr.write("\\nPROBE " + json.dumps([status, heavy]) + "\\n")
"""


def _probe(*args, cwd=None):
    out = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(list(args))], capture_output=True, text=True,
                         cwd=cwd, timeout=300)
    line = [x for x in out.stderr.splitlines() if x.startswith("PROBE ")]
    assert line, out.stderr[-2000:]
    status, heavy = json.loads(line[-1][len("PROBE "):])
    return status, heavy, out.stdout


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """A pyflyte package archive (the .pb members pyflyte writes): one task, one overridden node."""
    path = tmp_path_factory.mktemp("archive") / "flyte-package.tgz"
    members = {"0_wf.t_1.pb": task_spec("wf.t", cpu="1"),
               "1_wf.main_2.pb": workflow_spec("wf.main", task_node("n0", "wf.t", cpu="500m"))}
    with tarfile.open(path, "w:gz") as tar:
        for name, message in members.items():
            data = message.SerializeToString()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["preview", "--help"], ["check", "--help"]])
def test_help_and_version_import_neither_flytekit_nor_kubernetes(args):
    status, heavy, out = _probe(*args)
    assert status == 0 and out.strip()
    assert heavy == []


@pytest.mark.parametrize("command", [["check"], ["preview"], ["preview", "-o", "json"], ["preview", "-o", "yaml"],
                                     ["report"]])
def test_commands_on_an_archive_import_neither_flytekit_nor_kubernetes(archive, command):
    status, heavy, out = _probe(command[0], str(archive), *command[1:])
    assert status == 0, out
    assert "wf.t" in out or "Pod" in out or "0 errors" in out
    assert heavy == []  # (the OpenAPI schema check, kubernetes-validate, is not the kubernetes client)


def test_the_hook_still_activates_when_flytekit_is_imported_after_the_cli():
    code = ("import json, flytekitplugins.resources.cli, flytekitplugins.resources as p, sys;"
            "before = 'flytekit' in sys.modules; import flytekit; from flytekit.core import resources as r;"
            "print(json.dumps([before, p.is_active(), r.convert_resources_to_resource_model.__module__]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [False, True, "flytekitplugins.resources.convert"]
