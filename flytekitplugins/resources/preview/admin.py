"""flyteadmin 1.16: registration checks on a task template, and execution-time defaults.

Specification: flyteadmin/pkg/manager/impl/validation/task_validator.go and
flyteadmin/pkg/manager/impl/execution_manager.go (setCompiledTaskDefaults) at flyte v1.16.8, with their
Go unit tests; flyteplugins' ``flytek8s.AdjustOrDefaultResource`` (container_helper.go) which both use.
Pure: protobufs and a Platform in, a new protobuf and findings out.

What flyteadmin looks at, precisely
-----------------------------------
Registration (``check_registration``, ``task_validator.go``):

- every task: a non-empty ``type``, ``metadata`` present (and ``metadata.runtime.version`` non-empty when
  ``runtime`` is set), ``interface`` present;
- a task whose target is a **container** (``python-task``, ``ContainerTask``, ray, spark, dask, kf*...): the
  image must be non-empty; then, only for the entries named ``CPU``, ``MEMORY``, ``GPU`` and
  ``EPHEMERAL_STORAGE`` (``STORAGE`` and ``UNKNOWN`` are skipped), in requests and in limits: an entry
  given twice, a value that does not parse, a GPU that is not whole (``MilliValue() % 1000 != 0``);
- a task whose target is a **k8s pod** (``pod_template=``, ``sidecar``): the pod spec must be present and
  decode as a PodSpec; for each of ``containers`` (not ``initContainers``) the resources named ``cpu``,
  ``memory``, ``gpu``, ``storage``, ``ephemeral-storage`` (any letter case) are mapped to flyteidl
  names; other names (``nvidia.com/gpu``...) are not checked; there is no whole-GPU check;
- other targets (``sql``, none): nothing about resources.

Then, **only for resources that have a request** (a limit without a request is not checked, not even
against the platform limit) and comparing ``Quantity.Value()`` (rounded *up* to a whole unit, so
``cpu`` is compared in whole CPUs: a request of ``1500m`` and a limit of ``1100m`` pass):

- cpu, memory, ephemeral storage: request > limit (when the limit is set); limit > platform limit (when
  both are set); request > platform limit;
- gpu: request != limit (when the limit is set); request > platform limit.

The platform limits are flyteadmin's ``task_resources.limits`` (a zero value is "not set"). flyteadmin
stops at the first refusal (in Go map order); this module reports all of them, skipping a resource's
comparisons when its entries were already refused (duplicate, unparseable, fractional GPU).

Execution (``compile_task_defaults``, ``setCompiledTaskDefaults``): only container tasks. The container's
resources are rebuilt from scratch as ``cpu``, ``memory``, then ``ephemeral_storage`` and ``gpu`` when the
task or the platform default sets them, each through :func:`adjust_or_default_resource`; every other entry
(``STORAGE``, ``UNKNOWN``) is dropped, a repeated entry keeps its last value, an unparseable or zero value
counts as unset, and values are re-spelled canonically (``1.5Gi`` -> ``1536Mi``).
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Tuple

from flyteidl.core import tasks_pb2

from ..errors import ResourceValidationError
from ..findings import ERROR, INFO, WARNING, Finding
from ..k8s.manifest import json_quantity
from ..k8s.resourcenames import BY_IDL
from ..platform import Platform
from ..quantity import Quantity
from .flytek8s import adjust_or_default_resource, is_zero, struct_to_json

__all__ = ["check_registration", "compile_task_defaults"]

_RN = tasks_pb2.Resources

#: flyteidl resource names as flyteadmin writes them in messages (the enum's name, lower case), and our field names
_IDL_NAME = {v: k.lower() for k, v in _RN.ResourceName.items()}
_CHECKED = (_RN.CPU, _RN.MEMORY, _RN.EPHEMERAL_STORAGE, _RN.GPU)


# ------------------------------------------------------------------------------------------ platform
def _platform_limit(platform: Platform, rn: int) -> Tuple[Optional[Quantity], str]:
    attr, key = BY_IDL[rn].attribute, BY_IDL[rn].admin_key
    q = getattr(platform.task_resources.limits, attr)
    return (None if is_zero(q) else q), platform.source_of(f"task_resources.limits.{key}")


def _platform_default(platform: Platform, rn: int) -> Tuple[Optional[Quantity], str]:
    attr, key = BY_IDL[rn].attribute, BY_IDL[rn].admin_key
    q = getattr(platform.task_resources.defaults, attr)
    return (None if is_zero(q) else q), platform.source_of(f"task_resources.defaults.{key}")


def _task_name(template: tasks_pb2.TaskTemplate, task: Optional[str]) -> str:
    if task:
        return task
    return template.id.name if template.HasField("id") and template.id.name else "<unnamed task>"


# ------------------------------------------------------------------------------------------ registration
_RULE = "flyteadmin task_validator.go"


def check_registration(
    template: tasks_pb2.TaskTemplate, platform: Platform, *, task: Optional[str] = None
) -> List[Finding]:
    """What flyteadmin's task validator refuses at registration, as ``error`` findings (empty: accepted).

    Codes: ``admin.missing-type``, ``admin.missing-metadata``, ``admin.missing-runtime-version``,
    ``admin.missing-interface``, ``admin.missing-image``, ``admin.pod-spec-missing``,
    ``admin.pod-spec-invalid``, ``admin.duplicate-entry``, ``admin.invalid-quantity``,
    ``admin.gpu-not-whole``, ``admin.request-above-limit``, ``admin.gpu-request-not-limit``,
    ``admin.limit-above-platform-limit``, ``admin.request-above-platform-limit``. See the module docstring
    for exactly which entries are looked at.
    """
    name = _task_name(template, task)
    out: List[Finding] = []

    def err(code: str, message: str, **kw: Any) -> None:
        out.append(Finding(ERROR, code, message, task=name, **kw))

    if not template.type:
        err("admin.missing-type", "the task has no type; flyteadmin refuses it (missing type)", source=_RULE)
    if not template.HasField("metadata"):
        err("admin.missing-metadata", "the task has no metadata; flyteadmin refuses it", source=_RULE)
    elif template.metadata.HasField("runtime") and not template.metadata.runtime.version:
        err(
            "admin.missing-runtime-version",
            "metadata.runtime has no version; flyteadmin refuses it (missing runtime version)",
            field="metadata.runtime.version",
            source=_RULE,
        )
    if not template.HasField("interface"):
        err("admin.missing-interface", "the task has no typed interface; flyteadmin refuses it", source=_RULE)

    target = template.WhichOneof("target")
    if target == "container":
        c = template.container
        if not c.image:
            err("admin.missing-image", "the container has no image; flyteadmin refuses it (missing image)",
                field="container.image", source=_RULE)
        if c.HasField("resources"):
            requests, bad_r = _entries_to_quantities(c.resources.requests, "requests", err)
            limits, bad_l = _entries_to_quantities(c.resources.limits, "limits", err)
            for rn in bad_r | bad_l:
                requests.pop(rn, None)
                limits.pop(rn, None)
            _validate_resource(requests, limits, platform, err, prefix="")
    elif target == "k8s_pod":
        if not template.k8s_pod.HasField("pod_spec"):
            err("admin.pod-spec-missing", "a pod task must give its target as a K8sPod with a pod spec; "
                "flyteadmin refuses it", field="k8s_pod.pod_spec", source=_RULE)
        else:
            _check_pod_spec(struct_to_json(template.k8s_pod.pod_spec), platform, err)
    return out


def _entries_to_quantities(entries: Any, kind: str, err: Any) -> Tuple[Dict[int, Tuple[Quantity, str]], set]:
    """requestedResourcesToQuantity: (name -> (quantity, text)) and the names refused on the way."""
    result: Dict[int, Tuple[Quantity, str]] = {}
    refused: set = set()
    for e in entries:
        if e.name not in _CHECKED:
            continue
        field = f"{kind}.{_IDL_NAME[e.name]}"
        if e.name in result or e.name in refused:
            err("admin.duplicate-entry", f"{field} is given more than once ({e.value!r}); flyteadmin refuses "
                "a resource given twice: keep one entry", field=field, before=e.value, source=_RULE)
            refused.add(e.name)
            continue
        try:
            q = Quantity.parse(e.value)
        except ResourceValidationError:
            err("admin.invalid-quantity", f"{field}={e.value!r} is not a Kubernetes quantity; flyteadmin refuses "
                "it: use e.g. '500m', '2', '4Gi'", field=field, before=e.value, source=_RULE)
            refused.add(e.name)
            continue
        result[e.name] = (q, e.value)
        if e.name == _RN.GPU and q.milli_value() % 1000 != 0:
            err("admin.gpu-not-whole", f"{field}={e.value!r}: a GPU count must be a whole number; flyteadmin "
                "refuses it", field=field, before=e.value, source=_RULE)
            refused.add(e.name)
    return result, refused


def _validate_resource(
    requests: Mapping[int, Tuple[Quantity, str]],
    limits: Mapping[int, Tuple[Quantity, str]],
    platform: Platform,
    err: Any,
    prefix: str,
) -> None:
    """validateResource: only resources with a request; whole-unit (Value()) comparisons."""
    for rn in _CHECKED:
        if rn not in requests:
            continue
        req, req_text = requests[rn]
        nm = _IDL_NAME[rn]
        rfield, lfield = f"{prefix}requests.{nm}", f"{prefix}limits.{nm}"
        plimit, psource = _platform_limit(platform, rn)
        lim = limits.get(rn)
        if rn == _RN.GPU:
            if lim is not None and req.value() != lim[0].value():
                err("admin.gpu-request-not-limit", f"{rfield}={req_text!r} differs from {lfield}={lim[1]!r}; "
                    "flyteadmin refuses a GPU request that is not equal to its limit: give one value",
                    field=rfield, before=req_text, source=_RULE)
            if plimit is not None and req.value() > plimit.value():
                err("admin.request-above-platform-limit", f"{rfield}={req_text!r} is above the platform limit "
                    f"{str(plimit)!r} ({psource}); flyteadmin refuses it: lower the request or ask the "
                    "platform team to raise the limit", field=rfield, before=req_text, source=psource)
            continue
        if lim is not None and lim[0].value() < req.value():
            err("admin.request-above-limit", f"{rfield}={req_text!r} is greater than {lfield}={lim[1]!r}; "
                "flyteadmin refuses it: lower the request or raise the limit",
                field=rfield, before=req_text, source=_RULE)
        if lim is not None and plimit is not None and lim[0].value() > plimit.value():
            err("admin.limit-above-platform-limit", f"{lfield}={lim[1]!r} is above the platform limit "
                f"{str(plimit)!r} ({psource}); flyteadmin refuses it: lower the limit or ask the platform team "
                "to raise it", field=lfield, before=lim[1], source=psource)
        if plimit is not None and req.value() > plimit.value():
            err("admin.request-above-platform-limit", f"{rfield}={req_text!r} is above the platform limit "
                f"{str(plimit)!r} ({psource}); flyteadmin refuses it: lower the request or ask the platform "
                "team to raise the limit", field=rfield, before=req_text, source=psource)


#: a pod spec's resource name, upper-cased (``ephemeral-storage`` as ``EPHEMERAL_STORAGE``), as the flyteidl enum
_POD_NAMES = dict(_RN.ResourceName.items())


def _check_pod_spec(spec: Any, platform: Platform, err: Any) -> None:
    def invalid(where: str, what: str) -> None:
        err("admin.pod-spec-invalid", f"k8s_pod.pod_spec{where}: {what}; flyteadmin cannot decode the pod spec "
            "and refuses the task", field=f"k8s_pod.pod_spec{where}", source=_RULE)

    containers = spec.get("containers", []) if isinstance(spec, dict) else None
    if containers is None or not isinstance(containers, list):
        invalid(".containers", "must be a list of containers")
        return
    for i, c in enumerate(containers):
        if not isinstance(c, dict):
            invalid(f".containers[{i}]", "must be an object")
            continue
        cname = c.get("name", i)
        res = c.get("resources") or {}
        if not isinstance(res, dict):
            invalid(f".containers[{i}].resources", "must be an object")
            continue
        lists: List[Dict[int, Tuple[Quantity, str]]] = []
        ok = True
        for kind in ("requests", "limits"):
            raw = res.get(kind) or {}
            if not isinstance(raw, dict):
                invalid(f".containers[{i}].resources.{kind}", "must be a map of quantities")
                ok = False
                break
            mapped: Dict[int, Tuple[Quantity, str]] = {}
            for k, v in raw.items():
                try:
                    q = json_quantity(v)
                except ResourceValidationError:
                    invalid(f".containers[{i}].resources.{kind}.{k}", f"{v!r} is not a Kubernetes quantity")
                    ok = False
                    continue
                key = "EPHEMERAL_STORAGE" if k == "ephemeral-storage" else str(k).upper()
                rn = _POD_NAMES.get(key, _RN.UNKNOWN)
                if rn in _CHECKED:
                    mapped[rn] = (q, v if isinstance(v, str) else str(q))
            lists.append(mapped)
        if ok:
            _validate_resource(lists[0], lists[1], platform, err, prefix=f"containers[{cname}].")


# ------------------------------------------------------------------------------------------ execution
def compile_task_defaults(
    template: tasks_pb2.TaskTemplate, platform: Platform, *, task: Optional[str] = None
) -> Tuple[tasks_pb2.TaskTemplate, List[Finding]]:
    """A copy of the template with flyteadmin's execution-time defaults applied, and findings for each change.

    Only container tasks change (others are returned as an unchanged copy with no findings). Findings:
    ``info`` ``admin.default-request`` / ``admin.default-limit`` when a value is added (from the task's own
    limit/request or from ``task_resources.defaults.*``); ``warning`` ``admin.request-lowered`` /
    ``admin.limit-lowered`` when a given value is clamped (to ``task_resources.limits.*`` or to the task's
    limit), ``admin.zero-replaced`` when a ``0`` the task gave is treated as unset and replaced,
    ``admin.entry-dropped`` for entries flyteadmin drops (``STORAGE``, ``UNKNOWN``, the earlier of two
    entries, an unparseable value). A value only re-spelled (``1.5Gi`` -> ``1536Mi``) has no finding.
    """
    out = tasks_pb2.TaskTemplate()
    out.CopyFrom(template)
    if out.WhichOneof("target") != "container":
        return out, []
    name = _task_name(template, task)
    findings: List[Finding] = []

    def note(level: str, code: str, message: str, **kw: Any) -> None:
        findings.append(Finding(level, code, message, task=name, **kw))

    res = template.container.resources
    given: Dict[str, Dict[int, Tuple[Optional[Quantity], str]]] = {}
    for kind, entries in (("requests", res.requests), ("limits", res.limits)):
        seen: Dict[int, Tuple[Optional[Quantity], str]] = {}
        for e in entries:
            field = f"{kind}.{_IDL_NAME.get(e.name, str(e.name))}"
            if e.name not in _CHECKED:
                note(WARNING, "admin.entry-dropped", f"{field}={e.value!r} is dropped: flyteadmin keeps only cpu, "
                     "memory, ephemeral_storage and gpu when it sets the execution's defaults",
                     field=field, before=e.value, source="flyteadmin setCompiledTaskDefaults")
                continue
            if e.name in seen:
                note(WARNING, "admin.entry-dropped", f"{field}={seen[e.name][1]!r} is replaced by a later entry "
                     f"{e.value!r}: flyteadmin keeps the last", field=field, before=seen[e.name][1], after=e.value,
                     source="flyteadmin setCompiledTaskDefaults")
            try:
                q: Optional[Quantity] = Quantity.parse(e.value)
            except ResourceValidationError:
                note(WARNING, "admin.entry-dropped", f"{field}={e.value!r} does not parse; flyteadmin treats it as "
                     "unset", field=field, before=e.value, source="flyteadmin setCompiledTaskDefaults")
                q = None
            seen[e.name] = (q, e.value)
        given[kind] = seen

    new_requests: List[Any] = []
    new_limits: List[Any] = []
    for rn in _CHECKED:
        nm = _IDL_NAME[rn]
        r0 = given["requests"].get(rn, (None, ""))
        l0 = given["limits"].get(rn, (None, ""))
        pdef, pdef_src = _platform_default(platform, rn)
        plim, plim_src = _platform_limit(platform, rn)
        if rn in (_RN.EPHEMERAL_STORAGE, _RN.GPU) and is_zero(r0[0]) and is_zero(l0[0]) and pdef is None:
            continue
        result = adjust_or_default_resource(r0[0], l0[0], pdef, plim)
        new_requests.append(_RN.ResourceEntry(name=rn, value=str(result.request)))
        new_limits.append(_RN.ResourceEntry(name=rn, value=str(result.limit)))

        # request
        rfield, lfield = f"requests.{nm}", f"limits.{nm}"
        if is_zero(r0[0]):
            src = lfield + " (the task's limit)" if not is_zero(l0[0]) else pdef_src
            after = str(result.request)
            if r0[1] and r0[0] is not None:
                note(WARNING, "admin.zero-replaced", f"{rfield}={r0[1]!r} counts as unset; flyteadmin sets "
                     f"{after!r} from {src}", field=rfield, before=r0[1], after=after, source=src)
            else:
                note(INFO, "admin.default-request", f"{rfield} is not set; flyteadmin sets {after!r} from {src}",
                     field=rfield, after=after, source=src)
        elif result.request != r0[0]:
            why = (plim_src if plim is not None and result.request == plim and r0[0] > plim
                   else f"{lfield} (the task's limit)")
            note(WARNING, "admin.request-lowered", f"{rfield}={r0[1]!r} is lowered to {str(result.request)!r} "
                 f"by {why}", field=rfield, before=r0[1], after=str(result.request), source=why)
        # limit
        if is_zero(l0[0]):
            after = str(result.limit)
            if l0[1] and l0[0] is not None:
                note(WARNING, "admin.zero-replaced", f"{lfield}={l0[1]!r} counts as unset; flyteadmin sets "
                     f"{after!r}, the request", field=lfield, before=l0[1], after=after,
                     source="flyteadmin: an unset limit is the request")
            else:
                note(INFO, "admin.default-limit", f"{lfield} is not set; flyteadmin sets {after!r}, the request"
                     + (f", at most {plim_src}" if plim is not None else ""), field=lfield, after=after,
                     source="flyteadmin: an unset limit is the request")
        elif result.limit != l0[0]:
            note(WARNING, "admin.limit-lowered", f"{lfield}={l0[1]!r} is lowered to {str(result.limit)!r} by "
                 f"{plim_src}", field=lfield, before=l0[1], after=str(result.limit), source=plim_src)

    out.container.resources.Clear()
    out.container.resources.requests.extend(new_requests)
    out.container.resources.limits.extend(new_limits)
    return out, findings
