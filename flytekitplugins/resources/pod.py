"""Resources to Kubernetes: pod specs and the primary container of a pod template.

``kubernetes`` is imported inside the functions, never at import time (it costs ~0.8 s).
Every resource value written into a pod spec is a string, which both the classic (<=36) and
the pydantic (37) kubernetes models accept.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any, Dict, Optional, Tuple

from flytekit.core.pod_template import PodTemplate

from .quantity import Quantity, ResourceValidationError
from .resources import Resources, check_request_within_limit, emitted_string, iter_set_fields, parse_field_value

if TYPE_CHECKING:
    from flytekit.configuration import SerializationSettings
    from flytekit.models import task as task_models
    from kubernetes.client import V1PodSpec

__all__ = ["pod_spec_from_resources", "serialize_pod_spec"]

_K8S_NAME = {"cpu": "cpu", "mem": "memory", "ephemeral_storage": "ephemeral-storage"}
_FIELD_FOR_K8S = {"cpu": "cpu", "memory": "mem", "ephemeral-storage": "ephemeral_storage"}


def _k8s_resources(
    resources: Optional[Resources], argument: str, gpu_key: str
) -> Tuple[Optional[Dict[str, str]], Dict[str, Quantity]]:
    """Kubernetes resource names -> value strings, and the parsed quantities by field."""
    quantities: Dict[str, Quantity] = {}
    if resources is None:
        return None, quantities
    out: Dict[str, str] = {}
    for field, value in iter_set_fields(resources):
        if isinstance(value, (tuple, list)):
            raise ResourceValidationError(
                "a (request, limit) pair is not accepted here",
                field=f"{argument}.{field}",
                value=value,
                hint="pass the request in requests= and the limit in limits=",
            )
        quantities[field] = q = parse_field_value(field, value)
        out[gpu_key if field == "gpu" else _K8S_NAME[field]] = emitted_string(value, q)
    return out, quantities


def pod_spec_from_resources(
    primary_container_name: Optional[str] = None,
    requests: Optional[Resources] = None,
    limits: Optional[Resources] = None,
    k8s_gpu_resource_key: str = "nvidia.com/gpu",
) -> V1PodSpec:
    """A pod spec with one container that has these requests and limits (as strings).

    As in flytekit, when only one of requests and limits is given it is used for both.
    """
    from kubernetes.client import V1Container, V1PodSpec, V1ResourceRequirements

    k8s_requests, q_requests = _k8s_resources(requests, "requests", k8s_gpu_resource_key)
    k8s_limits, q_limits = _k8s_resources(limits, "limits", k8s_gpu_resource_key)
    check_request_within_limit(requests, limits, (q_requests, q_limits))
    k8s_requests = k8s_requests or k8s_limits
    k8s_limits = k8s_limits or k8s_requests
    return V1PodSpec(
        containers=[
            V1Container(
                name=primary_container_name,
                resources=V1ResourceRequirements(requests=k8s_requests, limits=k8s_limits),
            )
        ]
    )


def _sanitize_resource_name(resource: task_models.Resources.ResourceEntry) -> str:
    from flyteidl.core import tasks_pb2

    return tasks_pb2.Resources.ResourceName.Name(resource.name).lower().replace("_", "-")


def _check_container_resources(container: Any, where: str) -> None:
    """Validate the quantities a pod template's container declares itself."""
    resources = getattr(container, "resources", None)
    if resources is None:
        return
    quantities = {}
    for kind in ("requests", "limits"):
        for name, value in (getattr(resources, kind, None) or {}).items():
            field = _FIELD_FOR_K8S.get(name, "gpu" if name.endswith("/gpu") else None)
            label = f"{where}.resources.{kind}[{name!r}]"
            if field is None:
                continue  # extended resources (hugepages, vendor devices) are the cluster's business
            try:
                quantities[(kind, name)] = parse_field_value(field, value)
            except ResourceValidationError as e:
                raise ResourceValidationError(e.problem, field=label, value=value, hint=e.hint) from None
    for (kind, name), request in quantities.items():
        limit = quantities.get(("limits", name))
        if kind == "requests" and limit is not None and request > limit:
            raise ResourceValidationError(
                f"the request {str(request)!r} is greater than the limit {str(limit)!r}",
                field=f"{where}.resources[{name!r}]",
                value=(resources.requests[name], resources.limits[name]),
                hint="Kubernetes rejects a request above its limit: lower the request or raise the limit",
            )


def serialize_pod_spec(
    pod_template: PodTemplate,
    primary_container: task_models.Container,
    settings: SerializationSettings,
) -> Dict[str, Any]:
    """flytekit's ``_serialize_pod_spec``: the pod template's spec with the task's container merged
    into its primary container (image, command, args, resources, env), as a JSON-ready dict."""
    from flytekit.core.python_auto_container import get_registerable_container_image
    from kubernetes.client import ApiClient
    from kubernetes.client.models import V1Container, V1EnvVar, V1ResourceRequirements

    if pod_template.pod_spec is None:
        return {}

    pod_template = copy.deepcopy(pod_template)
    name = pod_template.primary_container_name
    containers = pod_template.pod_spec.containers
    if not any(c.name == name for c in containers):
        containers.append(V1Container(name=name))

    final_containers = []
    for container in containers:
        if container.name == name:
            if container.image is None:
                container.image = primary_container.image
            else:
                container.image = get_registerable_container_image(container.image, settings.image_config)
            container.command = primary_container.command
            container.args = primary_container.args

            limits = {_sanitize_resource_name(r): r.value for r in primary_container.resources.limits}
            requests = {_sanitize_resource_name(r): r.value for r in primary_container.resources.requests}
            if limits or requests:
                # Only replace the template's resources when the task declares some.
                container.resources = V1ResourceRequirements(limits=limits, requests=requests)
            _check_container_resources(container, f"pod_template.containers[{name!r}]")
            if primary_container.env is not None:
                container.env = [V1EnvVar(name=k, value=v) for k, v in primary_container.env.items()] + (
                    container.env or []
                )
        else:
            container.image = get_registerable_container_image(container.image, settings.image_config)
        final_containers.append(container)
    pod_template.pod_spec.containers = final_containers
    return ApiClient().sanitize_for_serialization(pod_template.pod_spec)
