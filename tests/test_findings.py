"""A finding's place (task, node, replica role) is data: the message says what happened, ``Finding.text()``
puts the place in front, the same way for every component, the CLI and the hook."""

from collections import OrderedDict

import pytest
from flytekit import Resources, task, workflow

from flytekitplugins.resources import enforce
from flytekitplugins.resources.findings import Finding
from flytekitplugins.resources.platform import Platform, TaskResources, TaskResourceSet
from flytekitplugins.resources.preflight import preflight
from flytekitplugins.resources.preflight.limitrange import parse_limit_range
from flytekitplugins.resources.preflight.nodefit import parse_node_groups
from flytekitplugins.resources.preflight.policy import Policy
from flytekitplugins.resources.preview import preview_entities
from flytekitplugins.resources.quantity import Quantity

from .helpers import SETTINGS


@pytest.mark.parametrize(
    "fields, where",
    [
        ({"task": "wf.t"}, "task 'wf.t'"),
        ({"task": "wf.t", "node": "wf.main/n0"}, "task 'wf.t', node 'wf.main/n0'"),
        ({"task": "wf.t", "role": "ray-head"}, "task 'wf.t' (ray-head)"),
        ({"task": "wf.t", "node": "n0", "role": "worker x4"}, "task 'wf.t', node 'n0' (worker x4)"),
        ({"pod": ""}, "pod"),
        ({"pod": "p"}, "pod 'p'"),
        ({"pod": "", "node": "n0"}, "pod, node 'n0'"),
        ({"task": "wf.t", "pod": "p"}, "task 'wf.t'"),  # a known task is the place; the pod's name is not
        ({}, ""),  # a platform file's finding has no place
    ],
)
def test_where_and_text(fields, where):
    f = Finding("error", "x.y", "requests.cpu='8' is above the limit", **fields)
    assert f.where() == where
    assert f.text() == (f"{where}: requests.cpu='8' is above the limit" if where else f.message)


def test_without_the_task_the_node_and_role_stay():
    f = Finding("error", "x.y", "m", task="wf.t", node="n0", role="ray-head")
    assert f.text(with_task=False) == "node 'n0' (ray-head): m"
    assert Finding("error", "x.y", "m", task="wf.t").text(with_task=False) == "m"


def test_placed_moves_a_finding_and_keeps_the_rest():
    f = Finding("error", "limitrange.max", "too big", pod="", field="limits.cpu", before="8")
    g = f.placed(task="wf.t", node="n0", role="worker x2")
    assert (g.task, g.node, g.role, g.pod) == ("wf.t", "n0", "worker x2", None)
    assert (g.message, g.field, g.before) == (f.message, f.field, f.before)
    assert g.to_dict() == {"level": "error", "code": "limitrange.max", "message": "too big", "task": "wf.t",
                           "node": "n0", "role": "worker x2", "field": "limits.cpu", "before": "8"}


# --------------------------------------------------------------------------------------------- everywhere
@task(requests=Resources(cpu="8", mem="1Gi"), limits=Resources(cpu="8", mem="2Gi"))
def big() -> None: ...


@task(requests=Resources(cpu="64", mem="1Gi"))
def huge() -> None: ...  # above the platform limit: flyteadmin refuses it


@task(requests=Resources(cpu="1", mem="1Gi"))
def small() -> None: ...


@workflow
def wf() -> None:
    small().with_overrides(requests=Resources(cpu="3"), limits=Resources(cpu="3"))
    big()
    huge()


def _dask_task():
    from flytekitplugins.dask import Dask, WorkerGroup

    @task(task_config=Dask(workers=WorkerGroup(number_of_workers=2, limits=Resources(cpu="6", mem="1Gi"))),
          requests=Resources(cpu="1", mem="1Gi"))
    def crunch() -> None: ...

    return crunch


def _entities(*entities):
    from flytekit.tools.translator import get_serializable

    mapping = OrderedDict()
    with enforce.suspended():
        for e in entities:
            get_serializable(mapping, SETTINGS, e)
    from flytekit.models import launch_plan
    from flytekit.models import task as task_models
    from flytekit.models.admin import workflow as workflow_models

    kinds = (task_models.TaskSpec, workflow_models.WorkflowSpec, launch_plan.LaunchPlan)
    return [m.to_flyte_idl() for m in mapping.values() if isinstance(m, kinds)]


def _platform():
    limits = TaskResourceSet(cpu=Quantity.parse("16"), memory=Quantity.parse("8Gi"))
    defaults = TaskResourceSet(cpu=Quantity.parse("500m"), memory=Quantity.parse("1Gi"))
    return Platform(task_resources=TaskResources(defaults=defaults, limits=limits))


def _policy():
    lr = parse_limit_range({"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "lr"},
                            "spec": {"limits": [{"type": "Container", "max": {"cpu": "2"}}]}}, "limits.yaml")
    groups = parse_node_groups({"nodeGroups": [{"name": "tiny", "count": 1,
                                                "allocatable": {"cpu": "1", "memory": "4Gi", "pods": "10"}}]},
                               "nodes.yaml")
    return Policy(source="test", limit_ranges=[lr], node_groups=groups)


def test_no_message_carries_its_place_and_every_finding_is_placed_at_its_pod():
    previews = preview_entities(_entities(wf, _dask_task()), _platform())
    previews = preflight(previews, _policy(), _platform())
    roles = {p.role for p in previews}
    assert {None, "dask-worker x2"} <= roles and any(p.node for p in previews) and any(p.refused for p in previews)
    codes = set()
    for p in previews:
        for f in p.findings:
            codes.add(f.code.split(".")[0])
            # flyteadmin's findings are the task's (registration, execution defaults): no node of their own
            assert f.task == p.task and f.node == (None if f.code.startswith("admin.") else p.node), f
            assert f.role in (None, p.role), f
            assert not f.message.startswith(("task ", "pod", "(")), f.message
            assert f"'{p.task}'" not in f.message and (not p.node or f"'{p.node}'" not in f.message), f.message
            assert f.text().startswith(f"task '{p.task}'")
            if f.role:
                assert f" ({f.role}): " in f.text()
    assert {"admin", "propeller", "limitrange", "nodefit"} <= codes


def test_a_check_run_once_for_two_pods_is_placed_at_each():
    # small (as its task) and big pass through the same checks; the nodefit refusal of each names its own task
    previews = preflight(preview_entities(_entities(wf), _platform()), _policy(), _platform())
    no_fit = [(f.task, f.node) for p in previews for f in p.findings if f.code == "nodefit.no-fit"]
    assert len(set(no_fit)) == len(no_fit) >= 2
