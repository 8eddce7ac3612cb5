"""flyteplugins' ``flytek8s`` helpers: the pure functions the pod builder, flyteadmin and the plugins share.

Specification: flyteplugins/go/tasks/pluginmachinery/flytek8s/ (container_helper.go, pod_helper.go,
k8s_resource_adds.go, utils.go) at flyte v1.16.8, with their Go unit tests. Everything here is a function of
its arguments (protobufs, JSON dicts as Kubernetes writes them, quantities, a Platform): no findings, no state.

- resources: :func:`to_k8s_resource_list` (``ToK8sResourceList``), :func:`adjust_or_default_resource`
  (``AdjustOrDefaultResource``, which flyteadmin uses too), :func:`apply_resource_overrides`
  (``ApplyResourceOverrides``) against :func:`platform_resources` (``GetPlatformResources``);
- decoding: :func:`as_quantity` (a JSON value as ``resource.Quantity`` unmarshals it, ``k8s.manifest``'s
  ``json_quantity``), :func:`struct_to_json`, :func:`decode_pod_spec`;
- merging: :func:`mergo_merge` (``mergo.Merge`` with override and append), :func:`merge_base_pod_spec`
  (``MergeBasePodSpecOntoTemplate``), :func:`merge_overlay_pod_spec` (``MergeOverlayPodSpecOntoBase``);
- scheduling: :func:`add_required_node_selector_requirements`, :func:`match_toleration`
  (``Toleration.MatchToleration``), :func:`add_tolerations_for_extended_resources`;
- words for findings: :func:`toleration_text`, :func:`requirement_text`, :func:`short_json`.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

from ..k8s.manifest import json_quantity
from ..k8s.resourcenames import RESOURCE_NAMES
from ..platform import Platform, TaskResourceSet
from ..quantity import Quantity

__all__ = [
    "ZERO",
    "ResourceList",
    "ResourceRequirement",
    "add_required_node_selector_requirements",
    "add_tolerations_for_extended_resources",
    "adjust_or_default_resource",
    "admin_key",
    "apply_resource_overrides",
    "as_quantity",
    "decode_pod_spec",
    "ensure_resource_limit",
    "go_marshal",
    "is_zero",
    "match_toleration",
    "merge_base_pod_spec",
    "merge_overlay_pod_spec",
    "mergo_merge",
    "platform_resources",
    "requirement_text",
    "short_json",
    "struct_to_json",
    "to_k8s_resource_list",
    "toleration_text",
]

ZERO = Quantity.parse("0")
ResourceList = Dict[str, Quantity]

#: ``ToK8sResourceList``: cpu, memory, ephemeral storage and the gpu, always as NVIDIA's name
_K8S_NAMES = {r.idl: r.k8s for r in RESOURCE_NAMES}
_ADMIN_KEYS = {r.k8s: r.admin_key for r in RESOURCE_NAMES}


# ------------------------------------------------------------------------------------------ decoding
def as_quantity(v: Any) -> Quantity:
    """A Quantity as it is, any other JSON value through ``k8s.manifest.json_quantity``."""
    return v if isinstance(v, Quantity) else json_quantity(v)


def struct_to_json(s: Any) -> Any:
    """A ``google.protobuf.Struct`` as the JSON it holds (as ``utils.UnmarshalStructToObj`` reads it)."""
    from google.protobuf.json_format import MessageToDict

    return MessageToDict(s)


def decode_pod_spec(struct: Any) -> Dict[str, Any]:
    """A K8sPod's ``pod_spec`` Struct as a pod spec dict (``{}`` when it holds no object)."""
    spec = struct_to_json(struct)
    return spec if isinstance(spec, dict) else {}


# ------------------------------------------------------------------------------------------ resources
def to_k8s_resource_list(entries: Any) -> ResourceList:
    """``ToK8sResourceList``: cpu, memory, gpu (as ``nvidia.com/gpu``) and ephemeral storage; zero values and
    other names (``storage``) dropped; a later duplicate entry wins."""
    out: ResourceList = {}
    for e in entries:
        name = _K8S_NAMES.get(e.name)
        q = Quantity.parse(e.value)
        if name is not None and q.sign() != 0:
            out[name] = q
    return out


def is_zero(q: Optional[Quantity]) -> bool:
    """Unset, as flytek8s reads it: no value, or a zero one."""
    return q is None or q.sign() == 0


def ensure_resource_limit(value: Quantity, limit: Optional[Quantity]) -> Quantity:
    """``ensureResourceLimit``: lowered to the limit unless either is zero."""
    return limit if not is_zero(value) and not is_zero(limit) and value > limit else value


@dataclass(frozen=True)
class ResourceRequirement:
    request: Quantity
    limit: Quantity


