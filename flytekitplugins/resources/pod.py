"""Resources to Kubernetes: pod specs, pod-template helpers, and a task's primary container.

``kubernetes`` is imported inside the functions, never at import time (it costs ~0.8 s).
Every resource value written into a pod spec is a string, which both the classic (<=36) and
the pydantic (37) kubernetes models accept.

The helpers build or extend a flytekit ``PodTemplate`` and always return a new one; their
input is never changed::

    template = pod.with_accelerator(pod.with_shared_memory(pod.pod_template(), "16Gi"), "A100:2")

Merging a task's resources into its pod template's primary container: for each resource, in
requests and in limits separately, the task's value wins; the template's other resources are
kept; other containers are untouched. The merged requests must not exceed the merged limits.
"""

from __future__ import annotations

import copy
import functools
from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Optional, Tuple

from flytekit.core.pod_template import PodTemplate

from .accelerators import GOOGLE_TPU, NVIDIA_GPU, is_device_resource, partition_of, resource_name_for
from .convert import SHARED_MEMORY_MOUNT_NAME, SHARED_MEMORY_MOUNT_PATH, check_shared_memory, shared_memory_size
from .k8s.resourcenames import RESOURCE_NAMES
from .quantity import Quantity, ResourceValidationError
from .resources import (
    Resources,
    check_request_within_limit,
    compare_request_limit,
    gpu_accelerator,
    gpu_spec,
    iter_set_fields,
    parse_field_value,
    require_resources,
    scalar_value,
)

if TYPE_CHECKING:
    from flytekit.configuration import SerializationSettings
    from flytekit.models import task as task_models
    from kubernetes.client import V1PodSpec

__all__ = [
    "DEFAULT_DEVICE_NODE_LABEL",
    "DEFAULT_PARTITION_NODE_LABEL",
    "pod_spec_from_resources",
    "pod_template",
    "serialize_pod_spec",
    "with_accelerator",
    "with_env",
    "with_node_selector",
    "with_resources",
    "with_shared_memory",
    "with_tolerations",
    "with_volumes",
]

#: flytepropeller's default node labels for an accelerator's device and partition
DEFAULT_DEVICE_NODE_LABEL = "k8s.amazonaws.com/accelerator"
DEFAULT_PARTITION_NODE_LABEL = "k8s.amazonaws.com/gpu-partition-size"
#: flytepropeller's labels for Google TPUs (its GOOGLE_TPU device class)
_TPU_DEVICE_NODE_LABEL = "cloud.google.com/gke-tpu-accelerator"
_TPU_PARTITION_NODE_LABEL = "cloud.google.com/gke-tpu-topology"
_MIG_STRATEGIES = ("single", "mixed")

_K8S_NAME = {r.field: r.pod_spec for r in RESOURCE_NAMES}  # gpu's key is chosen by _gpu_key
_FIELD_FOR_K8S = {r.pod_spec: r.field for r in RESOURCE_NAMES if r.field != "gpu"}  # GPUs: any device name


def _gpu_key(
    requests: Optional[Resources], limits: Optional[Resources], given: Optional[str], mig_strategy: str
) -> str:
    """The resource name GPUs are requested under: ``given``, else the vendor's for ``gpu="MODEL:N"``.

    With ``mig_strategy="mixed"`` a MIG partition is requested as the GPU operator's
    ``nvidia.com/mig-<profile>`` resource.
    """
    accelerator = gpu_accelerator(requests, limits)
    device_key = _device_resource_name(accelerator, mig_strategy)
    return given if given is not None else device_key


def _device_resource_name(accelerator: Any, mig_strategy: str) -> str:
    """The resource an accelerator's devices are requested under (a MIG partition under
    ``nvidia.com/mig-<profile>`` with the GPU operator's mixed strategy)."""
    if mig_strategy not in _MIG_STRATEGIES:
        raise ResourceValidationError(f"must be one of {_MIG_STRATEGIES}", field="mig_strategy", value=mig_strategy)
    key = resource_name_for(accelerator)
    partition = partition_of(accelerator) if accelerator is not None else None
    if mig_strategy == "mixed" and partition and key == NVIDIA_GPU:
        return f"nvidia.com/mig-{partition}"
    return key


