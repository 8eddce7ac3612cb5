"""recommend --apply / --diff: source in -> source out (byte-exact), every skip, all-or-nothing writes, and the
edited code serializing with the plugin active."""

import importlib
import os
import sys
import textwrap
import uuid
from collections import OrderedDict
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flytekitplugins.resources import ResourceValidationError
from flytekitplugins.resources.recommend import apply as apply_mod
from flytekitplugins.resources.recommend.apply import SourceEditError, dnsify, plan
from flytekitplugins.resources.recommend.model import Recommendation as Rec

from .helpers import SETTINGS

HEADER = "from flytekit import Resources, task, workflow\n\n\n"


def run_plan(tmp_path: Path, source: str, recs, name: str = "m"):
    path = tmp_path / f"{name}.py"
    path.write_bytes(source.encode())
    return path, plan(recs, root=tmp_path)


def edited(tmp_path: Path, source: str, recs, name: str = "m") -> str:
    path, p = run_plan(tmp_path, source, recs, name)
    assert p.skipped == [], p.skipped
    p.apply()
    return path.read_bytes().decode()


# ------------------------------------------------------------------------------------------ source in -> out

CASES = [
    (
        "multi-line decorator, comments kept, requests and limits added",
        HEADER + "@task(\n    cache=True,  # keep cached\n    retries=2,  # two\n)"
        "\ndef t(x: int) -> int:\n    return x\n",
        [Rec("m.t", requests={"cpu": "500m", "mem": "1Gi"}, limits={"mem": "1Gi"})],
        HEADER + "@task(\n    cache=True,  # keep cached\n    retries=2,  # two\n"
        "    requests=Resources(cpu=\"500m\", mem=\"1Gi\"),\n    limits=Resources(mem=\"1Gi\"),\n)\n"
        "def t(x: int) -> int:\n    return x\n",
    ),
    (
        "multi-line decorator without a trailing comma",
        HEADER + "@task(\n    cache=True  # keep\n)\ndef t() -> None: ...\n",
        [Rec("m.t", requests={"cpu": "2"})],
        HEADER + "@task(\n    cache=True,  # keep\n    requests=Resources(cpu=\"2\")\n)\ndef t() -> None: ...\n",
    ),
    (
        "bare @task becomes a call",
        HEADER + "@task\ndef t() -> None: ...\n",
        [Rec("m.t", requests={"cpu": "2"}, limits={"mem": "2Gi"})],
        HEADER + "@task(requests=Resources(cpu=\"2\"), limits=Resources(mem=\"2Gi\"))\ndef t() -> None: ...\n",
    ),
    (
        "resources= with request = limit stays one value",
        HEADER + "@task(resources=Resources(cpu=\"1\", mem=\"4Gi\"))  # big\ndef t() -> None: ...\n",
        [Rec("m.t", requests={"mem": "3Gi"}, limits={"mem": "3Gi"})],
        HEADER + "@task(resources=Resources(cpu=\"1\", mem=\"3Gi\"))  # big\ndef t() -> None: ...\n",
    ),
    (
        "resources= with a new request below the limit becomes a pair",
        HEADER + "@task(resources=Resources(cpu=\"2\", mem=\"4Gi\"))\ndef t() -> None: ...\n",
        [Rec("m.t", requests={"cpu": "500m"})],
        HEADER + "@task(resources=Resources(cpu=(\"500m\", \"2\"), mem=\"4Gi\"))\ndef t() -> None: ...\n",
    ),
    (
        "resources= pair stays a pair, its layout kept; a new field goes in field order",
        HEADER + "@task(resources=Resources(cpu=( '1' ,  '2' ), gpu=1))\ndef t() -> None: ...\n",
        [Rec("m.t", requests={"cpu": "1", "mem": "1Gi"}, limits={"cpu": "1", "mem": "1Gi"})],
        HEADER + "@task(resources=Resources(cpu=( '1' ,  '1' ), mem='1Gi', gpu=1))\ndef t() -> None: ...\n",
    ),
    (
        "separate requests and limits: the right one changes, a missing field is added",
        HEADER + "@task(requests=Resources(cpu=\"1\"), limits=Resources(cpu=\"4\", mem=\"8Gi\"))\n"
        "def t() -> None: ...\n",
        [Rec("m.t", requests={"cpu": "2", "mem": "6Gi"}, limits={"mem": "6Gi"})],
        HEADER + "@task(requests=Resources(cpu=\"2\", mem=\"6Gi\"), limits=Resources(cpu=\"4\", mem=\"6Gi\"))\n"
        "def t() -> None: ...\n",
    ),
    (
        "requests= only: limits= is added; requests=None is replaced",
        HEADER + "@task(requests=None, retries=1)\ndef t() -> None: ...\n",
        [Rec("m.t", requests={"mem": "1Gi"}, limits={"mem": "2Gi"})],
        HEADER + "@task(requests=Resources(mem=\"1Gi\"), retries=1, limits=Resources(mem=\"2Gi\"))\n"
        "def t() -> None: ...\n",
    ),
    (
        "numbers stay numbers where the value is one; quotes kept; equal quantities untouched",
        HEADER + "@task(requests=Resources(cpu=1, mem='1024Mi'), limits=Resources(cpu=0.5, mem='2Gi'))\n"
        "def t() -> None: ...\n",
        [Rec("m.t", requests={"cpu": "2", "mem": "1Gi"}, limits={"cpu": "2500m", "mem": "3Gi"})],
        HEADER + "@task(requests=Resources(cpu=2, mem='1024Mi'), limits=Resources(cpu='2500m', mem='3Gi'))\n"
        "def t() -> None: ...\n",
    ),
    (
        "a multi-line Resources call gets the new field on its own line",
        HEADER + "@task(\n    requests=Resources(\n        cpu=\"1\",  # one\n    ),\n)\ndef t() -> None: ...\n",
        [Rec("m.t", requests={"mem": "1Gi"})],
        HEADER + "@task(\n    requests=Resources(\n        cpu=\"1\",  # one\n        mem=\"1Gi\",\n    ),\n)\n"
        "def t() -> None: ...\n",
    ),
    (
        "Resources under the name the file imports it as",
        "from flytekit import Resources as R, task\n\n\n@task(limits=R(mem=\"1Gi\"))\ndef t() -> None: ...\n",
        [Rec("m.t", requests={"cpu": "1"}, limits={"mem": "2Gi"})],
        "from flytekit import Resources as R, task\n\n\n@task(limits=R(mem=\"2Gi\"), requests=R(cpu=\"1\"))\n"
        "def t() -> None: ...\n",
    ),
    (
        "import flytekit: flytekit.task and flytekit.Resources",
        "import flytekit\n\n\n@flytekit.task(retries=1)\ndef t() -> None: ...\n",
        [Rec("m.t", requests={"cpu": "1"})],
        "import flytekit\n\n\n@flytekit.task(retries=1, requests=flytekit.Resources(cpu=\"1\"))"
        "\ndef t() -> None: ...\n",
    ),
    (
        "Resources added to a sorted from-import in its place",
        "from flytekit import ImageSpec, task, workflow\n\n\n@task\ndef t() -> None: ...\n",
        [Rec("m.t", requests={"cpu": "1"})],
        "from flytekit import ImageSpec, Resources, task, workflow\n\n\n@task(requests=Resources(cpu=\"1\"))\n"
        "def t() -> None: ...\n",
    ),
    (
        "Resources appended to an unsorted from-import",
        "from flytekit import workflow, task\n\n\n@task\ndef t() -> None: ...\n",
        [Rec("m.t", requests={"cpu": "1"})],
        "from flytekit import workflow, task, Resources\n\n\n@task(requests=Resources(cpu=\"1\"))\n"
        "def t() -> None: ...\n",
    ),
    (
        "Resources added to a parenthesized from-import, one per line",
        "from flytekit import (\n    ImageSpec,  # the image\n    task,\n)\n\n\n@task\ndef t() -> None: ...\n",
        [Rec("m.t", requests={"cpu": "1"})],
        "from flytekit import (\n    ImageSpec,  # the image\n    Resources,\n    task,\n)\n\n\n"
        "@task(requests=Resources(cpu=\"1\"))\ndef t() -> None: ...\n",
    ),
    (
        "no flytekit from-import: a new import line after the last import",
        "\"\"\"Doc.\"\"\"\nimport os\nfrom flytekit.core.task import task\n\nX = os.sep\n\n\n@task\n"
        "def t() -> None: ...\n",
        [Rec("m.t", requests={"cpu": "1"})],
        "\"\"\"Doc.\"\"\"\nimport os\nfrom flytekit.core.task import task\nfrom flytekit import Resources\n\n"
        "X = os.sep\n\n\n@task(requests=Resources(cpu=\"1\"))\ndef t() -> None: ...\n",
    ),
    (
        "a plugin task (task_config=...) and @dynamic",
        HEADER + "from flytekit import dynamic\n\n\n@task(task_config=Ray(worker_node_config=[]))\n"
        "def r() -> None: ...\n\n\n@dynamic(cache=True)\ndef d() -> None: ...\n",
        [Rec("m.r", requests={"cpu": "1"}), Rec("m.d", limits={"mem": "1Gi"})],
        HEADER + "from flytekit import dynamic\n\n\n@task(task_config=Ray(worker_node_config=[]), "
        "requests=Resources(cpu=\"1\"))\ndef r() -> None: ...\n\n\n@dynamic(cache=True, "
        "limits=Resources(mem=\"1Gi\"))\ndef d() -> None: ...\n",
    ),
    (
        "CRLF line endings kept",
        HEADER.replace("\n", "\r\n") + "@task(\r\n    retries=1,\r\n)\r\ndef t() -> None: ...\r\n",
        [Rec("m.t", requests={"cpu": "1"})],
        HEADER.replace("\n", "\r\n") + "@task(\r\n    retries=1,\r\n    requests=Resources(cpu=\"1\"),\r\n)\r\n"
        "def t() -> None: ...\r\n",
    ),
]

