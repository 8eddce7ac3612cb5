"""Flyte's platform configuration, as platform teams write it, loaded and merged over Flyte's defaults.

Inputs are the YAML files Flyte's Helm values and config maps already hold:

- flytepropeller's ``plugins: k8s: {...}`` (``flyteplugins/go/tasks/pluginmachinery/flytek8s/config/config.go``
  at flyte v1.16.8: the JSON names of ``K8sPluginConfig``);
- flyteadmin's ``task_resources: {defaults: {...}, limits: {...}}``
  (``flyteadmin/pkg/runtime/task_resource_provider.go``: ``cpu``, ``gpu``, ``memory``, ``ephemeralStorage``);
- base pod templates: Kubernetes ``PodTemplate`` manifests (``kind: PodTemplate``), by ``metadata.name``.

Several files merge in order (a later file's key replaces an earlier one's). With none, Flyte's own
built-in defaults apply (the defaults of the dataclasses below). Kubernetes objects inside the
configuration (tolerations, affinity, security contexts, pod templates) are kept as JSON dicts with
Kubernetes' JSON field names, so nothing here imports ``kubernetes``.

An unknown key, a bad quantity or a malformed manifest is a ``ResourceValidationError`` naming the file
and the key. This module uses ``quantity`` only; nothing below it uses this module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple, Union

from .quantity import Quantity

__all__ = ["K8sConfig", "Platform", "TaskResourceSet", "TaskResources", "load_platform"]

JSONDict = Dict[str, Any]


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


@dataclass(frozen=True)
class K8sConfig:
    """flytepropeller's ``plugins.k8s`` section (the keys that shape a pod); defaults from ``config.go``.

    Field names are the JSON keys with ``-`` as ``_``. Kubernetes objects are JSON dicts.
    """

    default_cpus: Quantity = field(default_factory=lambda: _q("1000m"))
    default_memory: Quantity = field(default_factory=lambda: _q("1024Mi"))
    default_annotations: Mapping[str, str] = field(
        default_factory=lambda: {"cluster-autoscaler.kubernetes.io/safe-to-evict": "false"}
    )
    default_labels: Mapping[str, str] = field(default_factory=dict)
    default_env_vars: Mapping[str, str] = field(default_factory=dict)
    default_env_vars_from_env: Mapping[str, str] = field(default_factory=dict)
    default_env_from_configmaps: Tuple[str, ...] = ()
    default_env_from_secrets: Tuple[str, ...] = ()
    default_tolerations: Tuple[JSONDict, ...] = ()
    default_node_selector: Mapping[str, str] = field(default_factory=dict)
    default_affinity: Optional[JSONDict] = None
    scheduler_name: str = ""
    interruptible_tolerations: Tuple[JSONDict, ...] = ()
    interruptible_node_selector: Mapping[str, str] = field(default_factory=dict)
    interruptible_node_selector_requirement: Optional[JSONDict] = None
    non_interruptible_node_selector_requirement: Optional[JSONDict] = None
    resource_tolerations: Mapping[str, Tuple[JSONDict, ...]] = field(default_factory=dict)
    image_pull_policy: str = ""
    gpu_device_node_label: str = "k8s.amazonaws.com/accelerator"
    gpu_partition_size_node_label: str = "k8s.amazonaws.com/gpu-partition-size"
    gpu_unpartitioned_node_selector_requirement: Optional[JSONDict] = None
    gpu_unpartitioned_toleration: Optional[JSONDict] = None
    gpu_resource_name: str = "nvidia.com/gpu"
    default_pod_security_context: Optional[JSONDict] = None
    default_security_context: Optional[JSONDict] = None
    enable_host_networking_pod: Optional[bool] = None
    default_pod_dns_config: Optional[JSONDict] = None
    default_pod_template_name: str = ""
    add_tolerations_for_extended_resources: Tuple[str, ...] = ()


@dataclass(frozen=True)
class Platform:
    """Everything the preview needs to know about one Flyte deployment."""

    k8s: K8sConfig = field(default_factory=K8sConfig)
    task_resources: TaskResources = field(default_factory=TaskResources)
    #: base PodTemplate manifests (JSON dicts, ``kind: PodTemplate``) by ``metadata.name``
    pod_templates: Mapping[str, JSONDict] = field(default_factory=dict)
    #: where each key that is not a built-in default came from: ``"plugins.k8s.default-cpus"`` -> ``"prod.yaml"``
    sources: Mapping[str, str] = field(default_factory=dict)

    def source_of(self, key: str) -> str:
        """``"plugins.k8s.default-cpus (prod.yaml)"`` or ``"plugins.k8s.default-cpus (Flyte's default)"``."""
        return f"{key} ({self.sources.get(key, 'built-in default')})"


def load_platform(
    files: Sequence[Union[str, object]] = (), pod_templates: Sequence[Union[str, object]] = ()
) -> Platform:
    """Load platform YAML files (merged in order) and PodTemplate manifest files into a :class:`Platform`."""
    raise NotImplementedError