def _k8s_resources(
    resources: Optional[Resources], argument: str, gpu_key: str
) -> Tuple[Optional[Dict[str, str]], Dict[str, Quantity]]:
    """Kubernetes resource names -> value strings, and the parsed quantities by field."""
    quantities: Dict[str, Quantity] = {}
    require_resources(resources, argument)
    if resources is None:
        return None, quantities
    out: Dict[str, str] = {}
    for field, value in iter_set_fields(resources):
        if isinstance(value, (tuple, list)):
            raise ResourceValidationError(
                f"a (request, limit) pair is not accepted here ({value} can not be a list or tuple)",
                field=f"{argument}.{field}",
                value=value,
                hint="pass the request in requests= and the limit in limits=",
            )
        quantities[field], out[gpu_key if field == "gpu" else _K8S_NAME[field]] = scalar_value(field, value)
    return out, quantities


def pod_spec_from_resources(
    primary_container_name: Optional[str] = None,
    requests: Optional[Resources] = None,
    limits: Optional[Resources] = None,
    k8s_gpu_resource_key: Optional[str] = None,
    *,
    mig_strategy: str = "single",
) -> V1PodSpec:
    """A pod spec with one container that has these requests and limits (as strings).

    As in flytekit, when only one of requests and limits is given it is used for both. GPUs are
    requested under ``k8s_gpu_resource_key`` when given, else under the vendor's resource name of
    the accelerator ``gpu=`` names (``"MI300X:2"`` -> ``amd.com/gpu``), else ``nvidia.com/gpu``.
    ``mig_strategy="mixed"`` requests a MIG partition as ``nvidia.com/mig-<profile>``.
    """
    from kubernetes.client import V1Container, V1PodSpec, V1ResourceRequirements

    if not isinstance(primary_container_name, str) or not primary_container_name:
        raise ResourceValidationError(
            "a pod spec's container needs a name", field="primary_container_name", value=primary_container_name,
            hint="pass the name of the container these resources are for, e.g. 'primary'",
        )
    if k8s_gpu_resource_key is not None and (not isinstance(k8s_gpu_resource_key, str) or not k8s_gpu_resource_key):
        raise ResourceValidationError(
            "must be a Kubernetes resource name", field="k8s_gpu_resource_key", value=k8s_gpu_resource_key,
            hint="such as 'nvidia.com/gpu', or None for the vendor's name",
        )
    gpu_key = _gpu_key(requests, limits, k8s_gpu_resource_key, mig_strategy)
    k8s_requests, q_requests = _k8s_resources(requests, "requests", gpu_key)
    k8s_limits, q_limits = _k8s_resources(limits, "limits", gpu_key)
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


def _template_device_key(resources: Any) -> Optional[str]:
    """The one accelerator-device resource a container declares (``amd.com/gpu``...), if exactly one."""
    keys = {k for kind in ("requests", "limits") for k in _get_map(resources, kind) if is_device_resource(k)}
    return keys.pop() if len(keys) == 1 else None


def _get_map(resources: Any, kind: str) -> Dict[str, Any]:
    return dict(getattr(resources, kind, None) or {}) if resources is not None else {}


def _check_container_resources(container: Any, where: str) -> None:
    """Validate the quantities a pod template's container declares itself."""
    resources = getattr(container, "resources", None)
    if resources is None:
        return
    quantities = {}
    fields: Dict[str, str] = {}
    for kind in ("requests", "limits"):
        for name, value in (getattr(resources, kind, None) or {}).items():
            field = _FIELD_FOR_K8S.get(name, "gpu" if name == "gpu" or is_device_resource(name) else None)
            label = f"{where}.resources.{kind}[{name!r}]"
            if field is None:
                continue  # other extended resources (hugepages...) are the cluster's business
            fields[name] = field
            try:
                quantities[(kind, name)] = parse_field_value(field, value)
            except ResourceValidationError as e:
                raise ResourceValidationError(e.problem, field=label, value=value, hint=e.hint) from None
    for (kind, name), q_request in quantities.items():
        q_limit = quantities.get(("limits", name))
        if kind != "requests" or q_limit is None:
            continue
        request, limit = resources.requests[name], resources.limits[name]
        compare_request_limit(fields[name], request, limit, q_request, q_limit,
                              field=f"{where}.resources[{name!r}]", value=(request, limit))


