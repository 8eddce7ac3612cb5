"""flytepropeller / flyteplugins 1.16: the pod built from a task template and a node's overrides.

Specification: flyteplugins/go/tasks/pluginmachinery/flytek8s/ (container_helper.go, pod_helper.go,
k8s_resource_adds.go, utils.go) at flyte v1.16.8, with their Go unit tests. Pure: protobufs and a
Platform in, JSON dicts (v1 Pod manifests) and findings out. The steps, in flytepropeller's order:

1. the raw pod (``BuildRawPod``): a container task's one container (resources through
   ``ToK8sResourceList``: zero values dropped, ``gpu`` always as ``nvidia.com/gpu``), or a pod task's pod
   spec with its primary container named in ``config.primary_container_name``; a node's pod template
   override replaces either;
2. per container (``AddFlyteCustomizationsToContainerWithPodTemplate``): the node's resource overrides
   merged per key into the primary container, the base pod template's missing keys added, then
   ``ApplyResourceOverrides`` against flyteadmin's platform resources (defaults for an unset request,
   the limit from the request and the request from the limit, clamped to the platform limits, the
   request to the limit); other containers are only clamped (``EnsureExistingResourcesInRange``);
   default env vars;
3. ``UpdatePod``: restart policy, resource, interruptible and default tolerations, scheduler name,
   default and interruptible node selectors, default affinity, pod security context, host networking,
   DNS config, the (non-)interruptible node selector requirement; the default container security context;
4. the extended resources (the node's replacing the task's per field): ``ApplyGPUNodeSelectors``
   (device and partition labels and tolerations, the unpartitioned requirement) and
   ``ApplySharedMemory``; the node's container image;
5. ``AddTolerationsForExtendedResources``; the default labels and annotations on the pod.

6. the base PodTemplate (``MergeWithBasePodTemplate``) is merged in after ``UpdatePod`` and before the GPU node
   selectors: its whole spec and metadata, with the ``default``/``primary`` (``-init``) container templates.

Plugin tasks' replica pods (ray, pytorch, dask) are built on this pod in ``replicas``. Not modelled: co-pilot
(raw-container data loading), the execution's own env vars (``FLYTE_INTERNAL_*``) and rendered args. The
container of a container task is named after the execution in the cluster; here it is ``primary``.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from flyteidl.core import tasks_pb2, workflow_pb2

from ..findings import ERROR, INFO, WARNING, Finding
from ..platform import Platform
from ..quantity import Quantity, ResourceValidationError
from .admin import _pod_quantity, _struct_to_json, adjust_or_default_resource, platform_resources

__all__ = ["BuiltPod", "build_pods"]


@dataclass
class BuiltPod:
    pod: Dict[str, Any]  #: v1 Pod manifest, JSON field names
    findings: List[Finding] = field(default_factory=list)
    role: Optional[str] = None  #: None for a plain task; "ray-head", "worker", "master"... for plugin replicas


def build_pods(
    template: tasks_pb2.TaskTemplate,
    platform: Platform,
    *,
    overrides: Optional[workflow_pb2.TaskNodeOverrides] = None,
    interruptible: bool = False,
    task: Optional[str] = None,
    node: Optional[str] = None,
    namespace: str = "flytesnacks-development",
) -> List[BuiltPod]:
    """The pods flytepropeller creates for this task (after flyteadmin's defaults), with findings."""
    from .replicas import replica_pods  # the plugin task types (ray, pytorch, dask) build on the plain pod

    b = _Builder(template, platform, overrides, interruptible, task or template.id.name, node)
    pod = b.build(namespace)
    replicas = replica_pods(template, platform, pod, b.findings, overrides=overrides, interruptible=interruptible,
                            task=task or template.id.name, node=node, namespace=namespace)
    return replicas if replicas is not None else [BuiltPod(pod, b.findings)]


_RESOURCE_NAMES = {
    tasks_pb2.Resources.CPU: "cpu",
    tasks_pb2.Resources.MEMORY: "memory",
    tasks_pb2.Resources.GPU: "nvidia.com/gpu",  # ToK8sResourceList: always NVIDIA's name
    tasks_pb2.Resources.EPHEMERAL_STORAGE: "ephemeral-storage",
}
_ZERO = Quantity.parse("0")
ResourceList = Dict[str, Quantity]


def to_k8s_resource_list(entries: Any) -> ResourceList:
    """``ToK8sResourceList``: cpu, memory, gpu (as ``nvidia.com/gpu``) and ephemeral storage; zero values and
    other names (``storage``) dropped; a later duplicate entry wins."""
    out: ResourceList = {}
    for e in entries:
        name = _RESOURCE_NAMES.get(e.name)
        q = Quantity.parse(e.value)
        if name is not None and q.sign() != 0:
            out[name] = q
    return out


class _Builder:
    def __init__(self, template, platform, overrides, interruptible, task, node,
                 replica: Optional[Tuple[str, ResourceList, ResourceList]] = None) -> None:
        self.t, self.p, self.o = template, platform, overrides or workflow_pb2.TaskNodeOverrides()
        self.interruptible, self.task, self.node = interruptible, task, node
        self.k8s = platform.k8s
        self.findings: List[Finding] = []
        # a kubeflow replica's own resources take the place of the node's resource overrides (WithResources)
        self.replica = replica

    def _find(self, level: str, code: str, message: str, **kw: Any) -> None:
        where = f"task '{self.task}'" + (f", node '{self.node}'" if self.node else "")
        self.findings.append(Finding(level, code, f"{where}: {message}", task=self.task, node=self.node, **kw))

    def _k8s_key(self, key: str) -> str:
        return self.p.source_of(f"plugins.k8s.{key}")

    # -- 1. the raw pod -------------------------------------------------------------------------------
    def _raw_pod(self) -> Tuple[Dict[str, Any], Dict[str, Any], str]:
        meta: Dict[str, Any] = {"labels": {}, "annotations": {}}
        if self.t.HasField("container"):
            c = self.t.container
            container: Dict[str, Any] = {"name": "primary", "image": c.image}
            if c.command:
                container["command"] = list(c.command)
            if c.args:
                container["args"] = list(c.args)
            if c.env:
                container["env"] = [{"name": kv.key, "value": kv.value} for kv in c.env]
            container["resources"] = {
                "requests": to_k8s_resource_list(c.resources.requests),
                "limits": to_k8s_resource_list(c.resources.limits),
            }
            container["terminationMessagePolicy"] = "FallbackToLogsOnError"
            if self.k8s.image_pull_policy:
                container["imagePullPolicy"] = self.k8s.image_pull_policy
            spec: Dict[str, Any] = {"containers": [container]}
            primary = "primary"
        elif self.t.HasField("k8s_pod"):
            primary = self.t.config.get("primary_container_name", "")
            if not primary:
                raise ResourceValidationError(
                    "the pod task's config has no primary_container_name; flytepropeller refuses it",
                    task=self.task, field="config",
                )
            spec = _decode_pod_spec(self.t.k8s_pod.pod_spec)
            meta["labels"].update(self.t.k8s_pod.metadata.labels)
            meta["annotations"].update(self.t.k8s_pod.metadata.annotations)
        else:
            raise ResourceValidationError(
                "the task has neither a container nor a pod spec; flytepropeller's pod plugins cannot run it",
                task=self.task, field="target",
            )
        if self.o.HasField("pod_template") and self.o.pod_template.HasField("pod_spec"):
            meta["labels"].update(self.o.pod_template.metadata.labels)
            meta["annotations"].update(self.o.pod_template.metadata.annotations)
            spec = _decode_pod_spec(self.o.pod_template.pod_spec)
            primary = self.o.pod_template.primary_container_name
            self._find(INFO, "propeller.pod-template-override", "the node's pod template replaces the task's pod",
                       field="pod_template")
        return spec, meta, primary

    # -- 2. resources ----------------------------------------------------------------------------------
    def _base_template_resources(self, name: str, init: bool) -> Dict[str, ResourceList]:
        _, base = self._base_template()
        if not base:
            return {}
        containers = (base.get("template", {}).get("spec", {}) or {}).get(
            "initContainers" if init else "containers") or []
        for wanted in (name, "primary-init" if init else "primary", "default-init" if init else "default"):
            for c in containers:
                if c.get("name") == wanted:
                    res = c.get("resources") or {}
                    return {k: {n: _pod_quantity(v) for n, v in (res.get(k) or {}).items()}
                            for k in ("requests", "limits")}
        return {}

    def _customize(self, container: Dict[str, Any], mode: str, init: bool) -> None:
        res = container.setdefault("resources", {})
        requests: ResourceList = {k: _as_q(v) for k, v in (res.get("requests") or {}).items()}
        limits: ResourceList = {k: _as_q(v) for k, v in (res.get("limits") or {}).items()}
        gpu = self.k8s.gpu_resource_name
        for lst in (requests, limits):  # SanitizeGPUResourceRequirements: a literal "gpu" key is renamed
            if "gpu" in lst:
                lst[gpu] = lst.pop("gpu")
        if mode == "merge":
            who = f"the {self.replica[0]} replica" if self.replica else "the node"
            for kind, lst in (("requests", requests), ("limits", limits)):
                if self.replica is not None:
                    merged = self.replica[1] if kind == "requests" else self.replica[2]
                else:
                    merged = to_k8s_resource_list(getattr(self.o.resources, kind))
                for k, v in merged.items():
                    if k not in lst or lst[k] != v:
                        self._find(INFO, "propeller.node-override", f"{kind}.{k}: {who} sets '{v}'"
                                   + (f" (the task had '{lst[k]}')" if k in lst else ""),
                                   field=f"{kind}.{k}", before=str(lst[k]) if k in lst else None, after=str(v))
                    lst[k] = v
        base = self._base_template_resources(container.get("name", ""), init)
        for kind, lst in (("requests", requests), ("limits", limits)):
            for k, v in base.get(kind, {}).items():
                if k not in lst:
                    lst[k] = v
                    name = self.t.metadata.pod_template_name or self.k8s.default_pod_template_name
                    self._find(INFO, "propeller.base-template-resource",
                               f"{kind}.{k}='{v}' comes from the base pod template", field=f"{kind}.{k}",
                               after=str(v), source=self.p.source_of(f"pod_templates.{name}"))
        # what the user's values (task, node, base template) add up to, before the platform's rules
        before = ({k: str(v) for k, v in requests.items()}, {k: str(v) for k, v in limits.items()})
        self._apply_resource_overrides(requests, limits, assign_if_unset=mode == "merge")
        res["requests"] = {k: str(v) for k, v in requests.items()}
        res["limits"] = {k: str(v) for k, v in limits.items()}
        self._report_changes(container.get("name", ""), before, res)
        if self.k8s.default_env_vars:
            env = container.setdefault("env", [])
            env.extend({"name": k, "value": v} for k, v in self.k8s.default_env_vars.items())

    def _apply_resource_overrides(self, requests: ResourceList, limits: ResourceList, assign_if_unset: bool) -> None:
        apply_resource_overrides(self.p, requests, limits, assign_if_unset)


    def _report_changes(self, cname: str, before: Tuple[Dict[str, str], Dict[str, str]], res: Dict[str, Any]) -> None:
        for kind, old in zip(("requests", "limits"), before):
            for k, v in res[kind].items():
                was = old.get(k)
                if was is None:
                    if v != "0":
                        self._find(INFO, "propeller.default-" + kind[:-1],
                                   f"{kind}.{k} is not set; flytepropeller sets '{v}'", field=f"{kind}.{k}",
                                   after=v, source="task_resources (platform resources)")
                elif Quantity.parse(was) != Quantity.parse(v):
                    self._find(WARNING, "propeller." + kind[:-1] + "-clamped",
                               f"{kind}.{k}='{was}' is changed to '{v}' (clamped to the platform limit or to the "
                               "container's limit)", field=f"{kind}.{k}", before=was, after=v,
                               source=self.p.source_of(f"task_resources.limits.{_admin_key(k)}"))

    # -- 3.-5. -----------------------------------------------------------------------------------------
    def build(self, namespace: str) -> Dict[str, Any]:
        spec, meta, primary = self._raw_pod()
        for c in spec.get("initContainers") or []:
            self._customize(c, "merge", init=True)
        primary_container = None
        for c in spec.get("containers") or []:
            is_primary = c.get("name") == primary
            self._customize(c, "merge" if is_primary else "range", init=False)
            if is_primary:
                primary_container = c
        if primary_container is None:
            raise ResourceValidationError(
                f"the primary container '{primary}' is not in the pod spec; flytepropeller refuses the task",
                task=self.task, field="primary_container_name")
        self._update_pod(spec)
        if "securityContext" not in primary_container and self.k8s.default_security_context is not None:
            primary_container["securityContext"] = copy.deepcopy(self.k8s.default_security_context)
            self._find(INFO, "propeller.security-context", "the primary container gets the default security context",
                       field="securityContext", source=self._k8s_key("default-security-context"))
        spec, meta = self._merge_base_template(spec, meta, primary)
        primary_container = next(c for c in spec["containers"] if c.get("name") == primary)
        ext = tasks_pb2.ExtendedResources()
        ext.CopyFrom(self.t.extended_resources)
        if self.o.extended_resources.HasField("gpu_accelerator"):
            ext.gpu_accelerator.CopyFrom(self.o.extended_resources.gpu_accelerator)
        if self.o.extended_resources.HasField("shared_memory"):
            ext.shared_memory.CopyFrom(self.o.extended_resources.shared_memory)
        if ext.HasField("gpu_accelerator"):
            self._gpu_node_selectors(spec, ext.gpu_accelerator)
        if ext.HasField("shared_memory"):
            self._shared_memory(spec, primary_container, ext.shared_memory)
        if self.o.container_image:
            primary_container["image"] = self.o.container_image
        self._extended_resource_tolerations(spec)
        labels = {**self.k8s.default_labels, **meta["labels"]}
        annotations = {**self.k8s.default_annotations, **meta["annotations"]}
        for key, added in (("default-labels", self.k8s.default_labels), ("default-annotations",
                                                                           self.k8s.default_annotations)):
            for k, v in added.items():
                self._find(INFO, "propeller." + key, f"metadata: {key[8:-1]} {k}={v} is added", field="metadata",
                           after=f"{k}={v}", source=self._k8s_key(key))
        metadata: Dict[str, Any] = {"namespace": namespace}
        if labels:
            metadata["labels"] = labels
        if annotations:
            metadata["annotations"] = annotations
        return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec}

    def _base_template(self) -> Tuple[str, Optional[Dict[str, Any]]]:
        """``getBasePodTemplate``: the task's ``pod_template_name``, else ``default-pod-template-name``."""
        name = self.t.metadata.pod_template_name or self.k8s.default_pod_template_name
        return name, (self.p.pod_templates.get(name) if name else None)

    def _merge_base_template(
        self, spec: Dict[str, Any], meta: Dict[str, Any], primary: str
    ) -> Tuple[Dict[str, Any], Dict[str, Any]]:
        """``MergeWithBasePodTemplate``: the base PodTemplate's spec under the pod's, container by container."""
        name, base = self._base_template()
        if base is None:
            if self.t.metadata.pod_template_name:
                self._find(WARNING, "propeller.pod-template-unknown",
                           f"pod template '{name}' was not given (--pod-template); flytepropeller fails the task "
                           "unless the cluster has it, and its fields are not in this preview",
                           field="metadata.pod_template_name", before=name)
            return spec, meta
        template = base.get("template") or {}
        merged = merge_base_pod_spec(template.get("spec") or {}, spec, primary, "")
        merged_meta = copy.deepcopy(template.get("metadata") or {})
        mergo_merge(merged_meta, meta)
        source = self.p.source_of(f"pod_templates.{name}")
        for key in sorted(set(merged) | set(spec)):
            if key in ("containers", "initContainers") or merged.get(key) == spec.get(key):
                continue
            self._find(INFO, "propeller.base-template", f"{key}: from the base pod template '{name}'",
                       field=key, after=_short(merged.get(key)), source=source)
        for kind in ("containers", "initContainers"):
            for before, after in zip(spec.get(kind) or [], merged.get(kind) or []):
                for key in sorted(set(after) - {"resources"}):
                    if after.get(key) != before.get(key):
                        self._find(INFO, "propeller.base-template",
                                   f"{kind}[{after.get('name')}].{key}: from the base pod template '{name}'",
                                   field=f"{kind}[{after.get('name')}].{key}", after=_short(after.get(key)),
                                   source=source)
        for k in ("labels", "annotations"):
            merged_meta.setdefault(k, {})
        return merged, merged_meta

    def _update_pod(self, spec: Dict[str, Any]) -> None:
        spec.setdefault("restartPolicy", "Never")
        names = set()
        for c in spec.get("containers") or []:
            res = c.get("resources") or {}
            names.update(res.get("limits") or {})
            names.update(res.get("requests") or {})
        added: List[Tuple[Dict[str, Any], str]] = []
        for name in sorted(names):
            for tol in self.k8s.resource_tolerations.get(name, ()):
                added.append((tol, f"resource-tolerations ({name})"))
        if self.interruptible:
            added += [(t, "interruptible-tolerations") for t in self.k8s.interruptible_tolerations]
        added += [(t, "default-tolerations") for t in self.k8s.default_tolerations]
        if added:
            spec["tolerations"] = [copy.deepcopy(t) for t, _ in added] + list(spec.get("tolerations") or [])
            for t, key in added:
                self._find(INFO, "propeller.toleration", f"tolerations: {_tol(t)} is added", field="tolerations",
                           after=_tol(t), source=self._k8s_key(key.split(" ")[0]))
        if not spec.get("schedulerName") and self.k8s.scheduler_name:
            spec["schedulerName"] = self.k8s.scheduler_name
            self._find(INFO, "propeller.scheduler-name", f"schedulerName: '{self.k8s.scheduler_name}'",
                       field="schedulerName", after=self.k8s.scheduler_name, source=self._k8s_key("scheduler-name"))
        selector = {**self.k8s.default_node_selector, **(spec.get("nodeSelector") or {})}
        if self.interruptible:
            selector.update(self.k8s.interruptible_node_selector)
        for key, values in (("default-node-selector", self.k8s.default_node_selector),
                            ("interruptible-node-selector", self.k8s.interruptible_node_selector
                             if self.interruptible else {})):
            for k, v in values.items():
                self._find(INFO, "propeller.node-selector", f"nodeSelector: {k}={v} is added", field="nodeSelector",
                           after=f"{k}={v}", source=self._k8s_key(key))
        if selector:
            spec["nodeSelector"] = selector
        if "affinity" not in spec and self.k8s.default_affinity is not None:
            spec["affinity"] = copy.deepcopy(self.k8s.default_affinity)
            self._find(INFO, "propeller.affinity", "affinity: the default affinity is added", field="affinity",
                       source=self._k8s_key("default-affinity"))
        if "securityContext" not in spec and self.k8s.default_pod_security_context is not None:
            spec["securityContext"] = copy.deepcopy(self.k8s.default_pod_security_context)
        if self.k8s.enable_host_networking_pod is not None:
            spec["hostNetwork"] = self.k8s.enable_host_networking_pod
        if "dnsConfig" not in spec and self.k8s.default_pod_dns_config is not None:
            spec["dnsConfig"] = copy.deepcopy(self.k8s.default_pod_dns_config)
        req = (self.k8s.interruptible_node_selector_requirement if self.interruptible
               else self.k8s.non_interruptible_node_selector_requirement)
        if req is not None:
            _add_required(spec, req)
            key = "interruptible" if self.interruptible else "non-interruptible"
            self._find(INFO, "propeller.affinity", f"affinity: {_req(req)} is required",
                       field="affinity", after=_req(req), source=self._k8s_key(f"{key}-node-selector-requirement"))

    def _gpu_node_selectors(self, spec: Dict[str, Any], acc: tasks_pb2.GPUAccelerator) -> None:
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
            _add_required(spec, copy.deepcopy(req))
            self._find(INFO, "propeller.gpu-affinity", f"affinity: {_req(req)} is required", field="affinity",
                       after=_req(req), source=self._k8s_key(key))
            if tol is not None:
                spec.setdefault("tolerations", []).append(copy.deepcopy(tol))
                self._find(INFO, "propeller.gpu-toleration", f"tolerations: {_tol(tol)} is added",
                           field="tolerations", after=_tol(tol), source=self._k8s_key(key))

    def _shared_memory(self, spec: Dict[str, Any], primary: Dict[str, Any], shm: tasks_pb2.SharedMemory) -> None:
        def refuse(problem: str) -> None:
            self._find(ERROR, "propeller.shared-memory", f"shared memory: {problem}; flytepropeller fails the task",
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
        self._find(INFO, "propeller.shared-memory", f"volumes: a memory-backed {path} ({name}, sizeLimit {size}) "
                   "is added", field="volumes", after=size)

    def _extended_resource_tolerations(self, spec: Dict[str, Any]) -> None:
        for tol in _extended_resource_tolerations(self.p, spec):
            self._find(INFO, "propeller.extended-resource-toleration", f"tolerations: {_tol(tol)} is added",
                       field="tolerations", after=_tol(tol),
                       source=self._k8s_key("add-tolerations-for-extended-resources"))


def _extended_resource_tolerations(platform: Platform, spec: Dict[str, Any]) -> List[Dict[str, Any]]:
    """``AddTolerationsForExtendedResources``: an ``Exists``/``NoSchedule`` toleration for each configured
    extended resource a container requests, unless an equal one is there; returns those added."""
    wanted = set()
    for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        requests = (c.get("resources") or {}).get("requests") or {}
        wanted.update(r for r in platform.k8s.add_tolerations_for_extended_resources if r in requests)
    added = []
    for r in sorted(wanted):
        tol = {"key": r, "operator": "Exists", "effect": "NoSchedule"}
        existing = spec.get("tolerations") or []
        if any(_matches(tol, t) for t in existing):
            continue
        spec["tolerations"] = existing + [tol]
        added.append(tol)
    return added


# mergo (v0.3.13, WithOverride + WithAppendSlice) on JSON: a Go zero value in the source never overrides.
# JSON cannot tell a pointer from a value; these fields are pointers in the v1 API, so their 0/false do override.
_POINTER_FIELDS = frozenset({
    "activeDeadlineSeconds", "allowPrivilegeEscalation", "automountServiceAccountToken", "defaultMode",
    "enableServiceLinks", "fsGroup", "hostUsers", "priority", "privileged", "readOnlyRootFilesystem",
    "runAsGroup", "runAsNonRoot", "runAsUser", "setHostnameAsFQDN", "shareProcessNamespace",
    "terminationGracePeriodSeconds", "tolerationSeconds",
})


def _go_empty(key: str, value: Any) -> bool:
    if value is None:
        return True
    if key in _POINTER_FIELDS:
        return False
    return value in ("", 0, False) and not isinstance(value, (dict, list)) or value == [] or value == {}


def mergo_merge(dst: Dict[str, Any], src: Dict[str, Any]) -> Dict[str, Any]:
    """``mergo.Merge(dst, src, WithOverride, WithAppendSlice)`` on JSON objects, in place: objects merge key by
    key, lists are appended (``dst`` then ``src``), and any other non-empty ``src`` value replaces ``dst``'s."""
    for key, value in src.items():
        if _go_empty(key, value):
            continue
        have = dst.get(key)
        if isinstance(value, dict) and isinstance(have, dict):
            mergo_merge(have, value)
        elif isinstance(value, list) and isinstance(have, list):
            dst[key] = have + copy.deepcopy(value)
        else:
            dst[key] = copy.deepcopy(value)
    return dst


def merge_base_pod_spec(
    template: Dict[str, Any], pod: Dict[str, Any], primary: str, primary_init: str
) -> Dict[str, Any]:
    """``MergeBasePodSpecOntoTemplate``: the pod spec merged onto the base template's; each of the pod's containers
    starts from the template's ``default`` container, then ``primary`` (for the primary container) or the one
    of its own name (for the others), and the pod's own container is merged last. The same for init containers
    with ``default-init`` and ``primary-init``. Template containers that match none of the pod's are dropped."""
    merged = mergo_merge(copy.deepcopy(template), pod)
    for kind, default_name, primary_name, wanted in (
        ("containers", "default", "primary", primary),
        ("initContainers", "default-init", "primary-init", primary_init),
    ):
        templates = template.get(kind) or []
        default = next((c for c in templates if c.get("name") == default_name), None)
        prim = next((c for c in templates if c.get("name") == primary_name), None)
        out = []
        for container in pod.get(kind) or []:
            cname = container.get("name")
            result: Optional[Dict[str, Any]] = copy.deepcopy(default) if default is not None else None
            if cname == wanted and prim is not None:
                result = mergo_merge(result, prim) if result is not None else copy.deepcopy(prim)
            if cname != wanted and cname != default_name:
                for t in templates:
                    if t.get("name") == cname:
                        result = mergo_merge(result, t) if result is not None else copy.deepcopy(t)
            out.append(mergo_merge(result, container) if result is not None else copy.deepcopy(container))
        if out:
            merged[kind] = out
        else:
            merged.pop(kind, None)
    return merged


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, separators=(",", ":"))
    return text if len(text) <= 80 else text[:77] + "..."


