"""The pods of plugin tasks that flyteplugins 1.16 builds from the same helpers as a plain task's pod.

Specification: flyteplugins/go/tasks/plugins/k8s/ at flyte v1.16.8 with their Go tests:

- ``ray`` (ray/ray.go): the task's pod (``ToK8sPodSpec``) three ways: the submitter (unchanged), the head
  (primary container renamed ``ray-head``, its args dropped, ``MY_POD_IP`` and the Ray ports added) and one
  pod per worker group (``ray-worker``, the worker env vars and a ``ray stop`` preStop hook). A head or
  worker group's own pod spec (``k8s_pod``, which flytekit fills from ``HeadNodeConfig(requests=...)``) is
  merged over it container by container (``MergeOverlayPodSpecOntoBase``) *after* the platform's defaults and
  clamps, so its resources are not clamped: the preview says so. Then ``AddTolerationsForExtendedResources``.
- ``pytorch`` (kfoperators/pytorch, common_operator.go): version 0, the task's pod for the master and the
  workers; version 1, per replica (``ToReplicaSpecWithOverrides``), the replica's resources, defaulted and
  clamped (``ApplyK8sResourceOverrides``), take the place of the node's resource overrides, the pod is built
  again with them, the primary container is renamed ``pytorch`` and the replica's image set. An elastic
  task has no master; workers are left out when there are none.
- ``dask`` (dask/dask.go): the worker (``dask-worker``; the group's resources, defaulted and clamped, replace
  the container's whole block; ``--nthreads``/``--memory-limit`` from its limits; ``restartPolicy: Always``),
  the scheduler (``scheduler``, built as non-interruptible) and the job runner (``job-runner``, also
  non-interruptible).

Other plugin task types (mpi, tensorflow, spark, ...) are previewed as their plain task pod.
"""

from __future__ import annotations

import copy
from typing import Any, Dict, List, Optional, Tuple

from flyteidl.core import tasks_pb2, workflow_pb2
from google.protobuf import json_format

from ..findings import INFO, WARNING, Finding
from ..platform import Platform
from ..quantity import Quantity, ResourceValidationError
from .admin import _struct_to_json
from .propeller import (
    BuiltPod,
    _Builder,
    _extended_resource_tolerations,
    _matches,
    _tol,
    apply_resource_overrides,
    mergo_merge,
    to_k8s_resource_list,
)

__all__ = ["replica_pods"]

_RAY_PORTS = [{"name": "redis", "containerPort": 6379}, {"name": "head", "containerPort": 10001},
              {"name": "dashboard", "containerPort": 8265}]


def replica_pods(
    template: tasks_pb2.TaskTemplate,
    platform: Platform,
    pod: Dict[str, Any],
    findings: List[Finding],
    *,
    overrides: Optional[workflow_pb2.TaskNodeOverrides],
    interruptible: bool,
    task: str,
    node: Optional[str],
    namespace: str,
) -> Optional[List[BuiltPod]]:
    """The replica pods of a ray, pytorch or dask task, or None for any other task type."""
    kind = template.type
    if kind not in ("ray", "pytorch", "dask") or not template.HasField("custom"):
        return None
    ctx = _Ctx(template, platform, pod, findings, overrides, interruptible, task, node, namespace)
    custom = _struct_to_json(template.custom)
    try:
        if kind == "ray":
            return ctx.ray(custom)
        if kind == "pytorch":
            return ctx.pytorch(custom)
        return ctx.dask(custom)
    except json_format.ParseError as e:
        raise ResourceValidationError(
            f"the task's {kind} configuration (custom) cannot be read as flyteidl's: {e}",
            task=task, field="custom") from None