def adjust_or_default_resource(
    request: Optional[Quantity],
    limit: Optional[Quantity],
    platform_default: Optional[Quantity],
    platform_limit: Optional[Quantity],
) -> ResourceRequirement:
    """flytek8s ``AdjustOrDefaultResource``; ``None`` or a zero quantity means "unset".

    An unset request takes the limit, else the platform default; an unset limit takes the request; then
    the request and the limit are lowered to the platform limit (when set) and the request to the limit.
    Used by flyteadmin (``setCompiledTaskDefaults``) and by flytepropeller's ``ApplyResourceOverrides``
    (assignIfUnset=true).
    """
    request = request if request is not None else ZERO
    limit = limit if limit is not None else ZERO
    platform_default = platform_default if platform_default is not None else ZERO
    platform_limit = platform_limit if platform_limit is not None else ZERO
    if is_zero(request):
        request = limit if not is_zero(limit) else platform_default
    if is_zero(limit):
        limit = request
    request = ensure_resource_limit(request, platform_limit)
    limit = ensure_resource_limit(limit, platform_limit)
    request = ensure_resource_limit(request, limit)
    return ResourceRequirement(request, limit)


def platform_resources(platform: Platform) -> Tuple[Dict[str, Quantity], Dict[str, Quantity]]:
    """What flytepropeller's ``TaskExecutionMetadata.GetPlatformResources()`` returns: ``(requests, limits)``.

    flyteadmin puts its ``task_resources`` (``defaults`` -> requests, ``limits`` -> limits; a zero value
    stays zero) into the FlyteWorkflow's ``ExecutionConfig.TaskResources`` for every execution it launches
    (``workflowengine/impl/prepare_execution.go``), and flytepropeller turns them into a
    ``v1.ResourceRequirements`` (``convertTaskResourcesToRequirements`` in
    ``flytepropeller/pkg/controller/nodes/task/taskexec_context.go``) with **always the same four keys**:
    ``cpu``, ``memory``, ``ephemeral-storage`` and ``nvidia.com/gpu`` (hard-coded, whatever
    ``plugins.k8s.gpu-resource-name`` says), zero where unset.

    Consequences for the pod builder: since the keys are always present (zero or not),
    ``resolvePlatformDefaults`` never substitutes ``plugins.k8s.default-cpus`` / ``default-memory`` for an
    execution launched through flyteadmin, and a zero platform value means "no default"/"no clamp"
    (``AdjustOrDefaultResource`` treats zero as unset). Project/domain ``TaskResourceAttributes`` (set with
    flytectl) would replace ``task_resources`` entirely; they are not modelled.
    """
    tr = platform.task_resources

    def four(s: TaskResourceSet) -> Dict[str, Quantity]:
        values = {r.k8s: getattr(s, r.attribute) for r in RESOURCE_NAMES}
        return {k: v if v is not None else ZERO for k, v in values.items()}

    return four(tr.defaults), four(tr.limits)


def apply_resource_overrides(platform: Platform, requests: ResourceList, limits: ResourceList,
                             assign_if_unset: bool) -> None:
    """``ApplyResourceOverrides`` against flyteadmin's platform resources, in place."""
    p_req, p_lim = platform_resources(platform)
    names = ["cpu", "memory"]
    if "ephemeral-storage" in requests or "ephemeral-storage" in limits:
        names.append("ephemeral-storage")
    gpu = platform.k8s.gpu_resource_name
    if gpu in requests or gpu in limits:
        names.append(gpu)
    for name in names:
        if assign_if_unset:
            r = adjust_or_default_resource(requests.get(name), limits.get(name), p_req.get(name), p_lim.get(name))
            requests[name], limits[name] = r.request, r.limit
        else:  # ensureResourceRange: clamp only, no defaults
            request, limit = requests.get(name, ZERO), limits.get(name, ZERO)
            request = ensure_resource_limit(request, p_lim.get(name))
            limit = ensure_resource_limit(limit, p_lim.get(name))
            requests[name], limits[name] = ensure_resource_limit(request, limit), limit
        # as in Go, the keys are now set even when zero, and print as "0"


def admin_key(resource: str) -> str:
    """The ``task_resources`` key of a Kubernetes resource name (``ephemeral-storage`` -> ``ephemeralStorage``;
    any other name than cpu and memory is the gpu)."""
    return _ADMIN_KEYS.get(resource, "gpu")


# ------------------------------------------------------------------------------------------ merging
# mergo (v0.3.13, WithOverride + WithAppendSlice) on JSON: a Go zero value in the source never overrides.
# JSON cannot tell a pointer from a value; these fields are pointers in the v1 API, so their 0/false do override.
_POINTER_FIELDS = frozenset({
    "activeDeadlineSeconds", "allowPrivilegeEscalation", "automountServiceAccountToken", "defaultMode",
    "enableServiceLinks", "fsGroup", "hostUsers", "priority", "privileged", "readOnlyRootFilesystem",
    "runAsGroup", "runAsNonRoot", "runAsUser", "setHostnameAsFQDN", "shareProcessNamespace",
    "terminationGracePeriodSeconds", "tolerationSeconds",
})