WF = (HEADER + "@task(requests=Resources(mem=\"1Gi\"), limits=Resources(mem=\"4Gi\"))\ndef a(x: int) -> int:\n"
      "    return x\n\n\n@task\ndef b(x: int) -> int:\n    return x\n\n\n")

NODE_CASES = [
    (
        "an existing override is edited",
        WF + "@workflow\ndef wf(x: int) -> int:\n    return a(x=x).with_overrides("
        "\n        requests=Resources(mem=\"2Gi\"),"
        "  # more\n    )\n",
        [Rec("m.a", requests={"mem": "3Gi"}, node="n0", workflow="m.wf")],
        WF + "@workflow\ndef wf(x: int) -> int:\n    return a(x=x).with_overrides("
        "\n        requests=Resources(mem=\"3Gi\"),"
        "  # more\n    )\n",
    ),
    (
        "the only call of the task gets .with_overrides",
        WF + "@workflow\ndef wf(x: int) -> int:\n    y = b(x=x)\n    return a(x=y)\n",
        [Rec("m.a", requests={"mem": "2Gi"}, node="n1", workflow="m.wf")],
        WF + "@workflow\ndef wf(x: int) -> int:\n    y = b(x=x)\n    return a(x=y).with_overrides(requests=Resources("
        "mem=\"2Gi\"))\n",
    ),
    (
        "node_name= identifies the node",
        WF + "@workflow\ndef wf(x: int) -> int:\n    y = a(x=x).with_overrides(node_name=\"First_Step\")\n"
        "    return a(x=y).with_overrides(node_name=\"second\", retries=2)\n",
        [Rec("m.a", limits={"mem": "3Gi"}, node="second", workflow="m.wf"),
         Rec("m.a", requests={"mem": "2Gi"}, node="first-step", workflow="m.wf")],
        WF + "@workflow\ndef wf(x: int) -> int:\n    y = a(x=x).with_overrides(node_name=\"First_Step\", "
        "requests=Resources(mem=\"2Gi\"))\n"
        "    return a(x=y).with_overrides(node_name=\"second\", retries=2, limits=Resources(mem=\"3Gi\"))\n",
    ),
    (
        "in a workflow of known calls, the position gives the id (arguments are evaluated first)",
        WF + "@workflow\ndef wf(x: int) -> int:\n    return a(x=b(x=a(x=x)))\n",
        [Rec("m.a", requests={"mem": "2Gi"}, node="n2", workflow="m.wf"),
         Rec("m.b", requests={"cpu": "1"}, node="n1", workflow="m.wf")],
        WF + "@workflow\ndef wf(x: int) -> int:\n    return a(x=b(x=a(x=x))"
        ".with_overrides(requests=Resources(cpu=\"1\")))"
        ".with_overrides(requests=Resources(mem=\"2Gi\"))\n",
    ),
]


