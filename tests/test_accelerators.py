"""The accelerator catalog, gpu="MODEL:COUNT" strings, and how they reach the IDL."""

import typing

import pytest
from flytekit import PodTemplate, Resources, map_task, task, workflow
from flytekit.extras import accelerators as fk
from flytekit.extras.accelerators import BaseAccelerator
from flytekit.models import task as task_models

from flytekitplugins.resources import ResourceValidationError, ResourceValueWarning, pod_spec_from_resources
from flytekitplugins.resources import accelerators as acc

from .helpers import idl, serialize_all, stock_flytekit

GPU = task_models.Resources.ResourceName.GPU

# flytekit's own constants that the catalog also has (L40S, H100, H200, RTX_PRO_6000 only since 1.16.31)
FLYTEKIT_CONSTANTS = {
    name: getattr(fk, name)
    for name in ("T4", "L4", "L40S", "A10G", "V100", "A100", "A100_80GB", "H100", "H200", "RTX_PRO_6000", "V5E", "V5P",
                 "V6E")
    if hasattr(fk, name)
}


def test_every_catalog_constant_is_a_flytekit_accelerator_with_a_vendor_resource():
    for name in acc.__all__:
        value = getattr(acc, name)
        if isinstance(value, acc.Accelerator):
            assert isinstance(value, BaseAccelerator)
            assert value.resource_name in {"nvidia.com/gpu", "google.com/tpu", "aws.amazon.com/neuron", "amd.com/gpu"}
            value.to_flyte_idl().SerializeToString()


@pytest.mark.parametrize("name", sorted(FLYTEKIT_CONSTANTS))
def test_flytekits_own_constants_keep_their_device_strings(name):
    ours = getattr(acc, {"V5E": "TPU_V5E", "V5P": "TPU_V5P", "V6E": "TPU_V6E"}.get(name, name))
    assert ours.to_flyte_idl() == FLYTEKIT_CONSTANTS[name].to_flyte_idl()


@pytest.mark.parametrize("ours, theirs", [
    (acc.A100.partition_1g_5gb, fk.A100.partition_1g_5gb),
    (acc.A100.partition_7g_40gb, fk.A100.partition_7g_40gb),
    (acc.A100_80GB.partition_3g_40gb, fk.A100_80GB.partition_3g_40gb),
    (acc.A100.unpartitioned, fk.A100.unpartitioned),
    (acc.TPU_V5P.slice_2x2x1, fk.V5P.slice_2x2x1),
    (acc.TPU_V5E.slice_2x4, fk.V5E.slice_2x4),
])
def test_partitions_serialize_like_flytekits(ours, theirs):
    assert ours.to_flyte_idl() == theirs.to_flyte_idl()


# model, profiles NVIDIA's MIG guide / GPU operator list for it
MIG = [
    (acc.A100, ["1g.5gb", "1g.5gb+me", "1g.10gb", "2g.10gb", "3g.20gb", "4g.20gb", "7g.40gb"]),
    (acc.A100_80GB, ["1g.10gb", "1g.10gb+me", "1g.20gb", "2g.20gb", "3g.40gb", "4g.40gb", "7g.80gb"]),
    (acc.H100, ["1g.10gb", "1g.10gb+me", "1g.20gb", "2g.20gb", "3g.40gb", "4g.40gb", "7g.80gb"]),
    (acc.H200, ["1g.18gb", "1g.18gb+me", "1g.35gb", "2g.35gb", "3g.71gb", "4g.71gb", "7g.141gb"]),
    (acc.B200, ["1g.23gb", "1g.23gb+me", "1g.45gb", "2g.45gb", "3g.90gb", "4g.90gb", "7g.180gb"]),
]


@pytest.mark.parametrize("model, profiles", MIG, ids=[m.model.name for m, _ in MIG])
def test_mig_profiles_per_model(model, profiles):
    assert list(model.model.partitions) == profiles
    for profile in profiles:
        part = model.partitioned(profile)
        assert part.to_flyte_idl().partition_size == profile
        assert getattr(model, "partition_" + profile.replace(".", "_").replace("+", "_")) == part