def serialize_pod_spec(
    pod_template: PodTemplate,
    primary_container: task_models.Container,
    settings: SerializationSettings,
) -> Dict[str, Any]:
    """flytekit's ``_serialize_pod_spec``: the pod template's spec with the task's container merged
    into its primary container (image, command, args, resources, env), as a JSON-ready dict."""
    from flytekit.core.python_auto_container import get_registerable_container_image
    from kubernetes.client.models import V1Container, V1EnvVar, V1ResourceRequirements

    _require_pod_template(pod_template)
    if pod_template.pod_spec is None:
        return {}

    # Stock flytekit deep-copies the whole template; only the pod spec and its containers get new
    # attribute values here (nothing nested is changed in place), so shallow copies of those are enough.
    name = pod_template.primary_container_name
    pod_spec = copy.copy(pod_template.pod_spec)
    containers = list(pod_spec.containers or [])
    if not any(c.name == name for c in containers):
        containers.append(V1Container(name=name))

    final_containers = []
    for container in containers:
        container = copy.copy(container)
        if container.name == name:
            if container.image is None:
                container.image = primary_container.image
            else:
                container.image = get_registerable_container_image(container.image, settings.image_config)
            container.command = primary_container.command
            container.args = primary_container.args

            limits = {_sanitize_resource_name(r): r.value for r in primary_container.resources.limits}
            requests = {_sanitize_resource_name(r): r.value for r in primary_container.resources.requests}
            device = _template_device_key(container.resources)
            if device is not None:  # the task's "gpu" is the device the template already names
                limits = {device if k == "gpu" else k: v for k, v in limits.items()}
                requests = {device if k == "gpu" else k: v for k, v in requests.items()}
            if limits or requests:
                # The task's value wins per resource; the template's other resources are kept.
                own = container.resources
                container.resources = V1ResourceRequirements(
                    limits={**_get_map(own, "limits"), **limits},
                    requests={**_get_map(own, "requests"), **requests},
                    claims=getattr(own, "claims", None),
                )
            _check_container_resources(container, f"pod_template.containers[{name!r}]")
            if primary_container.env is not None:
                container.env = [V1EnvVar(name=k, value=v) for k, v in primary_container.env.items()] + (
                    container.env or []
                )
        else:
            container.image = get_registerable_container_image(container.image, settings.image_config)
        final_containers.append(container)
    pod_spec.containers = final_containers
    return _classic_client().sanitize_for_serialization(pod_spec)


# ------------------------------------------------------------------ pod-template helpers


def _copy(template: Optional[PodTemplate]) -> PodTemplate:
    """A deep copy of ``template`` (or a new empty one) with its primary container present."""
    from kubernetes.client import V1Container, V1PodSpec

    if template is None:
        template = PodTemplate()
    _require_pod_template(template)
    new = copy.deepcopy(template)
    if new.pod_spec is None:
        new.pod_spec = V1PodSpec(containers=[])
    if new.pod_spec.containers is None:
        new.pod_spec.containers = []
    if not any(c.name == new.primary_container_name for c in new.pod_spec.containers):
        new.pod_spec.containers.append(V1Container(name=new.primary_container_name))
    return new


def _require_pod_template(template: Any) -> None:
    from kubernetes.client import V1PodSpec

    if not isinstance(template, PodTemplate):
        raise ResourceValidationError(
            f"must be a flytekit PodTemplate, not {type(template).__name__}", field="pod_template", value=template,
            hint="build one with flytekitplugins.resources.pod.pod_template() or flytekit.PodTemplate(pod_spec=...)",
        )
    if template.pod_spec is not None and not isinstance(template.pod_spec, V1PodSpec):
        raise ResourceValidationError(
            f"must be a kubernetes V1PodSpec, not {type(template.pod_spec).__name__}", field="pod_template.pod_spec",
            value=template.pod_spec, hint="write PodTemplate(pod_spec=V1PodSpec(containers=[...]))",
        )


def _to_model(cls_name: str, value: Any, field: str) -> Any:
    """A kubernetes model from itself or from a dict of its fields (JSON camelCase or Python snake_case
    keys, nested too), the same on the classic (<=36) and pydantic (37) clients. Unknown keys, values of
    the wrong type and missing required fields are refused with the same error on every client."""
    import kubernetes.client as k8s

    cls = getattr(k8s, cls_name)
    if isinstance(value, cls):
        return value
    if not isinstance(value, dict):
        raise ResourceValidationError(
            f"must be a {cls_name} or a dict of its fields, not {type(value).__name__}", field=field, value=value
        )
    data = _json_form(cls, value, field)
    try:
        if hasattr(cls, "model_validate"):
            return cls.model_validate(data)
        return _classic_client()._ApiClient__deserialize(data, cls_name)
    except (ValueError, TypeError, AttributeError) as e:  # a constraint the checks above do not know
        problem = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ResourceValidationError(f"is not a valid {cls_name}: {problem}", field=field, value=value) from None


