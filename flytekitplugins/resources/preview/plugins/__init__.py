"""The pods of plugin tasks that flyteplugins 1.16 builds from the same helpers as a plain task's pod.

Specification: flyteplugins/go/tasks/plugins/k8s/ at flyte v1.16.8 with their Go tests. A plugin is a function
``(PluginContext, custom) -> [BuiltPod]`` registered for a task type with :func:`register`; the modules here
(:mod:`.ray`, :mod:`.pytorch`, :mod:`.dask`) register themselves when imported, and build on the plain task's
pod with :mod:`..flytek8s` and :mod:`..pod_builder`. This package imports none of them: the dispatcher
(:mod:`..propeller`) does. Other plugin task types (mpi, tensorflow, spark, ...) are previewed as their plain
task pod.
"""

from __future__ import annotations

import copy
from typing import Any, Callable, Dict, List, Optional, Tuple

from flyteidl.core import tasks_pb2, workflow_pb2

from ...findings import Finding
from ...platform import Platform
from ..pod_builder import BuiltPod, PodBuilder, ReplicaResources

__all__ = ["Plugin", "PluginContext", "plugin_for", "register", "registered"]

Plugin = Callable[["PluginContext", Dict[str, Any]], List[BuiltPod]]
_PLUGINS: Dict[str, Plugin] = {}


def register(task_type: str) -> Callable[[Plugin], Plugin]:
    """A decorator: the plugin that builds the pods of tasks of ``task_type``."""
    def add(plugin: Plugin) -> Plugin:
        _PLUGINS[task_type] = plugin
        return plugin

    return add


def plugin_for(task_type: str) -> Optional[Plugin]:
    """The plugin registered for ``task_type``, or None (the task runs as its plain pod)."""
    return _PLUGINS.get(task_type)


def registered() -> Tuple[str, ...]:
    """The task types with a plugin, sorted."""
    return tuple(sorted(_PLUGINS))


class PluginContext:
    """What a plugin builds on: the task, the platform, the plain pod flytepropeller built and its findings."""

    def __init__(self, template: tasks_pb2.TaskTemplate, platform: Platform, pod: Dict[str, Any],
                 findings: List[Finding], overrides: Optional[workflow_pb2.TaskNodeOverrides], interruptible: bool,
                 task: str, node: Optional[str], namespace: str) -> None:
        self.t, self.p, self.pod, self.findings = template, platform, pod, findings
        self.o, self.interruptible, self.task, self.node, self.ns = overrides, interruptible, task, node, namespace

    def note(self, findings: List[Finding], level: str, code: str, role: str, message: str, **kw: Any) -> None:
        """A finding about the ``role`` pod of this task (and node)."""
        findings.append(Finding(level, code, message, task=self.task, node=self.node, role=role, **kw))

    def builder(self, interruptible: Optional[bool] = None,
                replica: Optional[ReplicaResources] = None) -> PodBuilder:
        """A pod builder for this task again (as non-interruptible, or with a replica's own resources)."""
        return PodBuilder(self.t, self.p, self.o, self.interruptible if interruptible is None else interruptible,
                          self.task, self.node, replica=replica)

    def primary_index(self, pod: Dict[str, Any]) -> int:
        """The plain pod's primary container: a container task's one, or the pod task's (or node's) named one."""
        primary = self.t.config.get("primary_container_name", "primary") if self.t.HasField("k8s_pod") else "primary"
        if self.o is not None and self.o.HasField("pod_template") and self.o.pod_template.primary_container_name:
            primary = self.o.pod_template.primary_container_name
        for i, c in enumerate(pod["spec"].get("containers") or []):
            if c.get("name") == primary:
                return i
        return 0

    def renamed(self, pod: Dict[str, Any], name: str) -> Tuple[Dict[str, Any], Dict[str, Any]]:
        """A copy of ``pod`` with its primary container renamed ``name``; the copy and that container."""
        pod = copy.deepcopy(pod)
        container = pod["spec"]["containers"][self.primary_index(pod)]
        container["name"] = name
        return pod, container
