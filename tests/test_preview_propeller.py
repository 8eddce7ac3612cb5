"""flytepropeller's pod, case by case from flyteplugins' Go tests (flytek8s, flyte v1.16.8)."""

import json

import pytest
from flyteidl.core import tasks_pb2
from flyteidl.core import workflow_pb2 as core_wf
from google.protobuf import struct_pb2

from flytekitplugins.resources.platform import K8sConfig, Platform, TaskResources, TaskResourceSet
from flytekitplugins.resources.preview.flytek8s import to_k8s_resource_list
from flytekitplugins.resources.preview.propeller import build_pods
from flytekitplugins.resources.quantity import Quantity, ResourceValidationError

R = tasks_pb2.Resources
Q = Quantity.parse


def _platform(requests=None, limits=None, **k8s):
    def trs(d):
        d = d or {}
        return TaskResourceSet(**{k: Q(v) for k, v in d.items()})

    return Platform(k8s=K8sConfig(**k8s), task_resources=TaskResources(defaults=trs(requests), limits=trs(limits)))


def _template(requests=(), limits=(), accelerator=None, shm=None):
    t = tasks_pb2.TaskTemplate(type="python-task")
    t.id.name = "wf.t"
    t.container.image = "img"
    for name, value in requests:
        t.container.resources.requests.add(name=name, value=value)
    for name, value in limits:
        t.container.resources.limits.add(name=name, value=value)
    if accelerator is not None:
        t.extended_resources.gpu_accelerator.CopyFrom(accelerator)
    if shm is not None:
        t.extended_resources.shared_memory.CopyFrom(shm)
    return t


def _pod(template, platform, **kw):
    (built,) = build_pods(template, platform, **kw)
    return built.pod, built.findings


def _terms(pod):
    required = pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    return required["nodeSelectorTerms"]


def _resources(pod):
    return pod["spec"]["containers"][0]["resources"]


@pytest.mark.parametrize(
    "entries, expected",
    [
        # utils_test.go: TestToK8sResourceList: names mapped, gpu as nvidia.com/gpu
        ([(R.CPU, "250m"), (R.GPU, "1"), (R.MEMORY, "1024Mi"), (R.EPHEMERAL_STORAGE, "1Gi")],
         {"cpu": "250m", "nvidia.com/gpu": "1", "memory": "1Gi", "ephemeral-storage": "1Gi"}),
        # zero values are dropped; storage has no Kubernetes name
        ([(R.CPU, "0"), (R.STORAGE, "1Gi"), (R.MEMORY, "1Gi")], {"memory": "1Gi"}),
    ],
)
def test_to_k8s_resource_list(entries, expected):
    entries = [R.ResourceEntry(name=n, value=v) for n, v in entries]
    assert {k: str(v) for k, v in to_k8s_resource_list(entries).items()} == expected


CPU_PLATFORM = dict(requests={"cpu": "3"}, limits={"cpu": "10"})


@pytest.mark.parametrize(
    "requests, limits, expected",
    [
        # container_helper_test.go: TestApplyResourceOverrides_OverrideCpu
        ([(R.CPU, "1")], [], ("1", "1")),  # the limit from the request
        ([(R.CPU, "1")], [(R.CPU, "2")], ("1", "2")),
        ([], [(R.CPU, "2")], ("2", "2")),  # the request from the limit
        # no cpu at all: the platform default, its limit the request
        ([], [], ("3", "3")),
        # clamped to the platform limit (ensureResourceRange)
        ([(R.CPU, "12")], [(R.CPU, "20")], ("10", "10")),
        # the request clamped to the limit
        ([(R.CPU, "4")], [(R.CPU, "2")], ("2", "2")),
    ],
)
def test_apply_resource_overrides_cpu(requests, limits, expected):
    pod, _ = _pod(_template(requests, limits), _platform(**CPU_PLATFORM))
    res = _resources(pod)
    assert (res["requests"]["cpu"], res["limits"]["cpu"]) == expected


def test_a_clamp_is_a_warning_naming_the_platform_key():
    _, findings = _pod(_template([(R.CPU, "12")], [(R.CPU, "20")]), _platform(**CPU_PLATFORM))
    clamped = [f for f in findings if f.code.endswith("-clamped")]
    assert {(f.field, f.before, f.after) for f in clamped} == {("requests.cpu", "12", "10"), ("limits.cpu", "20", "10")}
    assert all(f.level == "warning" and "task_resources.limits.cpu" in f.source for f in clamped)


