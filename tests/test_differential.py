"""Differential tests: the same entities serialized by stock flytekit (plugin deactivated) and with the
plugin active. For valid string values the bytes must be identical, except the documented changes."""

import typing

import pytest
from flytekit import ContainerTask, PodTemplate, Resources, dynamic, kwtypes, map_task, task, workflow
from flytekit.extras.accelerators import A100, T4
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .helpers import idl, serialize_all, stock_flytekit


def both(build):
    """serialize_all(build()) under stock flytekit and under the plugin."""
    with stock_flytekit():
        stock = serialize_all(build())
    return stock, serialize_all(build())


def _fn(a: int) -> int:
    return a


def _make_task(**kwargs):
    return task(**kwargs)(_fn)


# Valid, non-negative Kubernetes quantity strings (gpu: whole numbers).
_digits = st.text("0123456789", min_size=1, max_size=6)
_size = st.builds(
    lambda n, frac, suffix: n + ("." + frac if frac else "") + suffix,
    _digits,
    st.one_of(st.just(""), _digits),
    st.sampled_from(["", "m", "k", "M", "G", "Ki", "Mi", "Gi", "e3", "E2"]),
)
_gpu = st.integers(0, 16).map(str)
resources_values = st.fixed_dictionaries(
    {},
    optional={"cpu": _size, "mem": _size, "gpu": _gpu, "ephemeral_storage": _size},
)


@pytest.mark.filterwarnings("ignore::flytekitplugins.resources.ResourceValueWarning")
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests=resources_values, limits=resources_values)
def test_task_requests_and_limits_serialize_byte_identically(requests, limits):
    from flytekitplugins.resources.quantity import Quantity

    for field in set(requests) & set(limits):  # keep request <= limit: the plugin rightly refuses otherwise
        if Quantity.parse(requests[field]) > Quantity.parse(limits[field]):
            requests[field], limits[field] = limits[field], requests[field]
    if "gpu" in requests and "gpu" in limits:  # and GPUs are never overcommitted
        limits["gpu"] = requests["gpu"]
    stock, ours = both(lambda: _make_task(requests=Resources(**requests), limits=Resources(**limits)))
    assert ours == stock


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(resources=Resources(cpu=("1", "2"), mem=("1Gi", "2Gi"))),
        dict(requests=Resources(cpu="500m", mem="1Gi"), limits=Resources(cpu="1", mem="2Gi"), accelerator=T4),
        dict(limits=Resources(gpu="1"), accelerator=A100.partition_2g_10gb, shared_memory=True),
        dict(requests=Resources(cpu="1"), shared_memory="2Gi"),
        dict(requests=Resources(cpu="1", ephemeral_storage="1Gi"), limits=Resources(ephemeral_storage="2Gi")),
        dict(requests=Resources(cpu="1", mem="1Gi"), pod_template=PodTemplate(labels={"team": "ml"})),
        dict(requests=Resources(cpu="0")),
    ],
    ids=["resources-pairs", "accelerator", "mig-shm", "shm-size", "ephemeral", "pod-template", "zero-string"],
)
def test_task_variants_serialize_byte_identically(kwargs):
    kw = dict(kwargs)
    stock, ours = both(lambda: _make_task(**kw))
    assert ours == stock


def test_pod_template_task_with_its_own_containers_serializes_byte_identically():
    from kubernetes.client import V1Container, V1PodSpec

    def build():
        template = PodTemplate(
            pod_spec=V1PodSpec(containers=[V1Container(name="primary"), V1Container(name="sidecar", image="busybox")]),
            primary_container_name="primary",
        )
        return _make_task(requests=Resources(cpu="1", mem="1Gi"), limits=Resources(mem="2Gi"), pod_template=template)

    stock, ours = both(build)
    assert ours == stock


def test_container_task_serializes_byte_identically():
    def build():
        return ContainerTask(
            name="ct",
            image="alpine",
            command=["echo"],
            inputs=kwtypes(a=int),
            requests=Resources(cpu="1", mem="500Mi"),
            limits=Resources(cpu="2", mem="1Gi", gpu="1"),
        )

    stock, ours = both(build)
    assert ours == stock


def test_map_task_and_overrides_in_a_workflow_serialize_byte_identically():
    def build():
        t = _make_task(requests=Resources(cpu="1"), limits=Resources(cpu="2"))

        @workflow
        def wf(xs: typing.List[int], a: int) -> int:
            map_task(t)(a=xs).with_overrides(requests=Resources(mem="1Gi"), limits=Resources(mem="2Gi"))
            return t(a=a).with_overrides(
                resources=Resources(cpu=("2", "4")),
                accelerator=A100,
                shared_memory="1Gi",
            )

        return wf

    stock, ours = both(build)
    assert ours == stock


def test_override_with_pod_template_serializes_byte_identically():
    def build():
        t = _make_task(requests=Resources(cpu="1"))

        @workflow
        def wf(a: int) -> int:
            return t(a=a).with_overrides(pod_template=PodTemplate(labels={"x": "y"}), limits=Resources(cpu="3"))

        return wf

    stock, ours = both(build)
    assert ours == stock


def test_dynamic_task_serializes_byte_identically():
    def build():
        @dynamic(requests=Resources(cpu="1", mem="1Gi"), limits=Resources(cpu="2", mem="2Gi"))
        def dyn(a: int) -> int:
            return a

        return dyn

    stock, ours = both(build)
    assert ours == stock


def test_flytekit_plugins_that_imported_converters_by_name_serialize_byte_identically():
    dask = pytest.importorskip("flytekitplugins.dask")

    def build():
        return task(
            task_config=dask.Dask(
                scheduler=dask.Scheduler(requests=Resources(cpu="1"), limits=Resources(cpu="2")),
                workers=dask.WorkerGroup(number_of_workers=2, requests=Resources(mem="1Gi")),
            )
        )(_fn)

    stock, ours = both(build)
    assert ours == stock


