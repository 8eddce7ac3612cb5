"""flytepropeller / flyteplugins 1.16: the pod built from a task template and a node's overrides.

Specification: flyteplugins/go/tasks/pluginmachinery/flytek8s/pod_helper.go and container_helper.go at flyte
v1.16.8, with their Go unit tests; the pure helpers they share are in :mod:`.flytek8s`. Pure: protobufs and a
Platform in, JSON dicts (v1 Pod manifests) and findings out.

:class:`PodBuilder` has one method per Go function, and :meth:`PodBuilder.build` calls them in flytepropeller's
order (``ToK8sPodSpec``, then the pod plugin's ``AddObjectMetadata``):

1. :meth:`~PodBuilder.build_raw_pod` (``BuildRawPod``): a container task's one container (resources through
   ``ToK8sResourceList``: zero values dropped, ``gpu`` always as ``nvidia.com/gpu``), or a pod task's pod
   spec with its primary container named in ``config.primary_container_name``; a node's pod template
   override replaces either (:meth:`~PodBuilder.apply_pod_template_override`);
2. :meth:`~PodBuilder.apply_flyte_pod_configuration` (``ApplyFlytePodConfiguration``): per container
   :meth:`~PodBuilder.add_flyte_customizations` (the node's resource overrides merged per key into the
   primary container, the base pod template's missing keys added, then ``ApplyResourceOverrides`` against
   flyteadmin's platform resources; other containers are only clamped: the
   :class:`ResourceCustomizationMode`), default env vars; :meth:`~PodBuilder.update_pod` (``UpdatePod``:
   restart policy, resource, interruptible and default tolerations, scheduler name, node selectors, default
   affinity, pod security context, host networking, DNS config, the (non-)interruptible node selector
   requirement); the default container security context; :meth:`~PodBuilder.merge_with_base_pod_template`
   (``MergeWithBasePodTemplate``: the base PodTemplate's whole spec and metadata, with the
   ``default``/``primary`` (``-init``) container templates); the extended resources (the node's replacing
   the task's per field): :meth:`~PodBuilder.apply_gpu_node_selectors` and
   :meth:`~PodBuilder.apply_shared_memory`; :meth:`~PodBuilder.apply_container_image_override`;
3. :meth:`~PodBuilder.add_tolerations_for_extended_resources`;
4. :meth:`~PodBuilder.add_object_metadata`: the default labels and annotations on the pod.

Plugin tasks' pods (ray, pytorch, dask) are built on this pod by the plugins in :mod:`.plugins`. Not modelled:
co-pilot (raw-container data loading), the execution's own env vars (``FLYTE_INTERNAL_*``) and rendered args.
The container of a container task is named after the execution in the cluster; here it is ``primary``.
"""

from __future__ import annotations

import copy
import enum
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from flyteidl.core import tasks_pb2, workflow_pb2

from ..errors import ResourceValidationError
from ..findings import ERROR, INFO, WARNING, Finding
from ..k8s.manifest import json_quantity
from ..platform import Platform
from ..quantity import Quantity
from . import flytek8s as k8s
from .flytek8s import ResourceList

__all__ = ["BuiltPod", "PodBuilder", "ReplicaResources", "ResourceCustomizationMode"]


@dataclass
class BuiltPod:
    pod: Dict[str, Any]  #: v1 Pod manifest, JSON field names
    findings: List[Finding] = field(default_factory=list)
    role: Optional[str] = None  #: None for a plain task; "ray-head", "worker", "master"... for plugin replicas


class ResourceCustomizationMode(enum.Enum):
    """flytek8s' ``ResourceCustomizationMode``: how a container's resources are customized."""

    #: the primary container and init containers: overrides merged per key, then defaults and clamps
    MERGE_EXISTING_RESOURCES = "MergeExistingResources"
    #: the other containers: only clamped to the platform limits and to their own limits
    ENSURE_EXISTING_RESOURCES_IN_RANGE = "EnsureExistingResourcesInRange"


@dataclass(frozen=True)
class ReplicaResources:
    """A kubeflow replica's own resources, defaulted and clamped: they take the place of the node's resource
    overrides (``WithResources``)."""

    name: str  #: the replica, for the findings: ``master``, ``worker``
    requests: ResourceList
    limits: ResourceList