@pytest.mark.parametrize("model, profile", [(acc.A100, "3g.40gb"), (acc.H100, "1g.5gb"), (acc.B200, "7g.80gb"),
                                            (acc.T4, "1g.5gb"), (acc.TPU_V5E, "2x2x1")])
def test_a_profile_the_model_does_not_have_lists_the_valid_ones(model, profile):
    with pytest.raises(ResourceValidationError) as info:
        model.partitioned(profile)
    for valid in model.model.partitions:
        assert valid in str(info.value)
    with pytest.raises(AttributeError):  # an attribute, so hasattr() and getattr(..., default) work
        getattr(model, "partition_" + profile.replace(".", "_"))


def test_stock_a100_accepts_an_80gb_profile_and_the_catalog_does_not():
    assert fk.A100.partitioned("3g.40gb").to_flyte_idl().partition_size == "3g.40gb"  # the gap this plugin closes
    with pytest.raises(ResourceValidationError, match="A100 has no MIG profile '3g.40gb'"):
        acc.A100.partitioned("3g.40gb")


# gpu string -> (count, device, partition)
SPECS = [
    ("A100:2", 2, "nvidia-tesla-a100", None),
    ("H100:8", 8, "nvidia-h100", None),
    ("L4:1", 1, "nvidia-l4", None),
    ("A100 80G:4", 4, "nvidia-a100-80gb", None),
    ("a100 80gb:4", 4, "nvidia-a100-80gb", None),
    ("L40s:1", 1, "nvidia-l40s", None),
    ("RTX PRO 6000:1", 1, "nvidia-rtx-pro-6000", None),
    ("H100 MIG 3g.40gb", 1, "nvidia-h100", "3g.40gb"),
    ("h100 mig 3g.40gb:2", 2, "nvidia-h100", "3g.40gb"),
    ("A100 1g.5gb", 1, "nvidia-tesla-a100", "1g.5gb"),
    ("V5E:8", 8, "tpu-v5-lite-podslice", None),
    ("V5E 2x4", 8, "tpu-v5-lite-podslice", "2x4"),
    ("TPU v5p:4", 4, "tpu-v5p-slice", None),
    ("V5P 2x2x1", 4, "tpu-v5p-slice", "2x2x1"),
    ("V6E 4x4:8", 8, "tpu-v6e-slice", "4x4"),
    ("Inf2:1", 1, "aws-neuron-inf2", None),
    ("Trn1:16", 16, "aws-neuron-trn1", None),
    ("Trainium2:16", 16, "aws-neuron-trn2", None),
    ("MI300X:8", 8, "amd-mi300x", None),
]


@pytest.mark.parametrize("text, count, device, partition", SPECS)
def test_gpu_spec_strings(text, count, device, partition):
    spec = acc.parse_gpu_spec(text)
    assert spec.count == count
    assert spec.accelerator.device == device
    assert spec.accelerator.partition == partition


@pytest.mark.parametrize("text, fragment", [
    ("A100", "add a count: 'A100:1'"),
    ("A100:0", "at least 1"),
    ("A100:1.5", "at least 1"),
    ("A100:two", "at least 1"),
    ("Z9000:1", "is not a GPU count or a known accelerator"),
    ("A100 MIG 3g.40gb", "A100 has no MIG profile '3g.40gb'"),
    ("V5E:2", "a TPU v5e host has 1, 4, 8 chips, not 2"),
    ("V5E 4x4", "spans several hosts"),
])
def test_bad_gpu_spec_strings(text, fragment):
    with pytest.raises(ResourceValidationError) as info:
        Resources(gpu=text)
    assert fragment in str(info.value)
    assert info.value.field == "gpu" and info.value.value == text


def _t(a: int) -> int:
    return a


def _ext(template):
    return template.template.extended_resources


def _gpu_entries(template):
    res = template.template.container.resources
    return [e.value for e in res.requests if e.name == GPU], [e.value for e in res.limits if e.name == GPU]