class _Ctx:
    def __init__(self, template, platform, pod, findings, overrides, interruptible, task, node, namespace) -> None:
        self.t, self.p, self.pod, self.findings = template, platform, pod, findings
        self.o, self.interruptible, self.task, self.node, self.ns = overrides, interruptible, task, node, namespace

    def _primary_index(self, pod: Dict[str, Any]) -> int:
        # the plain pod's primary container: a container task's one, or the pod task's named one
        primary = self.t.config.get("primary_container_name", "primary") if self.t.HasField("k8s_pod") else "primary"
        if self.o is not None and self.o.HasField("pod_template") and self.o.pod_template.primary_container_name:
            primary = self.o.pod_template.primary_container_name
        for i, c in enumerate(pod["spec"].get("containers") or []):
            if c.get("name") == primary:
                return i
        return 0

    def _note(self, findings: List[Finding], level: str, code: str, role: str, message: str, **kw: Any) -> None:
        where = f"task '{self.task}'" + (f", node '{self.node}'" if self.node else "") + f" ({role})"
        findings.append(Finding(level, code, f"{where}: {message}", task=self.task, node=self.node, **kw))

    def _renamed(self, pod: Dict[str, Any], name: str) -> Tuple[Dict[str, Any], Dict[str, Any]]:
        pod = copy.deepcopy(pod)
        container = pod["spec"]["containers"][self._primary_index(pod)]
        container["name"] = name
        return pod, container

    # -- ray ------------------------------------------------------------------------------------------
    def ray(self, custom: Dict[str, Any]) -> List[BuiltPod]:
        from flyteidl.plugins import ray_pb2

        job = json_format.ParseDict(custom, ray_pb2.RayJob(), ignore_unknown_fields=True)
        out = [BuiltPod(copy.deepcopy(self.pod), list(self.findings), "ray-submitter")]
        head, container = self._renamed(self.pod, "ray-head")
        container["args"] = []
        container.setdefault("env", []).append(
            {"name": "MY_POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}})
        container["ports"] = (container.get("ports") or []) + copy.deepcopy(_RAY_PORTS)
        spec = job.ray_cluster.head_group_spec
        out.append(self._ray_pod(head, spec.k8s_pod if spec.HasField("k8s_pod") else None, "ray-head"))
        for group in job.ray_cluster.worker_group_spec:
            worker, container = self._renamed(self.pod, "ray-worker")
            container["args"] = []
            container.setdefault("env", []).extend(_ray_worker_env())
            container["lifecycle"] = {"preStop": {"exec": {"command": ["/bin/sh", "-c", "ray stop"]}}}
            container["ports"] = (container.get("ports") or []) + copy.deepcopy(_RAY_PORTS)
            replicas = group.replicas
            role = f"ray-worker {group.group_name} x{replicas}" if group.group_name else f"ray-worker x{replicas}"
            out.append(self._ray_pod(worker, group.k8s_pod if group.HasField("k8s_pod") else None, role))
        return out

    def _ray_pod(self, pod: Dict[str, Any], k8s_pod: Optional[tasks_pb2.K8sPod], role: str) -> BuiltPod:
        findings = list(self.findings)
        if k8s_pod is not None and k8s_pod.HasField("pod_spec"):
            overlay = _struct_to_json(k8s_pod.pod_spec) or {}
            before = {c.get("name"): copy.deepcopy(c.get("resources") or {}) for c in pod["spec"]["containers"]}
            pod["spec"] = merge_overlay_pod_spec(pod["spec"], overlay)
            for c in pod["spec"]["containers"]:
                res = c.get("resources") or {}
                for kind in ("requests", "limits"):
                    for k, v in (res.get(kind) or {}).items():
                        was = (before.get(c.get("name"), {}).get(kind) or {}).get(k)
                        if was != v:
                            self._note(findings, WARNING, "propeller.replica-resources-unchecked", role,
                                       f"{kind}.{k}='{v}' comes from the {role.split()[0]} group's pod spec, which "
                                       "flytepropeller merges after the platform's defaults and limits: it is "
                                       "neither defaulted nor clamped" + (f" (the task's was '{was}')" if was else ""),
                                       field=f"containers[{c.get('name')}].{kind}.{k}", before=was, after=str(v))
            labels = dict(k8s_pod.metadata.labels)
            annotations = dict(k8s_pod.metadata.annotations)
            meta = pod["metadata"]
            if labels:
                meta["labels"] = {**meta.get("labels", {}), **labels}
            if annotations:
                meta["annotations"] = {**meta.get("annotations", {}), **annotations}
        _add_extended_resource_tolerations(self.p, pod["spec"], findings, self, role)
        return BuiltPod(pod, findings, role)

    # -- pytorch --------------------------------------------------------------------------------------
    def pytorch(self, custom: Dict[str, Any]) -> List[BuiltPod]:
        if self.t.task_type_version == 0:
            from flyteidl.plugins import pytorch_pb2

            job0 = json_format.ParseDict(custom, pytorch_pb2.DistributedPyTorchTrainingTask(),
                                         ignore_unknown_fields=True)
            master, _ = self._renamed(self.pod, "pytorch")
            out = [] if job0.HasField("elastic_config") else [BuiltPod(master, list(self.findings), "master x1")]
            if job0.workers > 0:
                out.append(BuiltPod(copy.deepcopy(master), list(self.findings), f"worker x{job0.workers}"))
            return out
        if self.t.task_type_version != 1:
            raise ResourceValidationError(
                f"pytorch task type version {self.t.task_type_version} is not one flytepropeller 1.16 knows (0 or 1)",
                task=self.task, field="task_type_version")
        from flyteidl.plugins.kubeflow import pytorch_pb2 as kf

        job = json_format.ParseDict(custom, kf.DistributedPyTorchTrainingTask(), ignore_unknown_fields=True)
        out = []
        for spec, is_master in ((job.master_replicas, True), (job.worker_replicas, False)):
            common = spec.common if spec.HasField("common") else spec
            replicas = 1 if is_master else common.replicas
            name = "master" if is_master else "worker"
            built = self._kubeflow_replica(name, common.resources, common.image)
            if not is_master:
                built.pod["spec"]["containers"][0].setdefault("env", []).append(
                    {"name": "FLYTE_INTERNAL_WORKER_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}})
            built.role = f"{name} x{replicas}"
            if is_master and job.HasField("elastic_config"):
                continue  # an elastic job has no master
            if not is_master and replicas <= 0:
                continue
            out.append(built)
        return out

    def _kubeflow_replica(self, name: str, resources: tasks_pb2.Resources, image: str) -> BuiltPod:
        if resources.requests or resources.limits:
            requests, limits = to_k8s_resource_list(resources.requests), to_k8s_resource_list(resources.limits)
            apply_resource_overrides(self.p, requests, limits, True)  # ApplyK8sResourceOverrides
            b = _Builder(self.t, self.p, self.o, self.interruptible, self.task, self.node,
                         replica=(name, requests, limits))
            pod = b.build(self.ns)
            findings = b.findings
        else:
            pod, findings = copy.deepcopy(self.pod), list(self.findings)
        pod, container = self._renamed(pod, "pytorch")
        if image:
            container["image"] = image
        return BuiltPod(pod, findings, name)

    # -- dask -----------------------------------------------------------------------------------------
    def dask(self, custom: Dict[str, Any]) -> List[BuiltPod]:
        from flyteidl.plugins import dask_pb2

        job = json_format.ParseDict(custom, dask_pb2.DaskJob(), ignore_unknown_fields=True)
        steady = self.pod
        steady_findings = self.findings
        if self.interruptible:  # the scheduler and the job runner are built as non-interruptible
            b = _Builder(self.t, self.p, self.o, False, self.task, self.node)
            steady = b.build(self.ns)
            steady_findings = b.findings
        workers = job.workers
        worker = self._dask_pod(self.pod, self.findings, "dask-worker", workers.image, workers.resources,
                                f"dask-worker x{workers.number_of_workers}")
        wc = worker.pod["spec"]["containers"][self._primary_index_named(worker.pod, "dask-worker")]
        args = ["dask-worker", "--name", "$(DASK_WORKER_NAME)"]
        if "limits" in (wc.get("resources") or {}):
            res = wc["resources"]["limits"] or {}
            args += ["--nthreads", str(_value(Quantity.parse(res.get("cpu", "0")))),
                     "--memory-limit", res.get("memory", "0")]
        wc["args"] = args
        worker.pod["spec"]["restartPolicy"] = "Always"
        scheduler = self._dask_pod(steady, steady_findings, "scheduler", job.scheduler.image, job.scheduler.resources,
                                   "dask-scheduler")
        sc = scheduler.pod["spec"]["containers"][self._primary_index_named(scheduler.pod, "scheduler")]
        sc["args"] = ["dask-scheduler"]
        sc["ports"] = [{"name": "tcp-comm", "containerPort": 8786, "protocol": "TCP"},
                       {"name": "dashboard", "containerPort": 8787, "protocol": "TCP"}]
        scheduler.pod["spec"]["restartPolicy"] = "Always"
        runner, _ = self._renamed(steady, "job-runner")
        runner["spec"]["restartPolicy"] = "Never"
        return [BuiltPod(runner, list(steady_findings), "dask-job-runner"), scheduler, worker]

    def _primary_index_named(self, pod: Dict[str, Any], name: str) -> int:
        return next(i for i, c in enumerate(pod["spec"]["containers"]) if c.get("name") == name)

    def _dask_pod(self, pod, findings, name: str, image: str, resources: tasks_pb2.Resources, role: str) -> BuiltPod:
        pod, container = self._renamed(pod, name)
        findings = list(findings)
        if image:
            container["image"] = image
        if resources.requests or resources.limits:
            requests, limits = to_k8s_resource_list(resources.requests), to_k8s_resource_list(resources.limits)
            given = ({k: str(v) for k, v in requests.items()}, {k: str(v) for k, v in limits.items()})
            apply_resource_overrides(self.p, requests, limits, True)
            before = container.get("resources") or {}
            container["resources"] = {"requests": {k: str(v) for k, v in requests.items()},
                                      "limits": {k: str(v) for k, v in limits.items()}}
            self._note(findings, INFO, "propeller.replica-resources", role,
                       f"the {name} group's resources replace the task's ({_fmt(before)} -> "
                       f"{_fmt(container['resources'])})", field=f"containers[{name}].resources",
                       before=_fmt(before), after=_fmt(container["resources"]))
            for kind, old in zip(("requests", "limits"), given):
                for k, v in container["resources"][kind].items():
                    if k in old and Quantity.parse(old[k]) != Quantity.parse(v):
                        self._note(findings, WARNING, "propeller." + kind[:-1] + "-clamped", role,
                                   f"{kind}.{k}='{old[k]}' is changed to '{v}' (clamped to the platform limit or to "
                                   "the container's limit)", field=f"containers[{name}].{kind}.{k}", before=old[k],
                                   after=v, source=self.p.source_of("task_resources.limits"))
        return BuiltPod(pod, findings, role)


def merge_overlay_pod_spec(base: Dict[str, Any], overlay: Dict[str, Any]) -> Dict[str, Any]:
    """``MergeOverlayPodSpecOntoBase``: the overlay merged over the base (mergo override + append), and each of
    the base's containers merged with the overlay's container of the same name; the overlay's other containers
    are dropped."""
    merged = mergo_merge(copy.deepcopy(base), overlay)
    for kind in ("containers", "initContainers"):
        out = []
        for container in base.get(kind) or []:
            c = copy.deepcopy(container)
            for o in overlay.get(kind) or []:
                if o.get("name") == c.get("name"):
                    mergo_merge(c, o)
            out.append(c)
        if out:
            merged[kind] = out
        else:
            merged.pop(kind, None)
    return merged


def _add_extended_resource_tolerations(platform: Platform, spec: Dict[str, Any], findings: List[Finding],
                                       ctx: _Ctx, role: str) -> None:
    before = list(spec.get("tolerations") or [])
    _extended_resource_tolerations(platform, spec)
    for tol in spec.get("tolerations") or []:
        if not any(_matches(tol, t) for t in before):
            ctx._note(findings, INFO, "propeller.extended-resource-toleration", role,
                      f"tolerations: {_tol(tol)} is added", field="tolerations", after=_tol(tol),
                      source=platform.source_of("plugins.k8s.add-tolerations-for-extended-resources"))


def _ray_worker_env() -> List[Dict[str, Any]]:
    def ref(resource: str) -> Dict[str, Any]:
        return {"resourceFieldRef": {"containerName": "ray-worker", "resource": resource}}

    # as flyteplugins writes them (MEMORY_* read the cpu fields there too)
    return [
        {"name": "RAY_DISABLE_DOCKER_CPU_WARNING", "value": "1"},
        {"name": "TYPE", "value": "worker"},
        {"name": "CPU_REQUEST", "valueFrom": ref("requests.cpu")},
        {"name": "CPU_LIMITS", "valueFrom": ref("limits.cpu")},
        {"name": "MEMORY_REQUESTS", "valueFrom": ref("requests.cpu")},
        {"name": "MEMORY_LIMITS", "valueFrom": ref("limits.cpu")},
        {"name": "MY_POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "MY_POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
    ]


def _value(q: Quantity) -> int:
    """``Quantity.Value()``: rounded up to a whole number."""
    d = q.as_decimal()
    n = int(d)
    return n + 1 if d > n else n


def _fmt(res: Dict[str, Any]) -> str:
    parts = []
    for kind in ("requests", "limits"):
        for k, v in (res.get(kind) or {}).items():
            parts.append(f"{kind}.{k}={v}")
    return ", ".join(parts) or "none"

