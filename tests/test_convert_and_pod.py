"""convert_resources_to_resource_model, construct_extended_resources, pod_spec_from_resources, pod templates."""

import pytest
from flyteidl.core import tasks_pb2
from flytekit import PodTemplate, Resources
from flytekit.core import constants
from flytekit.core.resources import ResourceSpec
from flytekit.extras.accelerators import A100, T4
from flytekit.models import task as task_models

from flytekitplugins.resources import (
    SHARED_MEMORY_MOUNT_NAME,
    SHARED_MEMORY_MOUNT_PATH,
    ResourceValidationError,
    construct_extended_resources,
    convert_resources_to_resource_model,
    pod_spec_from_resources,
)
from flytekitplugins.resources.pod import serialize_pod_spec

from .helpers import SETTINGS, stock_flytekit

R = task_models.Resources.ResourceName


@pytest.mark.parametrize("value, emitted", [
    ("1", "1"), ("500m", "500m"), ("1.5", "1.5"), ("1e3", "1e3"), ("+1", "+1"),  # valid strings: unchanged
    (2, "2"), (0, "0"), (1024**3, str(1024**3)),  # ints: decimal digits, zero kept
    (0.5, "500m"), (1.0, "1"), (2.5, "2500m"), (0.0, "0"),  # floats: canonical quantity of the shortest repr
])
def test_emitted_values_are_strings(value, emitted):
    model = convert_resources_to_resource_model(requests=Resources(cpu=value), limits=Resources(cpu=value))
    assert [(e.name, e.value) for e in model.requests] == [(R.CPU, emitted)]
    assert [(e.name, e.value) for e in model.limits] == [(R.CPU, emitted)]
    model.to_flyte_idl().SerializeToString()


def test_entry_order_matches_stock():
    model = convert_resources_to_resource_model(
        requests=Resources(ephemeral_storage="1Gi", gpu="1", mem="1Gi", cpu="1"))
    assert [e.name for e in model.requests] == [R.CPU, R.MEMORY, R.GPU, R.EPHEMERAL_STORAGE]


def test_request_above_limit_across_objects_is_refused():
    with pytest.raises(ResourceValidationError, match="cpu='3': the request '3' is greater than the limit '2'"):
        convert_resources_to_resource_model(requests=Resources(cpu="3"), limits=Resources(cpu="2"))


def test_pairs_outside_resources_are_refused_with_a_hint():
    with pytest.raises(ResourceValidationError, match=r"requests.cpu=\('1', '2'\).*resources="):
        convert_resources_to_resource_model(requests=Resources(cpu=("1", "2")))


def test_non_resources_argument_is_a_named_error():
    with pytest.raises(ResourceValidationError, match="requests={'cpu': '1'}: must be a flytekit Resources"):
        convert_resources_to_resource_model(requests={"cpu": "1"})


def test_extended_resources_accelerator_and_shared_memory():
    assert construct_extended_resources() is None
    assert construct_extended_resources(shared_memory=False) is None
    ext = construct_extended_resources(accelerator=A100.partition_1g_5gb, shared_memory=True)
    assert ext.gpu_accelerator.device == "nvidia-tesla-a100"
    assert ext.gpu_accelerator.partition_size == "1g.5gb"
    assert (ext.shared_memory.mount_name, ext.shared_memory.mount_path) == (SHARED_MEMORY_MOUNT_NAME,
                                                                             SHARED_MEMORY_MOUNT_PATH)
    assert ext.shared_memory.size_limit == ""  # True: node-sized
    assert construct_extended_resources(shared_memory="16Gi").shared_memory.size_limit == "16Gi"
    assert construct_extended_resources(shared_memory=2 * 1024**3).shared_memory.size_limit == str(2 * 1024**3)
    assert (SHARED_MEMORY_MOUNT_NAME, SHARED_MEMORY_MOUNT_PATH) == (constants.SHARED_MEMORY_MOUNT_NAME,
                                                                    constants.SHARED_MEMORY_MOUNT_PATH)


def test_extended_resources_equal_stock_for_valid_input():
    for kwargs in [dict(accelerator=T4), dict(shared_memory=True), dict(shared_memory="1Gi", accelerator=A100)]:
        from flytekit.core import resources as core

        with stock_flytekit():
            stock = core.construct_extended_resources(**kwargs)
        assert construct_extended_resources(**kwargs) == stock


