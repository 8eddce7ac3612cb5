"""Resources to flyteidl: the one place a user's values become IDL resource entries.

Every emitted value is a string: a valid ``str`` unchanged (so the IDL is byte-identical to
stock flytekit's), an ``int`` its decimal digits, a ``float`` the canonical quantity of its
shortest repr. Zero is kept. The entry order of each stock code path is kept too.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple, Union

from flyteidl.core import tasks_pb2
from flytekit.core import resources as _stock
from flytekit.core.constants import SHARED_MEMORY_MOUNT_NAME, SHARED_MEMORY_MOUNT_PATH
from flytekit.extras.accelerators import BaseAccelerator
from flytekit.models import task as task_models

from .quantity import Quantity, ResourceValidationError
from .resources import (
    FIELDS,
    Resources,
    ResourceSpec,
    check_request_within_limit,
    emitted_string,
    iter_set_fields,
    parse_field_value,
)

__all__ = [
    "SHARED_MEMORY_MOUNT_NAME",
    "SHARED_MEMORY_MOUNT_PATH",
    "construct_extended_resources",
    "container_definition",
    "convert_resources_to_resource_model",
    "shared_memory_size",
]

_IDL_NAME = {
    "cpu": task_models.Resources.ResourceName.CPU,
    "mem": task_models.Resources.ResourceName.MEMORY,
    "gpu": task_models.Resources.ResourceName.GPU,
    "ephemeral_storage": task_models.Resources.ResourceName.EPHEMERAL_STORAGE,
}
# flytekit's _get_container_definition lists ephemeral storage, cpu, gpu, memory, in that order.
_CONTAINER_ORDER = ("ephemeral_storage", "cpu", "gpu", "mem")


def _require_resources(value: Any, argument: str) -> None:
    if value is not None and not isinstance(value, _stock.Resources):
        raise ResourceValidationError(
            f"must be a flytekit Resources, not {type(value).__name__}",
            field=argument,
            value=value,
            hint=f"write {argument}=Resources(cpu='1', mem='1Gi')",
        )


def _entries(
    resources: Optional[Resources], argument: str, order=FIELDS
) -> Tuple[List[task_models.Resources.ResourceEntry], Dict[str, Quantity]]:
    """The IDL entries for ``resources`` in ``order``, and the parsed quantities by field."""
    _require_resources(resources, argument)
    entries = []
    quantities: Dict[str, Quantity] = {}
    for field, value in iter_set_fields(resources, order):
        if isinstance(value, (tuple, list)):
            raise ResourceValidationError(
                "a (request, limit) pair is only accepted by resources=",
                field=f"{argument}.{field}",
                value=value,
                hint=f"give a single value in {argument}=, or pass resources=Resources({field}={tuple(value)!r})",
            )
        quantities[field] = q = parse_field_value(field, value)
        entries.append(task_models.Resources.ResourceEntry(_IDL_NAME[field], emitted_string(value, q)))
    return entries, quantities


def convert_resources_to_resource_model(
    requests: Optional[Resources] = None,
    limits: Optional[Resources] = None,
) -> task_models.Resources:
    """Convert flytekit ``Resources`` requests and limits to the IDL ``Resources`` model.

    Values are validated; a request above its limit raises :class:`ResourceValidationError`.
    """
    request_entries, q_requests = _entries(requests, "requests")
    limit_entries, q_limits = _entries(limits, "limits")
    check_request_within_limit(requests, limits, (q_requests, q_limits))
    return task_models.Resources(requests=request_entries, limits=limit_entries)


def container_definition(
    image: str,
    resource_spec: ResourceSpec,
    command: List[str],
    args: Optional[List[str]] = None,
    data_loading_config: Optional[task_models.DataLoadingConfig] = None,
    environment: Optional[Dict[str, str]] = None,
) -> task_models.Container:
    """flytekit's ``_get_container_definition``, with values validated and serialized as strings.

    Unlike stock flytekit, a zero value (``cpu=0``) is kept rather than dropped.
    """
    requests, q_requests = _entries(resource_spec.requests, "requests", _CONTAINER_ORDER)
    limits, q_limits = _entries(resource_spec.limits, "limits", _CONTAINER_ORDER)
    check_request_within_limit(resource_spec.requests, resource_spec.limits, (q_requests, q_limits))
    return task_models.Container(
        image=image,
        command=command,
        args=args,
        resources=task_models.Resources(limits=limits, requests=requests),
        env={} if environment is None else environment,
        config={},
        data_loading_config=data_loading_config,
    )


def shared_memory_size(shared_memory: Any) -> Optional[str]:
    """The ``size_limit`` for ``shared_memory=``: ``None`` for ``True`` (node-sized), else the validated size.

    ``False``/``None`` mean no shared memory and are not passed here.
    """
    if shared_memory is True:
        return None
    if isinstance(shared_memory, (str, int)) and not isinstance(shared_memory, bool):
        q = parse_field_value("shared_memory", shared_memory, warn=True)
        size = emitted_string(shared_memory, q)
        if q.sign() == 0:
            raise ResourceValidationError(
                "a shared memory of size 0 holds nothing",
                field="shared_memory",
                value=shared_memory,
                hint="give a size such as '1Gi', True for a node-sized /dev/shm, or leave it unset",
            )
        return size
    raise ResourceValidationError(
        f"must be True or a size, not {type(shared_memory).__name__}",
        field="shared_memory",
        value=shared_memory,
        hint="write shared_memory=True (as large as the node allows) or shared_memory='2Gi'",
    )


def construct_extended_resources(
    *,
    accelerator: Optional[BaseAccelerator] = None,
    shared_memory: Optional[Union[bool, str]] = None,
) -> Optional[tasks_pb2.ExtendedResources]:
    """Convert an accelerator and shared memory to IDL ``ExtendedResources`` (``None`` when neither is set).

    :param accelerator: a ``flytekit.extras.accelerators.BaseAccelerator``.
    :param shared_memory: ``True`` for shared memory as large as the node allows, or a size such as ``"2Gi"``.
    """
    kwargs: Dict[str, Any] = {}
    if accelerator is not None:
        if not isinstance(accelerator, BaseAccelerator):
            raise ResourceValidationError(
                f"must be a flytekit accelerator, not {type(accelerator).__name__}",
                field="accelerator",
                value=accelerator,
                hint="use a constant such as flytekit.extras.accelerators.A100, or GPUAccelerator('nvidia-tesla-a100')",
            )
        kwargs["gpu_accelerator"] = accelerator.to_flyte_idl()
    if shared_memory is not None and shared_memory is not False:
        kwargs["shared_memory"] = tasks_pb2.SharedMemory(
            mount_name=SHARED_MEMORY_MOUNT_NAME,
            mount_path=SHARED_MEMORY_MOUNT_PATH,
            size_limit=shared_memory_size(shared_memory),
        )
    if not kwargs:
        return None
    return tasks_pb2.ExtendedResources(**kwargs)
