"""Pod-template helpers: new templates, never mutated inputs, flytepropeller's labels, no clashes."""

import copy

import pytest
from flytekit import PodTemplate, Resources, task
from flytekit.extras import accelerators as fk
from hypothesis import given, settings
from hypothesis import strategies as st
from kubernetes.client import ApiClient

from flytekitplugins.resources import ResourceValidationError, pod
from flytekitplugins.resources import accelerators as acc

from .helpers import idl


def as_dict(template: PodTemplate) -> dict:
    return ApiClient().sanitize_for_serialization(template.pod_spec)


def _primary(d: dict, name: str = "primary") -> dict:
    return next(c for c in d["containers"] if c["name"] == name)


def test_pod_template_has_an_empty_primary_container():
    t = pod.pod_template("main", labels={"a": "b"})
    assert as_dict(t) == {"containers": [{"name": "main"}]}
    assert t.primary_container_name == "main" and t.labels == {"a": "b"}


def test_with_accelerator_adds_propellers_affinity_and_tolerations():
    d = as_dict(pod.with_accelerator(None, acc.H100.partition_3g_40gb))
    terms = d["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert terms == [{"matchExpressions": [
        {"key": "k8s.amazonaws.com/accelerator", "operator": "In", "values": ["nvidia-h100"]},
        {"key": "k8s.amazonaws.com/gpu-partition-size", "operator": "In", "values": ["3g.40gb"]},
    ]}]
    assert d["tolerations"] == [
        {"key": "k8s.amazonaws.com/accelerator", "operator": "Equal", "value": "nvidia-h100", "effect": "NoSchedule"},
        {"key": "k8s.amazonaws.com/gpu-partition-size", "operator": "Equal", "value": "3g.40gb",
         "effect": "NoSchedule"},
    ]
    assert "resources" not in _primary(d)  # an accelerator object says nothing about how many


def test_with_accelerator_unpartitioned_and_custom_labels_and_no_tolerations():
    d = as_dict(pod.with_accelerator(None, fk.A100.unpartitioned, device_node_label="gpu-type",
                                     partition_node_label="mig", tolerate=False))
    terms = d["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert terms[0]["matchExpressions"] == [
        {"key": "gpu-type", "operator": "In", "values": ["nvidia-tesla-a100"]},
        {"key": "mig", "operator": "DoesNotExist"},
    ]
    assert "tolerations" not in d


def test_with_accelerator_string_sets_the_count_under_the_vendor_resource():
    assert _primary(as_dict(pod.with_accelerator(None, "A100:2")))["resources"] == {
        "requests": {"nvidia.com/gpu": "2"}, "limits": {"nvidia.com/gpu": "2"}}
    assert _primary(as_dict(pod.with_accelerator(None, "MI300X:4")))["resources"]["limits"] == {"amd.com/gpu": "4"}
    mixed = pod.with_accelerator(None, "A100 MIG 1g.5gb", mig_strategy="mixed")
    assert _primary(as_dict(mixed))["resources"]["limits"] == {"nvidia.com/mig-1g.5gb": "1"}


def test_with_accelerator_uses_gkes_labels_for_tpus():
    d = as_dict(pod.with_accelerator(None, acc.TPU_V5E.slice_2x4))
    expressions = d["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"][0]["matchExpressions"]
    assert expressions == [
        {"key": "cloud.google.com/gke-tpu-accelerator", "operator": "In", "values": ["tpu-v5-lite-podslice"]},
        {"key": "cloud.google.com/gke-tpu-topology", "operator": "In", "values": ["2x4"]},
    ]


