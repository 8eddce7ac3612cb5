"""flytepropeller / flyteplugins 1.16: the pod(s) built from a task template and a node's overrides.

Specification: flyteplugins/go/tasks/pluginmachinery/flytek8s/ (container_helper.go, pod_helper.go,
k8s_resource_adds.go, utils.go) and the k8s plugins that reuse them, at flyte v1.16.8, with their Go unit
tests. Pure: protobufs and a Platform in, JSON dicts (v1 Pod manifests) and findings out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from flyteidl.core import tasks_pb2, workflow_pb2

from ..findings import Finding
from ..platform import Platform

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
    raise NotImplementedError
