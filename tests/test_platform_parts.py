"""The platform package's parts: each plugins.k8s key described once, section parsers, PodTemplates, a pure merge."""

import copy

import pytest

from flytekitplugins.resources.errors import ResourceValidationError
from flytekitplugins.resources.platform import K8S_KEYS, K8sConfig, Platform, load_platform
from flytekitplugins.resources.platform.merge import merge
from flytekitplugins.resources.platform.podtemplates import pod_templates
from flytekitplugins.resources.platform.sections import K8S_IGNORED, k8s_section, task_resources_section

# K8sPluginConfig's JSON names that shape a pod (flyteplugins flytek8s/config/config.go at v1.16.8), with how
# each is read: what the loader accepted before the keys were described by K8sConfig's fields.
CONFIG_GO = {
    "default-cpus": "quantity", "default-memory": "quantity", "default-annotations": "strmap",
    "default-labels": "strmap", "default-env-vars": "strmap", "default-env-vars-from-env": "strmap",
    "default-env-from-configmaps": "strlist", "default-env-from-secrets": "strlist",
    "default-tolerations": "tolerations", "default-node-selector": "strmap", "default-affinity": "Affinity",
    "scheduler-name": "str", "interruptible-tolerations": "tolerations", "interruptible-node-selector": "strmap",
    "interruptible-node-selector-requirement": "NodeSelectorRequirement",
    "non-interruptible-node-selector-requirement": "NodeSelectorRequirement",
    "resource-tolerations": "restolerations", "image-pull-policy": "str", "gpu-device-node-label": "str",
    "gpu-partition-size-node-label": "str", "gpu-unpartitioned-node-selector-requirement": "NodeSelectorRequirement",
    "gpu-unpartitioned-toleration": "Toleration", "gpu-resource-name": "str",
    "default-pod-security-context": "PodSecurityContext", "default-security-context": "SecurityContext",
    "enable-host-networking-pod": "bool", "default-pod-dns-config": "PodDNSConfig",
    "default-pod-template-name": "str", "add-tolerations-for-extended-resources": "strlist",
}


def test_each_key_is_described_once_by_its_k8sconfig_field():
    assert {k: kind for k, (_, kind) in K8S_KEYS.items()} == CONFIG_GO
    assert all(attr == k.replace("-", "_") and hasattr(K8sConfig(), attr) for k, (attr, _) in K8S_KEYS.items())
    assert not set(K8S_KEYS) & K8S_IGNORED


def _notices():
    seen = []
    return seen, lambda code, message, source, field: seen.append((code, field))


def test_section_parsers_return_layers_and_report_what_flyte_would_change():
    seen, notice = _notices()
    layer = k8s_section("f.yaml", {"default-cpus": "2", "Default-Labels": {"Team": "a"}, "co-pilot": {}}, notice)
    assert str(layer["default-cpus"]) == "2" and layer["default-labels"] == {"team": "a"}
    assert seen == [("platform.key-lowercased", "plugins.k8s.Default-Labels.Team")]
    assert k8s_section("f.yaml", None, notice) is None

    seen, notice = _notices()
    layer = task_resources_section("f.yaml", {"defaults": {"CPU": "1", "storage": "1Gi"}, "limits": None}, notice)
    assert {k: str(v) for k, v in layer["defaults"].items()} == {"cpu": "1"} and layer["limits"] is None
    assert seen == [("platform.ignored-key", "task_resources.defaults.storage")]


@pytest.mark.parametrize("section, body, message", [
    (k8s_section, {"default-cpu": "1"}, "f.yaml: plugins.k8s.default-cpu='1': is not a key of flytepropeller's "
                                        "plugins.k8s (K8sPluginConfig); did you mean 'default-cpus'?"),
    (task_resources_section, {"defaults": {"gpus": 1}}, "f.yaml: task_resources.defaults.gpus=1: is not a key of "
                                                        "flyteadmin's TaskResourceSet; use cpu, gpu, memory or "
                                                        "ephemeralStorage"),
])
def test_section_errors_name_file_and_key(section, body, message):
    with pytest.raises(ResourceValidationError) as e:
        section("f.yaml", body, lambda *a: None)
    assert str(e.value) == message


def test_pod_templates_of_a_list():
    doc = {"kind": "List", "items": [
        {"kind": "PodTemplate", "metadata": {"name": "a"}, "template": {"spec": {"containers": [{"name": "c"}]}}},
        {"kind": "PodTemplate", "metadata": {"name": "b"}},
    ]}
    assert [(name, where) for name, where, _ in pod_templates("t.yaml", doc)] == \
        [("a", "t.yaml (items[0])"), ("b", "t.yaml (items[1])")]
    with pytest.raises(ResourceValidationError, match="every container needs a name"):
        pod_templates("t.yaml", {"kind": "PodTemplate", "metadata": {"name": "a"},
                                 "template": {"spec": {"containers": [{}]}}})


def test_merge_is_pure_and_layers_merge_in_order():
    k8s_layers = [("a.yaml", {"default-labels": {"x": "1"}, "default-cpus": None}),
                  ("b.yaml", {"default-labels": {"y": "2"}})]
    tr_layers = [("a.yaml", {"limits": None})]
    sources = {"pod_templates.t": "t.yaml"}
    before = copy.deepcopy((k8s_layers, tr_layers, sources))
    p = merge(k8s_layers, tr_layers, {}, sources, [])
    assert (k8s_layers, tr_layers, sources) == before
    assert isinstance(p, Platform) and p.k8s.default_labels == {"x": "1", "y": "2"}
    assert p.sources["plugins.k8s.default-labels"] == "a.yaml, b.yaml" and p.sources["pod_templates.t"] == "t.yaml"
    assert p.task_resources.limits.cpu is None  # null clears every limit
    assert str(p.task_resources.defaults.cpu) == "2"  # Flyte's default stays


def test_load_platform_is_the_parts_together(tmp_path):
    f = tmp_path / "flyte.yaml"
    f.write_text("plugins:\n  k8s:\n    default-cpus: 500m\ntask_resources:\n  limits:\n    memory: 2Gi\n")
    p = load_platform([str(f)])
    assert str(p.k8s.default_cpus) == "500m" and str(p.task_resources.limits.memory) == "2Gi"
    assert p.source_of("plugins.k8s.default-cpus") == f"plugins.k8s.default-cpus ({f})"