def test_with_accelerator_adds_to_every_existing_node_selector_term():
    from kubernetes.client import (
        V1Affinity,
        V1NodeAffinity,
        V1NodeSelector,
        V1NodeSelectorRequirement,
        V1NodeSelectorTerm,
    )

    base = pod.pod_template()
    zones = [V1NodeSelectorTerm(match_expressions=[V1NodeSelectorRequirement(key="zone", operator="In", values=[z])])
             for z in ("a", "b")]
    base.pod_spec.affinity = V1Affinity(node_affinity=V1NodeAffinity(
        required_during_scheduling_ignored_during_execution=V1NodeSelector(node_selector_terms=zones)))
    d = as_dict(pod.with_accelerator(base, fk.A100.partition_1g_5gb))
    terms = d["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert len(terms) == 2  # terms are ORed: each zone still works, each now needs the partition
    for term in terms:
        assert {"key": "k8s.amazonaws.com/gpu-partition-size", "operator": "In", "values": ["1g.5gb"]} in \
            term["matchExpressions"]


def test_with_accelerator_refuses_a_template_that_already_targets_another_device():
    first = pod.with_accelerator(None, "A100:2")
    with pytest.raises(ResourceValidationError, match="already requires k8s.amazonaws.com/accelerator"):
        pod.with_accelerator(first, "H100:8")
    again = pod.with_accelerator(first, acc.A100)  # the same device again is fine
    assert as_dict(again)["tolerations"] == as_dict(first)["tolerations"]


def test_helpers_keep_resource_claims():
    from kubernetes.client import V1Container, V1PodSpec, V1ResourceRequirements

    try:
        from kubernetes.client import CoreV1ResourceClaim as Claim
    except ImportError:
        from kubernetes.client import V1ResourceClaim as Claim
    template = PodTemplate(pod_spec=V1PodSpec(containers=[V1Container(name="primary", resources=V1ResourceRequirements(
        requests={"memory": "1Gi"}, claims=[Claim(name="gpu-claim")]))]))
    for new in (pod.with_accelerator(template, "A100:1"), pod.with_resources(template, limits=Resources(cpu="1"))):
        assert _primary(as_dict(new))["resources"]["claims"] == [{"name": "gpu-claim"}]


def test_node_selector_tolerations_env_volumes_resources():
    t = pod.with_node_selector(None, {"pool": "gpu"})
    t = pod.with_tolerations(t, [{"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}])
    t = pod.with_env(t, {"A": "1"})
    t = pod.with_env(t, {"A": "2", "B": "3"})
    t = pod.with_volumes(t, [{"name": "data", "empty_dir": {}}], [{"name": "data", "mount_path": "/data"}])
    t = pod.with_resources(t, requests=Resources(cpu="1"), limits=Resources(cpu="2", mem="4Gi"))
    d = as_dict(t)
    assert d["nodeSelector"] == {"pool": "gpu"}
    assert d["tolerations"] == [{"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}]
    primary = _primary(d)
    assert primary["env"] == [{"name": "A", "value": "2"}, {"name": "B", "value": "3"}]
    assert primary["volumeMounts"] == [{"name": "data", "mountPath": "/data"}]
    assert primary["resources"] == {"requests": {"cpu": "1"}, "limits": {"cpu": "2", "memory": "4Gi"}}


def test_with_shared_memory():
    d = as_dict(pod.with_shared_memory(None, "16Gi"))
    assert d["volumes"] == [{"name": "flyte-shared-memory", "emptyDir": {"medium": "Memory", "sizeLimit": "16Gi"}}]
    assert _primary(d)["volumeMounts"] == [{"name": "flyte-shared-memory", "mountPath": "/dev/shm"}]
    assert as_dict(pod.with_shared_memory(None))["volumes"][0]["emptyDir"] == {"medium": "Memory"}
    with pytest.raises(ResourceValidationError, match="already has a volume named 'flyte-shared-memory'"):
        pod.with_shared_memory(pod.with_shared_memory(None), "1Gi")
    with pytest.raises(ResourceValidationError, match="'GB' is not a Kubernetes unit"):
        pod.with_shared_memory(None, "2GB")


def test_helpers_refuse_clashes():
    t = pod.with_volumes(None, [{"name": "data", "empty_dir": {}}], [{"name": "data", "mount_path": "/data"}])
    with pytest.raises(ResourceValidationError, match="'data': is already a volume"):
        pod.with_volumes(t, [{"name": "data", "empty_dir": {}}])
    with pytest.raises(ResourceValidationError, match="'/data': is already mounted"):
        pod.with_volumes(t, [{"name": "other", "empty_dir": {}}], [{"name": "other", "mount_path": "/data"}])
    with pytest.raises(ResourceValidationError, match="greater than the limit"):
        pod.with_resources(pod.with_resources(None, requests=Resources(mem="4Gi")), limits=Resources(mem="2Gi"))


def _t(a: int) -> int:
    return a


def test_helper_template_and_shared_memory_on_one_task_cannot_clash():
    template = pod.with_shared_memory(pod.pod_template(), "1Gi")
    with pytest.raises(ResourceValidationError, match="already has a volume named 'flyte-shared-memory'"):
        idl(task(shared_memory=True, pod_template=template)(_t))


def test_a_helper_built_template_serializes_with_the_tasks_resources_merged():
    template = pod.with_accelerator(pod.with_shared_memory(pod.pod_template(), "8Gi"), "A100:1")
    t = idl(task(pod_template=template, requests=Resources(cpu="2", mem="16Gi"), limits=Resources(mem="16Gi"))(_t))
    spec = t.template.k8s_pod.pod_spec  # flytekit's model holds it as a JSON dict
    primary = _primary(spec)
    assert primary["resources"]["limits"] == {"nvidia.com/gpu": "1", "memory": "16Gi"}
    assert primary["resources"]["requests"] == {"nvidia.com/gpu": "1", "cpu": "2", "memory": "16Gi"}
    assert primary["volumeMounts"] == [{"name": "flyte-shared-memory", "mountPath": "/dev/shm"}]


_steps = st.lists(st.sampled_from([
    lambda t: pod.with_node_selector(t, {"k": "v"}),
    lambda t: pod.with_tolerations(t, [{"key": "k", "operator": "Exists"}]),
    lambda t: pod.with_accelerator(t, "H100 MIG 3g.40gb"),
    lambda t: pod.with_accelerator(t, fk.T4),
    lambda t: pod.with_env(t, {"X": "1"}),
    lambda t: pod.with_resources(t, limits=Resources(cpu="1")),
]), min_size=1, max_size=5)


@settings(max_examples=30, deadline=None)
@given(_steps)
def test_helpers_never_change_their_input(steps):
    template = pod.pod_template()
    for step in steps:
        before = as_dict(template)
        before_obj = copy.deepcopy(template)
        try:
            new = step(template)
        except ResourceValidationError:  # refusing is fine; changing the input on the way is not
            new = template
        else:
            assert new is not template and new.pod_spec is not template.pod_spec
        assert as_dict(template) == before and template == before_obj
        template = new


@pytest.mark.parametrize("call, field", [
    (lambda: pod.with_node_selector(None, None), "node_selector"),
    (lambda: pod.with_node_selector(None, ["a"]), "node_selector"),
    (lambda: pod.with_node_selector(None, {"a": 1}), "node_selector"),
    (lambda: pod.with_env(None, [("K", "v")]), "env"),
    (lambda: pod.with_env(None, {"K": None}), "env"),
    (lambda: pod.with_tolerations(None, None), "tolerations"),
    (lambda: pod.with_tolerations(None, {"key": "k"}), "tolerations"),
    (lambda: pod.with_tolerations(None, ["x"]), "tolerations[0]"),
    (lambda: pod.with_tolerations(None, [{"kee": "k"}]), "tolerations[0]"),
    (lambda: pod.with_volumes(None, [], [{"name": "nope", "mount_path": "/x"}]), "mounts"),
    (lambda: pod.with_resources(None, requests={"cpu": "1"}), "requests"),
    (lambda: pod.with_accelerator("x", "A100:1"), "pod_template"),
    (lambda: pod.with_env(PodTemplate(pod_spec={"containers": []}), {"A": "1"}), "pod_template.pod_spec"),
    (lambda: pod.pod_spec_from_resources(requests=Resources(cpu="1")), "primary_container_name"),
    (lambda: pod.pod_spec_from_resources("p", limits=Resources(gpu="1"), k8s_gpu_resource_key=5),
     "k8s_gpu_resource_key"),
    (lambda: pod.pod_spec_from_resources("p", requests={"cpu": "1"}), "requests"),
])
def test_bad_helper_input_is_a_named_resource_validation_error(call, field):
    with pytest.raises(ResourceValidationError) as info:
        call()
    assert info.value.field == field


@pytest.mark.parametrize("toleration", [
    {"key": "k", "operator": "Exists", "tolerationSeconds": 5},
    {"key": "k", "operator": "Exists", "toleration_seconds": 5},
])
def test_dicts_in_json_or_python_spelling_give_the_same_model_on_every_kubernetes(toleration):
    d = as_dict(pod.with_tolerations(None, [toleration]))
    assert d["tolerations"] == [{"key": "k", "operator": "Exists", "tolerationSeconds": 5}]
    volumes = [{"name": "v", "empty_dir": {"size_limit": "1Gi", "medium": "Memory"}}]
    d = as_dict(pod.with_volumes(None, volumes, [{"name": "v", "mountPath": "/data"}]))
    assert d["volumes"] == [{"name": "v", "emptyDir": {"medium": "Memory", "sizeLimit": "1Gi"}}]
    assert _primary(d)["volumeMounts"] == [{"name": "v", "mountPath": "/data"}]


@pytest.mark.parametrize("build", [
    lambda: task(resources="2")(_t),
    lambda: task(pod_template="x", requests=Resources(cpu="1"))(_t),
])
def test_bad_task_arguments_are_named_errors_at_serialization(build):
    try:
        t = build()
    except (ResourceValidationError, AssertionError):
        return  # refused even earlier
    with pytest.raises(ResourceValidationError) as info:
        idl(t)
    assert info.value.task == t.name


# Wrong-typed fields of dicts are refused by this plugin before the kubernetes client sees them, so every
# client (classic models on kubernetes 35/36, pydantic models on 37) gives the same error.
@pytest.mark.parametrize("call, field, problem", [
    (lambda: pod.with_volumes(None, [{"name": "v", "emptyDir": "notadict"}]), "volumes[0].emptyDir",
     "must be a V1EmptyDirVolumeSource or a dict of its fields, not str"),
    (lambda: pod.with_volumes(None, [], [{"name": "v"}]), "mounts[0]",
     "lacks the required field mountPath of V1VolumeMount"),
    (lambda: pod.with_volumes(None, [{"name": 5}]), "volumes[0].name", "must be a str, not int"),
    (lambda: pod.with_volumes(None, [{"name": "v", "emptyDir": {"sizeLimit": 1.5}}]),
     "volumes[0].emptyDir.sizeLimit", "must be a str, not float"),
    (lambda: pod.with_tolerations(None, [{"key": "k", "tolerationSeconds": "5"}]),
     "tolerations[0].tolerationSeconds", "must be an int, not str"),
    (lambda: pod.with_tolerations(None, [{"key": "k", "tolerationSeconds": True}]),
     "tolerations[0].tolerationSeconds", "must be an int, not bool"),
    (lambda: pod.with_volumes(None, [{"name": "v", "configMap": {"items": "x"}}]), "volumes[0].configMap.items",
     "must be a list, not str"),
    (lambda: pod.with_volumes(None, [{"name": "v", "configMap": {"items": [{"key": "k"}]}}]),
     "volumes[0].configMap.items[0]", "lacks the required field path of V1KeyToPath"),
    (lambda: pod.with_volumes(None, [{"name": "v", "csi": {"driver": "d", "volumeAttributes": {"a": 1}}}]),
     "volumes[0].csi.volumeAttributes['a']", "must be a str, not int"),
    (lambda: pod.with_volumes(None, [{"name": "v", 3: "x"}]), "volumes[0]", "is not a field of V1Volume"),
    (lambda: pod.pod_template(1), "primary_container_name", "must be a non-empty string, not int"),
    (lambda: pod.pod_template(""), "primary_container_name",
     "must be a non-empty string (A primary container name cannot be undefined)"),
    (lambda: pod.pod_template(labels={"a": 1}), "labels", "must be a dict of strings to strings"),
    (lambda: pod.pod_template(annotations=["a"]), "annotations", "must be a dict of strings to strings"),
])
def test_wrong_typed_dict_fields_are_the_same_named_error_on_every_kubernetes(call, field, problem):
    with pytest.raises(ResourceValidationError) as info:
        call()
    assert type(info.value) is ResourceValidationError
    assert (info.value.field, info.value.problem) == (field, problem)


@pytest.mark.parametrize("template, resources", [
    (lambda: pod.with_accelerator(pod.pod_template(), "MI300X:8"), dict(resources=Resources(gpu="A100:2"))),
    (lambda: pod.with_accelerator(pod.pod_template(), "MI300X:8"),
     dict(resources=Resources(gpu="8"), accelerator=fk.A100)),
    (lambda: pod.with_accelerator(pod.pod_template(), fk.T4), dict(resources=Resources(gpu="A100:1"))),
    (lambda: pod.with_resources(None, limits=Resources(gpu="MI300X:2")), dict(resources=Resources(gpu="H100:2"))),
])
def test_a_task_accelerator_that_its_pod_template_gives_to_another_device_is_refused(template, resources):
    t = task(pod_template=template(), **resources)(_t)
    with pytest.raises(ResourceValidationError, match="a pod runs on one kind of accelerator") as info:
        idl(t)
    assert info.value.task == t.name and info.value.field == "accelerator"


@pytest.mark.parametrize("template, resources", [
    (lambda: pod.with_accelerator(pod.pod_template(), "A100:2"), dict(resources=Resources(gpu="A100:2"))),
    (lambda: pod.with_accelerator(pod.pod_template(), fk.A100), dict(limits=Resources(gpu="1"), accelerator=fk.A100)),
    (lambda: pod.with_accelerator(pod.pod_template(), "H100 MIG 3g.40gb", mig_strategy="mixed"),
     dict(resources=Resources(gpu="H100 MIG 3g.40gb"))),
    (lambda: pod.with_node_selector(None, {"pool": "gpu"}), dict(resources=Resources(gpu="MI300X:2"))),
])
def test_a_task_accelerator_that_matches_its_pod_template_serializes(template, resources):
    assert idl(task(pod_template=template(), **resources)(_t)).template.k8s_pod is not None


def test_an_override_accelerator_that_the_pod_template_gives_to_another_device_is_refused():
    from flytekit import workflow

    t = task(pod_template=pod.with_accelerator(pod.pod_template(), "MI300X:8"))(_t)

    @workflow
    def wf(a: int) -> int:
        return t(a=a).with_overrides(resources=Resources(gpu="A100:2"))

    with pytest.raises(ResourceValidationError, match="a pod runs on one kind of accelerator"):
        _ = wf.nodes


@pytest.mark.parametrize("name", [None, ""])
def test_an_empty_primary_container_name_keeps_stock_flytekits_words(name):
    from flytekit.exceptions.user import FlyteValidationException

    with pytest.raises(FlyteValidationException) as stock:
        PodTemplate(primary_container_name=name)
    with pytest.raises(ResourceValidationError) as ours:
        pod.pod_template(name)
    assert stock.value.args[0] in str(ours.value)