def test_task_gpu_string_becomes_count_and_accelerator():
    t = idl(task(resources=Resources(gpu="A100:2"))(_t))
    assert _gpu_entries(t) == (["2"], ["2"])
    assert _ext(t).gpu_accelerator.device == "nvidia-tesla-a100"


def test_task_gpu_string_serializes_like_the_stock_spelling():
    """gpu="A100:2" is exactly stock's limits=gpu "2" + accelerator=A100, spelled once."""
    with stock_flytekit():
        stock = serialize_all(task(requests=Resources(gpu="2"), limits=Resources(gpu="2"), accelerator=fk.A100)(_t))
    ours = serialize_all(task(resources=Resources(gpu="A100:2"))(_t))
    assert ours == stock


def test_mig_partition_requests_one_gpu():
    t = idl(task(limits=Resources(gpu="H100 MIG 3g.40gb"))(_t))
    assert _gpu_entries(t) == ([], ["1"])
    accel = _ext(t).gpu_accelerator
    assert (accel.device, accel.partition_size) == ("nvidia-h100", "3g.40gb")


@pytest.mark.parametrize("explicit", [fk.A100, acc.A100, fk.A100.partition_1g_5gb, acc.A100.unpartitioned])
def test_an_agreeing_explicit_accelerator_is_fine_and_the_more_specific_wins(explicit):
    t = idl(task(limits=Resources(gpu="A100:1"), accelerator=explicit)(_t))
    assert _ext(t).gpu_accelerator == explicit.to_flyte_idl()


@pytest.mark.parametrize(
    "explicit",
    # unpartitioned is a choice too: it disagrees with a named MIG partition
    [fk.T4, acc.H100, fk.A100_80GB, acc.A100.partition_2g_10gb, acc.A100.unpartitioned, fk.A100.unpartitioned],
)
def test_a_disagreeing_explicit_accelerator_is_an_error_naming_the_task(explicit):
    t = task(limits=Resources(gpu="A100 1g.5gb"), accelerator=explicit)(_t)
    with pytest.raises(ResourceValidationError) as info:
        idl(t)
    assert info.value.task == t.name and info.value.field == "accelerator"
    assert "disagrees with gpu='A100 1g.5gb'" in str(info.value)


def test_gpu_strings_in_overrides_and_map_tasks():
    t = task(_t)
    mapped_inner = task(limits=Resources(gpu="L4:1"))(_t)

    @workflow
    def wf(xs: typing.List[int], a: int) -> int:
        map_task(mapped_inner)(a=xs)
        return t(a=a).with_overrides(limits=Resources(gpu="H100:8"))

    out = idl(wf)
    nodes = {n.id: n for n in out.template.nodes}
    override = nodes["n1"].task_node.overrides
    assert [e.value for e in override.resources.limits] == ["8"]
    assert override.extended_resources.gpu_accelerator.device == "nvidia-h100"
    from collections import OrderedDict

    from flytekit.tools.translator import get_serializable

    from .helpers import SETTINGS
    mapping = OrderedDict()
    get_serializable(mapping, SETTINGS, wf)
    map_templates = [m for e, m in mapping.items() if "map" in getattr(e, "name", "")]
    assert any(m.template.extended_resources.gpu_accelerator.device == "nvidia-l4" for m in map_templates)


def test_override_with_a_disagreeing_accelerator_names_the_node():
    t = task(_t)

    @workflow
    def wf(a: int) -> int:
        return t(a=a).with_overrides(limits=Resources(gpu="A100:1"), accelerator=fk.T4)

    with pytest.raises(ResourceValidationError, match=r"\(node n0\).*disagrees"):
        _ = wf.nodes


@pytest.mark.parametrize("gpu, key", [
    ("A100:2", "nvidia.com/gpu"), ("MI300X:2", "amd.com/gpu"), ("Trn1:2", "aws.amazon.com/neuron"),
    ("V5E:4", "google.com/tpu"), ("2", "nvidia.com/gpu"),
])
def test_pod_spec_from_resources_uses_the_vendor_resource_name(gpu, key):
    spec = pod_spec_from_resources("c", limits=Resources(gpu=gpu))
    count = gpu.split(":")[-1]
    assert spec.containers[0].resources.limits == {key: count}
    assert pod_spec_from_resources("c", limits=Resources(gpu=gpu), k8s_gpu_resource_key="x/gpu") \
        .containers[0].resources.limits == {"x/gpu": count}