@pytest.mark.parametrize("shared_memory, fragment", [
    ("2GB", "'GB' is not a Kubernetes unit"), ("-1Gi", "negative"), ("0", "size 0"), (1.5, "must be True or a size"),
])
def test_bad_shared_memory_is_refused(shared_memory, fragment):
    with pytest.raises(ResourceValidationError, match=fragment):
        construct_extended_resources(shared_memory=shared_memory)


def _resources_of(container):
    r = container.resources
    return dict(r.requests or {}), dict(r.limits or {})


@pytest.mark.parametrize("requests, limits, expected", [
    (Resources(cpu=2, mem=1024**3), None, ({"cpu": "2", "memory": str(1024**3)},) * 2),
    (None, Resources(gpu=1, ephemeral_storage="1Gi"), ({"nvidia.com/gpu": "1", "ephemeral-storage": "1Gi"},) * 2),
    (Resources(cpu="1"), Resources(cpu=1.5), ({"cpu": "1"}, {"cpu": "1500m"})),
])
def test_pod_spec_from_resources_emits_strings(requests, limits, expected):
    spec = pod_spec_from_resources("main", requests=requests, limits=limits)
    assert spec.containers[0].name == "main"
    assert _resources_of(spec.containers[0]) == expected


def test_pod_spec_from_resources_uses_the_given_gpu_key():
    spec = pod_spec_from_resources("main", limits=Resources(gpu="2"), k8s_gpu_resource_key="amd.com/gpu")
    assert _resources_of(spec.containers[0])[1] == {"amd.com/gpu": "2"}


def test_pod_spec_from_resources_equals_stock_for_strings():
    from flytekit.core import resources as core

    kwargs = dict(primary_container_name="c", requests=Resources(cpu="1", mem="1Gi"), limits=Resources(cpu="2"))
    with stock_flytekit():
        stock = core.pod_spec_from_resources(**kwargs)
    assert pod_spec_from_resources(**kwargs) == stock


def test_pod_spec_from_resources_refuses_request_above_limit():
    with pytest.raises(ResourceValidationError, match="greater than the limit"):
        pod_spec_from_resources("c", requests=Resources(mem="2Gi"), limits=Resources(mem="1Gi"))


def _container(requests=None, limits=None):
    return task_models.Container(
        image="img", command=["run"], args=[], env={"A": "1"}, config={}, data_loading_config=None,
        resources=task_models.Resources(
            requests=[task_models.Resources.ResourceEntry(R.CPU, v) for v in ([requests] if requests else [])],
            limits=[task_models.Resources.ResourceEntry(R.CPU, v) for v in ([limits] if limits else [])],
        ),
    )


def test_serialize_pod_spec_checks_the_templates_own_quantities():
    from kubernetes.client import V1Container, V1PodSpec, V1ResourceRequirements

    bad = PodTemplate(pod_spec=V1PodSpec(containers=[V1Container(
        name="primary", resources=V1ResourceRequirements(requests={"memory": "2GB"}))]))
    where = r"pod_template.containers\['primary'\].resources.requests\['memory'\]='2GB'"
    with pytest.raises(ResourceValidationError, match=where):
        serialize_pod_spec(bad, _container(), SETTINGS)


def _template_with_primary_resources(requests=None, limits=None):
    from kubernetes.client import V1Container, V1PodSpec, V1ResourceRequirements

    return PodTemplate(pod_spec=V1PodSpec(containers=[
        V1Container(name="primary", resources=V1ResourceRequirements(requests=requests, limits=limits)),
        V1Container(name="side", image="busybox",
                    resources=V1ResourceRequirements(limits={"cpu": "100m"})),
    ]))


def _containers(pod_spec):
    return {c["name"]: c for c in pod_spec["containers"]}


def test_merge_rule_task_wins_per_resource_and_template_keeps_the_rest():
    template = _template_with_primary_resources(requests={"cpu": "500m", "memory": "1Gi"},
                                                limits={"memory": "1Gi", "nvidia.com/gpu": "1"})
    merged = _containers(serialize_pod_spec(template, _container(requests="1", limits="2"), SETTINGS))
    assert merged["primary"]["resources"] == {
        "requests": {"cpu": "1", "memory": "1Gi"},  # task's cpu wins, template's memory kept
        "limits": {"memory": "1Gi", "nvidia.com/gpu": "1", "cpu": "2"},
    }
    assert merged["side"]["resources"] == {"limits": {"cpu": "100m"}}  # sidecars untouched
    assert template.pod_spec.containers[0].resources.limits == {"memory": "1Gi", "nvidia.com/gpu": "1"}  # input kept


