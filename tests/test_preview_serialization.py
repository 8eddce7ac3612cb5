"""The pod as flytepropeller 1.16.8 serializes it (encoding/json of a v1.Pod, k8s.io/api json tags), so that the
preview can be diffed with ``kubectl get pod -o yaml``: the empty structs Go keeps, the zero values it omits, maps
with sorted keys."""

import copy

import pytest
from flyteidl.core import identifier_pb2, tasks_pb2
from google.protobuf import json_format, struct_pb2
from hypothesis import given
from hypothesis import strategies as st

from flytekitplugins.resources.platform import K8sConfig, Platform
from flytekitplugins.resources.preview import preview_entities
from flytekitplugins.resources.preview.flytek8s import go_marshal, mergo_merge
from flytekitplugins.resources.preview.propeller import build_pods

R = tasks_pb2.Resources


def _container_task(env=None, requests=((R.CPU, "1"),)):
    t = tasks_pb2.TaskTemplate(id=identifier_pb2.Identifier(resource_type=1, name="wf.t"), type="python-task")
    t.metadata.runtime.version = "1.16.0"
    t.container.image = "img"
    t.interface.SetInParent()
    for n, v in requests:
        t.container.resources.requests.add(name=n, value=v)
    for k, v in (env or {}).items():
        t.container.env.add(key=k, value=v)
    return t


def _pod_task(spec, labels=None):
    t = tasks_pb2.TaskTemplate(id=identifier_pb2.Identifier(resource_type=1, name="wf.p"), type="sidecar")
    t.metadata.runtime.version = "1.16.0"
    t.interface.SetInParent()
    t.config["primary_container_name"] = "main"
    t.k8s_pod.pod_spec.CopyFrom(json_format.ParseDict(spec, struct_pb2.Struct()))
    for k, v in (labels or {}).items():
        t.k8s_pod.metadata.labels[k] = v
    return t


def _spec(template, platform=None, **kw):
    (built,) = build_pods(template, platform or Platform(), **kw)
    return built.pod


def test_every_pod_gets_the_empty_affinity_update_pod_sets():
    # ApplyInterruptibleNodeAffinity: podSpec.Affinity = &v1.Affinity{} when nil; *Affinity, omitempty: "{}"
    pod = _spec(_container_task())
    assert pod["spec"]["affinity"] == {}
    assert _spec(_container_task(), interruptible=True)["spec"]["affinity"] == {}


def test_a_base_template_without_affinity_keeps_the_pods_empty_one_and_one_with_affinity_wins():
    base = {"apiVersion": "v1", "kind": "PodTemplate", "metadata": {"name": "base"},
            "template": {"spec": {"containers": [{"name": "default", "image": "x"}], "hostIPC": True}}}
    platform = Platform(k8s=K8sConfig(default_pod_template_name="base"), pod_templates={"base": base})
    assert _spec(_container_task(), platform)["spec"]["affinity"] == {}
    affinity = {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 1, "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname"}}]}}
    with_affinity = copy.deepcopy(base)
    with_affinity["template"]["spec"]["affinity"] = affinity
    platform = Platform(k8s=K8sConfig(default_pod_template_name="base"), pod_templates={"base": with_affinity})
    assert _spec(_container_task(), platform)["spec"]["affinity"] == affinity


@pytest.mark.parametrize(
    "dst, src, merged",
    [
        # a struct pointer: an empty one in the source is not mergo's empty value; an absent destination takes it
        ({}, {"affinity": {}}, {"affinity": {}}),
        ({"affinity": {"nodeAffinity": {"x": 1}}}, {"affinity": {}}, {"affinity": {"nodeAffinity": {"x": 1}}}),
        ({}, {"securityContext": {}}, {"securityContext": {}}),
        # a map: an empty one is empty, and never overrides
        ({}, {"nodeSelector": {}}, {}),
        ({"labels": {"a": "1"}}, {"labels": {}}, {"labels": {"a": "1"}}),
        ({"resources": {"limits": {"cpu": "1"}}}, {"resources": {"limits": {}}},
         {"resources": {"limits": {"cpu": "1"}}}),
    ],
)
def test_mergo_tells_an_empty_struct_from_an_empty_map(dst, src, merged):
    assert mergo_merge(copy.deepcopy(dst), src) == merged


