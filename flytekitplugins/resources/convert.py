"""Resources to flyteidl: the one place a user's values become IDL resource entries.

Every emitted value is a string: a valid ``str`` unchanged (so the IDL is byte-identical to
stock flytekit's), an ``int`` its decimal digits, a ``float`` the canonical quantity of its
shortest repr. Zero is kept. The entry order of each stock code path is kept too.
"""

from __future__ import annotations

import warnings
from typing import Any, Dict, List, Optional, Tuple, Union

from flyteidl.core import tasks_pb2
from flytekit.core import resources as _stock
from flytekit.core.constants import SHARED_MEMORY_MOUNT_NAME, SHARED_MEMORY_MOUNT_PATH
from flytekit.extras.accelerators import BaseAccelerator
from flytekit.models import task as task_models

from .accelerators import is_device_resource, partition_of, resource_name_for
from .k8s.resourcenames import RESOURCE_NAMES
from .quantity import Quantity, ResourceValidationError
from .resources import (
    FIELDS,
    Resources,
    ResourceSpec,
    ResourceValueWarning,
    check_override_within_task,
    check_request_within_limit,
    gpu_accelerator,
    gpu_spec,
    parse_field_value,
    require_resources,
    scalar_value,
    with_gpu_counts,
)

__all__ = [
    "SHARED_MEMORY_MOUNT_NAME",
    "SHARED_MEMORY_MOUNT_PATH",
    "check_shared_memory",
    "check_template_accelerator",
    "construct_extended_resources",
    "container_definition",
    "convert_resources_to_resource_model",
    "describe_accelerator",
    "get_extended_resources",
    "resolve_accelerator",
    "resolve_override_arguments",
    "shared_memory_size",
]

_IDL_NAME = {r.field: r.idl for r in RESOURCE_NAMES}
# flytekit's _get_container_definition lists ephemeral storage, cpu, gpu, memory, in that order.
_CONTAINER_ORDER = ("ephemeral_storage", "cpu", "gpu", "mem")
#: the Resources classes whose four fields are all there is to them (the cache key below relies on it)
_PLAIN_RESOURCES = (_stock.Resources, Resources)


def _entries(
    resources: Optional[Resources], argument: str, order=FIELDS
) -> Tuple[List[task_models.Resources.ResourceEntry], Dict[str, Quantity]]:
    """The IDL entries for ``resources`` in ``order``, and the parsed quantities by field."""
    require_resources(resources, argument)
    entries = []
    quantities: Dict[str, Quantity] = {}
    if resources is None:
        return entries, quantities
    for field in order:  # a plain loop: this runs for every task serialized
        value = getattr(resources, field)
        if value is None:
            continue
        if isinstance(value, (tuple, list)):
            raise ResourceValidationError(
                f"a (request, limit) pair is only accepted by resources= ({value} can not be a list or tuple)",
                field=f"{argument}.{field}",
                value=value,
                hint=f"give a single value in {argument}=, or pass resources=Resources({field}={tuple(value)!r})",
            )
        quantities[field], text = scalar_value(field, value)
        entries.append(task_models.Resources.ResourceEntry(_IDL_NAME[field], text))
    return entries, quantities


def convert_resources_to_resource_model(
    requests: Optional[Resources] = None,
    limits: Optional[Resources] = None,
) -> task_models.Resources:
    """Convert flytekit ``Resources`` requests and limits to the IDL ``Resources`` model.

    Values are validated; a request above its limit raises :class:`ResourceValidationError`.
    """
    for argument, resources in (("requests", requests), ("limits", limits)):
        gpu = getattr(resources, "gpu", None)
        if isinstance(gpu, str) and gpu_spec(gpu) is not None:
            raise ResourceValidationError(
                "names an accelerator, which a resource list cannot carry (only the count would remain)",
                field=f"{argument}.gpu", value=gpu,
                hint=f"give the count here (gpu='{gpu_spec(gpu).count}') and the accelerator to the task: "
                "@task(accelerator=...) or @task(resources=Resources(gpu=...))",
            )
    request_entries, q_requests = _entries(requests, "requests")
    limit_entries, q_limits = _entries(limits, "limits")
    check_request_within_limit(requests, limits, (q_requests, q_limits))
    return task_models.Resources(requests=request_entries, limits=limit_entries)


#: (requests' values and types, limits' values and types) -> (limit entries, request entries), validated.
#: ResourceEntry objects are immutable, so the same ones can serve every container with these values.
_CONTAINER_RESOURCES: Dict[Any, Tuple[tuple, tuple]] = {}
_CONTAINER_CACHE_SIZE = 4096