# ------------------------------------------------------- documented behaviour changes


def _resources(template):
    res = template.template.container.resources
    return ({r.name: r.value for r in res.requests}, {r.name: r.value for r in res.limits})


def test_change_single_value_in_resources_sets_request_and_limit():
    with stock_flytekit():
        stock = _resources(idl(_make_task(resources=Resources(cpu="2", mem="1Gi"))))
    ours = _resources(idl(_make_task(resources=Resources(cpu="2", mem="1Gi"))))
    assert stock[1] == {}  # stock: only the request
    assert ours[0] == stock[0]
    assert ours[1] == ours[0]


def test_change_ints_and_floats_serialize_instead_of_crashing():
    with stock_flytekit(), pytest.raises(TypeError, match="bad argument type"):
        idl(_make_task(requests=Resources(cpu=1, mem=1024**3))).to_flyte_idl()
    requests, _ = _resources(idl(_make_task(requests=Resources(cpu=1, mem=1024**3, gpu=1), limits=Resources(cpu=1.5))))
    assert set(requests.values()) == {"1", str(1024**3)}
    assert _resources(idl(_make_task(limits=Resources(cpu=1.5))))[1] == {1: "1500m"}


def test_change_zero_int_is_kept_instead_of_dropped():
    with stock_flytekit():
        stock = _resources(idl(_make_task(requests=Resources(cpu=0, mem="1Gi"))))
    ours = _resources(idl(_make_task(requests=Resources(cpu=0, mem="1Gi"))))
    assert 1 not in stock[0]  # CPU (enum 1) silently dropped
    assert ours[0][1] == "0"


def test_ray_tasks_serialize_byte_identically():
    ray = pytest.importorskip("flytekitplugins.ray")

    def build():
        return task(task_config=ray.RayJobConfig(
            head_node_config=ray.HeadNodeConfig(requests=Resources(cpu="1", mem="2Gi"), limits=Resources(cpu="2")),
            worker_node_config=[ray.WorkerNodeConfig(group_name="w", replicas=2, requests=Resources(mem="1Gi"),
                                                     limits=Resources(mem="2Gi", gpu="1"))],
        ))(_fn)

    stock, ours = both(build)
    assert ours == stock


def test_kfpytorch_tasks_serialize_byte_identically():
    kf = pytest.importorskip("flytekitplugins.kfpytorch")

    def build():
        return task(task_config=kf.PyTorch(
            master=kf.Master(requests=Resources(cpu="1"), limits=Resources(cpu="1")),
            worker=kf.Worker(replicas=2, requests=Resources(cpu="2", mem="4Gi"), limits=Resources(mem="8Gi")),
            increase_shared_mem=False,
        ))(_fn)

    stock, ours = both(build)
    assert ours == stock


def _rich_template(**container):
    from kubernetes.client import (
        V1Container,
        V1EmptyDirVolumeSource,
        V1EnvVar,
        V1PodSpec,
        V1ResourceRequirements,
        V1Toleration,
        V1Volume,
        V1VolumeMount,
    )

    return PodTemplate(
        pod_spec=V1PodSpec(
            containers=[
                V1Container(name="primary", env=[V1EnvVar(name="A", value="1")],
                            volume_mounts=[V1VolumeMount(name="scratch", mount_path="/scratch")], **container),
                V1Container(name="sidecar", image="busybox", resources=V1ResourceRequirements(limits={"cpu": "1"})),
            ],
            volumes=[V1Volume(name="scratch", empty_dir=V1EmptyDirVolumeSource())],
            tolerations=[V1Toleration(key="pool", operator="Equal", value="gpu", effect="NoSchedule")],
            node_selector={"pool": "gpu"},
            service_account_name="runner",
        ),
        labels={"team": "ml"},
        annotations={"a": "b"},
    )


@pytest.mark.parametrize("kwargs", [
    dict(requests=Resources(cpu="1", mem="1Gi"), limits=Resources(cpu="2", mem="2Gi")),
    dict(requests=Resources(cpu="1"), environment={"B": "2"}),
    dict(limits=Resources(gpu="1"), accelerator=A100),
    dict(),
], ids=["requests-limits", "environment", "gpu-accelerator", "no-resources"])
@pytest.mark.parametrize("container", [dict(), dict(image="repo/own:1"), dict(command=["x"], args=["y"])],
                         ids=["plain", "own-image", "own-command"])
def test_pod_template_tasks_serialize_byte_identically(kwargs, container):
    stock, ours = both(lambda: _make_task(pod_template=_rich_template(**container), **kwargs))
    assert ours == stock


def test_serializing_a_pod_template_task_leaves_its_template_unchanged():
    import copy

    template = _rich_template()
    before = copy.deepcopy(template)
    t = _make_task(requests=Resources(cpu="1"), limits=Resources(cpu="2"), environment={"B": "2"},
                   pod_template=template)
    first = serialize_all(t)
    assert template == before
    assert serialize_all(t) == first


# gpu="MODEL:N" serializes its count as stock serializes gpu="N" plus accelerator=MODEL
@pytest.mark.parametrize("count", ["1", "8", "1000", "16384"])
def test_gpu_model_count_serializes_the_count_as_stock_does(count):
    def build_stock():
        return _make_task(requests=Resources(gpu=count), limits=Resources(gpu=count), accelerator=T4)

    with stock_flytekit():
        stock = serialize_all(build_stock())
    ours = serialize_all(_make_task(resources=Resources(gpu=f"T4:{count}")))
    assert list(stock.values()) == list(ours.values())