@functools.cache
def _classic_client() -> Any:
    """One ``ApiClient`` (building one reads the configuration and scans proxy variables: ~0.35 ms)."""
    from kubernetes.client import ApiClient

    return ApiClient()


@functools.cache
def _required_fields(cls: Any) -> Tuple[str, ...]:
    """The Python names of a model's required fields, on the pydantic (37) and classic (<=36) clients."""
    if hasattr(cls, "model_fields"):
        return tuple(name for name, info in cls.model_fields.items() if info.is_required())
    from kubernetes.client import Configuration

    config = Configuration()
    config.client_side_validation = True
    probe = cls.__new__(cls)
    probe.local_vars_configuration = config
    required = []
    for attr in cls.openapi_types:
        try:
            setattr(probe, attr, None)  # a classic model's setter refuses None for a required field
        except ValueError:
            required.append(attr)
        except Exception:  # pragma: no cover - a setter with other checks: not known to be required
            pass
    return tuple(required)


_SCALARS: Dict[str, Tuple[type, ...]] = {
    "str": (str,), "int": (int,), "bool": (bool,), "float": (int, float), "bytes": (bytes, str),
}


def _inner(kind: str, prefix: str, suffix: str) -> Optional[str]:
    """``list[X]``/``List[X]`` -> X, ``dict(str, X)``/``Dict[str, X]`` -> X, else None."""
    if kind.lower().startswith(prefix) and kind.endswith(suffix):
        return kind[len(prefix):-len(suffix)]
    return None


def _typed_value(kind: str, item: Any, field: str) -> Any:
    """``item`` checked against an openapi type (nested model dicts converted to JSON keys)."""
    import kubernetes.client as k8s

    if kind == "object":
        return item
    if kind in _SCALARS:
        wanted = _SCALARS[kind]
        if isinstance(item, wanted) and (kind == "bool" or not isinstance(item, bool)):
            return item
        raise ResourceValidationError(f"must be {'a' if kind != 'int' else 'an'} {kind}, not {type(item).__name__}",
                                      field=field, value=item)
    if kind == "datetime":
        import datetime

        if isinstance(item, (datetime.datetime, str)):
            return item
        raise ResourceValidationError(f"must be a datetime, not {type(item).__name__}", field=field, value=item)
    element = _inner(kind, "list[", "]")
    if element is not None:
        if not isinstance(item, (list, tuple)):
            raise ResourceValidationError(f"must be a list, not {type(item).__name__}", field=field, value=item)
        return [_typed_value(element, v, f"{field}[{i}]") for i, v in enumerate(item)]
    element = _inner(kind, "dict(str, ", ")") or _inner(kind, "dict[str, ", "]")
    if element is not None:
        if not isinstance(item, dict):
            raise ResourceValidationError(f"must be a dict, not {type(item).__name__}", field=field, value=item)
        out = {}
        for k, v in item.items():
            if not isinstance(k, str):
                raise ResourceValidationError(f"keys must be strings, not {type(k).__name__}", field=field, value=k)
            out[k] = _typed_value(element, v, f"{field}[{k!r}]")
        return out
    nested = getattr(k8s, kind, None)
    if not hasattr(nested, "attribute_map"):
        return item  # a type this check does not know: the model decides
    if isinstance(item, nested):
        return item
    if not isinstance(item, dict):
        raise ResourceValidationError(f"must be a {kind} or a dict of its fields, not {type(item).__name__}",
                                      field=field, value=item)
    return _json_form(nested, item, field)


def _json_form(cls: Any, value: Dict[str, Any], field: str) -> Dict[str, Any]:
    json_key = cls.attribute_map
    attr_of = {v: k for k, v in json_key.items()}
    out = {}
    given = set()
    for key, item in value.items():
        attr = (key if key in json_key else attr_of.get(key)) if isinstance(key, str) else None
        if attr is None:
            raise ResourceValidationError(
                f"is not a field of {cls.__name__}", field=field, value=key,
                hint=f"use one of {', '.join(sorted(json_key.values()))}",
            )
        if item is not None:
            item = _typed_value(cls.openapi_types[attr], item, f"{field}.{json_key[attr]}")
            given.add(attr)
        out[json_key[attr]] = item
    missing = [json_key[a] for a in _required_fields(cls) if a not in given]
    if missing:
        raise ResourceValidationError(
            f"lacks the required field{'s' if len(missing) > 1 else ''} {', '.join(missing)} of {cls.__name__}",
            field=field, value=value,
        )
    return out


