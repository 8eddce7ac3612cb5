"""The effective pod: what Flyte 1.16 builds from a task, offline, with findings.

``preview_entities(entities, platform)`` walks serialized entities (flyteidl protobufs as ``pyflyte
package`` writes them: ``TaskSpec``/``TaskTemplate``, ``WorkflowSpec``, ``LaunchPlan``), and for every task
and every node with overrides (including an array node's sub-node) runs, in order:

1. ``admin.check_registration`` (flyteadmin's ``task_validator.go``),
2. ``admin.compile_task_defaults`` (flyteadmin's ``setCompiledTaskDefaults``),
3. ``propeller.build_pods`` (flytepropeller / flyteplugins ``flytek8s``: resources, overrides, base pod
   templates, ``UpdatePod``, GPU node selectors, shared memory, extended-resource tolerations),

and returns one :class:`PodPreview` per pod. Pure: protobufs and a Platform in, dicts and findings out;
no flytekit internals, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional

from ..findings import Finding
from ..platform import Platform

__all__ = ["PodPreview", "preview_entities"]


@dataclass
class PodPreview:
    task: str  #: the task's name
    node: Optional[str]  #: the node id when node overrides apply, else None
    pod: Dict[str, Any]  #: a v1 Pod manifest with Kubernetes' JSON field names
    findings: List[Finding] = field(default_factory=list)
    role: Optional[str] = None  #: for plugin tasks with several pods: "ray-head", "worker", ...

    def to_dict(self) -> Dict[str, Any]:
        d: Dict[str, Any] = {
            "task": self.task,
            "node": self.node,
            "pod": self.pod,
            "findings": [f.to_dict() for f in self.findings],
        }
        if self.role is not None:
            d["role"] = self.role
        return d


def preview_entities(
    entities: Iterable[Any],
    platform: Optional[Platform] = None,
    *,
    task: Optional[str] = None,
    project: str = "flytesnacks",
    domain: str = "development",
) -> List[PodPreview]:
    """One PodPreview per task (and per overridden node, and per plugin replica pod)."""
    raise NotImplementedError