def test_merge_rule_differs_from_stock_only_where_the_template_declares_resources():
    from flytekit.core import utils

    template = _template_with_primary_resources(limits={"memory": "1Gi"})
    with stock_flytekit():
        stock = _containers(utils._serialize_pod_spec(template, _container(requests="1"), SETTINGS))
    ours = _containers(serialize_pod_spec(template, _container(requests="1"), SETTINGS))
    assert stock["primary"]["resources"] == {"requests": {"cpu": "1"}, "limits": {}}  # stock drops the template's
    assert ours["primary"]["resources"] == {"requests": {"cpu": "1"}, "limits": {"memory": "1Gi"}}
    assert {k: v for k, v in ours["primary"].items() if k != "resources"} == \
        {k: v for k, v in stock["primary"].items() if k != "resources"}
    assert ours["side"] == stock["side"]
    template = _template_with_primary_resources()
    with stock_flytekit():
        stock = utils._serialize_pod_spec(template, _container(requests="1", limits="2"), SETTINGS)
    assert serialize_pod_spec(template, _container(requests="1", limits="2"), SETTINGS) == stock


def test_merged_requests_must_not_exceed_merged_limits():
    template = _template_with_primary_resources(requests={"cpu": "4"})
    message = r"resources\['cpu'\].*the request '4' is greater than the limit '2'"
    with pytest.raises(ResourceValidationError, match=message):
        serialize_pod_spec(template, _container(limits="2"), SETTINGS)


def test_extended_resources_idl_type():
    assert isinstance(construct_extended_resources(accelerator=T4), tasks_pb2.ExtendedResources)


def _gpu_container(requests=None, limits=None):
    return task_models.Container(
        image="img", command=["run"], args=[], env={}, config={}, data_loading_config=None,
        resources=task_models.Resources(
            requests=[task_models.Resources.ResourceEntry(R.GPU, v) for v in ([requests] if requests else [])],
            limits=[task_models.Resources.ResourceEntry(R.GPU, v) for v in ([limits] if limits else [])],
        ),
    )


def test_merge_treats_the_tasks_gpu_as_the_templates_device_resource():
    template = _template_with_primary_resources(requests={"amd.com/gpu": "8"}, limits={"amd.com/gpu": "8"})
    merged = _containers(serialize_pod_spec(template, _gpu_container(requests="4", limits="4"), SETTINGS))
    assert merged["primary"]["resources"] == {"requests": {"amd.com/gpu": "4"}, "limits": {"amd.com/gpu": "4"}}


@pytest.mark.parametrize("template_kwargs, container_kwargs", [
    (dict(requests={"nvidia.com/gpu": "1"}, limits={"nvidia.com/gpu": "2"}), dict()),
    (dict(requests={"nvidia.com/gpu": "4"}), dict(limits="2")),
])
def test_merged_device_requests_must_equal_limits(template_kwargs, container_kwargs):
    template = _template_with_primary_resources(**template_kwargs)
    with pytest.raises(ResourceValidationError, match="nvidia.com/gpu"):
        serialize_pod_spec(template, _gpu_container(**container_kwargs), SETTINGS)


# Where stock flytekit refuses an input too, its words stay in the message (code and tests match on them).
def _container_kwargs(**kw):
    return dict(image="img", resource_spec=ResourceSpec(requests=Resources(**kw), limits=Resources()), command=["x"])


@pytest.mark.parametrize("module, name, kwargs", [
    ("flytekit.core.resources", "convert_resources_to_resource_model", dict(requests=Resources(cpu=("1", "2")))),
    ("flytekit.core.resources", "convert_resources_to_resource_model", dict(limits=Resources(mem=("1Gi", "2Gi")))),
    ("flytekit.core.resources", "pod_spec_from_resources",
     dict(primary_container_name="p", requests=Resources(cpu=("1", "2")))),
    ("flytekit.core.resources", "pod_spec_from_resources",
     dict(primary_container_name="p", limits=Resources(gpu=("1", "1")))),
    ("flytekit.core.utils", "_get_container_definition", _container_kwargs(cpu=("1", "2"))),
])
def test_a_pair_outside_resources_keeps_stock_flytekits_words(module, name, kwargs):
    import importlib

    holder = importlib.import_module(module)
    with stock_flytekit(), pytest.raises(ValueError, match="can not be a list or tuple") as stock:
        getattr(holder, name)(**kwargs)
    with pytest.raises(ResourceValidationError) as ours:
        getattr(holder, name)(**kwargs)
    assert str(stock.value) in str(ours.value)