@pytest.mark.parametrize("source, recs, expected", [c[1:] for c in CASES + NODE_CASES],
                         ids=[c[0] for c in CASES + NODE_CASES])
def test_source_in_source_out(tmp_path, source, recs, expected):
    assert edited(tmp_path, source, recs) == expected


def test_task_and_workflow_in_other_modules(tmp_path):
    pkg = tmp_path / "proj"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "tasks.py").write_text(HEADER + "@task\ndef a(x: int) -> int:\n    return x\n")
    wf = "from flytekit import workflow\n\nfrom . import tasks\nfrom .tasks import a as step\n\n\n" \
         "@workflow\ndef wf(x: int) -> int:\n    return tasks.a(x=step(x=x))\n"
    (pkg / "flows.py").write_text(wf)
    p = plan([Rec("proj.tasks.a", requests={"cpu": "1"}),
              Rec("proj.tasks.a", requests={"cpu": "2"}, limits={"cpu": "2"}, node="n1", workflow="proj.flows.wf")],
             root=tmp_path)
    assert p.skipped == []
    assert p.diff() == (
        "--- a/proj/flows.py\n+++ b/proj/flows.py\n@@ -1,4 +1,4 @@\n-from flytekit import workflow\n"
        "+from flytekit import Resources, workflow\n \n from . import tasks\n from .tasks import a as step\n"
        "@@ -6,4 +6,4 @@\n \n @workflow\n def wf(x: int) -> int:\n-    return tasks.a(x=step(x=x))\n"
        "+    return tasks.a(x=step(x=x)).with_overrides(requests=Resources(cpu=\"2\"), limits=Resources(cpu=\"2\"))\n"
        "--- a/proj/tasks.py\n+++ b/proj/tasks.py\n@@ -1,6 +1,6 @@\n from flytekit import Resources, task, workflow\n"
        " \n \n-@task\n+@task(requests=Resources(cpu=\"1\"))\n def a(x: int) -> int:\n     return x\n"
    )
    written = p.apply()
    assert sorted(x.name for x in written) == ["flows.py", "tasks.py"]
    assert (pkg / "tasks.py").read_text().count('requests=Resources(cpu="1")') == 1