def _string_map(value: Any, field: str) -> Dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ResourceValidationError("must be a dict of strings to strings", field=field, value=value,
                                      hint="for example {'pool': 'gpu'}")
    return dict(value)


def _model_list(cls_name: str, values: Any, field: str) -> List[Any]:
    if not isinstance(values, (list, tuple)):
        raise ResourceValidationError(f"must be a list of {cls_name} (or dicts)", field=field, value=values)
    return [_to_model(cls_name, v, f"{field}[{i}]") for i, v in enumerate(values)]


def _primary(template: PodTemplate) -> Any:
    return next(c for c in template.pod_spec.containers if c.name == template.primary_container_name)


def pod_template(
    primary_container_name: str = "primary",
    *,
    labels: Optional[Dict[str, str]] = None,
    annotations: Optional[Dict[str, str]] = None,
) -> PodTemplate:
    """A new ``PodTemplate`` whose pod spec has an empty primary container."""
    if not isinstance(primary_container_name, str) or not primary_container_name:
        stock_words = "" if primary_container_name else " (A primary container name cannot be undefined)"
        raise ResourceValidationError(
            "must be a non-empty string" + ("" if isinstance(primary_container_name, str)
                                            else f", not {type(primary_container_name).__name__}") + stock_words,
            field="primary_container_name", value=primary_container_name, hint="for example 'primary'",
        )
    labels = None if labels is None else _string_map(labels, "labels")
    annotations = None if annotations is None else _string_map(annotations, "annotations")
    return _copy(PodTemplate(primary_container_name=primary_container_name, labels=labels, annotations=annotations))


def with_node_selector(template: Optional[PodTemplate], node_selector: Dict[str, str]) -> PodTemplate:
    """A copy of ``template`` whose pod also needs nodes with these labels."""
    selector = _string_map(node_selector, "node_selector")
    new = _copy(template)
    new.pod_spec.node_selector = {**(new.pod_spec.node_selector or {}), **selector}
    return new


def with_tolerations(template: Optional[PodTemplate], tolerations: Iterable[Any]) -> PodTemplate:
    """A copy of ``template`` with these tolerations added (``V1Toleration`` objects or dicts)."""
    added = _model_list("V1Toleration", tolerations, "tolerations")
    new = _copy(template)
    existing = list(new.pod_spec.tolerations or [])
    new.pod_spec.tolerations = existing + [t for t in added if t not in existing]
    return new


def _require_node_labels(template: PodTemplate, requirements: List[Any]) -> None:
    """Add required node-affinity requirements to every term (terms are ORed), as flytepropeller does."""
    from kubernetes.client import V1Affinity, V1NodeAffinity, V1NodeSelector, V1NodeSelectorTerm

    spec = template.pod_spec
    spec.affinity = spec.affinity or V1Affinity()
    spec.affinity.node_affinity = spec.affinity.node_affinity or V1NodeAffinity()
    node_affinity = spec.affinity.node_affinity
    required = node_affinity.required_during_scheduling_ignored_during_execution
    if required is None or not required.node_selector_terms:
        node_affinity.required_during_scheduling_ignored_during_execution = V1NodeSelector(
            node_selector_terms=[V1NodeSelectorTerm(match_expressions=list(requirements))]
        )
        return
    for term in required.node_selector_terms:
        expressions = list(term.match_expressions or [])
        term.match_expressions = expressions + [r for r in requirements if r not in expressions]


def _refuse_other_targets(template: PodTemplate, requirements: List[Any]) -> None:
    """Node-affinity terms are ANDed: asking for a second device on the same label can never schedule."""
    affinity = template.pod_spec.affinity
    node_affinity = getattr(affinity, "node_affinity", None)
    required = getattr(node_affinity, "required_during_scheduling_ignored_during_execution", None)
    for term in getattr(required, "node_selector_terms", None) or []:
        for existing in term.match_expressions or []:
            for wanted in requirements:
                if existing.key == wanted.key and existing != wanted:
                    raise ResourceValidationError(
                        f"the pod template already requires {existing.key} {existing.operator} "
                        f"{existing.values or ''}".rstrip(),
                        field="accelerator", value=wanted.values[0] if wanted.values else wanted.operator,
                        hint="a pod runs on one kind of accelerator: start from a template without one",
                    )


