"""preview_entities walks serialized entities: every task once, every node whose pod differs from its task's."""

import pytest
from flyteidl.admin import launch_plan_pb2, task_pb2, workflow_pb2
from flyteidl.core import tasks_pb2
from flyteidl.core import workflow_pb2 as core_wf

from flytekitplugins.resources.findings import ERROR, Finding
from flytekitplugins.resources.platform import Platform
from flytekitplugins.resources.preview import count_previews, preview_entities, propeller

from .helpers import task_node as _task_node
from .helpers import task_spec as _task
from .helpers import workflow_spec as _workflow


@pytest.fixture
def calls(monkeypatch):
    """Record what the orchestration hands flytepropeller's pod builder (the builder is tested on its own)."""
    seen = []

    def fake(template, platform, *, overrides=None, interruptible=False, task=None, node=None, namespace=None):
        seen.append(dict(template=template, overrides=overrides, interruptible=interruptible, task=task, node=node,
                         namespace=namespace))
        return [propeller.BuiltPod({"kind": "Pod", "metadata": {"name": node or task},
                                    "spec": {"containers": [{"name": "primary", "image": "img"}]}},
                                   [Finding("info", "test.built", f"built {task}/{node}")])]

    monkeypatch.setattr(propeller, "build_pods", fake)
    return seen


def test_each_task_is_previewed_once_after_flyteadmins_defaults(calls):
    out = preview_entities([_task("wf.a"), _task("wf.b", cpu="3")], Platform())
    assert [(p.task, p.node) for p in out] == [("wf.a", None), ("wf.b", None)]
    # flyteadmin's default platform limit is 2 cpu: the template handed on is the defaulted copy
    assert [e.value for e in calls[1]["template"].container.resources.requests if e.name == tasks_pb2.Resources.CPU] \
        == ["2"]
    # flyteadmin refuses wf.b at registration: its refusal is kept, and nothing of the later steps (the task never
    # runs; flyteadmin's lowering and the builder's notes would describe a pod that is never created)
    assert out[1].refused and not out[0].refused and out[1].refused_by() == ["flyteadmin"]
    assert any(f.level == ERROR and f.code == "admin.request-above-platform-limit" for f in out[1].findings)
    assert all(f.level == ERROR and f.code.startswith("admin.") for f in out[1].findings)
    assert [f.code for f in out[0].findings][-1] == "test.built"
    assert calls[0]["namespace"] == "flytesnacks-development"


def test_flyteadmins_changes_come_first_then_the_builders(calls):
    # registration compares whole cpus (1500m and 1100m are both 2): accepted, then lowered at execution
    from flytekitplugins.resources.platform import TaskResources, TaskResourceSet
    from flytekitplugins.resources.quantity import Quantity

    platform = Platform(task_resources=TaskResources(limits=TaskResourceSet(cpu=Quantity.parse("1100m"))))
    (out,) = preview_entities([_task("wf.b", cpu="1500m")], platform)
    codes = [f.code for f in out.findings]
    assert not out.refused and codes[-1] == "test.built"
    assert codes.index("admin.request-lowered") < codes.index("test.built")


@pytest.mark.parametrize(
    "node, expected",
    [
        (_task_node("n0", "wf.a", cpu="500m"), [("wf.a", "wf.main/n0")]),
        (_task_node("n0", "wf.a"), []),  # no overrides: the task's own pod
        (_task_node("n0", "wf.a", interruptible=True), [("wf.a", "wf.main/n0")]),
        (_task_node("n0", "wf.missing", cpu="1"), []),  # a task not in the entities
    ],
)
def test_nodes_with_overrides_get_their_own_pod(calls, node, expected):
    out = preview_entities([_task("wf.a"), _workflow("wf.main", node)])
    assert [(p.task, p.node) for p in out if p.node] == expected