def test_diff_is_a_unified_diff_relative_to_root_and_changes_name_the_lines(tmp_path):
    path, p = run_plan(tmp_path, HEADER + "@task(resources=Resources(mem=\"4Gi\"))\ndef t() -> None: ...\n",
                       [Rec("m.t", requests={"mem": "1Gi"}, limits={"mem": "1Gi"})])
    assert p.diff() == (
        "--- a/m.py\n+++ b/m.py\n@@ -1,5 +1,5 @@\n from flytekit import Resources, task, workflow\n \n \n"
        "-@task(resources=Resources(mem=\"4Gi\"))\n+@task(resources=Resources(mem=\"1Gi\"))\n def t() -> None: ...\n")
    assert [(c.task, c.line, c.changes) for c in p.changes] == [("m.t", 4, ("resources.mem '4Gi' -> '1Gi'",))]
    assert path.read_text().count("4Gi") == 1  # the plan alone writes nothing


def test_no_change_needed_gives_an_empty_plan(tmp_path):
    _, p = run_plan(tmp_path, HEADER + "@task(requests=Resources(cpu=\"1000m\"))\ndef t() -> None: ...\n",
                    [Rec("m.t", requests={"cpu": "1"})])
    assert (p.files, p.changes, p.skipped, p.diff()) == ([], [], [], "")


# ------------------------------------------------------------------------------------------------ skips

