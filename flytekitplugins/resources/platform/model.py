"""What a Flyte deployment's configuration is, once loaded: the values the preview reads, with Flyte's defaults.

Each ``plugins.k8s`` key is described once, by its :class:`K8sConfig` field (name and kind); :data:`K8S_KEYS`
is derived from the fields.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields
from typing import Any, Dict, Mapping, Optional, Tuple

from ..findings import Finding
from ..quantity import Quantity

__all__ = ["BUILTIN", "K8S_KEYS", "JSONDict", "K8sConfig", "Platform", "TaskResourceSet", "TaskResources"]

JSONDict = Dict[str, Any]
BUILTIN = "Flyte's default"  #: where a value came from when no file set it


def _q(s: str) -> Quantity:
    return Quantity.parse(s)


@dataclass(frozen=True)
class TaskResourceSet:
    """flyteadmin's ``TaskResourceSet``: a zero/absent value means "not set"."""

    cpu: Optional[Quantity] = None
    gpu: Optional[Quantity] = None
    memory: Optional[Quantity] = None
    ephemeral_storage: Optional[Quantity] = None


@dataclass(frozen=True)
class TaskResources:
    """flyteadmin's ``task_resources`` section; built-in defaults from ``task_resource_provider.go``."""

    defaults: TaskResourceSet = field(default_factory=lambda: TaskResourceSet(cpu=_q("2"), memory=_q("200Mi")))
    limits: TaskResourceSet = field(
        default_factory=lambda: TaskResourceSet(cpu=_q("2"), memory=_q("1Gi"), gpu=_q("1"))
    )


def _key(kind: str, default: Any = MISSING, *, factory: Any = MISSING) -> Any:
    """A ``plugins.k8s`` key: its :class:`K8sConfig` field and how its value is read (``kind``)."""
    return field(default=default, default_factory=factory, metadata={"kind": kind})


@dataclass(frozen=True)
class K8sConfig:
    """flytepropeller's ``plugins.k8s`` section (the keys that shape a pod); defaults from ``config.go``.

    Field names are the JSON keys with ``-`` as ``_`` (:data:`K8S_KEYS`). Each field's ``metadata["kind"]``
    says how its value is read: ``quantity``, ``str``, ``bool``, ``strlist``, ``strmap``, ``tolerations``,
    ``restolerations`` (resource name -> tolerations), or the Kubernetes kind of a JSON object
    (``Affinity``, ``Toleration``, ...). Kubernetes objects are JSON dicts.
    """

    default_cpus: Quantity = _key("quantity", factory=lambda: _q("1000m"))
    default_memory: Quantity = _key("quantity", factory=lambda: _q("1024Mi"))
    default_annotations: Mapping[str, str] = _key(
        "strmap", factory=lambda: {"cluster-autoscaler.kubernetes.io/safe-to-evict": "false"})
    default_labels: Mapping[str, str] = _key("strmap", factory=dict)
    default_env_vars: Mapping[str, str] = _key("strmap", factory=dict)
    default_env_vars_from_env: Mapping[str, str] = _key("strmap", factory=dict)
    default_env_from_configmaps: Tuple[str, ...] = _key("strlist", ())
    default_env_from_secrets: Tuple[str, ...] = _key("strlist", ())
    default_tolerations: Tuple[JSONDict, ...] = _key("tolerations", ())
    default_node_selector: Mapping[str, str] = _key("strmap", factory=dict)
    default_affinity: Optional[JSONDict] = _key("Affinity", None)
    scheduler_name: str = _key("str", "")
    interruptible_tolerations: Tuple[JSONDict, ...] = _key("tolerations", ())
    interruptible_node_selector: Mapping[str, str] = _key("strmap", factory=dict)
    interruptible_node_selector_requirement: Optional[JSONDict] = _key("NodeSelectorRequirement", None)
    non_interruptible_node_selector_requirement: Optional[JSONDict] = _key("NodeSelectorRequirement", None)
    resource_tolerations: Mapping[str, Tuple[JSONDict, ...]] = _key("restolerations", factory=dict)
    image_pull_policy: str = _key("str", "")
    gpu_device_node_label: str = _key("str", "k8s.amazonaws.com/accelerator")
    gpu_partition_size_node_label: str = _key("str", "k8s.amazonaws.com/gpu-partition-size")
    gpu_unpartitioned_node_selector_requirement: Optional[JSONDict] = _key("NodeSelectorRequirement", None)
    gpu_unpartitioned_toleration: Optional[JSONDict] = _key("Toleration", None)
    gpu_resource_name: str = _key("str", "nvidia.com/gpu")
    default_pod_security_context: Optional[JSONDict] = _key("PodSecurityContext", None)
    default_security_context: Optional[JSONDict] = _key("SecurityContext", None)
    enable_host_networking_pod: Optional[bool] = _key("bool", None)
    default_pod_dns_config: Optional[JSONDict] = _key("PodDNSConfig", None)
    default_pod_template_name: str = _key("str", "")
    add_tolerations_for_extended_resources: Tuple[str, ...] = _key("strlist", ())


@dataclass(frozen=True)
class Platform:
    """Everything the preview needs to know about one Flyte deployment."""

    k8s: K8sConfig = field(default_factory=K8sConfig)
    task_resources: TaskResources = field(default_factory=TaskResources)
    #: base PodTemplate manifests (JSON dicts, ``kind: PodTemplate``) by ``metadata.name``
    pod_templates: Mapping[str, JSONDict] = field(default_factory=dict)
    #: where each key that is not a built-in default came from: ``"plugins.k8s.default-cpus"`` -> ``"prod.yaml"``
    #: (task resources as ``"task_resources.limits.cpu"``, pod templates as ``"pod_templates.<name>"``)
    sources: Mapping[str, str] = field(default_factory=dict)
    #: what Flyte's own config loader would do differently from what the files seem to say (lowercased map
    #: keys, ignored legacy keys, a later value Flyte ignores); ``warning`` findings, codes ``platform.*``
    findings: Tuple[Finding, ...] = ()

    def source_of(self, key: str) -> str:
        """``"plugins.k8s.default-cpus (prod.yaml)"`` or ``"plugins.k8s.default-cpus (Flyte's default)"``."""
        return f"{key} ({self.sources.get(key, BUILTIN)})"


#: plugins.k8s keys that shape a pod: JSON key -> (K8sConfig attribute, kind), from K8sConfig's fields
K8S_KEYS: Dict[str, Tuple[str, str]] = {
    f.name.replace("_", "-"): (f.name, f.metadata["kind"]) for f in fields(K8sConfig)}