def with_accelerator(
    template: Optional[PodTemplate],
    accelerator: Any,
    *,
    device_node_label: Optional[str] = None,
    partition_node_label: Optional[str] = None,
    tolerate: bool = True,
    mig_strategy: str = "single",
) -> PodTemplate:
    """A copy of ``template`` that schedules on ``accelerator`` the way flytepropeller does.

    ``accelerator`` is a flytekit or catalog accelerator, or a ``gpu=`` string such as
    ``"A100:2"`` / ``"H100 MIG 3g.40gb"`` (then the primary container also gets the devices, as
    request and limit, under the vendor's resource name). Adds a required node affinity on the
    device label (``In [device]``) and on the partition label (``In [profile]``, or
    ``DoesNotExist`` when unpartitioned), and with ``tolerate`` the matching ``NoSchedule``
    tolerations. The labels default to flytepropeller's (``k8s.amazonaws.com/accelerator`` and
    ``k8s.amazonaws.com/gpu-partition-size``; GKE's TPU labels for TPUs).
    """
    from kubernetes.client import V1NodeSelectorRequirement, V1Toleration

    for argument, label in (("device_node_label", device_node_label), ("partition_node_label", partition_node_label)):
        if label is not None and (not isinstance(label, str) or not label):
            raise ResourceValidationError(
                f"must be a node label name, not {type(label).__name__}", field=argument, value=label,
                hint="such as 'k8s.amazonaws.com/accelerator', or None for flytepropeller's",
            )
    if not isinstance(tolerate, bool):
        raise ResourceValidationError(f"must be True or False, not {type(tolerate).__name__}", field="tolerate",
                                      value=tolerate)
    if mig_strategy not in _MIG_STRATEGIES:
        raise ResourceValidationError(f"must be one of {_MIG_STRATEGIES}", field="mig_strategy", value=mig_strategy)
    count = None
    if isinstance(accelerator, str):
        spec = gpu_spec(accelerator)
        if spec is None or spec.accelerator is None:
            raise ResourceValidationError(
                "does not name an accelerator", field="accelerator", value=accelerator, hint="write e.g. 'A100:2'"
            )
        accelerator, count = spec.accelerator, spec.count
    if not hasattr(accelerator, "to_flyte_idl"):
        raise ResourceValidationError(
            f"must be an accelerator or a string such as 'A100:2', not {type(accelerator).__name__}",
            field="accelerator", value=accelerator,
        )
    msg = accelerator.to_flyte_idl()
    tpu = resource_name_for(accelerator) == GOOGLE_TPU
    device_label = device_node_label or (_TPU_DEVICE_NODE_LABEL if tpu else DEFAULT_DEVICE_NODE_LABEL)
    partition_label = partition_node_label or (_TPU_PARTITION_NODE_LABEL if tpu else DEFAULT_PARTITION_NODE_LABEL)

    requirements = [V1NodeSelectorRequirement(key=device_label, operator="In", values=[msg.device])]
    tolerations = [V1Toleration(key=device_label, operator="Equal", value=msg.device, effect="NoSchedule")]
    partition = partition_of(accelerator)
    if partition:
        requirements.append(V1NodeSelectorRequirement(key=partition_label, operator="In", values=[partition]))
        tolerations.append(V1Toleration(key=partition_label, operator="Equal", value=partition, effect="NoSchedule"))
    elif msg.WhichOneof("partition_size_value") == "unpartitioned":
        requirements.append(V1NodeSelectorRequirement(key=partition_label, operator="DoesNotExist"))

    new = _copy(template)
    _refuse_other_targets(new, requirements)
    _require_node_labels(new, requirements)
    if tolerate:
        new = with_tolerations(new, tolerations)
    key = _device_resource_name(accelerator, mig_strategy)
    if count is not None:
        _set_resources(new, {key: str(count)}, {key: str(count)})
    return new