SKIPS = [
    ("a variable", HEADER + "RES = Resources(cpu='1')\n\n\n@task(requests=RES)\ndef t() -> None: ...\n",
     Rec("m.t", requests={"cpu": "2"}), "requests=RES is computed"),
    ("a variable field", HEADER + "CPU = '1'\n\n\n@task(requests=Resources(cpu=CPU))\ndef t() -> None: ...\n",
     Rec("m.t", requests={"cpu": "2"}), "cpu=CPU is computed"),
    ("an f-string", HEADER + "N = 2\n\n\n@task(limits=Resources(mem=f'{N}Gi'))\ndef t() -> None: ...\n",
     Rec("m.t", limits={"mem": "2Gi"}), "mem=f'{N}Gi' is computed"),
    ("a function call", HEADER + "@task(requests=Resources(cpu=str(2)))\ndef t() -> None: ...\n",
     Rec("m.t", requests={"cpu": "2"}), "cpu=str(2) is computed"),
    ("a Resources built elsewhere", HEADER + "@task(requests=make())\ndef t() -> None: ...\n",
     Rec("m.t", requests={"cpu": "2"}), "requests=make() is computed"),
    ("**kwargs", HEADER + "OPTS = {}\n\n\n@task(**OPTS)\ndef t() -> None: ...\n",
     Rec("m.t", requests={"cpu": "2"}), "passes **OPTS"),
    ("**kwargs in Resources", HEADER + "@task(requests=Resources(**R))\ndef t() -> None: ...\n",
     Rec("m.t", requests={"cpu": "2"}), "passes **"),
    ("a positional Resources argument", HEADER + "@task(requests=Resources('1'))\ndef t() -> None: ...\n",
     Rec("m.t", requests={"cpu": "2"}), "a positional argument"),
    ("a Resources that is not flytekit's", "from flytekit import task\nfrom mylib import Resources\n\n\n"
     "@task(requests=Resources(cpu='1'))\ndef t() -> None: ...\n", Rec("m.t", requests={"cpu": "2"}),
     "this Resources is not flytekit's Resources"),
    ("a name Resources that is not flytekit's, to add", "from flytekit import task\n\n\nclass Resources: ...\n\n\n"
     "@task\ndef t() -> None: ...\n", Rec("m.t", requests={"cpu": "2"}), "`Resources` is not flytekit's"),
    ("resources= with requests=", HEADER + "@task(resources=Resources(cpu='1'), requests=Resources(cpu='1'))\n"
     "def t() -> None: ...\n", Rec("m.t", requests={"cpu": "2"}), "together with requests=/limits="),
    ("resources= and a request alone for a new field", HEADER + "@task(resources=Resources(mem='1Gi'))\n"
     "def t() -> None: ...\n", Rec("m.t", requests={"cpu": "2"}), "gives no limit for it"),
    ("a pair in requests=", HEADER + "@task(requests=Resources(cpu=('1', '2')))\ndef t() -> None: ...\n",
     Rec("m.t", requests={"cpu": "2"}), "belongs in resources="),
    ("the result would be refused", HEADER + "@task(limits=Resources(mem='2Gi'))\ndef t() -> None: ...\n",
     Rec("m.t", requests={"mem": "3Gi"}), "request '3Gi' is greater than the limit '2Gi'"),
    ("a gpu naming an accelerator", HEADER + "@task(resources=Resources(gpu='A100:2'))\ndef t() -> None: ...\n",
     Rec("m.t", requests={"gpu": "1"}, limits={"gpu": "1"}), "gpu names an accelerator"),
    ("not a task", HEADER + "def t() -> None: ...\n", Rec("m.t", requests={"cpu": "2"}), "has no flytekit @task"),
    ("no such function", HEADER, Rec("m.t", requests={"cpu": "2"}), "no top-level function 't'"),
    ("no such module", HEADER, Rec("other.t", requests={"cpu": "2"}), "module 'other' not found"),
    ("a duplicate recommendation", HEADER + "@task\ndef t() -> None: ...\n",
     [Rec("m.t", requests={"cpu": "2"}), Rec("m.t", requests={"cpu": "3"})], "a second recommendation"),
    ("a node without its workflow", HEADER + "@task\ndef t() -> None: ...\n",
     Rec("m.t", requests={"cpu": "2"}, node="n0"), "without its workflow"),
    ("a node the override of which exceeds the task's limit", WF + "@workflow\ndef wf(x: int) -> int:\n"
     "    return a(x=x)\n", Rec("m.a", requests={"mem": "5Gi"}, node="n0", workflow="m.wf"),
     "the override's request '5Gi' is greater than the task's limit '4Gi'"),
    ("an ambiguous node", WF + "def helper(x):\n    return x\n\n\n@workflow\ndef wf(x: int) -> int:\n"
     "    return a(x=helper(a(x=x)))\n", Rec("m.a", requests={"mem": "2Gi"}, node="n1", workflow="m.wf"),
     "not identified unambiguously among the 2 call(s) of a"),
    ("a node id that no call has", WF + "@workflow\ndef wf(x: int) -> int:\n    return a(x=x)\n",
     Rec("m.a", requests={"mem": "2Gi"}, node="renamed", workflow="m.wf"), "not identified unambiguously"),
    ("a node position held by another task", WF + "@workflow\ndef wf(x: int) -> int:\n    return a(x=b(x=x))\n",
     Rec("m.a", requests={"mem": "2Gi"}, node="n0", workflow="m.wf"), "not identified unambiguously"),
    ("a node in a loop", WF + "@workflow\ndef wf(x: int) -> int:\n    for _ in range(3):\n        x = a(x=x)\n"
     "    return x\n", Rec("m.a", requests={"mem": "2Gi"}, node="n1", workflow="m.wf"), "in a loop"),
    ("a workflow without the task", WF + "@workflow\ndef wf(x: int) -> int:\n    return b(x=x)\n",
     Rec("m.a", requests={"mem": "2Gi"}, node="n0", workflow="m.wf"), "has no call of m.a"),
    ("two overrides setting resources", WF + "@workflow\ndef wf(x: int) -> int:\n    return a(x=x).with_overrides("
     "requests=Resources(mem='2Gi')).with_overrides(limits=Resources(mem='3Gi'))\n",
     Rec("m.a", requests={"mem": "2Gi"}, node="n0", workflow="m.wf"), "2 .with_overrides(...) of node n0"),
    ("a computed override", WF + "R = Resources(mem='2Gi')\n\n\n@workflow\ndef wf(x: int) -> int:\n"
     "    return a(x=x).with_overrides(requests=R)\n",
     Rec("m.a", requests={"mem": "2Gi"}, node="n0", workflow="m.wf"), "requests=R is computed"),
]


@pytest.mark.parametrize("source, recs, reason", [c[1:] for c in SKIPS], ids=[c[0] for c in SKIPS])
def test_computed_or_unidentifiable_values_are_listed_and_left_alone(tmp_path, source, recs, reason):
    recs = recs if isinstance(recs, list) else [recs]
    path, p = run_plan(tmp_path, source, recs)
    assert len(p.skipped) == 1, p.skipped
    assert reason in p.skipped[0].reason
    assert (p.skipped[0].task, p.skipped[0].node) == (recs[-1].task, recs[-1].node)
    if len(recs) == 1:
        assert p.files == [] and p.diff() == ""
    p.apply()
    assert path.read_text() == source or len(recs) > 1


def test_a_skipped_recommendation_leaves_no_import_behind(tmp_path):
    source = "from flytekit import task\n\n\n@task\ndef t() -> None: ...\n"
    path, p = run_plan(tmp_path, source, [Rec("m.t", requests={"mem": "3Gi"}, limits={"mem": "2Gi"})])
    assert "greater than the limit" in p.skipped[0].reason
    assert p.files == [] and p.diff() == ""


