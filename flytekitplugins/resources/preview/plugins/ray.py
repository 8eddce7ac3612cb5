"""``ray`` (flyteplugins/go/tasks/plugins/k8s/ray/ray.go at flyte v1.16.8): the task's pod (``ToK8sPodSpec``)
three ways.

The submitter (unchanged), the head (primary container renamed ``ray-head``, its args dropped, ``MY_POD_IP``
and the Ray ports added) and one pod per worker group (``ray-worker``, the worker env vars and a ``ray stop``
preStop hook). A head or worker group's own pod spec (``k8s_pod``, which flytekit fills from
``HeadNodeConfig(requests=...)``) is merged over it container by container (``MergeOverlayPodSpecOntoBase``)
*after* the platform's defaults and clamps, so its resources are not clamped: the preview says so. Then
``AddTolerationsForExtendedResources``.
"""

from __future__ import annotations

import copy
from typing import Any, Dict, List, Optional

from flyteidl.core import tasks_pb2
from google.protobuf import json_format

from ...findings import INFO, WARNING
from .. import flytek8s as k8s
from ..pod_builder import BuiltPod
from . import PluginContext, register

__all__ = ["ray_pods"]

_RAY_PORTS = [{"name": "redis", "containerPort": 6379}, {"name": "head", "containerPort": 10001},
              {"name": "dashboard", "containerPort": 8265}]


@register("ray")
def ray_pods(ctx: PluginContext, custom: Dict[str, Any]) -> List[BuiltPod]:
    """The submitter, the head and one pod per worker group."""
    from flyteidl.plugins import ray_pb2

    job = json_format.ParseDict(custom, ray_pb2.RayJob(), ignore_unknown_fields=True)
    out = [BuiltPod(copy.deepcopy(ctx.pod), list(ctx.findings), "ray-submitter")]
    head, container = ctx.renamed(ctx.pod, "ray-head")
    container["args"] = []
    container.setdefault("env", []).append(
        {"name": "MY_POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}})
    container["ports"] = (container.get("ports") or []) + copy.deepcopy(_RAY_PORTS)
    spec = job.ray_cluster.head_group_spec
    out.append(_ray_pod(ctx, head, spec.k8s_pod if spec.HasField("k8s_pod") else None, "ray-head"))
    for group in job.ray_cluster.worker_group_spec:
        worker, container = ctx.renamed(ctx.pod, "ray-worker")
        container["args"] = []
        container.setdefault("env", []).extend(_ray_worker_env())
        container["lifecycle"] = {"preStop": {"exec": {"command": ["/bin/sh", "-c", "ray stop"]}}}
        container["ports"] = (container.get("ports") or []) + copy.deepcopy(_RAY_PORTS)
        replicas = group.replicas
        role = f"ray-worker {group.group_name} x{replicas}" if group.group_name else f"ray-worker x{replicas}"
        out.append(_ray_pod(ctx, worker, group.k8s_pod if group.HasField("k8s_pod") else None, role))
    return out


def _ray_pod(ctx: PluginContext, pod: Dict[str, Any], k8s_pod: Optional[tasks_pb2.K8sPod], role: str) -> BuiltPod:
    findings = list(ctx.findings)
    if k8s_pod is not None and k8s_pod.HasField("pod_spec"):
        overlay = k8s.struct_to_json(k8s_pod.pod_spec) or {}
        before = {c.get("name"): copy.deepcopy(c.get("resources") or {}) for c in pod["spec"]["containers"]}
        pod["spec"] = k8s.merge_overlay_pod_spec(pod["spec"], overlay)
        for c in pod["spec"]["containers"]:
            res = c.get("resources") or {}
            for kind in ("requests", "limits"):
                for k, v in (res.get(kind) or {}).items():
                    was = (before.get(c.get("name"), {}).get(kind) or {}).get(k)
                    if was != v:
                        ctx.note(findings, WARNING, "propeller.replica-resources-unchecked", role,
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
    for tol in k8s.add_tolerations_for_extended_resources(ctx.p, pod["spec"]):
        ctx.note(findings, INFO, "propeller.extended-resource-toleration", role,
                 f"tolerations: {k8s.toleration_text(tol)} is added", field="tolerations",
                 after=k8s.toleration_text(tol),
                 source=ctx.p.source_of("plugins.k8s.add-tolerations-for-extended-resources"))
    return BuiltPod(pod, findings, role)


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