def _set_resources(template: PodTemplate, requests: Dict[str, str], limits: Dict[str, str]) -> PodTemplate:
    """Merge into the primary container's resources in place (these values win), then validate."""
    from kubernetes.client import V1ResourceRequirements

    container = _primary(template)
    own = container.resources
    container.resources = V1ResourceRequirements(
        requests={**_get_map(own, "requests"), **requests} or None,
        limits={**_get_map(own, "limits"), **limits} or None,
        claims=getattr(own, "claims", None),
    )
    _check_container_resources(container, f"pod_template.containers[{template.primary_container_name!r}]")
    return template


def with_resources(
    template: Optional[PodTemplate],
    requests: Optional[Resources] = None,
    limits: Optional[Resources] = None,
    *,
    k8s_gpu_resource_key: Optional[str] = None,
) -> PodTemplate:
    """A copy of ``template`` whose primary container has these requests and limits (per resource,
    these win over the template's own; the template's other resources are kept)."""
    gpu_key = _gpu_key(requests, limits, k8s_gpu_resource_key, "single")
    k8s_requests, q_requests = _k8s_resources(requests, "requests", gpu_key)
    k8s_limits, q_limits = _k8s_resources(limits, "limits", gpu_key)
    check_request_within_limit(requests, limits, (q_requests, q_limits))
    return _set_resources(_copy(template), k8s_requests or {}, k8s_limits or {})


def with_shared_memory(template: Optional[PodTemplate], size: Any = True) -> PodTemplate:
    """A copy of ``template`` with a memory-backed volume at ``/dev/shm`` in the primary container.

    ``size`` is ``True`` (as large as the node allows) or a size such as ``"16Gi"``. The volume is
    named like flytekit's ``shared_memory=`` volume, so a task that also sets ``shared_memory=``
    is refused at serialization instead of failing in the cluster.
    """
    from kubernetes.client import V1EmptyDirVolumeSource, V1Volume, V1VolumeMount

    size_limit = shared_memory_size(size)
    new = _copy(template)
    check_shared_memory(size, new, None)  # the same clashes flytepropeller refuses
    primary = _primary(new)
    volume = V1Volume(name=SHARED_MEMORY_MOUNT_NAME,
                      empty_dir=V1EmptyDirVolumeSource(medium="Memory", size_limit=size_limit))
    new.pod_spec.volumes = list(new.pod_spec.volumes or []) + [volume]
    primary.volume_mounts = list(primary.volume_mounts or []) + [
        V1VolumeMount(name=SHARED_MEMORY_MOUNT_NAME, mount_path=SHARED_MEMORY_MOUNT_PATH)
    ]
    return new


def with_volumes(template: Optional[PodTemplate], volumes: Iterable[Any], mounts: Iterable[Any] = ()) -> PodTemplate:
    """A copy of ``template`` with these volumes, and these mounts in the primary container
    (``V1Volume``/``V1VolumeMount`` objects or dicts of their fields). Names and paths must be new."""
    volumes = _model_list("V1Volume", volumes, "volumes")
    mounts = _model_list("V1VolumeMount", mounts, "mounts")
    new = _copy(template)
    names = {v.name for v in new.pod_spec.volumes or []}
    for volume in volumes:
        if volume.name in names:
            raise ResourceValidationError("is already a volume of the pod template", field="volumes", value=volume.name)
        names.add(volume.name)
    primary = _primary(new)
    paths = {m.mount_path for m in primary.volume_mounts or []}
    for mount in mounts:
        if mount.name not in names:
            raise ResourceValidationError("mounts a volume the pod template does not have", field="mounts",
                                          value=mount.name, hint=f"add it with volumes=, or use one of {sorted(names)}")
        if mount.mount_path in paths:
            raise ResourceValidationError(
                f"is already mounted in container {primary.name!r}", field="mounts", value=mount.mount_path
            )
        paths.add(mount.mount_path)
    new.pod_spec.volumes = list(new.pod_spec.volumes or []) + volumes
    primary.volume_mounts = list(primary.volume_mounts or []) + mounts
    return new


def with_env(template: Optional[PodTemplate], env: Dict[str, str]) -> PodTemplate:
    """A copy of ``template`` whose primary container also has these environment variables
    (a name it already sets is replaced)."""
    from kubernetes.client import V1EnvVar

    env = _string_map(env, "env")
    new = _copy(template)
    primary = _primary(new)
    kept = [e for e in primary.env or [] if e.name not in env]
    primary.env = kept + [V1EnvVar(name=str(k), value=str(v)) for k, v in env.items()]
    return new