def test_skips_do_not_stop_the_other_edits_and_accelerator_advice_is_listed(tmp_path):
    source = HEADER + "X = Resources()\n\n\n@task(requests=X)\ndef s() -> None: ...\n\n\n@task\ndef t() -> None: ...\n"
    _, p = run_plan(tmp_path, source, [Rec("m.s", requests={"cpu": "1"}),
                                       Rec("m.t", requests={"cpu": "1"}, accelerator="A100 MIG 3g.20gb")])
    assert [s.task for s in p.skipped] == ["m.s", "m.t"]
    assert "advice" in p.skipped[1].reason
    assert [c.task for c in p.changes] == ["m.t"]


# ------------------------------------------------------------------------------------------------ bad input


def test_a_file_that_cannot_be_parsed_is_one_line_naming_it(tmp_path):
    (tmp_path / "m.py").write_text("@task(\ndef broken(:\n")
    with pytest.raises(SourceEditError) as e:
        plan([Rec("m.t", requests={"cpu": "1"})], root=tmp_path)
    message = str(e.value)
    assert "\n" not in message and str(tmp_path / "m.py") in message and "cannot be parsed" in message
    assert "line" in message


@pytest.mark.parametrize("rec, field", [
    (Rec("m.t", requests={"cpu": "2 cores"}), "cpu"),
    (Rec("m.t", limits={"mem": "2GB"}), "mem"),
    (Rec("m.t", requests={"shm": "1Gi"}), "shm"),
])
def test_an_invalid_recommendation_is_a_validation_error_naming_task_and_field(tmp_path, rec, field):
    (tmp_path / "m.py").write_text(HEADER + "@task\ndef t() -> None: ...\n")
    with pytest.raises(ResourceValidationError) as e:
        plan([rec], root=tmp_path)
    assert e.value.task == "m.t" and e.value.field == field


# ------------------------------------------------------------------------------------------- all or nothing


def two_files(tmp_path):
    (tmp_path / "one.py").write_text(HEADER + "@task\ndef t() -> None: ...\n")
    (tmp_path / "two.py").write_text(HEADER + "@task\ndef t() -> None: ...\n")
    recs = [Rec("one.t", requests={"cpu": "1"}), Rec("two.t", requests={"cpu": "1"})]
    return recs, {p: p.read_bytes() for p in (tmp_path / "one.py", tmp_path / "two.py")}


def unchanged(files):
    return all(p.read_bytes() == data for p, data in files.items())


def test_a_second_file_that_cannot_be_parsed_stops_everything(tmp_path):
    recs, files = two_files(tmp_path)
    (tmp_path / "two.py").write_text("def (:\n")
    files[tmp_path / "two.py"] = (tmp_path / "two.py").read_bytes()
    with pytest.raises(SourceEditError, match="two.py"):
        plan(recs, root=tmp_path).apply()
    assert unchanged(files)


def test_a_file_changed_after_planning_stops_everything(tmp_path):
    recs, files = two_files(tmp_path)
    p = plan(recs, root=tmp_path)
    (tmp_path / "two.py").write_text((tmp_path / "two.py").read_text() + "# edited meanwhile\n")
    files[tmp_path / "two.py"] = (tmp_path / "two.py").read_bytes()
    with pytest.raises(SourceEditError, match="two.py: changed since"):
        p.apply()
    assert unchanged(files)
    assert [x.name for x in tmp_path.iterdir() if x.name.endswith(".tmp")] == []


def test_a_second_file_that_cannot_be_written_restores_the_first(tmp_path, monkeypatch):
    recs, files = two_files(tmp_path)
    p = plan(recs, root=tmp_path)
    real = os.replace

    def replace(src, dst):
        if Path(dst).name == "two.py":
            raise PermissionError(13, "Permission denied")
        return real(src, dst)

    monkeypatch.setattr(apply_mod.os, "replace", replace)
    with pytest.raises(SourceEditError, match="two.py: cannot be written"):
        p.apply()
    assert unchanged(files)
    assert [x.name for x in tmp_path.iterdir() if x.name.endswith(".tmp")] == []


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root may write read-only files")
def test_a_read_only_second_file_stops_everything(tmp_path):
    recs, files = two_files(tmp_path)
    p = plan(recs, root=tmp_path)
    (tmp_path / "two.py").chmod(0o444)
    with pytest.raises(SourceEditError, match="two.py: is not writable"):
        p.apply()
    assert unchanged(files)


def test_apply_keeps_the_file_mode(tmp_path):
    recs, files = two_files(tmp_path)
    (tmp_path / "one.py").chmod(0o640)
    plan(recs, root=tmp_path).apply()
    assert (tmp_path / "one.py").stat().st_mode & 0o777 == 0o640
    assert not unchanged(files)