def test_array_and_branch_nodes_are_walked(calls):
    array = core_wf.Node(id="map")
    array.array_node.node.CopyFrom(_task_node("map-sub", "wf.a", cpu="250m"))
    branch = core_wf.Node(id="br")
    branch.branch_node.if_else.case.then_node.CopyFrom(_task_node("then", "wf.a", cpu="2"))
    branch.branch_node.if_else.else_node.CopyFrom(_task_node("else", "wf.a", interruptible=False))
    out = preview_entities([_task("wf.a"), _workflow("wf.main", array, branch)])
    assert [p.node for p in out] == [None, "wf.main/map-sub", "wf.main/then", "wf.main/else"]
    overrides = calls[1]["overrides"]
    assert [e.value for e in overrides.resources.requests] == ["250m"]
    assert calls[3]["interruptible"] is False and calls[2]["interruptible"] is False


def test_node_interruptible_overrides_the_tasks(calls):
    preview_entities([_task("wf.a", interruptible=True), _workflow("wf.main", _task_node("n", "wf.a", cpu="1"),
                                                                   _task_node("m", "wf.a", interruptible=False))])
    assert [c["interruptible"] for c in calls] == [True, True, False]


@pytest.mark.parametrize("wanted, expected", [("wf.a", ["wf.a"]), ("a", ["wf.a"]), ("b", ["x.b"]), ("c", [])])
def test_task_filter_takes_the_full_name_or_its_last_part(calls, wanted, expected):
    out = preview_entities([_task("wf.a"), _task("x.b")], task=wanted)
    assert [p.task for p in out] == expected


def test_launch_plans_build_no_pod_and_others_are_refused(calls):
    assert preview_entities([launch_plan_pb2.LaunchPlan()]) == []
    with pytest.raises(TypeError, match="not a flyteidl task or workflow"):
        preview_entities(["wf.a"])


def test_progress_is_called_once_per_counted_preview(calls):
    entities = [_task("wf.a"), _task("wf.b"), _workflow("wf.main", _task_node("n", "wf.a", cpu="1"),
                                                          _task_node("m", "wf.b"))]
    ticks = []
    preview_entities(entities, progress=lambda: ticks.append(1))
    assert len(ticks) == count_previews(entities) == 3


def test_to_dict_has_the_documented_shape(calls):
    (p,) = preview_entities([_task("wf.a")])
    d = p.to_dict()
    assert set(d) == {"task", "node", "pod", "findings"}
    assert all(set(f) >= {"level", "code", "message"} for f in d["findings"])


def test_a_map_tasks_overridden_array_node_is_previewed_with_flytes_clamp():
    # a real map_task: flyteadmin gives the task a limit equal to its request, so the node's larger request
    # is clamped to it by flytepropeller (ApplyResourceOverrides), which the preview says
    from collections import OrderedDict
    from typing import List

    from flytekit import Resources, map_task, task, workflow
    from flytekit.tools.translator import get_serializable

    from .helpers import SETTINGS

    @task(requests=Resources(cpu="1", mem="1Gi"))
    def square(x: int) -> int:
        return x * x

    @workflow
    def wf(xs: List[int]) -> List[int]:
        return map_task(square)(x=xs).with_overrides(requests=Resources(cpu="2", mem="1Gi"))

    mapping = OrderedDict()
    get_serializable(mapping, SETTINGS, wf)
    entities = [e for e in (m.to_flyte_idl() for m in mapping.values())
                if isinstance(e, (task_pb2.TaskSpec, workflow_pb2.WorkflowSpec))]
    previews = preview_entities(entities)
    (node,) = [p for p in previews if p.node is not None]
    assert node.node.endswith("-arraynode") and "wf/" in node.node
    assert node.pod["spec"]["containers"][0]["resources"]["requests"]["cpu"] == "1"
    (clamp,) = [f for f in node.findings if f.code == "propeller.request-clamped"]
    assert (clamp.field, clamp.before, clamp.after) == ("requests.cpu", "2", "1")