def test_ephemeral_storage_and_gpu_are_adjusted_only_when_asked_for():
    # container_helper_test.go: TestApplyResourceOverrides_OverrideEphemeralStorage, _OverrideGpu
    platform = _platform(requests={"cpu": "1", "memory": "1Gi"}, limits={"ephemeral_storage": "1Gi", "gpu": "1"})
    pod, _ = _pod(_template([(R.CPU, "1")]), platform)
    assert set(_resources(pod)["requests"]) == {"cpu", "memory"}
    pod, _ = _pod(_template([(R.EPHEMERAL_STORAGE, "10Gi"), (R.GPU, "2")]), platform)
    res = _resources(pod)
    assert res["requests"]["ephemeral-storage"] == res["limits"]["ephemeral-storage"] == "1Gi"
    assert res["limits"]["nvidia.com/gpu"] == "1"


def test_node_overrides_merge_per_key():
    # container_helper_test.go: TestMergeResources_PartialResourceKeys; the node's value wins per key
    overrides = core_wf.TaskNodeOverrides()
    overrides.resources.requests.add(name=R.MEMORY, value="2Gi")
    t = _template([(R.CPU, "1"), (R.MEMORY, "1Gi")], [(R.CPU, "2"), (R.MEMORY, "4Gi")])
    pod, findings = _pod(t, _platform(limits={"cpu": "8", "memory": "8Gi"}), overrides=overrides, node="wf/n0")
    res = _resources(pod)
    assert res["requests"] == {"cpu": "1", "memory": "2Gi"} and res["limits"] == {"cpu": "2", "memory": "4Gi"}
    assert any(f.code == "propeller.node-override" and f.node == "wf/n0" for f in findings)
    assert not any(f.code.endswith("-clamped") for f in findings)  # an override is not a clamp


def test_gpu_under_another_resource_name_is_left_as_nvidia_and_gets_no_node_selector():
    # utils.go ToK8sResourceList always writes nvidia.com/gpu; ApplyGPUNodeSelectors looks for
    # gpu-resource-name in the limits (pod_helper_test.go: TestApplyGPUNodeSelectors "without gpu resource")
    t = _template([(R.GPU, "1")], [(R.GPU, "1")], accelerator=tasks_pb2.GPUAccelerator(device="nvidia-tesla-a100"))
    pod, _ = _pod(t, _platform(gpu_resource_name="amd.com/gpu"))
    assert _resources(pod)["limits"]["nvidia.com/gpu"] == "1"
    assert pod["spec"]["affinity"] == {}  # UpdatePod's empty affinity: no GPU requirement added


GPU = dict(gpu_device_node_label="gpu-device", gpu_partition_size_node_label="gpu-partition-size")


@pytest.mark.parametrize(
    "accelerator, k8s, expressions, tolerations",
    [
        # pod_helper_test.go: TestApplyGPUNodeSelectors "with gpu device spec only"
        (tasks_pb2.GPUAccelerator(device="nvidia-tesla-a100"), GPU,
         [{"key": "gpu-device", "operator": "In", "values": ["nvidia-tesla-a100"]}],
         [{"key": "gpu-device", "value": "nvidia-tesla-a100", "operator": "Equal", "effect": "NoSchedule"}]),
        # "with gpu device and partition size spec"
        (tasks_pb2.GPUAccelerator(device="nvidia-tesla-a100", partition_size="1g.5gb"), GPU,
         [{"key": "gpu-device", "operator": "In", "values": ["nvidia-tesla-a100"]},
          {"key": "gpu-partition-size", "operator": "In", "values": ["1g.5gb"]}],
         [{"key": "gpu-device", "value": "nvidia-tesla-a100", "operator": "Equal", "effect": "NoSchedule"},
          {"key": "gpu-partition-size", "value": "1g.5gb", "operator": "Equal", "effect": "NoSchedule"}]),
        # "with unpartitioned gpu device spec": DoesNotExist, no toleration unless configured
        (tasks_pb2.GPUAccelerator(device="nvidia-tesla-a100", unpartitioned=True), GPU,
         [{"key": "gpu-device", "operator": "In", "values": ["nvidia-tesla-a100"]},
          {"key": "gpu-partition-size", "operator": "DoesNotExist"}],
         [{"key": "gpu-device", "value": "nvidia-tesla-a100", "operator": "Equal", "effect": "NoSchedule"}]),
        # "with unpartitioned gpu device spec with custom node selector and toleration"
        (tasks_pb2.GPUAccelerator(device="nvidia-tesla-a100", unpartitioned=True),
         dict(GPU, gpu_unpartitioned_node_selector_requirement={"key": "part", "operator": "In", "values": ["none"]},
              gpu_unpartitioned_toleration={"key": "part", "value": "none", "operator": "Equal",
                                            "effect": "NoSchedule"}),
         [{"key": "gpu-device", "operator": "In", "values": ["nvidia-tesla-a100"]},
          {"key": "part", "operator": "In", "values": ["none"]}],
         [{"key": "gpu-device", "value": "nvidia-tesla-a100", "operator": "Equal", "effect": "NoSchedule"},
          {"key": "part", "value": "none", "operator": "Equal", "effect": "NoSchedule"}]),
    ],
)
def test_gpu_node_selectors(accelerator, k8s, expressions, tolerations):
    pod, findings = _pod(_template([(R.GPU, "1")], [(R.GPU, "1")], accelerator=accelerator), _platform(**k8s))
    terms = _terms(pod)
    assert terms == [{"matchExpressions": expressions}]
    assert pod["spec"]["tolerations"] == tolerations
    assert any(f.code == "propeller.gpu-affinity" for f in findings)