def test_pod_spec_from_resources_mig_mixed_strategy():
    spec = pod_spec_from_resources("c", limits=Resources(gpu="A100 MIG 3g.20gb"), mig_strategy="mixed")
    assert spec.containers[0].resources.limits == {"nvidia.com/mig-3g.20gb": "1"}
    spec = pod_spec_from_resources("c", limits=Resources(gpu="A100 MIG 3g.20gb"))
    assert spec.containers[0].resources.limits == {"nvidia.com/gpu": "1"}


def test_shared_memory_clash_with_a_pod_template_is_an_error_naming_the_task():
    from kubernetes.client import V1Container, V1EmptyDirVolumeSource, V1PodSpec, V1Volume, V1VolumeMount

    template = PodTemplate(pod_spec=V1PodSpec(
        containers=[V1Container(name="primary", volume_mounts=[V1VolumeMount(name="shm", mount_path="/dev/shm")])],
        volumes=[V1Volume(name="shm", empty_dir=V1EmptyDirVolumeSource(medium="Memory"))],
    ))
    t = task(shared_memory=True, pod_template=template)(_t)
    with pytest.raises(ResourceValidationError) as info:
        idl(t)
    assert info.value.task == t.name
    assert "already mounts /dev/shm in container 'primary'" in str(info.value)
    with stock_flytekit():
        idl(t)  # stock serializes it; flytepropeller then rejects it at run time


def test_shared_memory_clash_with_a_volume_of_the_same_name():
    from kubernetes.client import V1Container, V1EmptyDirVolumeSource, V1PodSpec, V1Volume

    template = PodTemplate(pod_spec=V1PodSpec(containers=[V1Container(name="primary")], volumes=[
        V1Volume(name="flyte-shared-memory", empty_dir=V1EmptyDirVolumeSource())]))
    with pytest.raises(ResourceValidationError, match="already has a volume named 'flyte-shared-memory'"):
        idl(task(shared_memory="1Gi", pod_template=template)(_t))


def test_shared_memory_larger_than_the_memory_limit_warns():
    t = task(limits=Resources(mem="8Gi"), shared_memory="16Gi")(_t)
    with pytest.warns(ResourceValueWarning, match="shared_memory='16Gi' is larger than the memory limit '8Gi'"):
        idl(t)


def test_override_shared_memory_clashing_with_the_tasks_pod_template_names_the_node():
    from flytekitplugins.resources import pod

    t = task(pod_template=pod.with_shared_memory(pod.pod_template(), "1Gi"))(_t)

    @workflow
    def wf(a: int) -> int:
        return t(a=a).with_overrides(shared_memory="2Gi")

    with pytest.raises(ResourceValidationError) as info:
        _ = wf.nodes
    assert "(node n0)" in info.value.task
    assert "already has a volume named 'flyte-shared-memory'" in str(info.value)


def test_container_task_gpu_string_keeps_its_accelerator():
    from flytekit import ContainerTask, kwtypes

    ct = ContainerTask(name="ct_gpu", image="alpine", command=["nvidia-smi"], inputs=kwtypes(a=int),
                       resources=Resources(gpu="A100 80G:2"))
    t = idl(ct)
    assert _gpu_entries(t) == (["2"], ["2"])
    assert _ext(t).gpu_accelerator.device == "nvidia-a100-80gb"


@pytest.mark.parametrize("text", [" A100:2", "A100:2 ", "\tH100:8"])
def test_gpu_spec_with_surrounding_whitespace_is_refused(text):
    with pytest.raises(ResourceValidationError, match="whitespace") as info:
        Resources(gpu=text)
    assert info.value.field == "gpu"