# The JSON objects of a pod that are Go maps (an empty map is mergo's empty value, and encoding/json omits it under
# omitempty and writes its keys sorted); every other JSON object is a struct (a pointer to one, or a value): an
# empty one is not empty to mergo, and an absent destination takes it (a pod's ``affinity: {}`` stays ``{}`` over a
# base template without affinity). ``options`` is FlexVolume's map (dnsConfig's ``options`` is a list).
_MAP_FIELDS = frozenset({
    "annotations", "labels", "limits", "matchLabels", "nodeSelector", "options", "overhead", "requests",
    "volumeAttributes",
})


def _go_empty(key: str, value: Any) -> bool:
    if value is None:
        return True
    if key in _POINTER_FIELDS:
        return False
    if value == {}:
        return key in _MAP_FIELDS
    return value in ("", 0, False) and not isinstance(value, (dict, list)) or value == []


def mergo_merge(dst: Dict[str, Any], src: Dict[str, Any]) -> Dict[str, Any]:
    """``mergo.Merge(dst, src, WithOverride, WithAppendSlice)`` on JSON objects, in place: objects merge key by
    key, lists are appended (``dst`` then ``src``), and any other non-empty ``src`` value replaces ``dst``'s."""
    for key, value in src.items():
        if _go_empty(key, value):
            continue
        have = dst.get(key)
        if isinstance(value, dict) and isinstance(have, dict):
            mergo_merge(have, value)
        elif isinstance(value, list) and isinstance(have, list):
            dst[key] = have + copy.deepcopy(value)
        else:
            dst[key] = copy.deepcopy(value)
    return dst


def merge_base_pod_spec(
    template: Dict[str, Any], pod: Dict[str, Any], primary: str, primary_init: str
) -> Dict[str, Any]:
    """``MergeBasePodSpecOntoTemplate``: the pod spec merged onto the base template's; each of the pod's containers
    starts from the template's ``default`` container, then ``primary`` (for the primary container) or the one
    of its own name (for the others), and the pod's own container is merged last. The same for init containers
    with ``default-init`` and ``primary-init``. Template containers that match none of the pod's are dropped."""
    merged = mergo_merge(copy.deepcopy(template), pod)
    for kind, default_name, primary_name, wanted in (
        ("containers", "default", "primary", primary),
        ("initContainers", "default-init", "primary-init", primary_init),
    ):
        templates = template.get(kind) or []
        default = next((c for c in templates if c.get("name") == default_name), None)
        prim = next((c for c in templates if c.get("name") == primary_name), None)
        out = []
        for container in pod.get(kind) or []:
            cname = container.get("name")
            result: Optional[Dict[str, Any]] = copy.deepcopy(default) if default is not None else None
            if cname == wanted and prim is not None:
                result = mergo_merge(result, prim) if result is not None else copy.deepcopy(prim)
            if cname != wanted and cname != default_name:
                for t in templates:
                    if t.get("name") == cname:
                        result = mergo_merge(result, t) if result is not None else copy.deepcopy(t)
            out.append(mergo_merge(result, container) if result is not None else copy.deepcopy(container))
        if out:
            merged[kind] = out
        else:
            merged.pop(kind, None)
    return merged


def merge_overlay_pod_spec(base: Dict[str, Any], overlay: Dict[str, Any]) -> Dict[str, Any]:
    """``MergeOverlayPodSpecOntoBase``: the overlay merged over the base (mergo override + append), and each of
    the base's containers merged with the overlay's container of the same name; the overlay's other containers
    are dropped."""
    merged = mergo_merge(copy.deepcopy(base), overlay)
    for kind in ("containers", "initContainers"):
        out = []
        for container in base.get(kind) or []:
            c = copy.deepcopy(container)
            for o in overlay.get(kind) or []:
                if o.get("name") == c.get("name"):
                    mergo_merge(c, o)
            out.append(c)
        if out:
            merged[kind] = out
        else:
            merged.pop(kind, None)
    return merged


