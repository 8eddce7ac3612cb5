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

A refusal ends the story, once for every refusal: when flyteadmin refuses the task at registration (an
``admin.*`` error) or flytepropeller fails it (a ``propeller.*`` error), the task never runs, so nothing is
lowered, defaulted or added. Such a preview is :attr:`PodPreview.refused`: it keeps every refusal (all the
``admin.*`` and ``propeller.*`` errors, each a thing to fix) and the findings of the steps before the first
refusing one (flyteadmin's execution defaults when only flytepropeller refuses), and drops the later steps'
warnings and notes (clamps of the very values flyteadmin refused, tolerations, Kubernetes' checks), which
describe a pod that is never created; the preflight checks skip it. Its ``pod`` is what flytepropeller would
build were the refusals fixed as the platform clamps them: a picture, not a pod that runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Tuple

from flyteidl.admin import launch_plan_pb2, task_pb2, workflow_pb2
from flyteidl.core import tasks_pb2
from flyteidl.core import workflow_pb2 as core_workflow_pb2

from ..findings import ERROR, INFO, Finding
from ..platform import Platform
from . import admin, propeller, schema

__all__ = ["PodPreview", "count_previews", "is_refusal", "preview_entities", "task_nodes"]


@dataclass
class PodPreview:
    task: str  #: the task's name
    node: Optional[str]  #: the node id when node overrides apply, else None
    pod: Optional[Dict[str, Any]]  #: a v1 Pod manifest with Kubernetes' JSON field names; None: runs in no pod
    findings: List[Finding] = field(default_factory=list)
    role: Optional[str] = None  #: for plugin tasks with several pods: "ray-head", "worker", ...
    #: flyteadmin or flytepropeller refuses the task: it never runs and ``pod`` is never created
    refused: bool = False

    def refusals(self) -> List[Finding]:
        """The errors that refuse the task (flyteadmin's and flytepropeller's)."""
        return [f for f in self.findings if is_refusal(f)]

    def refused_by(self) -> List[str]:
        """Who refuses it, in Flyte's order: ``flyteadmin``, ``flytepropeller``."""
        who = {f.code.split(".", 1)[0] for f in self.refusals()}
        return [name for prefix, name in (("admin", "flyteadmin"), ("propeller", "flytepropeller")) if prefix in who]

    def to_dict(self) -> Dict[str, Any]:
        d: Dict[str, Any] = {
            "task": self.task,
            "node": self.node,
            "pod": self.pod,
            "findings": [f.to_dict() for f in self.findings],
        }
        if self.role is not None:
            d["role"] = self.role
        if self.refused:
            d["refused"] = True
        return d


def is_refusal(f: Finding) -> bool:
    """An error of flyteadmin or flytepropeller: the task is never registered or never runs."""
    return f.level == ERROR and f.code.split(".", 1)[0] in ("admin", "propeller")


def preview_entities(
    entities: Iterable[Any],
    platform: Optional[Platform] = None,
    *,
    task: Optional[str] = None,
    project: str = "flytesnacks",
    domain: str = "development",
    progress: Optional[Callable[[], None]] = None,
    kubernetes_schema: bool = False,
) -> List[PodPreview]:
    """One PodPreview per task (and per overridden node, and per plugin replica pod).

    ``entities`` are flyteidl protobufs as ``pyflyte package`` writes them (``admin.TaskSpec``,
    ``admin.WorkflowSpec``, ``admin.LaunchPlan``; bare ``core.TaskTemplate`` and ``core.WorkflowTemplate``
    too). ``task`` keeps only the task of that name (the full name, or the part after its last ``.``).
    The pods are built in the namespace Flyte's default template gives, ``{project}-{domain}``.
    ``progress`` is called once per task and per overridden node (:func:`count_previews` of them).
    Every pod is checked with the API server's own rules (``schema.validate_pod``); ``kubernetes_schema=True``
    adds the OpenAPI schema check when the optional ``kubernetes-validate`` package is installed.
    """
    platform = platform if platform is not None else Platform()
    namespace = f"{project}-{domain}"
    templates: Dict[str, tasks_pb2.TaskTemplate] = {}
    workflows: List[core_workflow_pb2.WorkflowTemplate] = []
    for entity in entities:
        if isinstance(entity, task_pb2.TaskSpec):
            templates[entity.template.id.name] = entity.template
        elif isinstance(entity, tasks_pb2.TaskTemplate):
            templates[entity.id.name] = entity
        elif isinstance(entity, workflow_pb2.WorkflowSpec):
            workflows.append(entity.template)
            workflows.extend(entity.sub_workflows)
        elif isinstance(entity, core_workflow_pb2.WorkflowTemplate):
            workflows.append(entity)
        elif isinstance(entity, launch_plan_pb2.LaunchPlan):
            continue  # a launch plan names a workflow; it builds no pod of its own
        else:
            raise TypeError(f"preview_entities: not a flyteidl task or workflow: {type(entity).__name__}")

    out: List[PodPreview] = []
    compiled: Dict[str, Tuple[tasks_pb2.TaskTemplate, List[Finding], List[Finding]]] = {}
    for name, template in templates.items():
        registration = admin.check_registration(template, platform, task=name)
        defaulted, defaults = admin.compile_task_defaults(template, platform, task=name)
        compiled[name] = (defaulted, registration, defaults)
        if _wanted(name, task):
            interruptible = template.metadata.interruptible
            out.extend(_previews(name, None, defaulted, registration, defaults, platform, None, interruptible,
                                 namespace, kubernetes_schema))
        if progress is not None:
            progress()

    for wf in workflows:
        for node, target, interruptible in _overridden_nodes(wf.nodes):
            if progress is not None:
                progress()
            name = target.reference_id.name
            if name not in compiled or not _wanted(name, task):
                continue
            defaulted, registration, defaults = compiled[name]
            if interruptible is None:
                interruptible = defaulted.metadata.interruptible
            node_id = f"{wf.id.name}/{node.id}" if wf.id.name else node.id
            out.extend(_previews(name, node_id, defaulted, registration, defaults, platform, target.overrides,
                                 interruptible, namespace, kubernetes_schema))
    return out


def count_previews(entities: Iterable[Any]) -> int:
    """How many times :func:`preview_entities` calls ``progress``: tasks plus overridden nodes."""
    total = 0
    for entity in entities:
        if isinstance(entity, (task_pb2.TaskSpec, tasks_pb2.TaskTemplate)):
            total += 1
        elif isinstance(entity, workflow_pb2.WorkflowSpec):
            for wf in [entity.template, *entity.sub_workflows]:
                total += sum(1 for _ in _overridden_nodes(wf.nodes))
        elif isinstance(entity, core_workflow_pb2.WorkflowTemplate):
            total += sum(1 for _ in _overridden_nodes(entity.nodes))
    return total


def _wanted(name: str, wanted: Optional[str]) -> bool:
    return wanted is None or name == wanted or name.rsplit(".", 1)[-1] == wanted


def _previews(
    name: str,
    node: Optional[str],
    template: tasks_pb2.TaskTemplate,
    registration: List[Finding],
    defaults: List[Finding],
    platform: Platform,
    overrides: Optional[core_workflow_pb2.TaskNodeOverrides],
    interruptible: bool,
    namespace: str,
    kubernetes_schema: bool = False,
) -> List[PodPreview]:
    if template.WhichOneof("target") not in ("container", "k8s_pod"):
        # flytepropeller hands it to a plugin that starts no pod (echo, SQL engines, sensors, connectors): listed
        # once, with its task, and never with its nodes
        if node is not None:
            return []
        target = template.WhichOneof("target")
        why = (f"task type '{template.type}' does not run in a pod ({'a ' + target + ' target' if target else 'no'}"
               " container or pod spec): Flyte runs it without one; nothing to preview")
        found = list(registration) + list(defaults) + [Finding(INFO, "preview.no-pod", why, task=name, field="target")]
        return [PodPreview(name, None, None, found, refused=bool(registration))]
    built = propeller.build_pods(
        template, platform, overrides=overrides, interruptible=interruptible, task=name, node=node, namespace=namespace
    )
    out = []
    for b in built:
        if registration or any(is_refusal(f) for f in b.findings):
            # refused: the refusals, and what happens before the first refusing step; nothing after it
            kept = list(registration) if registration else list(defaults)
            kept += [f for f in b.findings if is_refusal(f)]
            out.append(PodPreview(name, node, b.pod, kept, b.role, refused=True))
            continue
        valid = schema.validate_pod(b.pod, task=name, node=node, role=b.role, schema=kubernetes_schema)
        out.append(PodPreview(name, node, b.pod, list(defaults) + list(b.findings) + valid, b.role))
    return out


def task_nodes(nodes: Iterable[core_workflow_pb2.Node]) -> Iterator[core_workflow_pb2.Node]:
    """Every task node of a workflow, in order, the ones inside branches and array nodes too."""
    for node in nodes:
        if node.HasField("task_node"):
            yield node
        elif node.HasField("array_node"):
            yield from task_nodes([node.array_node.node])
        elif node.HasField("branch_node"):
            branch = node.branch_node.if_else
            inner = [branch.case.then_node] + [c.then_node for c in branch.other]
            if branch.HasField("else_node"):
                inner.append(branch.else_node)
            yield from task_nodes(inner)


def _overridden_nodes(
    nodes: Iterable[core_workflow_pb2.Node],
) -> Iterator[Tuple[core_workflow_pb2.Node, core_workflow_pb2.TaskNode, Optional[bool]]]:
    """Every task node (in branches and array nodes too) whose pod differs from its task's own:
    it has overrides, or an ``interruptible`` of its own."""
    for node in task_nodes(nodes):
        interruptible = node.metadata.interruptible if node.metadata.HasField("interruptible") else None
        target = node.task_node
        if target.HasField("overrides") and _has_overrides(target.overrides) or interruptible is not None:
            yield node, target, interruptible


def _has_overrides(o: core_workflow_pb2.TaskNodeOverrides) -> bool:
    return bool(
        o.resources.requests
        or o.resources.limits
        or o.HasField("extended_resources")
        or o.container_image
        or o.HasField("pod_template")
    )
