"""Where Flyte's defaults and a namespace's LimitRange meet: the preview's pod (flyteadmin's and flytepropeller's
defaults applied) is what LimitRanger sees."""

import pytest
from flytekit import Resources, task

from flytekitplugins.resources import enforce
from flytekitplugins.resources.platform import Platform
from flytekitplugins.resources.preflight import preflight
from flytekitplugins.resources.preflight.limitrange import parse_limit_range
from flytekitplugins.resources.preflight.policy import Policy
from flytekitplugins.resources.preview import preview_entities

from .helpers import idl


def _limit_range(**item):
    doc = {"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "lr"},
           "spec": {"limits": [{"type": "Container", **item}]}}
    return parse_limit_range(doc, "limits.yaml")


def _check(entity, **item):
    with enforce.suspended():
        template = idl(entity).template.to_flyte_idl()
    (checked,) = preflight(preview_entities([template], Platform()), Policy(source="test",
                                                                            limit_ranges=[_limit_range(**item)]))
    resources = checked.pod["spec"]["containers"][0]["resources"]
    return resources, {f.code: f for f in checked.findings if f.code.startswith("limitrange.")}


@task(requests=Resources(cpu="1"))
def cpu_only() -> None: ...


@task
def nothing() -> None: ...


@task(requests=Resources(cpu="1"), limits=Resources(cpu="2"))
def ratio_two() -> None: ...


def test_flyte_sets_cpu_and_memory_so_a_limit_range_default_never_applies_to_them():
    # flyteadmin gives every container task a memory request (task_resources.defaults, 200Mi) and a limit
    # equal to it, so the LimitRange's 4Gi default memory limit is never used
    resources, found = _check(cpu_only, default={"memory": "4Gi"}, defaultRequest={"memory": "1Gi"})
    assert resources["limits"]["memory"] == "200Mi" and resources["requests"]["memory"] == "200Mi"
    assert "limitrange.default-limit" not in found and "limitrange.default-request" not in found


def test_ephemeral_storage_flyte_leaves_unset_gets_the_limit_range_defaults():
    resources, found = _check(cpu_only, default={"ephemeral-storage": "2Gi"},
                              defaultRequest={"ephemeral-storage": "1Gi"})
    assert resources["requests"]["ephemeral-storage"] == "1Gi" and resources["limits"]["ephemeral-storage"] == "2Gi"
    assert found["limitrange.default-request"].level == "info"
    assert "ephemeral-storage" in found["limitrange.default-request"].field


def test_a_minimum_refuses_flytes_own_default_request():
    # the task asks for nothing; flyteadmin's built-in default request is cpu 2, memory 200Mi: a 512Mi minimum
    # refuses the pod although the user never wrote a memory value
    _, found = _check(nothing, min={"memory": "512Mi"})
    assert found["limitrange.min"].level == "error"
    assert "minimum memory usage per Container is 512Mi, but request is 200Mi" in found["limitrange.min"].message


@pytest.mark.parametrize(
    "entity, refused",
    [
        (cpu_only, False),  # flytepropeller sets the limit to the request: a ratio of 1
        (ratio_two, True),  # the user's own 2:1 is above a maximum ratio of 1.5
    ],
    ids=["limit-from-request", "users-ratio"],
)
def test_max_limit_request_ratio_against_flytes_limit_from_request(entity, refused):
    _, found = _check(entity, maxLimitRequestRatio={"cpu": "1500m"})
    assert ("limitrange.max-ratio" in found) is refused
    if refused:
        assert "cpu max limit to request ratio per Container is 1500m, but provided ratio is 2.000000" in \
            found["limitrange.max-ratio"].message