# ------------------------------------------------------------------------------------------ serializing
def go_marshal(pod: Dict[str, Any]) -> Dict[str, Any]:
    """The pod as flytepropeller sends it to the API server (``encoding/json`` of a ``v1.Pod``), so that it can be
    diffed with ``kubectl get pod -o yaml``; a new dict. Field by field (k8s.io/api core/v1 json tags):

    - maps (``ResourceList``, labels, annotations, ``nodeSelector``...): keys sorted, as Go writes a map; an empty
      one omitted (``omitempty``);
    - ``spec.affinity`` (``*Affinity``, omitempty): a pointer, so an empty ``{}`` is written: ``UpdatePod``
      (``ApplyInterruptibleNodeAffinity``) sets it on every pod;
    - ``emptyDir.sizeLimit`` (``*resource.Quantity``): a pointer, so the shared memory volume's zero limit is
      written ``"0"``;
    - ``spec.hostNetwork`` (``bool``, omitempty): ``false`` omitted;
    - ``env[].value``, ``tolerations[].key/operator/value/effect`` (``string``, omitempty): ``""`` omitted;
    - ``matchExpressions[].values`` (``[]string``, omitempty): ``[]`` omitted.

    ``metadata.creationTimestamp`` (Go writes ``null``) and ``status`` are the API server's, and left out.
    """
    pod = _copy_sorted(pod)
    spec = pod.get("spec")
    if not isinstance(spec, dict):
        return pod
    if spec.get("hostNetwork") is False:
        del spec["hostNetwork"]
    for kind in ("containers", "initContainers"):
        for c in spec.get(kind) or []:
            for e in (c.get("env") or []) if isinstance(c, dict) else []:
                if isinstance(e, dict) and e.get("value") == "":
                    del e["value"]
    for t in spec.get("tolerations") or []:
        if isinstance(t, dict):
            for k in ("key", "operator", "value", "effect"):
                if t.get(k) == "":
                    del t[k]
    _drop_empty_values(spec.get("affinity"))
    return pod


def _copy_sorted(value: Any) -> Any:
    """A copy of a JSON document with the maps' keys sorted and empty maps left out (one pass)."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if isinstance(v, dict):
                if k in _MAP_FIELDS:
                    if not v:
                        continue
                    v = {m: v[m] for m in sorted(v)}
                v = _copy_sorted(v)
            elif isinstance(v, list):
                v = _copy_sorted(v)
            out[k] = v
        return out
    if isinstance(value, list):
        return [_copy_sorted(v) if isinstance(v, (dict, list)) else v for v in value]
    return value


def _drop_empty_values(value: Any) -> None:
    if isinstance(value, dict):
        if value.get("values") == [] and "operator" in value:
            del value["values"]
        for v in value.values():
            _drop_empty_values(v)
    elif isinstance(value, list):
        for v in value:
            _drop_empty_values(v)


# ------------------------------------------------------------------------------------------ scheduling
def add_required_node_selector_requirements(spec: Dict[str, Any], req: Dict[str, Any]) -> None:
    """``AddRequiredNodeSelectorRequirements``: ANDed into every existing term, or a first term."""
    affinity = spec.setdefault("affinity", {})
    required = affinity.setdefault("nodeAffinity", {}).setdefault("requiredDuringSchedulingIgnoredDuringExecution", {})
    terms = required.setdefault("nodeSelectorTerms", [])
    if terms:
        for term in terms:
            term.setdefault("matchExpressions", []).append(copy.deepcopy(req))
    else:
        terms.append({"matchExpressions": [req]})


def match_toleration(a: Dict[str, Any], b: Dict[str, Any]) -> bool:
    """``Toleration.MatchToleration``: same key, operator, value and effect."""
    return all(a.get(k, "") == b.get(k, "") for k in ("key", "operator", "value", "effect"))


def add_tolerations_for_extended_resources(platform: Platform, spec: Dict[str, Any]) -> List[Dict[str, Any]]:
    """``AddTolerationsForExtendedResources``: an ``Exists``/``NoSchedule`` toleration for each configured
    extended resource a container requests, unless an equal one is there; in place, returns those added."""
    wanted = set()
    for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        requests = (c.get("resources") or {}).get("requests") or {}
        wanted.update(r for r in platform.k8s.add_tolerations_for_extended_resources if r in requests)
    added = []
    for r in sorted(wanted):
        tol = {"key": r, "operator": "Exists", "effect": "NoSchedule"}
        existing = spec.get("tolerations") or []
        if any(match_toleration(tol, t) for t in existing):
            continue
        spec["tolerations"] = existing + [tol]
        added.append(tol)
    return added


# ------------------------------------------------------------------------------------------ words
def toleration_text(t: Dict[str, Any]) -> str:
    """A toleration in a finding: ``key=value:Effect (Operator)``."""
    value = f"={t['value']}" if t.get("value") else ""
    return f"{t.get('key', '*')}{value}:{t.get('effect', '*')} ({t.get('operator', 'Equal')})"


def requirement_text(r: Dict[str, Any]) -> str:
    """A node selector requirement in a finding: ``key Operator values``."""
    return f"{r.get('key')} {r.get('operator')} {','.join(r.get('values') or [])}".rstrip()


def short_json(value: Any) -> str:
    """A value in a finding: a string as it is, anything else as compact JSON; at most 80 characters."""
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, separators=(",", ":"))
    return text if len(text) <= 80 else text[:77] + "..."