def test_host_network_false_is_omitted_and_true_kept():
    # HostNetwork bool `json:"hostNetwork,omitempty"`: flytepropeller sets it from enable-host-networking-pod
    off = _spec(_container_task(), Platform(k8s=K8sConfig(enable_host_networking_pod=False)))
    on = _spec(_container_task(), Platform(k8s=K8sConfig(enable_host_networking_pod=True)))
    assert "hostNetwork" not in off["spec"] and on["spec"]["hostNetwork"] is True


def test_an_empty_env_value_is_omitted():
    # EnvVar.Value string `json:"value,omitempty"`; Name has no omitempty
    (container,) = _spec(_container_task(env={"EMPTY": "", "SET": "1"}))["spec"]["containers"]
    assert container["env"] == [{"name": "EMPTY"}, {"name": "SET", "value": "1"}]


def test_maps_are_written_with_sorted_keys_whatever_the_pod_spec_order():
    # encoding/json writes a Go map's keys sorted; a Struct's fields come in no fixed order
    spec = {"containers": [{"name": "main", "image": "x", "resources": {
        "requests": {"nvidia.com/gpu": "1", "memory": "1Gi", "cpu": "1"},
        "limits": {"nvidia.com/gpu": "1", "memory": "1Gi", "cpu": "1"}}}],
        "nodeSelector": {"zone": "b", "arch": "amd64"}}
    pod = _spec(_pod_task(spec, labels={"z": "1", "a": "2"}))
    (container,) = pod["spec"]["containers"]
    assert list(container["resources"]["requests"]) == ["cpu", "memory", "nvidia.com/gpu"]
    assert list(container["resources"]["limits"]) == ["cpu", "memory", "nvidia.com/gpu"]
    assert list(pod["spec"]["nodeSelector"]) == ["arch", "zone"]
    assert list(pod["metadata"]["labels"]) == ["a", "z"]


def test_tolerations_and_requirements_lose_their_empty_strings_and_lists():
    k8s = K8sConfig(default_tolerations=[{"key": "pool", "operator": "Exists", "value": "", "effect": ""}],
                    non_interruptible_node_selector_requirement={"key": "spot", "operator": "DoesNotExist",
                                                                 "values": []})
    spec = _spec(_container_task(), Platform(k8s=k8s))["spec"]
    assert spec["tolerations"] == [{"key": "pool", "operator": "Exists"}]
    (term,) = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert term == {"matchExpressions": [{"key": "spot", "operator": "DoesNotExist"}]}


def test_the_shared_memory_volume_without_a_size_has_a_zero_limit():
    # SizeLimit *resource.Quantity: &quantity of the zero value, written "0"
    t = _container_task()
    t.extended_resources.shared_memory.CopyFrom(tasks_pb2.SharedMemory(mount_name="shm", mount_path="/dev/shm"))
    (volume,) = _spec(t)["spec"]["volumes"]
    assert volume == {"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": "0"}}


def test_a_preview_shows_the_same_serialized_pod():
    from flyteidl.admin import task_pb2

    (p,) = preview_entities([task_pb2.TaskSpec(template=_container_task())])
    assert p.pod["spec"]["affinity"] == {} and p.pod == go_marshal(p.pod)


_maps = st.dictionaries(st.sampled_from(["cpu", "memory", "b", "a", "nvidia.com/gpu"]), st.just("1"), max_size=4)


@given(requests=_maps, labels=_maps, host_network=st.booleans(), env=st.sampled_from(["", "v"]))
def test_go_marshal_is_idempotent_and_only_reorders_or_drops_what_go_omits(requests, labels, host_network, env):
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"labels": labels},
           "spec": {"containers": [{"name": "c", "env": [{"name": "E", "value": env}],
                                    "resources": {"requests": requests}}], "hostNetwork": host_network}}
    once = go_marshal(pod)
    assert go_marshal(once) == once and pod["spec"]["hostNetwork"] is host_network  # the input is not changed
    assert once["metadata"].get("labels", {}) == labels and list(once["metadata"].get("labels", {})) == sorted(labels)
    assert once["spec"]["containers"][0]["resources"].get("requests", {}) == requests
    assert ("hostNetwork" in once["spec"]) is host_network
    assert once["spec"]["containers"][0]["env"] == [{"name": "E", "value": "v"} if env else {"name": "E"}]