def test_update_pod_tolerations_selectors_and_scheduler():
    # k8s_resource_adds.go GetPodTolerations: resource, then interruptible, then default tolerations;
    # pod_helper_test.go: TestUpdatePodWithDefaultAffinityAndInterruptibleNodeSelectorRequirement
    gpu_tol = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
    spot = {"key": "spot", "operator": "Exists", "effect": "NoSchedule"}
    default = {"key": "shared", "operator": "Exists", "effect": "NoSchedule"}
    req = {"key": "lifecycle", "operator": "In", "values": ["spot"]}
    platform = _platform(resource_tolerations={"nvidia.com/gpu": (gpu_tol,)}, interruptible_tolerations=(spot,),
                         default_tolerations=(default,), scheduler_name="volcano", default_node_selector={"a": "1"},
                         interruptible_node_selector={"b": "2"}, interruptible_node_selector_requirement=req)
    pod, _ = _pod(_template([(R.GPU, "1")], [(R.GPU, "1")]), platform, interruptible=True)
    spec = pod["spec"]
    assert spec["tolerations"] == [gpu_tol, spot, default]
    assert spec["schedulerName"] == "volcano" and spec["restartPolicy"] == "Never"
    assert spec["nodeSelector"] == {"a": "1", "b": "2"}
    assert spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] == {
        "nodeSelectorTerms": [{"matchExpressions": [req]}]}
    pod, _ = _pod(_template([(R.CPU, "1")]), platform, interruptible=False)
    assert pod["spec"]["tolerations"] == [default] and pod["spec"]["nodeSelector"] == {"a": "1"}


def test_default_affinity_gets_the_interruptible_requirement_anded():
    # TestUpdatePodWithDefaultAffinityAndInterruptibleNodeSelectorRequirement
    affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "default", "operator": "In", "values": ["exists"]}]}]}}}
    req = {"key": "x/interruptible", "operator": "In", "values": ["true"]}
    pod, _ = _pod(_template([(R.CPU, "1")]), _platform(default_affinity=affinity,
                                                       interruptible_node_selector_requirement=req), interruptible=True)
    terms = _terms(pod)
    assert terms == [{"matchExpressions": [{"key": "default", "operator": "In", "values": ["exists"]}, req]}]
    assert affinity["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"][0][
        "matchExpressions"] == [{"key": "default", "operator": "In", "values": ["exists"]}]  # config untouched


@pytest.mark.parametrize(
    "shm, volumes, mounts, error",
    [
        # pod_helper_test.go: TestApplySharedMemory
        (tasks_pb2.SharedMemory(mount_name="flyte-shared-memory", mount_path="/dev/shm", size_limit="2Gi"),
         [{"name": "flyte-shared-memory", "emptyDir": {"medium": "Memory", "sizeLimit": "2Gi"}}],
         [{"name": "flyte-shared-memory", "mountPath": "/dev/shm"}], None),
        # no size: a zero quantity, as Go's &quantity
        (tasks_pb2.SharedMemory(mount_name="shm", mount_path="/dev/shm"),
         [{"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": "0"}}],
         [{"name": "shm", "mountPath": "/dev/shm"}], None),
        # TestApplySharedMemoryErrors: "mount name is not set"
        (tasks_pb2.SharedMemory(mount_path="/dev/shm"), None, None, "mount name or path is not set"),
    ],
)
def test_shared_memory(shm, volumes, mounts, error):
    pod, findings = _pod(_template([(R.CPU, "1")], shm=shm), _platform())
    if error:
        assert any(f.level == "error" and error in f.message for f in findings)
        assert "volumes" not in pod["spec"]
    else:
        assert pod["spec"]["volumes"] == volumes
        assert pod["spec"]["containers"][0]["volumeMounts"] == mounts