def _container_resources(
    requests: Optional[Resources], limits: Optional[Resources]
) -> Tuple[tuple, tuple]:
    entries_r, q_requests = _entries(requests, "requests", _CONTAINER_ORDER)
    entries_l, q_limits = _entries(limits, "limits", _CONTAINER_ORDER)
    check_request_within_limit(requests, limits, (q_requests, q_limits))
    return tuple(entries_l), tuple(entries_r)


def container_definition(
    image: str,
    resource_spec: ResourceSpec,
    command: List[str],
    args: Optional[List[str]] = None,
    data_loading_config: Optional[task_models.DataLoadingConfig] = None,
    environment: Optional[Dict[str, str]] = None,
) -> task_models.Container:
    """flytekit's ``_get_container_definition``, with values validated and serialized as strings.

    Unlike stock flytekit, a zero value (``cpu=0``) is kept rather than dropped. This runs for every
    task serialized: the validated entries are remembered per distinct set of values.
    """
    requests, limits = resource_spec.requests, resource_spec.limits
    key = None
    if type(requests) in _PLAIN_RESOURCES and type(limits) in _PLAIN_RESOURCES:
        key = (
            requests.cpu, type(requests.cpu), requests.mem, type(requests.mem),
            requests.gpu, type(requests.gpu), requests.ephemeral_storage, type(requests.ephemeral_storage),
            limits.cpu, type(limits.cpu), limits.mem, type(limits.mem),
            limits.gpu, type(limits.gpu), limits.ephemeral_storage, type(limits.ephemeral_storage),
        )
        try:
            cached = _CONTAINER_RESOURCES.get(key)
        except TypeError:  # an unhashable value: validated below, without the cache
            key = cached = None
    else:
        cached = None
    if cached is None:
        cached = _container_resources(requests, limits)
        if key is not None:
            if len(_CONTAINER_RESOURCES) >= _CONTAINER_CACHE_SIZE:
                _CONTAINER_RESOURCES.clear()
            _CONTAINER_RESOURCES[key] = cached
    return task_models.Container(
        image=image,
        command=command,
        args=args,
        resources=task_models.Resources(limits=list(cached[0]), requests=list(cached[1])),
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
        size = scalar_value("shared_memory", shared_memory)[1]
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


def describe_accelerator(accelerator: BaseAccelerator) -> str:
    """``"nvidia-h100 partition 3g.40gb"``: an accelerator as the cluster will see it."""
    msg = accelerator.to_flyte_idl()
    which = msg.WhichOneof("partition_size_value")
    if which == "partition_size":
        return f"{msg.device} partition {msg.partition_size}"
    return msg.device + (" (unpartitioned)" if which == "unpartitioned" else "")


def resolve_accelerator(
    explicit: Optional[BaseAccelerator], *resources: Optional[Resources]
) -> Optional[BaseAccelerator]:
    """The task's accelerator: the explicit one, or the one ``gpu="A100:2"`` names; they must agree.

    They agree when the device is the same and they do not name different partitions; the more
    specific of the two is used.
    """
    implied = gpu_accelerator(*resources)
    if implied is None:
        return explicit
    if explicit is None:
        return implied
    if not isinstance(explicit, BaseAccelerator):
        return explicit  # construct_extended_resources reports it
    explicit_idl, implied_idl = explicit.to_flyte_idl(), implied.to_flyte_idl()
    same_device = explicit_idl.device == implied_idl.device
    explicit_partition, implied_partition = partition_of(explicit), implied.partition
    # "unpartitioned" is a choice too: it disagrees with a named partition (either way round)
    unpartitioned_vs_named = (_unpartitioned(explicit_idl) and isinstance(implied_partition, str)) or (
        _unpartitioned(implied_idl) and bool(explicit_partition))
    if not same_device or unpartitioned_vs_named or (
        explicit_partition and implied_partition and explicit_partition != implied_partition
    ):
        gpu_values = [getattr(r, "gpu", None) for r in resources if r is not None and getattr(r, "gpu", None)]
        raise ResourceValidationError(
            f"disagrees with gpu={gpu_values[0]!r}, which names {describe_accelerator(implied)}",
            field="accelerator",
            value=describe_accelerator(explicit),
            hint="name the accelerator once: drop accelerator=, or make gpu= a plain count",
        )
    return explicit if explicit_partition or not implied_partition else implied


def _unpartitioned(msg: tasks_pb2.GPUAccelerator) -> bool:
    return msg.WhichOneof("partition_size_value") == "unpartitioned" and msg.unpartitioned


def _get(obj: Any, name: str) -> Any:
    """An attribute of a kubernetes model object or a key of its dict form."""
    if isinstance(obj, dict):
        camel = "".join(w.capitalize() if i else w for i, w in enumerate(name.split("_")))
        return obj.get(name, obj.get(camel))
    return getattr(obj, name, None)


def check_shared_memory(
    shared_memory: Any, pod_template: Any, memory_limit: Any, *, task: Optional[str] = None
) -> None:
    """Refuse shared memory that flytepropeller would refuse at run time, and warn when it cannot fit.

    flytepropeller rejects a task whose pod template already has a volume named
    ``SHARED_MEMORY_MOUNT_NAME`` or whose primary container already mounts ``/dev/shm``.
    A memory-backed ``/dev/shm`` counts against the container's memory limit.
    """
    if shared_memory is None or shared_memory is False:
        return
    spec = getattr(pod_template, "pod_spec", None)
    primary = getattr(pod_template, "primary_container_name", None)
    container = next((c for c in _get(spec, "containers") or [] if _get(c, "name") == primary), None)
    if spec is not None:
        for volume in _get(spec, "volumes") or []:
            if _get(volume, "name") == SHARED_MEMORY_MOUNT_NAME:
                raise ResourceValidationError(
                    f"the pod template already has a volume named {SHARED_MEMORY_MOUNT_NAME!r}",
                    field="shared_memory", value=shared_memory, task=task,
                    hint="flytepropeller would reject the task when it runs; drop shared_memory= or the volume",
                )
        for mount in _get(container, "volume_mounts") or []:
            path, name = _get(mount, "mount_path"), _get(mount, "name")
            if path == SHARED_MEMORY_MOUNT_PATH or name == SHARED_MEMORY_MOUNT_NAME:
                raise ResourceValidationError(
                    f"the pod template already mounts {path} in container {primary!r}",
                    field="shared_memory", value=shared_memory, task=task,
                    hint="flytepropeller would reject the task ('/dev/shm is already mounted in container'); "
                    "drop shared_memory= or the template's mount",
                )
    if memory_limit is None and container is not None:  # the template's own memory limit counts too
        memory_limit = (_get(_get(container, "resources"), "limits") or {}).get("memory")
    if shared_memory is True or memory_limit is None or isinstance(memory_limit, (tuple, list)):
        return
    size = parse_field_value("shared_memory", shared_memory)
    limit = parse_field_value("mem", memory_limit)
    if size > limit:
        who = f"task {task!r}: " if task else ""
        warnings.warn(
            f"{who}shared_memory={shared_memory!r} is larger than the memory limit {memory_limit!r}; a memory-backed "
            "/dev/shm counts against the limit, so the container is killed before /dev/shm fills",
            ResourceValueWarning,
            stacklevel=3,
        )


def get_extended_resources(task: Any, settings: Any = None) -> Optional[tasks_pb2.ExtendedResources]:
    """``get_extended_resources`` of any flytekit task: the accelerator (explicit, or named by
    ``gpu="A100:2"``) and the shared memory, checked against the task's pod template and memory limit.

    A task without resources, accelerator or shared memory has none, as in stock flytekit; a
    ``ContainerTask`` with ``gpu="A100:2"`` gets its accelerator instead of silently losing it.
    """
    spec = getattr(task, "resources", None)
    requests, limits = (spec.requests, spec.limits) if isinstance(spec, _stock.ResourceSpec) else (None, None)
    explicit = getattr(task, "accelerator", None)
    shared_memory = getattr(task, "shared_memory", None)
    if explicit is None and shared_memory is None and gpu_accelerator(requests, limits) is None:
        return None  # the common case, for every task serialized: nothing to resolve or check
    accelerator = resolve_accelerator(explicit, requests, limits)
    template = getattr(task, "pod_template", None)
    check_template_accelerator(template, accelerator, task=getattr(task, "name", None))
    check_shared_memory(shared_memory, template, getattr(limits, "mem", None), task=getattr(task, "name", None))
    return construct_extended_resources(accelerator=accelerator, shared_memory=shared_memory)


def _override_target(node: Any) -> Any:
    """The task whose resources a node override replaces: the node's task, or a map task's mapped task."""
    entity = getattr(node, "flyte_entity", None)
    if not isinstance(getattr(entity, "resources", None), _stock.ResourceSpec):
        mapped = getattr(entity, "python_function_task", None)  # ArrayNodeMapTask (map_task)
        if mapped is not None:
            return mapped
    return entity


def resolve_override_arguments(arguments: Dict[str, Any], node: Any) -> None:
    """For ``Node.with_overrides``: fill in the accelerator that the overridden ``gpu=`` names, and
    check the overridden values against the task's (a map task's: the mapped task's) resources,
    accelerator, pod template and shared memory (``arguments`` is the bound argument dict, changed in place)."""
    if arguments.get("resources") is not None and (
        arguments.get("requests") is not None or arguments.get("limits") is not None
    ):
        raise ResourceValidationError(  # stock flytekit's words, kept for code that matches on them
            "`resource` can not be used together with the `limits` or `requests`. Please only set `resource`.",
            field="resources", value=arguments["resources"],
            hint="give resources=Resources(cpu=(request, limit)) alone, or requests= and limits=",
        )
    for key in ("requests", "limits"):
        value = arguments.get(key)
        if value and not isinstance(value, _stock.Resources):
            raise ResourceValidationError(
                f"{key} should be specified as flytekit.Resources", field=key, value=value,
                hint=f"write {key}=Resources(cpu='1', mem='1Gi')",
            )
    overrides = [arguments.get(k) for k in ("resources", "requests", "limits")]
    accelerator = resolve_accelerator(arguments.get("accelerator"), *overrides)
    if accelerator is not None:
        arguments["accelerator"] = accelerator
    for key in ("resources", "requests", "limits"):  # the accelerator is taken: flytekit gets the counts
        if arguments.get(key) is not None:
            arguments[key] = with_gpu_counts(arguments[key])

    entity = _override_target(node)
    requests, limits = arguments.get("requests"), arguments.get("limits")
    if arguments.get("resources") is not None:
        spec = ResourceSpec.from_multiple_resource(arguments["resources"])
        requests, limits = spec.requests, spec.limits
    task_spec = getattr(entity, "resources", None)
    if isinstance(task_spec, _stock.ResourceSpec) and (requests is not None or limits is not None):
        check_override_within_task(requests, limits, task_spec)

    # the accelerator and the pod template in effect: the override's, else the task's
    if accelerator is not None or arguments.get("pod_template") is not None:
        template = arguments.get("pod_template") or getattr(entity, "pod_template", None)
        in_effect = accelerator
        if in_effect is None:
            in_effect = getattr(entity, "accelerator", None)
            if in_effect is None and isinstance(task_spec, _stock.ResourceSpec):
                in_effect = gpu_accelerator(task_spec.requests, task_spec.limits)
        check_template_accelerator(template, in_effect)

    # the shared memory and the pod template in effect: the override's, else the task's
    if arguments.get("shared_memory") is not None or arguments.get("pod_template") is not None:
        shared_memory = arguments.get("shared_memory")
        if shared_memory is None:
            shared_memory = getattr(entity, "shared_memory", None)
        template = arguments.get("pod_template") or getattr(entity, "pod_template", None)
        memory_limit = getattr(limits, "mem", None)
        if memory_limit is None and isinstance(task_spec, _stock.ResourceSpec):
            memory_limit = task_spec.limits.mem
        check_shared_memory(shared_memory, template, memory_limit)


#: the node labels flytepropeller (and pod.with_accelerator) select an accelerator's device by
_DEVICE_NODE_LABELS = ("k8s.amazonaws.com/accelerator", "cloud.google.com/gke-tpu-accelerator")


def check_template_accelerator(pod_template: Any, accelerator: Any, *, task: Optional[str] = None) -> None:
    """Refuse an accelerator that the pod template's required node affinity or its primary container's
    device resources already give to another device: the pod could never be scheduled."""
    if accelerator is None or pod_template is None or not isinstance(accelerator, BaseAccelerator):
        return
    spec = getattr(pod_template, "pod_spec", None)
    if spec is None:
        return
    device = accelerator.to_flyte_idl().device
    wanted = describe_accelerator(accelerator)
    node_affinity = _get(_get(spec, "affinity"), "node_affinity")
    required = _get(node_affinity, "required_during_scheduling_ignored_during_execution")
    for term in _get(required, "node_selector_terms") or []:
        for expression in _get(term, "match_expressions") or []:
            key, operator, values = _get(expression, "key"), _get(expression, "operator"), _get(expression, "values")
            if key in _DEVICE_NODE_LABELS and operator == "In" and device not in (values or []):
                raise ResourceValidationError(
                    f"the pod template already requires {key} In {list(values or [])}: "
                    "node-affinity requirements are ANDed, so the pod could never be scheduled",
                    field="accelerator", value=wanted, task=task,
                    hint="a pod runs on one kind of accelerator: build the template for this device "
                    "(pod.with_accelerator) or drop the task's accelerator",
                )
    primary = getattr(pod_template, "primary_container_name", None)
    container = next((c for c in _get(spec, "containers") or [] if _get(c, "name") == primary), None)
    resources = _get(container, "resources")
    declared = {k for kind in ("requests", "limits") for k in (_get(resources, kind) or {})
                if isinstance(k, str) and is_device_resource(k)}
    vendor = resource_name_for(accelerator)
    others = {k for k in declared
              if k != vendor and not (vendor == "nvidia.com/gpu" and k.startswith("nvidia.com/mig-"))}
    if others:
        raise ResourceValidationError(
            f"the pod template's container {primary!r} already requests {', '.join(sorted(others))}, "
            f"another vendor's device than {vendor}",
            field="accelerator", value=wanted, task=task,
            hint="a pod runs on one kind of accelerator: build the template for this device "
            "(pod.with_accelerator) or drop the task's accelerator",
        )
