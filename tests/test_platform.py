"""load_platform: Flyte's platform configuration as platform teams have it in files.

Shapes from charts/flyte-core, charts/flyte-binary, charts/flyte-sandbox at flyte v1.16.8; keys from
K8sPluginConfig (flyteplugins/go/tasks/pluginmachinery/flytek8s/config/config.go) and flyteadmin's
TaskResourceSpec (flyteadmin/pkg/runtime/task_resource_provider.go); merging as flytestdlib's viper
accessor does (flytestdlib/config/viper/viper.go, collection.go).
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from flytekitplugins.resources.platform import K8sConfig, Platform, TaskResources, load_platform
from flytekitplugins.resources.quantity import Quantity, ResourceValidationError

DATA = Path(__file__).parent / "data" / "platform"


def q(s: str) -> Quantity:
    return Quantity.parse(s)


def load_text(tmp_path, *texts: str, pod_templates=()):
    paths = []
    for i, text in enumerate(texts):
        p = tmp_path / f"f{i}.yaml"
        p.write_text(text)
        paths.append(str(p))
    return load_platform(paths, pod_templates=pod_templates), paths


# ------------------------------------------------------------------------------------------ built-in defaults
def test_builtin_defaults_match_flyte():
    # config.go defaultK8sConfig and task_resource_provider.go taskResourceConfig
    p = load_platform()
    assert p == Platform()
    k = p.k8s
    assert (k.default_cpus, k.default_memory) == (q("1000m"), q("1024Mi"))
    assert dict(k.default_annotations) == {"cluster-autoscaler.kubernetes.io/safe-to-evict": "false"}
    assert k.gpu_resource_name == "nvidia.com/gpu"
    assert k.gpu_device_node_label == "k8s.amazonaws.com/accelerator"
    assert k.gpu_partition_size_node_label == "k8s.amazonaws.com/gpu-partition-size"
    assert k.add_tolerations_for_extended_resources == ()
    tr = p.task_resources
    assert (tr.defaults.cpu, tr.defaults.memory, tr.defaults.gpu, tr.defaults.ephemeral_storage) == (
        q("2"), q("200Mi"), None, None)
    assert (tr.limits.cpu, tr.limits.memory, tr.limits.gpu, tr.limits.ephemeral_storage) == (
        q("2"), q("1Gi"), q("1"), None)
    assert p.sources == {} and p.findings == ()
    assert p.source_of("plugins.k8s.default-cpus") == "plugins.k8s.default-cpus (Flyte's default)"


# ------------------------------------------------------------------------------------------ shapes
def test_flyte_core_values():
    f = str(DATA / "flyte-core-values.yaml")
    p = load_platform([f])
    assert (p.k8s.default_cpus, p.k8s.default_memory) == (q("100m"), q("100Mi"))
    assert p.k8s.default_env_vars == {}
    assert p.task_resources.defaults.cpu == q("100m") and p.task_resources.limits.gpu == q("1")
    assert p.sources["plugins.k8s.default-cpus"] == f"{f} (configmap.k8s)"
    assert p.sources["task_resources.limits.cpu"] == f"{f} (configmap.task_resource_defaults)"


def test_flyte_binary_values_list_form_keeps_case_and_ints_become_strings():
    p = load_platform([str(DATA / "flyte-binary-values.yaml")])
    assert p.k8s.default_env_vars == {"AWS_METADATA_SERVICE_TIMEOUT": "5", "AWS_METADATA_SERVICE_NUM_ATTEMPTS": "20"}
    assert p.task_resources.limits.memory == q("32Gi") and p.task_resources.limits.gpu == q("4")
    assert p.findings == ()


def test_flyte_sandbox_values_zero_means_unset():
    p = load_platform([str(DATA / "flyte-sandbox-values.yaml")])
    d, lim = p.task_resources.defaults, p.task_resources.limits
    assert (d.cpu, d.memory, d.gpu, d.ephemeral_storage) == (q("500m"), q("1Gi"), None, None)
    assert (lim.cpu, lim.memory, lim.gpu, lim.ephemeral_storage) == (None, None, None, None)
    assert p.k8s.default_env_vars["FLYTE_PLATFORM_INSECURE"] == "true"


def test_rendered_configmap():
    f = str(DATA / "propeller-configmap.yaml")
    p = load_platform([f])
    assert p.k8s.default_cpus == q("500m")
    assert p.k8s.resource_tolerations == {
        "nvidia.com/gpu": ({"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},)}
    assert p.sources["plugins.k8s.resource-tolerations"] == f"{f} (ConfigMap flyte-propeller-config, k8s.yaml)"


def test_every_pod_shaping_key():
    p = load_platform([str(DATA / "gpu-cluster.yaml")])
    k = p.k8s
    assert k.default_labels == {"team": "ml-platform"}
    assert k.default_annotations == {"cluster-autoscaler.kubernetes.io/safe-to-evict": "false",
                                     "prometheus.io/scrape": "true"}
    assert k.default_tolerations == ({"key": "dedicated", "operator": "Equal", "value": "flyte",
                                      "effect": "NoSchedule"},)
    assert k.default_node_selector == {"pool": "flyte"}
    assert list(k.default_affinity) == ["nodeAffinity"]
    assert k.interruptible_node_selector_requirement == {"key": "node-lifecycle", "operator": "In", "values": ["spot"]}
    assert k.non_interruptible_node_selector_requirement["values"] == ["on-demand"]
    assert k.gpu_unpartitioned_toleration["value"] == "false"
    assert k.add_tolerations_for_extended_resources == ("nvidia.com/gpu", "amd.com/gpu")
    assert k.default_pod_security_context == {"runAsNonRoot": True, "fsGroup": 1000}
    assert k.default_security_context == {"allowPrivilegeEscalation": False}
    assert k.default_pod_dns_config == {"options": [{"name": "ndots", "value": "2"}]}
    assert (k.enable_host_networking_pod, k.scheduler_name, k.image_pull_policy, k.default_pod_template_name) == (
        False, "volcano", "IfNotPresent", "flyte-base")
    assert p.task_resources.limits.ephemeral_storage == q("100Gi")
    # keys not set keep Flyte's defaults
    assert k.default_cpus == K8sConfig().default_cpus and k.gpu_resource_name == "nvidia.com/gpu"


def test_merge_in_order_maps_merge_lists_replace():
    a, b = str(DATA / "gpu-cluster.yaml"), str(DATA / "prod-overrides.yaml")
    p = load_platform([a, b])
    # viper MergeConfig: lists replace (default-labels list form is a list: replaced, not merged)
    assert p.k8s.default_labels == {"env": "prod"}
    assert p.k8s.default_tolerations == ({"key": "prod", "operator": "Exists"},)
    assert p.task_resources.limits.gpu == q("16") and p.task_resources.limits.cpu == q("32")
    assert p.sources["task_resources.limits.gpu"] == b and p.sources["task_resources.limits.cpu"] == a


def test_merge_mapping_form_merges_per_key(tmp_path):
    # viper mergeMaps: a mapping merges key by key, the later file winning
    p, (a, b) = load_text(tmp_path, "plugins:\n  k8s:\n    default-labels: {team: ml, tier: gold}\n",
                          "plugins:\n  k8s:\n    default-labels: {tier: silver, env: prod}\n")
    assert p.k8s.default_labels == {"team": "ml", "tier": "silver", "env": "prod"}
    assert p.sources["plugins.k8s.default-labels"] == f"{a}, {b}"


def test_setting_a_map_replaces_the_builtin_default(tmp_path):
    # mapstructure ZeroFields: the configured map replaces defaultK8sConfig's annotations
    p, _ = load_text(tmp_path, "plugins:\n  k8s:\n    default-annotations: {a.b/c: x}\n")
    assert p.k8s.default_annotations == {"a.b/c": "x"}


def test_later_list_after_mapping_is_ignored_like_viper(tmp_path):
    p, (a, b) = load_text(tmp_path, "plugins:\n  k8s:\n    default-env-vars: {x: '1'}\n",
                          "plugins:\n  k8s:\n    default-env-vars: [{Y: '2'}]\n")
    assert p.k8s.default_env_vars == {"x": "1"}
    assert [f.code for f in p.findings] == ["platform.value-ignored"]


def test_mapping_keys_are_lowercased_unless_dotted(tmp_path):
    # viper lowercases map keys; flytestdlib restores dotted keys (restoreDottedMapKeys) and lists
    p, _ = load_text(tmp_path, "plugins:\n  k8s:\n    default-env-vars: {MY_VAR: a}\n"
                               "    default-labels: {Example.com/Team: ml}\n")
    assert p.k8s.default_env_vars == {"my_var": "a"}
    assert p.k8s.default_labels == {"Example.com/Team": "ml"}
    [finding] = p.findings
    assert finding.code == "platform.key-lowercased" and "MY_VAR" in finding.message


def test_task_resources_partial_and_null(tmp_path):
    p, _ = load_text(tmp_path, "task_resources:\n  defaults: {cpu: 250m}\n  limits: ~\n")
    assert p.task_resources.defaults.memory == TaskResources().defaults.memory  # other defaults kept
    assert p.task_resources.defaults.cpu == q("250m")
    assert p.task_resources.limits.cpu is None and p.task_resources.limits.gpu is None  # null zeroes the struct


def test_quantities_as_yaml_numbers(tmp_path):
    p, _ = load_text(tmp_path, "plugins:\n  k8s:\n    default-cpus: 0.5\n    default-memory: 1073741824\n"
                               "task_resources:\n  limits: {cpu: 4, gpu: 2}\n")
    assert str(p.k8s.default_cpus) == "500m" and p.k8s.default_memory == q("1Gi")
    assert p.task_resources.limits.cpu == q("4")


def test_case_insensitive_keys_and_kubernetes_fields(tmp_path):
    # viper keys are case-insensitive; Go's encoding/json matches field names case-insensitively
    p, _ = load_text(tmp_path, "plugins:\n  k8s:\n    Default-CPUs: 2\n    default-tolerations:\n"
                               "      - {key: a, operator: Exists, tolerationseconds: 30}\n"
                               "task_resources:\n  limits: {ephemeralstorage: 1Gi}\n")
    assert p.k8s.default_cpus == q("2")
    assert p.k8s.default_tolerations == ({"key": "a", "operator": "Exists", "tolerationSeconds": 30},)
    assert p.task_resources.limits.ephemeral_storage == q("1Gi")


def test_ignored_keys_are_accepted(tmp_path):
    p, _ = load_text(tmp_path, "plugins:\n  k8s:\n    inject-finalizer: true\n    co-pilot: {name: x}\n"
                               "    pod-pending-timeout: 10m\n    update-backoff-retries: 3\n"
                               "task_resources:\n  defaults: {storage: 5Mi}\n")
    assert p.k8s == K8sConfig()
    assert [f.code for f in p.findings] == ["platform.ignored-key"]  # charts/flyte still writes storage


def test_streams_are_accepted():
    p = load_platform([io.StringIO("plugins:\n  k8s:\n    scheduler-name: volcano\n")])
    assert p.k8s.scheduler_name == "volcano"


# ------------------------------------------------------------------------------------------ pod templates
def test_pod_templates_by_name():
    a, b = str(DATA / "pod-templates.yaml"), str(DATA / "pod-template-list.yaml")
    p = load_platform(pod_templates=[a, b])
    assert sorted(p.pod_templates) == ["flyte-base", "gpu", "shm"]
    assert p.pod_templates["flyte-base"]["template"]["spec"]["containers"][0]["name"] == "default"
    assert p.pod_templates["gpu"]["template"]["spec"]["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert p.sources["pod_templates.shm"] == f"{b} (items[0])"
    assert p.sources["pod_templates.gpu"] == f"{a} (document 2)"


def test_pod_templates_in_platform_files_too(tmp_path):
    p, _ = load_text(tmp_path, (DATA / "pod-templates.yaml").read_text())
    assert set(p.pod_templates) == {"flyte-base", "gpu"}


# ------------------------------------------------------------------------------------------ errors
K8S = "plugins:\n  k8s:\n"
ERRORS = [
    # (id, file text, text that must be in the one-line message)
    ("unknown-key", K8S + "    default-cpu: 2\n", ["plugins.k8s.default-cpu", "did you mean 'default-cpus'"]),
    ("bad-quantity", K8S + "    default-memory: 2GB\n", ["plugins.k8s.default-memory='2GB'", "Kubernetes quantity"]),
    ("bool-quantity", "task_resources:\n  limits: {cpu: true}\n", ["task_resources.limits.cpu=True", "not a quantity"]),
    ("bad-task-resource", "task_resources:\n  limits: {cpu: 2 cores}\n", ["task_resources.limits.cpu='2 cores'"]),
    ("unknown-task-resource-key", "task_resources:\n  limits: {cpus: 2}\n", ["task_resources.limits.cpus"]),
    ("unknown-task-resources-part", "task_resources:\n  default: {cpu: 2}\n", ["task_resources.default"]),
    ("tolerations-string", K8S + "    default-tolerations: dedicated=flyte:NoSchedule\n",
     ["plugins.k8s.default-tolerations", "list of tolerations"]),
    ("toleration-unknown-field", K8S + "    interruptible-tolerations:\n      - {key: a, operater: Exists}\n",
     ["plugins.k8s.interruptible-tolerations[0].operater", "not a field of a Kubernetes Toleration"]),
    ("toleration-seconds-string", K8S + "    default-tolerations:\n      - {key: a, tolerationSeconds: 1h}\n",
     ["default-tolerations[0].tolerationSeconds", "whole number"]),
    ("nsr-values-string", K8S + "    interruptible-node-selector-requirement: {key: a, operator: In, values: b}\n",
     ["interruptible-node-selector-requirement.values", "list of strings"]),
    ("affinity-unknown", K8S + "    default-affinity: {nodeAfinity: {}}\n",
     ["plugins.k8s.default-affinity.nodeAfinity", "Affinity"]),
    ("security-context-unknown", K8S + "    default-security-context: {runAsUsr: 1}\n",
     ["default-security-context.runAsUsr"]),
    ("label-value-mapping", K8S + "    default-labels: {team: {a: b}}\n", ["default-labels.team", "must be a string"]),
    ("resource-tolerations-list", K8S + "    resource-tolerations: [nvidia.com/gpu]\n",
     ["plugins.k8s.resource-tolerations", "resource name"]),
    ("k8s-not-mapping", K8S + "    - a\n", ["plugins.k8s", "mapping"]),
    ("bad-yaml", K8S + "    default-cpus: [1\n", ["is not valid YAML", "line"]),
    ("nothing-relevant", "propeller:\n  workers: 4\n", ["holds none of"]),
    ("not-a-mapping", "- a\n- b\n", ["not a YAML mapping"]),
    ("unknown-kind", "apiVersion: v1\nkind: Secret\n", ["kind='Secret'"]),
    ("pod-template-no-name", "apiVersion: v1\nkind: PodTemplate\nmetadata: {}\ntemplate: {}\n", ["metadata.name"]),
    ("pod-template-bad-quantity", "apiVersion: v1\nkind: PodTemplate\nmetadata: {name: x}\ntemplate:\n  spec:\n"
     "    containers:\n      - name: c\n        resources: {limits: {memory: 1GB}}\n",
     ["x: template.spec.containers[0].resources.limits.memory='1GB'"]),
    ("pod-template-spec-typo", "apiVersion: v1\nkind: PodTemplate\nmetadata: {name: x}\nspec: {}\n",
     ["PodTemplate.spec", "apiVersion, kind, metadata and template"]),
    ("list-of-other", "apiVersion: v1\nkind: List\nitems:\n  - {kind: Secret}\n", ["items[0].kind='Secret'"]),
]


@pytest.mark.parametrize("text,needles", [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_errors_name_the_file_and_the_key(tmp_path, text, needles):
    path = tmp_path / "platform.yaml"
    path.write_text(text)
    with pytest.raises(ResourceValidationError) as e:
        load_platform([str(path)])
    message = str(e.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    for needle in needles:
        assert needle in message


def test_missing_file():
    with pytest.raises(ResourceValidationError, match="does not exist"):
        load_platform(["/nonexistent/flyte.yaml"])


def test_unreadable_file(tmp_path):
    d = tmp_path / "dir.yaml"
    d.mkdir()
    with pytest.raises(ResourceValidationError, match="cannot be read"):
        load_platform([str(d)])


def test_a_single_path_is_refused():
    with pytest.raises(ResourceValidationError, match="list"):
        load_platform("flyte.yaml")


def test_pod_template_files_hold_only_pod_templates(tmp_path):
    path = tmp_path / "pt.yaml"
    path.write_text("plugins:\n  k8s:\n    default-cpus: 1\n")
    with pytest.raises(ResourceValidationError, match="not a PodTemplate manifest"):
        load_platform(pod_templates=[str(path)])


def test_configmap_entry_with_bad_yaml_names_the_entry(tmp_path):
    path = tmp_path / "cm.yaml"
    path.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata:\n"
                    "  k8s.yaml: |\n    plugins:\n      k8s:\n        default-cpus: 2GB\n")
    with pytest.raises(ResourceValidationError) as e:
        load_platform([str(path)])
    assert "(ConfigMap cfg, k8s.yaml): plugins.k8s.default-cpus='2GB'" in str(e.value)


# ------------------------------------------------------------------------------------------ YAML as Flyte reads it
def test_yaml_is_read_as_yaml_1_2_like_flytes_parser(tmp_path):
    # flytestdlib reads files with Go's yaml.v3: `yes`/`on` are strings, `1:30` is not base 60
    p, _ = load_text(tmp_path, "plugins:\n  k8s:\n    default-labels: {spot: yes, window: 1:30, ok: true}\n")
    assert p.k8s.default_labels == {"spot": "yes", "window": "1:30", "ok": "1"}


def test_duplicate_yaml_keys_are_refused(tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text("plugins:\n  k8s:\n    default-cpus: 1\n    default-cpus: 2\n")
    with pytest.raises(ResourceValidationError, match=r"line 4.*'default-cpus' is given twice"):
        load_platform([str(path)])


def test_image_pull_policy_must_be_one_kubernetes_accepts(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("plugins:\n  k8s:\n    image-pull-policy: always\n")
    with pytest.raises(ResourceValidationError, match="Always, IfNotPresent or Never"):
        load_platform([str(path)])


def test_umbrella_chart_values_and_configmap_lists(tmp_path):
    # charts/flyte wraps flyte-core's values under `flyte:`; `kubectl get cm -o yaml` of several is a List
    p, (a, b) = load_text(
        tmp_path,
        "flyte:\n  configmap:\n    task_resource_defaults:\n      task_resources:\n        limits: {cpu: 3}\n",
        "apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata: {name: a}\n"
        "    data:\n      k8s.yaml: |\n        plugins:\n          k8s:\n            scheduler-name: volcano\n",
    )
    assert p.task_resources.limits.cpu == q("3")
    assert p.sources["task_resources.limits.cpu"] == f"{a} (flyte) (configmap.task_resource_defaults)"
    assert p.k8s.scheduler_name == "volcano"
    assert p.sources["plugins.k8s.scheduler-name"] == f"{b} (items[0]) (ConfigMap a, k8s.yaml)"
