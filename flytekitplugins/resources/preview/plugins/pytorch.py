"""``pytorch`` (flyteplugins/go/tasks/plugins/k8s/kfoperators/pytorch and common/common_operator.go at flyte
v1.16.8): the master and the workers.

Version 0: the task's pod for the master and the workers. Version 1, per replica
(``ToReplicaSpecWithOverrides``): the replica's resources, defaulted and clamped
(``ApplyK8sResourceOverrides``), take the place of the node's resource overrides, the pod is built again with
them, the primary container is renamed ``pytorch`` and the replica's image set. An elastic task has no master;
workers are left out when there are none.
"""

from __future__ import annotations

import copy
from typing import Any, Dict, List

from flyteidl.core import tasks_pb2
from google.protobuf import json_format

from ...errors import ResourceValidationError
from .. import flytek8s as k8s
from ..pod_builder import BuiltPod, ReplicaResources
from . import PluginContext, register

__all__ = ["pytorch_pods"]


@register("pytorch")
def pytorch_pods(ctx: PluginContext, custom: Dict[str, Any]) -> List[BuiltPod]:
    """The master (unless elastic) and the workers (when there are any)."""
    if ctx.t.task_type_version == 0:
        from flyteidl.plugins import pytorch_pb2

        job0 = json_format.ParseDict(custom, pytorch_pb2.DistributedPyTorchTrainingTask(),
                                     ignore_unknown_fields=True)
        master, _ = ctx.renamed(ctx.pod, "pytorch")
        out = [] if job0.HasField("elastic_config") else [BuiltPod(master, list(ctx.findings), "master x1")]
        if job0.workers > 0:
            out.append(BuiltPod(copy.deepcopy(master), list(ctx.findings), f"worker x{job0.workers}"))
        return out
    if ctx.t.task_type_version != 1:
        raise ResourceValidationError(
            f"pytorch task type version {ctx.t.task_type_version} is not one flytepropeller 1.16 knows (0 or 1)",
            task=ctx.task, field="task_type_version")
    from flyteidl.plugins.kubeflow import pytorch_pb2 as kf

    job = json_format.ParseDict(custom, kf.DistributedPyTorchTrainingTask(), ignore_unknown_fields=True)
    out = []
    for spec, is_master in ((job.master_replicas, True), (job.worker_replicas, False)):
        common = spec.common if spec.HasField("common") else spec
        replicas = 1 if is_master else common.replicas
        name = "master" if is_master else "worker"
        built = _kubeflow_replica(ctx, name, common.resources, common.image)
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


def _kubeflow_replica(ctx: PluginContext, name: str, resources: tasks_pb2.Resources, image: str) -> BuiltPod:
    if resources.requests or resources.limits:
        requests, limits = k8s.to_k8s_resource_list(resources.requests), k8s.to_k8s_resource_list(resources.limits)
        k8s.apply_resource_overrides(ctx.p, requests, limits, True)  # ApplyK8sResourceOverrides
        b = ctx.builder(replica=ReplicaResources(name, requests, limits))
        pod = b.build(ctx.ns)
        findings = b.findings
    else:
        pod, findings = copy.deepcopy(ctx.pod), list(ctx.findings)
    pod, container = ctx.renamed(pod, "pytorch")
    if image:
        container["image"] = image
    return BuiltPod(pod, findings, name)