def test_extended_resource_tolerations_are_added_once():
    # pod_helper_test.go: TestAddTolerationsForExtendedResources
    existing = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
    platform = _platform(add_tolerations_for_extended_resources=("nvidia.com/gpu",),
                         resource_tolerations={"nvidia.com/gpu": (existing,)})
    pod, _ = _pod(_template([(R.GPU, "1")], [(R.GPU, "1")]), platform)
    assert pod["spec"]["tolerations"] == [existing]
    pod, _ = _pod(_template([(R.GPU, "1")], [(R.GPU, "1")]),
                  _platform(add_tolerations_for_extended_resources=("nvidia.com/gpu",)))
    assert pod["spec"]["tolerations"] == [existing]


def _pod_task(spec, primary="primary"):
    t = tasks_pb2.TaskTemplate(type="sidecar")
    t.id.name = "wf.pod"
    t.config["primary_container_name"] = primary
    s = struct_pb2.Struct()
    s.update(json.loads(json.dumps(spec)))
    t.k8s_pod.pod_spec.CopyFrom(s)
    return t


def test_pod_task_primary_is_defaulted_and_sidecars_only_clamped():
    # pod_helper.go ApplyFlytePodConfiguration: MergeExistingResources for the primary,
    # EnsureExistingResourcesInRange (no defaults) for the others
    spec = {"containers": [{"name": "primary", "image": "a"},
                           {"name": "side", "image": "b", "resources": {"limits": {"cpu": "20"}}}]}
    pod, _ = _pod(_pod_task(spec), _platform(requests={"cpu": "1", "memory": "1Gi"}, limits={"cpu": "4"}))
    primary, side = pod["spec"]["containers"]
    assert primary["resources"]["requests"]["cpu"] == "1" and primary["resources"]["limits"]["cpu"] == "1"
    assert side["resources"]["limits"]["cpu"] == "4" and side["resources"]["requests"]["cpu"] == "0"


def test_pod_task_without_its_primary_container_is_refused():
    with pytest.raises(ResourceValidationError, match="primary container 'main'"):
        build_pods(_pod_task({"containers": [{"name": "primary"}]}, primary="main"), _platform())


def test_base_pod_template_fills_missing_resources_of_the_primary():
    # container_helper_test.go: TestExtractContainerResourcesFromPodTemplate / TestMergeResourcesIfMissing:
    # the template's "primary" (or "default") container fills keys the task does not set
    base = {"kind": "PodTemplate", "metadata": {"name": "base"}, "template": {"spec": {"containers": [
        {"name": "default", "resources": {"requests": {"cpu": "2", "ephemeral-storage": "1Gi"}}}]}}}
    platform = Platform(k8s=K8sConfig(default_pod_template_name="base"), task_resources=TaskResources(
        defaults=TaskResourceSet(), limits=TaskResourceSet()), pod_templates={"base": base})
    pod, findings = _pod(_template([(R.MEMORY, "1Gi")]), platform)
    res = _resources(pod)
    assert res["requests"] == {"memory": "1Gi", "cpu": "2", "ephemeral-storage": "1Gi"}
    assert any(f.code == "propeller.base-template-resource" for f in findings)


def test_labels_annotations_and_container_image_override():
    overrides = core_wf.TaskNodeOverrides(container_image="img:v2")
    pod, _ = _pod(_template([(R.CPU, "1")]), _platform(default_labels={"team": "ml"}), overrides=overrides,
                  namespace="p-d")
    assert pod["metadata"] == {"namespace": "p-d", "labels": {"team": "ml"},
                               "annotations": {"cluster-autoscaler.kubernetes.io/safe-to-evict": "false"}}
    assert pod["spec"]["containers"][0]["image"] == "img:v2"


def test_a_node_request_above_the_limit_in_effect_is_clamped_with_a_warning():
    # the with_overrides(requests=...) case users report: the node's request under the task's old limit
    overrides = core_wf.TaskNodeOverrides()
    overrides.resources.requests.add(name=R.MEMORY, value="150Gi")
    t = _template([(R.MEMORY, "96Gi")], [(R.MEMORY, "96Gi")])
    pod, findings = _pod(t, _platform(limits={"memory": "96Gi"}), overrides=overrides, node="wf/n0")
    assert _resources(pod)["requests"]["memory"] == "96Gi"
    (clamp,) = [f for f in findings if f.code.endswith("-clamped")]
    assert (clamp.level, clamp.field, clamp.before, clamp.after) == ("warning", "requests.memory", "150Gi", "96Gi")