def apply_resource_overrides(platform: Platform, requests: ResourceList, limits: ResourceList,
                             assign_if_unset: bool) -> None:
    """``ApplyResourceOverrides`` against flyteadmin's platform resources, in place."""
    p_req, p_lim = platform_resources(platform)
    names = ["cpu", "memory"]
    if "ephemeral-storage" in requests or "ephemeral-storage" in limits:
        names.append("ephemeral-storage")
    gpu = platform.k8s.gpu_resource_name
    if gpu in requests or gpu in limits:
        names.append(gpu)
    for name in names:
        if assign_if_unset:
            r = adjust_or_default_resource(requests.get(name), limits.get(name), p_req.get(name), p_lim.get(name))
            requests[name], limits[name] = r.request, r.limit
        else:  # ensureResourceRange: clamp only, no defaults
            request, limit = requests.get(name, _ZERO), limits.get(name, _ZERO)
            request, limit = _ensure_limit(request, p_lim.get(name)), _ensure_limit(limit, p_lim.get(name))
            requests[name], limits[name] = _ensure_limit(request, limit), limit
        # as in Go, the keys are now set even when zero, and print as "0"


def _is_zero(q: Optional[Quantity]) -> bool:
    return q is None or q.sign() == 0


def _ensure_limit(value: Quantity, limit: Optional[Quantity]) -> Quantity:
    """``ensureResourceLimit``: lowered to the limit unless either is zero."""
    return limit if not _is_zero(value) and not _is_zero(limit) and value > limit else value


