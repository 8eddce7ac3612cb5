"""flytepropeller 1.16: the pods a task's plugin creates, chosen by task type.

A plain task (and any task type without a plugin here: mpi, tensorflow, spark, ...) gets the one pod
:class:`~.pod_builder.PodBuilder` builds (``ToK8sPodSpec``); a ray, pytorch or dask task gets the pods its
plugin in :mod:`.plugins` builds on that pod. Each pod is returned as flytepropeller serializes it
(:func:`~.flytek8s.go_marshal`: ``affinity: {}``, sorted maps, Go's ``omitempty``). Pure: protobufs and a
Platform in, JSON dicts (v1 Pod manifests) and findings out.
"""

from __future__ import annotations

from typing import List, Optional

from flyteidl.core import tasks_pb2, workflow_pb2
from google.protobuf import json_format

from ..errors import ResourceValidationError
from ..platform import Platform
from . import flytek8s
from .plugins import PluginContext, dask, plugin_for, pytorch, ray  # noqa: F401 (dask, pytorch, ray register)
from .pod_builder import BuiltPod, PodBuilder

__all__ = ["BuiltPod", "build_pods"]


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
    name = task or template.id.name
    b = PodBuilder(template, platform, overrides, interruptible, name, node)
    pod = b.build(namespace)
    plugin = plugin_for(template.type) if template.HasField("custom") else None
    if plugin is None:
        built = [BuiltPod(pod, b.findings)]
    else:
        ctx = PluginContext(template, platform, pod, b.findings, overrides, interruptible, name, node, namespace)
        try:
            built = plugin(ctx, flytek8s.struct_to_json(template.custom))
        except json_format.ParseError as e:
            raise ResourceValidationError(
                f"the task's {template.type} configuration (custom) cannot be read as flyteidl's: {e}",
                task=name, field="custom") from None
    for p in built:  # as flytepropeller serializes it: what the API server receives
        p.pod = flytek8s.go_marshal(p.pod)
    return built
