"""``dask`` (flyteplugins/go/tasks/plugins/k8s/dask/dask.go at flyte v1.16.8): the job runner, the scheduler
and the workers.

The worker (``dask-worker``; the group's resources, defaulted and clamped, replace the container's whole
block; ``--nthreads``/``--memory-limit`` from its limits; ``restartPolicy: Always``), the scheduler
(``scheduler``, built as non-interruptible) and the job runner (``job-runner``, also non-interruptible).
"""

from __future__ import annotations

from typing import Any, Dict, List

from flyteidl.core import tasks_pb2
from google.protobuf import json_format

from ...findings import INFO, WARNING, Finding
from ...quantity import Quantity
from .. import flytek8s as k8s
from ..pod_builder import BuiltPod
from . import PluginContext, register

__all__ = ["dask_pods"]


@register("dask")
def dask_pods(ctx: PluginContext, custom: Dict[str, Any]) -> List[BuiltPod]:
    """The job runner, the scheduler and the worker group."""
    from flyteidl.plugins import dask_pb2

    job = json_format.ParseDict(custom, dask_pb2.DaskJob(), ignore_unknown_fields=True)
    steady = ctx.pod
    steady_findings = ctx.findings
    if ctx.interruptible:  # the scheduler and the job runner are built as non-interruptible
        b = ctx.builder(interruptible=False)
        steady = b.build(ctx.ns)
        steady_findings = b.findings
    workers = job.workers
    worker = _dask_pod(ctx, ctx.pod, ctx.findings, "dask-worker", workers.image, workers.resources,
                       f"dask-worker x{workers.number_of_workers}")
    wc = worker.pod["spec"]["containers"][_index_named(worker.pod, "dask-worker")]
    args = ["dask-worker", "--name", "$(DASK_WORKER_NAME)"]
    if "limits" in (wc.get("resources") or {}):
        res = wc["resources"]["limits"] or {}
        args += ["--nthreads", str(Quantity.parse(res.get("cpu", "0")).value()),
                 "--memory-limit", res.get("memory", "0")]
    wc["args"] = args
    worker.pod["spec"]["restartPolicy"] = "Always"
    scheduler = _dask_pod(ctx, steady, steady_findings, "scheduler", job.scheduler.image, job.scheduler.resources,
                          "dask-scheduler")
    sc = scheduler.pod["spec"]["containers"][_index_named(scheduler.pod, "scheduler")]
    sc["args"] = ["dask-scheduler"]
    sc["ports"] = [{"name": "tcp-comm", "containerPort": 8786, "protocol": "TCP"},
                   {"name": "dashboard", "containerPort": 8787, "protocol": "TCP"}]
    scheduler.pod["spec"]["restartPolicy"] = "Always"
    runner, _ = ctx.renamed(steady, "job-runner")
    runner["spec"]["restartPolicy"] = "Never"
    return [BuiltPod(runner, list(steady_findings), "dask-job-runner"), scheduler, worker]


def _index_named(pod: Dict[str, Any], name: str) -> int:
    return next(i for i, c in enumerate(pod["spec"]["containers"]) if c.get("name") == name)


def _dask_pod(ctx: PluginContext, pod: Dict[str, Any], findings: List[Finding], name: str, image: str,
              resources: tasks_pb2.Resources, role: str) -> BuiltPod:
    pod, container = ctx.renamed(pod, name)
    findings = list(findings)
    if image:
        container["image"] = image
    if resources.requests or resources.limits:
        requests, limits = k8s.to_k8s_resource_list(resources.requests), k8s.to_k8s_resource_list(resources.limits)
        given = ({k: str(v) for k, v in requests.items()}, {k: str(v) for k, v in limits.items()})
        k8s.apply_resource_overrides(ctx.p, requests, limits, True)
        before = container.get("resources") or {}
        container["resources"] = {"requests": {k: str(v) for k, v in requests.items()},
                                  "limits": {k: str(v) for k, v in limits.items()}}
        ctx.note(findings, INFO, "propeller.replica-resources", role,
                 f"the {name} group's resources replace the task's ({_fmt(before)} -> "
                 f"{_fmt(container['resources'])})", field=f"containers[{name}].resources",
                 before=_fmt(before), after=_fmt(container["resources"]))
        for kind, old in zip(("requests", "limits"), given):
            for k, v in container["resources"][kind].items():
                if k in old and Quantity.parse(old[k]) != Quantity.parse(v):
                    ctx.note(findings, WARNING, "propeller." + kind[:-1] + "-clamped", role,
                             f"{kind}.{k}='{old[k]}' is changed to '{v}' (clamped to the platform limit or to "
                             "the container's limit)", field=f"containers[{name}].{kind}.{k}", before=old[k],
                             after=v, source=ctx.p.source_of("task_resources.limits"))
    return BuiltPod(pod, findings, role)


def _fmt(res: Dict[str, Any]) -> str:
    parts = []
    for kind in ("requests", "limits"):
        for k, v in (res.get(kind) or {}).items():
            parts.append(f"{kind}.{k}={v}")
    return ", ".join(parts) or "none"