# ------------------------------------------------------------------------------- the edited code serializes

NAMES = {1: "cpu", 2: "gpu", 3: "mem", 5: "ephemeral_storage"}


def entries(resources) -> dict:
    out = {}
    for group in ("requests", "limits"):
        for e in getattr(resources, group):
            out[f"{group}.{NAMES[e.name]}"] = e.value
    return out


def serialized(tmp_path: Path, package: str):
    """Import the package's ``flows`` module and serialize its workflow with the plugin active:
    task name -> resources, node id -> override resources."""
    from flytekit.models.task import TaskSpec
    from flytekit.tools.translator import get_serializable

    sys.path.insert(0, str(tmp_path))
    try:
        flows = importlib.import_module(f"{package}.flows")
        mapping = OrderedDict()
        spec = get_serializable(mapping, SETTINGS, flows.wf)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [n for n in sys.modules if n == package or n.startswith(package + ".")]:
            del sys.modules[name]
    tasks = {m.template.id.name: entries(m.template.container.resources)
             for m in mapping.values() if isinstance(m, TaskSpec)}
    nodes = {n.id: entries(n.task_node.overrides.resources) for n in spec.template.nodes
             if n.task_node is not None and n.task_node.overrides is not None
             and n.task_node.overrides.resources is not None}
    return tasks, nodes


def write_package(tmp_path: Path) -> str:
    package = f"rsapp_{uuid.uuid4().hex[:8]}"
    pkg = tmp_path / package
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "tasks.py").write_text(textwrap.dedent("""\
        from flytekit import Resources, task


        @task(
            retries=1,  # flaky input
            requests=Resources(cpu="4", mem="16Gi"),
            limits=Resources(cpu="8", mem="16Gi"),
        )
        def prepare(x: int) -> int:
            return x


        @task(resources=Resources(cpu="2", mem="8Gi"))
        def train(x: int) -> int:
            return x


        @task
        def report(x: int) -> int:
            return x
        """))
    (pkg / "flows.py").write_text(textwrap.dedent("""\
        from flytekit import workflow

        from .tasks import prepare, report, train


        @workflow
        def wf(x: int) -> int:
            y = prepare(x=x)
            z = train(x=y).with_overrides(retries=3)
            return report(x=z)
        """))
    return package


def test_edited_code_serializes_with_the_recommended_values(tmp_path):
    package = write_package(tmp_path)
    recs = [
        Rec(f"{package}.tasks.prepare", requests={"cpu": "1500m", "mem": "3Gi"}, limits={"mem": "3Gi"}),
        Rec(f"{package}.tasks.train", requests={"cpu": "1", "mem": "4Gi"}, limits={"mem": "6Gi"}),
        Rec(f"{package}.tasks.report", requests={"cpu": "250m", "mem": "512Mi"}, limits={"mem": "512Mi"}),
        Rec(f"{package}.tasks.train", requests={"mem": "5Gi"}, limits={"mem": "5Gi"}, node="n1",
            workflow=f"{package}.flows.wf"),
    ]
    p = plan(recs, root=tmp_path)
    assert p.skipped == []
    p.apply()
    assert "# flaky input" in (tmp_path / package / "tasks.py").read_text()
    tasks, nodes = serialized(tmp_path, package)
    assert tasks[f"{package}.tasks.prepare"] == {"requests.cpu": "1500m", "requests.mem": "3Gi",
                                                 "limits.cpu": "8", "limits.mem": "3Gi"}
    assert 'resources=Resources(cpu=("1", "2"), mem=("4Gi", "6Gi"))' in (tmp_path / package / "tasks.py").read_text()
    assert tasks[f"{package}.tasks.train"] == {"requests.cpu": "1", "requests.mem": "4Gi",
                                               "limits.cpu": "2", "limits.mem": "6Gi"}
    assert tasks[f"{package}.tasks.report"] == {"requests.cpu": "250m", "requests.mem": "512Mi",
                                                "limits.mem": "512Mi"}
    assert nodes == {"n1": {"requests.mem": "5Gi", "limits.mem": "5Gi"}}


QUANTITIES = {
    "cpu": st.sampled_from(["100m", "250m", "500m", "1", "2", "1500m", "4", "16"]),
    "mem": st.sampled_from(["128Mi", "512Mi", "1Gi", "1536Mi", "3Gi", "8Gi", "1G", "500M"]),
    "ephemeral_storage": st.sampled_from(["1Gi", "10Gi", "500Mi"]),
}