class PodBuilder:
    """The pod flytepropeller builds for one task (and node), with a finding for every change it makes."""

    def __init__(
        self,
        template: tasks_pb2.TaskTemplate,
        platform: Platform,
        overrides: Optional[workflow_pb2.TaskNodeOverrides] = None,
        interruptible: bool = False,
        task: Optional[str] = None,
        node: Optional[str] = None,
        replica: Optional[ReplicaResources] = None,
    ) -> None:
        self.t, self.p, self.o = template, platform, overrides or workflow_pb2.TaskNodeOverrides()
        self.interruptible, self.task, self.node = interruptible, task or template.id.name, node
        self.k8s = platform.k8s
        self.findings: List[Finding] = []
        self.replica = replica

    def note(self, level: str, code: str, message: str, **kw: Any) -> None:
        """A finding at this builder's task and node."""
        self.findings.append(Finding(level, code, message, task=self.task, node=self.node, **kw))

    def _k8s_key(self, key: str) -> str:
        return self.p.source_of(f"plugins.k8s.{key}")

    # -- ToK8sPodSpec + AddObjectMetadata ---------------------------------------------------------------
    def build(self, namespace: str) -> Dict[str, Any]:
        """The pod manifest: ``ToK8sPodSpec`` (raw pod, Flyte's configuration, extended-resource tolerations),
        then the pod plugin's object metadata."""
        spec, meta, primary = self.build_raw_pod()
        spec, meta = self.apply_flyte_pod_configuration(spec, meta, primary)
        self.add_tolerations_for_extended_resources(spec)
        return {"apiVersion": "v1", "kind": "Pod", "metadata": self.add_object_metadata(meta, namespace),
                "spec": spec}

    # -- BuildRawPod ------------------------------------------------------------------------------------
    def build_raw_pod(self) -> Tuple[Dict[str, Any], Dict[str, Any], str]:
        """``BuildRawPod``: (pod spec, object metadata, primary container name) before Flyte's configuration."""
        meta: Dict[str, Any] = {"labels": {}, "annotations": {}}
        if self.t.HasField("container"):
            spec: Dict[str, Any] = {"containers": [self.build_raw_container()]}
            primary = "primary"
        elif self.t.HasField("k8s_pod"):
            primary = self.t.config.get("primary_container_name", "")
            if not primary:
                raise ResourceValidationError(
                    "the pod task's config has no primary_container_name; flytepropeller refuses it",
                    task=self.task, field="config",
                )
            spec = k8s.decode_pod_spec(self.t.k8s_pod.pod_spec)
            meta["labels"].update(self.t.k8s_pod.metadata.labels)
            meta["annotations"].update(self.t.k8s_pod.metadata.annotations)
        else:
            raise ResourceValidationError(
                "the task has neither a container nor a pod spec; flytepropeller's pod plugins cannot run it",
                task=self.task, field="target",
            )
        if self.o.HasField("pod_template") and self.o.pod_template.HasField("pod_spec"):
            spec, primary = self.apply_pod_template_override(meta)
        return spec, meta, primary

    def build_raw_container(self) -> Dict[str, Any]:
        """``BuildRawContainer``: a container task's container, its resources through ``ToK8sResourceList``."""
        c = self.t.container
        container: Dict[str, Any] = {"name": "primary", "image": c.image}
        if c.command:
            container["command"] = list(c.command)
        if c.args:
            container["args"] = list(c.args)
        if c.env:
            container["env"] = [{"name": kv.key, "value": kv.value} for kv in c.env]
        container["resources"] = {
            "requests": k8s.to_k8s_resource_list(c.resources.requests),
            "limits": k8s.to_k8s_resource_list(c.resources.limits),
        }
        container["terminationMessagePolicy"] = "FallbackToLogsOnError"
        if self.k8s.image_pull_policy:
            container["imagePullPolicy"] = self.k8s.image_pull_policy
        return container

    def apply_pod_template_override(self, meta: Dict[str, Any]) -> Tuple[Dict[str, Any], str]:
        """``ApplyPodTemplateOverride``: the node's pod template replaces the pod spec; its labels and annotations
        are merged into ``meta``. Returns the new spec and primary container name."""
        meta["labels"].update(self.o.pod_template.metadata.labels)
        meta["annotations"].update(self.o.pod_template.metadata.annotations)
        self.note(INFO, "propeller.pod-template-override", "the node's pod template replaces the task's pod",
                  field="pod_template")
        return k8s.decode_pod_spec(self.o.pod_template.pod_spec), self.o.pod_template.primary_container_name

    # -- ApplyFlytePodConfiguration ---------------------------------------------------------------------
    def apply_flyte_pod_configuration(
        self, spec: Dict[str, Any], meta: Dict[str, Any], primary: str
    ) -> Tuple[Dict[str, Any], Dict[str, Any]]:
        """``ApplyFlytePodConfiguration``: container customizations, ``UpdatePod``, the default security context,
        the base pod template, GPU node selectors, shared memory and the node's container image."""
        for c in spec.get("initContainers") or []:
            self.add_flyte_customizations(c, ResourceCustomizationMode.MERGE_EXISTING_RESOURCES, init=True)
        primary_container = None
        for c in spec.get("containers") or []:
            is_primary = c.get("name") == primary
            mode = (ResourceCustomizationMode.MERGE_EXISTING_RESOURCES if is_primary
                    else ResourceCustomizationMode.ENSURE_EXISTING_RESOURCES_IN_RANGE)
            self.add_flyte_customizations(c, mode, init=False)
            if is_primary:
                primary_container = c
        if primary_container is None:
            raise ResourceValidationError(
                f"the primary container '{primary}' is not in the pod spec; flytepropeller refuses the task",
                task=self.task, field="primary_container_name")
        self.update_pod(spec)
        self.apply_default_security_context(primary_container)
        spec, meta = self.merge_with_base_pod_template(spec, meta, primary)
        primary_container = next(c for c in spec["containers"] if c.get("name") == primary)
        ext = self.extended_resources()
        if ext.HasField("gpu_accelerator"):
            self.apply_gpu_node_selectors(spec, ext.gpu_accelerator)
        if ext.HasField("shared_memory"):
            self.apply_shared_memory(spec, primary_container, ext.shared_memory)
        if self.o.container_image:
            self.apply_container_image_override(primary_container, self.o.container_image)
        return spec, meta

    def extended_resources(self) -> tasks_pb2.ExtendedResources:
        """``applyExtendedResourcesOverrides``: the task's extended resources, the node's replacing them per
        field."""
        ext = tasks_pb2.ExtendedResources()
        ext.CopyFrom(self.t.extended_resources)
        if self.o.extended_resources.HasField("gpu_accelerator"):
            ext.gpu_accelerator.CopyFrom(self.o.extended_resources.gpu_accelerator)
        if self.o.extended_resources.HasField("shared_memory"):
            ext.shared_memory.CopyFrom(self.o.extended_resources.shared_memory)
        return ext

    # -- AddFlyteCustomizationsToContainerWithPodTemplate -------------------------------------------------
    def add_flyte_customizations(self, container: Dict[str, Any], mode: ResourceCustomizationMode,
                                 init: bool) -> None:
        """``AddFlyteCustomizationsToContainerWithPodTemplate``: the container's resources (node overrides,
        the base pod template's, the platform's defaults and limits, by ``mode``) and the default env vars."""
        res = container.setdefault("resources", {})
        requests: ResourceList = {k: k8s.as_quantity(v) for k, v in (res.get("requests") or {}).items()}
        limits: ResourceList = {k: k8s.as_quantity(v) for k, v in (res.get("limits") or {}).items()}
        gpu = self.k8s.gpu_resource_name
        for lst in (requests, limits):  # SanitizeGPUResourceRequirements: a literal "gpu" key is renamed
            if "gpu" in lst:
                lst[gpu] = lst.pop("gpu")
        merge = mode is ResourceCustomizationMode.MERGE_EXISTING_RESOURCES
        if merge:
            self._merge_overrides(requests, limits)
        self._add_base_template_resources(container.get("name", ""), init, requests, limits)
        # what the user's values (task, node, base template) add up to, before the platform's rules
        before = ({k: str(v) for k, v in requests.items()}, {k: str(v) for k, v in limits.items()})
        k8s.apply_resource_overrides(self.p, requests, limits, assign_if_unset=merge)
        res["requests"] = {k: str(v) for k, v in requests.items()}
        res["limits"] = {k: str(v) for k, v in limits.items()}
        self._report_changes(before, res)
        if self.k8s.default_env_vars:
            env = container.setdefault("env", [])
            env.extend({"name": k, "value": v} for k, v in self.k8s.default_env_vars.items())

    def _merge_overrides(self, requests: ResourceList, limits: ResourceList) -> None:
        """The node's resource overrides (or a kubeflow replica's resources), merged per key."""
        who = f"the {self.replica.name} replica" if self.replica else "the node"
        for kind, lst in (("requests", requests), ("limits", limits)):
            if self.replica is not None:
                merged = self.replica.requests if kind == "requests" else self.replica.limits
            else:
                merged = k8s.to_k8s_resource_list(getattr(self.o.resources, kind))
            for k, v in merged.items():
                if k not in lst or lst[k] != v:
                    self.note(INFO, "propeller.node-override", f"{kind}.{k}: {who} sets '{v}'"
                              + (f" (the task had '{lst[k]}')" if k in lst else ""),
                              field=f"{kind}.{k}", before=str(lst[k]) if k in lst else None, after=str(v))
                lst[k] = v

    def _add_base_template_resources(self, name: str, init: bool, requests: ResourceList,
                                     limits: ResourceList) -> None:
        base = self.extract_container_resources_from_pod_template(name, init)
        for kind, lst in (("requests", requests), ("limits", limits)):
            for k, v in base.get(kind, {}).items():
                if k not in lst:
                    lst[k] = v
                    template = self.t.metadata.pod_template_name or self.k8s.default_pod_template_name
                    self.note(INFO, "propeller.base-template-resource",
                              f"{kind}.{k}='{v}' comes from the base pod template", field=f"{kind}.{k}",
                              after=str(v), source=self.p.source_of(f"pod_templates.{template}"))

    def extract_container_resources_from_pod_template(self, name: str, init: bool) -> Dict[str, ResourceList]:
        """``ExtractContainerResourcesFromPodTemplate``: the resources of the base template's container of this
        name, else its ``primary`` (``primary-init``), else its ``default`` (``default-init``) container."""
        _, base = self.base_pod_template()
        if not base:
            return {}
        containers = (base.get("template", {}).get("spec", {}) or {}).get(
            "initContainers" if init else "containers") or []
        for wanted in (name, "primary-init" if init else "primary", "default-init" if init else "default"):
            for c in containers:
                if c.get("name") == wanted:
                    res = c.get("resources") or {}
                    return {k: {n: json_quantity(v) for n, v in (res.get(k) or {}).items()}
                            for k in ("requests", "limits")}
        return {}

    def _report_changes(self, before: Tuple[Dict[str, str], Dict[str, str]], res: Dict[str, Any]) -> None:
        for kind, old in zip(("requests", "limits"), before):
            for k, v in res[kind].items():
                was = old.get(k)
                if was is None:
                    if v != "0":
                        self.note(INFO, "propeller.default-" + kind[:-1],
                                  f"{kind}.{k} is not set; flytepropeller sets '{v}'", field=f"{kind}.{k}",
                                  after=v, source="task_resources (platform resources)")
                elif Quantity.parse(was) != Quantity.parse(v):
                    self.note(WARNING, "propeller." + kind[:-1] + "-clamped",
                              f"{kind}.{k}='{was}' is changed to '{v}' (clamped to the platform limit or to the "
                              "container's limit)", field=f"{kind}.{k}", before=was, after=v,
                              source=self.p.source_of(f"task_resources.limits.{k8s.admin_key(k)}"))

    # -- UpdatePod --------------------------------------------------------------------------------------
    def update_pod(self, spec: Dict[str, Any]) -> None:
        """``UpdatePod``: restart policy, tolerations, scheduler name, node selectors, default affinity, pod
        security context, host networking, DNS config and ``ApplyInterruptibleNodeAffinity``."""
        spec.setdefault("restartPolicy", "Never")
        self._add_pod_tolerations(spec)
        if not spec.get("schedulerName") and self.k8s.scheduler_name:
            spec["schedulerName"] = self.k8s.scheduler_name
            self.note(INFO, "propeller.scheduler-name", f"schedulerName: '{self.k8s.scheduler_name}'",
                      field="schedulerName", after=self.k8s.scheduler_name, source=self._k8s_key("scheduler-name"))
        self._add_node_selectors(spec)
        if "affinity" not in spec and self.k8s.default_affinity is not None:
            spec["affinity"] = copy.deepcopy(self.k8s.default_affinity)
            self.note(INFO, "propeller.affinity", "affinity: the default affinity is added", field="affinity",
                      source=self._k8s_key("default-affinity"))
        if "securityContext" not in spec and self.k8s.default_pod_security_context is not None:
            spec["securityContext"] = copy.deepcopy(self.k8s.default_pod_security_context)
        if self.k8s.enable_host_networking_pod is not None:
            spec["hostNetwork"] = self.k8s.enable_host_networking_pod
        if "dnsConfig" not in spec and self.k8s.default_pod_dns_config is not None:
            spec["dnsConfig"] = copy.deepcopy(self.k8s.default_pod_dns_config)
        self.apply_interruptible_node_affinity(spec)

    def _add_pod_tolerations(self, spec: Dict[str, Any]) -> None:
        """``GetPodTolerations``: the resource tolerations of every resource a container names, the
        interruptible ones, the default ones; before the pod's own."""
        names = set()
        for c in spec.get("containers") or []:
            res = c.get("resources") or {}
            names.update(res.get("limits") or {})
            names.update(res.get("requests") or {})
        added: List[Tuple[Dict[str, Any], str]] = []
        for name in sorted(names):
            for tol in self.k8s.resource_tolerations.get(name, ()):
                added.append((tol, "resource-tolerations"))
        if self.interruptible:
            added += [(t, "interruptible-tolerations") for t in self.k8s.interruptible_tolerations]
        added += [(t, "default-tolerations") for t in self.k8s.default_tolerations]
        if added:
            spec["tolerations"] = [copy.deepcopy(t) for t, _ in added] + list(spec.get("tolerations") or [])
            for t, key in added:
                self.note(INFO, "propeller.toleration", f"tolerations: {k8s.toleration_text(t)} is added",
                          field="tolerations", after=k8s.toleration_text(t), source=self._k8s_key(key))

    def _add_node_selectors(self, spec: Dict[str, Any]) -> None:
        selector = {**self.k8s.default_node_selector, **(spec.get("nodeSelector") or {})}
        if self.interruptible:
            selector.update(self.k8s.interruptible_node_selector)
        for key, values in (("default-node-selector", self.k8s.default_node_selector),
                            ("interruptible-node-selector", self.k8s.interruptible_node_selector
                             if self.interruptible else {})):
            for k, v in values.items():
                self.note(INFO, "propeller.node-selector", f"nodeSelector: {k}={v} is added", field="nodeSelector",
                          after=f"{k}={v}", source=self._k8s_key(key))
        if selector:
            spec["nodeSelector"] = selector

    def apply_interruptible_node_affinity(self, spec: Dict[str, Any]) -> None:
        """``ApplyInterruptibleNodeAffinity``: the pod's affinity is set (``{}`` when it has none: Go keeps the
        empty struct), then the (non-)interruptible node selector requirement, when configured, is required."""
        spec.setdefault("affinity", {})
        req = (self.k8s.interruptible_node_selector_requirement if self.interruptible
               else self.k8s.non_interruptible_node_selector_requirement)
        if req is not None:
            k8s.add_required_node_selector_requirements(spec, req)
            key = "interruptible" if self.interruptible else "non-interruptible"
            self.note(INFO, "propeller.affinity", f"affinity: {k8s.requirement_text(req)} is required",
                      field="affinity", after=k8s.requirement_text(req),
                      source=self._k8s_key(f"{key}-node-selector-requirement"))

    def apply_default_security_context(self, primary: Dict[str, Any]) -> None:
        """The primary container's ``DefaultSecurityContext`` when it has none."""
        if "securityContext" not in primary and self.k8s.default_security_context is not None:
            primary["securityContext"] = copy.deepcopy(self.k8s.default_security_context)
            self.note(INFO, "propeller.security-context", "the primary container gets the default security context",
                      field="securityContext", source=self._k8s_key("default-security-context"))

    # -- MergeWithBasePodTemplate -----------------------------------------------------------------------
    def base_pod_template(self) -> Tuple[str, Optional[Dict[str, Any]]]:
        """``getBasePodTemplate``: the task's ``pod_template_name``, else ``default-pod-template-name``."""
        name = self.t.metadata.pod_template_name or self.k8s.default_pod_template_name
        return name, (self.p.pod_templates.get(name) if name else None)

    def merge_with_base_pod_template(
        self, spec: Dict[str, Any], meta: Dict[str, Any], primary: str
    ) -> Tuple[Dict[str, Any], Dict[str, Any]]:
        """``MergeWithBasePodTemplate``: the base PodTemplate's spec under the pod's, container by container."""
        name, base = self.base_pod_template()
        if base is None:
            if self.t.metadata.pod_template_name:
                self.note(WARNING, "propeller.pod-template-unknown",
                          f"pod template '{name}' was not given (--pod-template); flytepropeller fails the task "
                          "unless the cluster has it, and its fields are not in this preview",
                          field="metadata.pod_template_name", before=name)
            return spec, meta
        template = base.get("template") or {}
        merged = k8s.merge_base_pod_spec(template.get("spec") or {}, spec, primary, "")
        merged_meta = copy.deepcopy(template.get("metadata") or {})
        k8s.mergo_merge(merged_meta, meta)
        source = self.p.source_of(f"pod_templates.{name}")
        for key in sorted(set(merged) | set(spec)):
            if key in ("containers", "initContainers") or merged.get(key) == spec.get(key):
                continue
            self.note(INFO, "propeller.base-template", f"{key}: from the base pod template '{name}'",
                      field=key, after=k8s.short_json(merged.get(key)), source=source)
        for kind in ("containers", "initContainers"):
            for before, after in zip(spec.get(kind) or [], merged.get(kind) or []):
                for key in sorted(set(after) - {"resources"}):
                    if after.get(key) != before.get(key):
                        self.note(INFO, "propeller.base-template",
                                  f"{kind}[{after.get('name')}].{key}: from the base pod template '{name}'",
                                  field=f"{kind}[{after.get('name')}].{key}", after=k8s.short_json(after.get(key)),
                                  source=source)
        for k in ("labels", "annotations"):
            merged_meta.setdefault(k, {})
        return merged, merged_meta

    # -- extended resources -----------------------------------------------------------------------------
    def apply_gpu_node_selectors(self, spec: Dict[str, Any], acc: tasks_pb2.GPUAccelerator) -> None:
        """``ApplyGPUNodeSelectors``: for a pod with a GPU limit, the device and partition requirements and
        tolerations."""
        gpu = self.k8s.gpu_resource_name
        if not any(gpu in ((c.get("resources") or {}).get("limits") or {}) for c in spec.get("containers") or []):
            return
        device_label, partition_label = self.k8s.gpu_device_node_label, self.k8s.gpu_partition_size_node_label
        adds: List[Tuple[Optional[Dict[str, Any]], Optional[Dict[str, Any]], str]] = []
        if acc.device:
            adds.append(({"key": device_label, "operator": "In", "values": [acc.device]},
                         {"key": device_label, "value": acc.device, "operator": "Equal", "effect": "NoSchedule"},
                         "gpu-device-node-label"))
        which = acc.WhichOneof("partition_size_value")
        if which == "unpartitioned" and acc.unpartitioned:
            req = self.k8s.gpu_unpartitioned_node_selector_requirement or {
                "key": partition_label, "operator": "DoesNotExist"}
            adds.append((req, self.k8s.gpu_unpartitioned_toleration, "gpu-unpartitioned-node-selector-requirement"))
        elif which == "partition_size":
            adds.append(({"key": partition_label, "operator": "In", "values": [acc.partition_size]},
                         {"key": partition_label, "value": acc.partition_size, "operator": "Equal",
                          "effect": "NoSchedule"}, "gpu-partition-size-node-label"))
        for req, tol, key in adds:
            k8s.add_required_node_selector_requirements(spec, copy.deepcopy(req))
            self.note(INFO, "propeller.gpu-affinity", f"affinity: {k8s.requirement_text(req)} is required",
                      field="affinity", after=k8s.requirement_text(req), source=self._k8s_key(key))
            if tol is not None:
                spec.setdefault("tolerations", []).append(copy.deepcopy(tol))
                self.note(INFO, "propeller.gpu-toleration", f"tolerations: {k8s.toleration_text(tol)} is added",
                          field="tolerations", after=k8s.toleration_text(tol), source=self._k8s_key(key))

    def apply_shared_memory(self, spec: Dict[str, Any], primary: Dict[str, Any], shm: tasks_pb2.SharedMemory) -> None:
        """``ApplySharedMemory``: a memory-backed ``emptyDir`` mounted in the primary container, or a refusal."""
        def refuse(problem: str) -> None:
            self.note(ERROR, "propeller.shared-memory", f"shared memory: {problem}; flytepropeller fails the task",
                      field="extended_resources.shared_memory")

        name, path = shm.mount_name, shm.mount_path
        if not name or not path:
            return refuse("the mount name or path is not set")
        if any(v.get("name") == name for v in spec.get("volumes") or []):
            return refuse(f"a volume is already named {name} in the pod spec")
        for m in primary.get("volumeMounts") or []:
            if m.get("name") == name:
                return refuse(f"a volume is already named {name} in the container")
            if m.get("mountPath") == path:
                return refuse(f"{path} is already mounted in the container")
        try:
            size = str(Quantity.parse(shm.size_limit)) if shm.size_limit else "0"
        except ResourceValidationError as e:
            return refuse(f"unable to parse size limit: {shm.size_limit} ({e.problem})")
        spec.setdefault("volumes", []).append({"name": name, "emptyDir": {"medium": "Memory", "sizeLimit": size}})
        primary.setdefault("volumeMounts", []).append({"name": name, "mountPath": path})
        self.note(INFO, "propeller.shared-memory", f"volumes: a memory-backed {path} ({name}, sizeLimit {size}) "
                  "is added", field="volumes", after=size)

    def apply_container_image_override(self, primary: Dict[str, Any], image: str) -> None:
        """``ApplyContainerImageOverride``: the node's image on the primary container."""
        primary["image"] = image

    def add_tolerations_for_extended_resources(self, spec: Dict[str, Any], role: Optional[str] = None) -> None:
        """``AddTolerationsForExtendedResources``, with a finding for each toleration added."""
        for tol in k8s.add_tolerations_for_extended_resources(self.p, spec):
            self.note(INFO, "propeller.extended-resource-toleration", f"tolerations: {k8s.toleration_text(tol)} is "
                      "added", field="tolerations", after=k8s.toleration_text(tol), role=role,
                      source=self._k8s_key("add-tolerations-for-extended-resources"))

    # -- AddObjectMetadata ------------------------------------------------------------------------------
    def add_object_metadata(self, meta: Dict[str, Any], namespace: str) -> Dict[str, Any]:
        """The pod's metadata: its namespace, the default labels and annotations under its own."""
        labels = {**self.k8s.default_labels, **meta["labels"]}
        annotations = {**self.k8s.default_annotations, **meta["annotations"]}
        for key, added in (("default-labels", self.k8s.default_labels), ("default-annotations",
                                                                           self.k8s.default_annotations)):
            for k, v in added.items():
                self.note(INFO, "propeller." + key, f"metadata: {key[8:-1]} {k}={v} is added", field="metadata",
                          after=f"{k}={v}", source=self._k8s_key(key))
        metadata: Dict[str, Any] = {"namespace": namespace}
        if labels:
            metadata["labels"] = labels
        if annotations:
            metadata["annotations"] = annotations
        return metadata