def _as_q(v: Any) -> Quantity:
    return v if isinstance(v, Quantity) else _pod_quantity(v)


def _admin_key(resource: str) -> str:
    return {"memory": "memory", "cpu": "cpu", "ephemeral-storage": "ephemeralStorage"}.get(resource, "gpu")


def _decode_pod_spec(struct: Any) -> Dict[str, Any]:
    spec = _struct_to_json(struct)
    return spec if isinstance(spec, dict) else {}


def _add_required(spec: Dict[str, Any], req: Dict[str, Any]) -> None:
    """``AddRequiredNodeSelectorRequirements``: ANDed into every existing term, or a first term."""
    affinity = spec.setdefault("affinity", {})
    required = affinity.setdefault("nodeAffinity", {}).setdefault("requiredDuringSchedulingIgnoredDuringExecution", {})
    terms = required.setdefault("nodeSelectorTerms", [])
    if terms:
        for term in terms:
            term.setdefault("matchExpressions", []).append(copy.deepcopy(req))
    else:
        terms.append({"matchExpressions": [req]})


def _matches(a: Dict[str, Any], b: Dict[str, Any]) -> bool:
    """``Toleration.MatchToleration``: same key, operator, value and effect."""
    return all(a.get(k, "") == b.get(k, "") for k in ("key", "operator", "value", "effect"))


def _tol(t: Dict[str, Any]) -> str:
    value = f"={t['value']}" if t.get("value") else ""
    return f"{t.get('key', '*')}{value}:{t.get('effect', '*')} ({t.get('operator', 'Equal')})"


def _req(r: Dict[str, Any]) -> str:
    return f"{r.get('key')} {r.get('operator')} {','.join(r.get('values') or [])}".rstrip()