def test_gpu_spec_in_a_plugin_replica_config_is_refused_not_dropped():
    kf = pytest.importorskip("flytekitplugins.kfpytorch")
    t = task(task_config=kf.PyTorch(worker=kf.Worker(replicas=2, limits=Resources(gpu="A100:2")),
                                    increase_shared_mem=False))(_t)
    with pytest.raises(ResourceValidationError) as info:
        idl(t)
    assert info.value.task == t.name and info.value.field == "limits.gpu"
    assert "gpu='2'" in str(info.value)  # the hint: the count here, the accelerator on the task
    ok = task(task_config=kf.PyTorch(worker=kf.Worker(replicas=2, limits=Resources(gpu="2")),
                                     increase_shared_mem=False), accelerator=acc.A100)(_t)
    assert _ext(idl(ok)).gpu_accelerator.device == "nvidia-tesla-a100"


def test_shared_memory_larger_than_the_templates_memory_limit_warns():
    from kubernetes.client import V1Container, V1PodSpec, V1ResourceRequirements

    template = PodTemplate(pod_spec=V1PodSpec(containers=[V1Container(
        name="primary", resources=V1ResourceRequirements(limits={"memory": "1Gi"}))]))
    with pytest.warns(ResourceValueWarning, match="larger than the memory limit '1Gi'"):
        idl(task(shared_memory="16Gi", pod_template=template)(_t))


def test_override_pod_template_clashing_with_the_tasks_shared_memory_names_the_node():
    from flytekitplugins.resources import pod

    t = task(shared_memory=True)(_t)

    @workflow
    def wf(a: int) -> int:
        return t(a=a).with_overrides(pod_template=pod.with_shared_memory(pod.pod_template(), "1Gi"))

    with pytest.raises(ResourceValidationError, match=r"\(node n0\).*already has a volume named"):
        _ = wf.nodes


def test_catalog_accelerators_equal_flytekits_constants():
    assert acc.A100 == fk.A100 and fk.A100 == acc.A100
    assert acc.A100.partition_1g_5gb == fk.A100.partition_1g_5gb
    assert acc.A100 != fk.T4 and acc.A100 != acc.A100.partition_1g_5gb
    assert len({acc.H100, acc.H100, acc.H100.partition_3g_40gb}) == 2


# equal objects hash alike (sets and dicts), both ways, partitions too
@pytest.mark.parametrize(
    "ours, stock_name, partition",
    [("A100", "A100", None), ("A100_80GB", "A100_80GB", None), ("A100", "A100", "partition_1g_5gb"),
     ("T4", "T4", None), ("V100", "V100", None), ("TPU_V5E", "V5E", "slice_2x2")],
)
def test_equal_to_flytekits_constant_implies_the_same_hash(ours, stock_name, partition):
    from flytekit.extras import accelerators as stock

    import flytekitplugins.resources.accelerators as plugin

    a, b = getattr(plugin, ours), getattr(stock, stock_name)
    if partition:
        a, b = getattr(a, partition), getattr(b, partition)
    assert a == b and b == a
    assert hash(a) == hash(b)
    assert len({a, b}) == 1 and {a: 1}[b] == 1


def test_a_flytekit_accelerator_that_is_not_its_constant_is_not_equal():
    from flytekit.extras.accelerators import GPUAccelerator

    import flytekitplugins.resources.accelerators as plugin

    other = GPUAccelerator("nvidia-tesla-t4")  # flytekit compares its own objects by identity
    assert plugin.T4 != other and hash(plugin.T4) == hash(plugin.T4)


# attribute access raises AttributeError, so hasattr/getattr(..., default) work
@pytest.mark.parametrize("name, attr", [("H100", "partition_3g_20gb"), ("T4", "partition_1g_5gb"),
                                        ("TPU_V5E", "slice_9x9"), ("A100", "nothing")])
def test_a_missing_partition_attribute_is_an_attribute_error(name, attr):
    import flytekitplugins.resources.accelerators as plugin

    acc = getattr(plugin, name)
    assert not hasattr(acc, attr) and getattr(acc, attr, None) is None
    with pytest.raises(AttributeError, match=attr):
        getattr(acc, attr)