@st.composite
def decorated(draw):
    """A task decorator in one of the forms users write, and a recommendation for it."""
    fields = draw(st.lists(st.sampled_from(sorted(QUANTITIES)), unique=True, max_size=3))
    form = draw(st.sampled_from(["bare", "empty", "resources", "separate", "requests-only"]))
    values = {f: draw(QUANTITIES[f]) for f in fields}
    layout = draw(st.sampled_from(["inline", "lines"]))
    if form == "bare":
        decorator = "@task"
    else:
        args = {"empty": [], "resources": [f"resources=Resources({_kw(values)})"] if values else [],
                "separate": [f"requests=Resources({_kw(values)})", f"limits=Resources({_kw(values)})"],
                "requests-only": [f"requests=Resources({_kw(values)})"]}[form]
        args = ["retries=1", *args]
        decorator = ("@task(" + ", ".join(args) + ")" if layout == "inline"
                     else "@task(\n" + "".join(f"    {a},  # note\n" for a in args) + ")")
    rec_fields = draw(st.lists(st.sampled_from(sorted(QUANTITIES)), unique=True, min_size=1, max_size=3))
    requests, limits = {}, {}
    for f in rec_fields:
        kind = draw(st.sampled_from(["both-equal", "request", "limit", "both"]))
        if kind in ("both-equal", "request", "both"):
            requests[f] = draw(QUANTITIES[f])
        if kind == "both-equal":
            limits[f] = requests[f]
        elif kind in ("limit", "both"):
            limits[f] = draw(QUANTITIES[f])
    return decorator, requests, limits


def _kw(values):
    return ", ".join(f"{f}={v!r}" for f, v in values.items())


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(decorated())
def test_any_recommendation_either_round_trips_through_serialization_or_is_skipped(tmp_path, case):
    decorator, requests, limits = case
    from flytekit.tools.translator import get_serializable

    package = f"rsprop_{uuid.uuid4().hex[:8]}"
    source = f"from flytekit import Resources, task\n\n\n{decorator}\ndef t(x: int) -> int:\n    return x\n"
    path = tmp_path / f"{package}.py"
    path.write_text(source)
    before = _load(tmp_path, package)
    p = plan([Rec(f"{package}.t", requests=requests, limits=limits)], root=tmp_path)
    if p.skipped:
        assert p.files == [] and p.skipped[0].reason
        return
    p.apply()
    text = path.read_text()
    assert text.count("# note") == source.count("# note")
    after = _load(tmp_path, package)
    path.unlink()
    # every recommended value is serialized; every other value is what it was
    for key, value in after.items():
        group, f = key.split(".")
        wanted = (requests if group == "requests" else limits).get(f)
        if wanted is not None:
            from flytekitplugins.resources import Quantity
            assert Quantity.parse(value) == Quantity.parse(wanted), (key, text)
        else:
            assert before.get(key) == value, (key, text)
    for group, values in (("requests", requests), ("limits", limits)):
        for f in values:
            assert f"{group}.{f}" in after, (group, f, text)
    del get_serializable


def _load(tmp_path: Path, package: str) -> dict:
    from flytekit.tools.translator import get_serializable

    sys.path.insert(0, str(tmp_path))
    try:
        importlib.invalidate_caches()
        module = importlib.import_module(package)
        spec = get_serializable(OrderedDict(), SETTINGS, module.t)
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop(package, None)
    return entries(spec.template.container.resources)


def test_dnsify_matches_flytekit():
    from flytekit.core.utils import _dnsify

    for name in ["First_Step", "a.b-c", "_x", "CamelCaseName", "x" * 70, "Ünïcode step", "n0", "A__B"]:
        assert dnsify(name) == _dnsify(name)


def test_modules_are_found_under_extra_paths_or_by_an_explicit_mapping(tmp_path):
    (tmp_path / "src" / "lib").mkdir(parents=True)
    (tmp_path / "src" / "lib" / "__init__.py").write_text(HEADER + "@task\ndef a() -> None: ...\n")
    elsewhere = tmp_path / "elsewhere.py"
    elsewhere.write_text(HEADER + "@task\ndef b() -> None: ...\n")
    recs = [Rec("lib.a", requests={"cpu": "1"}), Rec("pipelines.b", requests={"cpu": "2"})]
    assert [s.task for s in plan(recs, root=tmp_path).skipped] == ["lib.a", "pipelines.b"]
    p = plan(recs, root=tmp_path, paths=[tmp_path / "src"], sources={"pipelines": elsewhere})
    assert p.skipped == []
    assert [(c.task, c.path) for c in p.changes] == [("lib.a", tmp_path / "src" / "lib" / "__init__.py"),
                                                     ("pipelines.b", elsewhere)]
    assert "+++ b/src/lib/__init__.py" in p.diff() and "+++ b/elsewhere.py" in p.diff()


def test_eager_and_async_tasks_are_edited(tmp_path):
    source = "from flytekit import eager\n\n\n@eager\nasync def e() -> None: ...\n"
    assert edited(tmp_path, source, [Rec("m.e", requests={"mem": "1Gi"})]) == (
        "from flytekit import Resources, eager\n\n\n@eager(requests=Resources(mem=\"1Gi\"))\n"
        "async def e() -> None: ...\n")
