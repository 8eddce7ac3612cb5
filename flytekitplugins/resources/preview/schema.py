"""Is the effective pod valid Kubernetes? The API server's checks, offline.

Two layers, both returning :class:`~flytekitplugins.resources.findings.Finding` objects (level ``error``):

``k8s.schema`` (only when the optional ``kubernetes-validate`` package is installed)
    The pod is checked against the Kubernetes OpenAPI schema of a Kubernetes release, in strict mode
    (an unknown field is an error, as with ``kubectl apply --validate=strict``). The schemas and the recipe
    (JSON Schema draft 2020-12 with a ``referencing`` registry for ``_definitions.json``) are
    kubernetes-validate's; unlike its ``validate()``, which stops at the first error and re-reads the
    schema files on every call, every error is reported and the compiled validator is cached per release.
    The library is imported on first use, never when this module is imported.

``k8s.invalid`` (always; no dependency)
    Rules of ``kube-apiserver`` that a schema cannot express, reproduced from ``k8s.io/kubernetes``
    ``pkg/apis/core/validation/validation.go`` (``validateResourceRequirements``,
    ``validateContainerResourceName``/``validateResourceName``, ``ValidateResourceQuantityValue``,
    ``ValidateNonnegativeQuantity``, ``validateContainers``/``validateInitContainers``/``validateContainerCommon``,
    ``ValidateVolumes``, ``ValidateVolumeMounts``, ``validateOverhead``), ``pkg/apis/core/helper/helpers.go``
    (standard, native, extended and hugepages resource names, overcommit), and apimachinery's
    ``IsDNS1123Label``/``IsDNS1123Subdomain`` (``pkg/util/validation``) and ``IsLabelKey`` (a.k.a.
    ``IsQualifiedName``, ``pkg/api/validate/content``), with their message texts:

    - every quantity decodes (a JSON string or number; null is zero);
    - no quantity is negative (``must be greater than or equal to 0``);
    - resource names are qualified names, and a standard container resource (``cpu``, ``memory``,
      ``ephemeral-storage``, ``hugepages-<size>``) or a ``kubernetes.io/`` name or an extended resource
      (``nvidia.com/gpu``);
    - a request is at most its limit; for resources that cannot be overcommitted (extended resources,
      hugepages) the request equals the limit and a request needs a limit; extended resources are whole
      numbers; hugepages need cpu or memory in the same container;
    - container names (regular and init, together) are unique DNS-1123 labels; volume names are unique
      DNS-1123 labels; every volumeMount names a volume, and mount paths are unique per container.

    Names are checked by scanning characters, not with regular expressions.

Field paths are written ``spec.containers[0].resources.requests.cpu`` (Kubernetes writes
``...requests[cpu]``, and reports request/limit comparisons on ``...resources.requests`` and a missing limit
on ``...resources.limits``: here the resource key is always named). Messages are
``task 'NAME'[, node 'ID']: <path>: <Kubernetes' error body>``, e.g.
``task 'wf.t': spec.containers[0].resources.requests.cpu: Invalid value: "2": must be less than or equal
to cpu limit of 1``. Without a task name the pod's ``metadata.name`` is used (``pod 'NAME'``).

Not reproduced: the hugepages page-size divisibility check, pod-level ``spec.resources``, resource claims,
ephemeral containers, volume sources (``must specify a volume type``), and every other field rule of
``ValidatePodSpec`` (images, probes, ports, env, security contexts...). A quantity that does not parse is
reported with this package's parser's explanation, not Go's decoder error.
"""

from __future__ import annotations

import functools
import importlib.util
import json
from typing import Any, Dict, List, Optional, Set, Tuple

from ..errors import ResourceValidationError
from ..findings import ERROR, Finding
from ..k8s.manifest import copy_json, json_quantity
from ..k8s.names import (
    container_resource_name_errors,
    dns1123_label_errors,
    is_hugepages_resource,
    is_integer_resource,
    overcommit_allowed,
)
from ..quantity import Quantity

__all__ = ["DEFAULT_KUBERNETES_VERSION", "schema_available", "supported_kubernetes_versions", "validate_pod"]

#: The Kubernetes release whose OpenAPI schema is used by default (kubernetes-validate ships 1.25 and newer).
DEFAULT_KUBERNETES_VERSION = "1.31"

_SCHEMA_PACKAGE = "kubernetes_validate"
_SCHEMA_DEPENDENCIES = (_SCHEMA_PACKAGE, "jsonschema", "referencing")
_SCHEMA_SOURCE = "kubernetes-validate: Kubernetes {version} OpenAPI schema of Pod v1 (strict)"
_CORE_SOURCE = "kube-apiserver: k8s.io/kubernetes pkg/apis/core/validation"
_MAX_SCHEMA_MESSAGE = 400


# ============================================================================================ public API
def schema_available() -> bool:
    """True when kubernetes-validate (and its jsonschema and referencing) can be imported; imports nothing."""
    try:
        return all(importlib.util.find_spec(name) is not None for name in _SCHEMA_DEPENDENCIES)
    except (ImportError, ValueError):  # a half-installed or shadowed package
        return False


def supported_kubernetes_versions() -> List[str]:
    """The Kubernetes releases (``"1.31"``...) whose schemas the installed kubernetes-validate ships; [] without it."""
    if not schema_available():
        return []
    return [f"{major}.{minor}" for major, minor, _ in _shipped_schemas()]


def validate_pod(
    pod: Dict[str, Any],
    *,
    task: Optional[str] = None,
    node: Optional[str] = None,
    kubernetes_version: str = DEFAULT_KUBERNETES_VERSION,
    schema: bool = True,
    role: Optional[str] = None,
) -> List[Finding]:
    """Every reason the API server of ``kubernetes_version`` would refuse ``pod`` (a v1 Pod manifest dict).

    ``schema=False`` skips the OpenAPI layer (about 1.5 ms a pod) and keeps the built-in rules (0.15 ms).

    ``k8s.schema`` findings when kubernetes-validate is installed, then ``k8s.invalid`` findings. The pod is
    not modified. ``kubernetes_version`` is ``"1.31"``, ``"v1.31"`` or ``"1.31.4"``; the newest shipped schema
    not newer than it is used. A malformed or unsupported version raises ``ResourceValidationError``.
    """
    wanted = _parse_version(kubernetes_version)
    pod = copy_json(pod)  # read only; a copy all the same, so that nothing here can change the caller's pod
    place = _place(pod, task, node, role)
    findings: List[Finding] = []
    if schema and schema_available():
        findings.extend(_schema_findings(pod, wanted, kubernetes_version, place))
    checker = _Checker(place)
    checker.pod(pod)
    findings.extend(checker.findings)
    return findings


# ============================================================================================ schema layer
def _parse_version(text: Any) -> Tuple[int, int]:
    def bad() -> ResourceValidationError:
        return ResourceValidationError(
            "is not a Kubernetes version", field="kubernetes_version", value=text, hint="use e.g. '1.31'"
        )

    if not isinstance(text, str):
        raise bad()
    s = text[1:] if text[:1] in ("v", "V") else text
    parts = s.split(".")
    if len(parts) not in (2, 3) or not all(p.isascii() and p.isdigit() and len(p) <= 4 for p in parts):
        raise bad()
    return int(parts[0]), int(parts[1])


@functools.lru_cache(maxsize=1)
def _shipped_schemas() -> Tuple[Tuple[int, int, str], ...]:
    """(major, minor, directory) of every strict schema set kubernetes-validate ships, oldest first."""
    from importlib import resources

    root = resources.files(_SCHEMA_PACKAGE) / "kubernetes-json-schema"
    found = []
    for entry in root.iterdir():
        name = entry.name
        if not (name.startswith("v") and name.endswith("-local-strict")):
            continue
        parts = name[1 : -len("-local-strict")].split(".")
        if len(parts) == 3 and all(p.isascii() and p.isdigit() for p in parts):
            found.append((int(parts[0]), int(parts[1]), name))
    return tuple(sorted(found))


def _schema_dir(wanted: Tuple[int, int], text: str) -> str:
    shipped = _shipped_schemas()
    usable = [d for major, minor, d in shipped if (major, minor) <= wanted]
    if not usable or wanted > shipped[-1][:2]:
        span = f"{shipped[0][0]}.{shipped[0][1]} to {shipped[-1][0]}.{shipped[-1][1]}" if shipped else "none"
        raise ResourceValidationError(
            f"has no schema in the installed kubernetes-validate (it ships {span})",
            field="kubernetes_version", value=text, hint="pick a shipped version or upgrade kubernetes-validate",
        )
    return usable[-1]


@functools.lru_cache(maxsize=4)
def _validator(schema_dir: str) -> Any:
    """The compiled validator of ``pod-v1.json`` in ``schema_dir``; built once (about 15 ms), then reused."""
    from importlib import resources

    import jsonschema
    from referencing import Registry, Resource

    base = resources.files(_SCHEMA_PACKAGE) / "kubernetes-json-schema" / schema_dir
    pod_schema = json.loads((base / "pod-v1.json").read_text(encoding="utf-8"))
    definitions = json.loads((base / "_definitions.json").read_text(encoding="utf-8"))
    registry = Resource.from_contents(definitions) @ (Resource.from_contents(pod_schema) @ Registry())
    return jsonschema.validators.Draft202012Validator(pod_schema, registry=registry)


def _schema_findings(pod: Any, wanted: Tuple[int, int], text: str, place: Dict[str, Any]) -> List[Finding]:
    schema_dir = _schema_dir(wanted, text)
    version = schema_dir[1:].split("-")[0].rsplit(".", 1)[0]
    source = _SCHEMA_SOURCE.format(version=version)
    out: List[Tuple[str, str]] = []
    try:
        for err in _validator(schema_dir).iter_errors(pod):
            path = _json_path(err.absolute_path)
            if err.validator == "additionalProperties" and isinstance(err.instance, dict):
                known = err.schema.get("properties") or {}
                extra = [k for k in err.instance if k not in known]
                if extra:  # name the unknown field itself, one finding each
                    for key in extra:
                        out.append((_join(path, str(key)), f"unknown field {_go_quote(str(key))}"))
                    continue
            out.append((path, _shorten(err.message)))
    except RecursionError:
        out.append(("", "the pod is nested too deeply to be checked"))
    out.sort(key=lambda pm: pm[0])
    return [
        Finding(ERROR, "k8s.schema", f"{p or '<pod>'}: {m}", field=p or None, source=source, **place)
        for p, m in out
    ]


def _json_path(parts: Any) -> str:
    path = ""
    for p in parts:
        path = f"{path}[{p}]" if isinstance(p, int) else _join(path, str(p))
    return path


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _shorten(message: str) -> str:
    return message if len(message) <= _MAX_SCHEMA_MESSAGE else message[: _MAX_SCHEMA_MESSAGE - 3] + "..."


# ============================================================================================ messages
def _place(pod: Any, task: Optional[str], node: Optional[str], role: Optional[str]) -> Dict[str, Any]:
    """The findings' place fields: the task, node and role; the pod's name when no task is known."""
    if task:
        return {"task": task, "node": node, "role": role}
    meta = pod.get("metadata") if isinstance(pod, dict) else None
    name = meta.get("name") if isinstance(meta, dict) else None
    return {"node": node, "role": role, "pod": name if isinstance(name, str) else ""}


def _go_quote(s: str) -> str:
    """Go's ``%q`` of a string, close enough for messages (JSON escaping, non-ASCII kept)."""
    return json.dumps(s, ensure_ascii=False)


# ============================================================================================ the checker
class _Checker:
    """Walks a pod dict the way ``ValidatePodSpec`` walks a decoded Pod; malformed parts are skipped
    (the schema layer reports their types)."""

    def __init__(self, place: Dict[str, Any]) -> None:
        self.place = place
        self.findings: List[Finding] = []

    def add(self, path: str, body: str, value: Optional[str] = None) -> None:
        self.findings.append(
            Finding(ERROR, "k8s.invalid", f"{path}: {body}", field=path, before=value, source=_CORE_SOURCE,
                    **self.place)
        )

    def invalid(self, path: str, shown: str, detail: str, value: Optional[str] = None) -> None:
        self.add(path, f"Invalid value: {shown}: {detail}", value)

    def required(self, path: str, detail: str = "") -> None:
        self.add(path, "Required value" + (f": {detail}" if detail else ""))

    # ------------------------------------------------------------------------------------- pod & spec
    def pod(self, pod: Any) -> None:
        if not isinstance(pod, dict):
            self.add("<pod>", "the pod is not a JSON object")
            return
        spec = pod.get("spec")
        spec = {} if spec is None else spec  # no spec decodes as an empty one: "spec.containers: Required value"
        if not isinstance(spec, dict):
            return
        volumes = self.volumes(spec.get("volumes"), "spec.volumes")
        containers = spec.get("containers")
        regular = self.containers(containers, volumes)
        self.init_containers(spec.get("initContainers"), regular, volumes)
        overhead = spec.get("overhead")
        if isinstance(overhead, dict) and overhead:  # validateOverhead: the overhead as a container's limits
            self.resources({"limits": overhead}, "spec.overhead")

    def volumes(self, volumes: Any, path: str) -> Set[str]:
        """``ValidateVolumes``' name rules; returns the names a mount may use (valid and first of their name)."""
        names: Set[str] = set()
        for i, vol in enumerate(volumes if isinstance(volumes, list) else []):
            if not isinstance(vol, dict):
                continue
            name = _name_of(vol)
            if name is None:
                continue
            name_path = f"{path}[{i}].name"
            errs: List[Tuple[str, str, str]] = []
            if not name:
                errs.append((name_path, "Required value", ""))
            else:
                for msg in dns1123_label_errors(name):
                    errs.append((name_path, f"Invalid value: {_go_quote(name)}: {msg}", name))
            if name in names:
                errs.append((name_path, f"Duplicate value: {_go_quote(name)}", name))
            if not errs:
                names.add(name)
            for p, body, value in errs:
                self.add(p, body, value or None)
        return names

    def containers(self, containers: Any, volumes: Set[str]) -> Set[str]:
        """``validateContainers``: at least one container, names unique among regular containers."""
        if not containers:
            self.required("spec.containers")
            return set()
        names: Set[str] = set()
        for i, ctr in enumerate(containers if isinstance(containers, list) else []):
            if not isinstance(ctr, dict):
                continue
            path = f"spec.containers[{i}]"
            self.container(ctr, volumes, path)
            name = _name_of(ctr)
            if name is None:
                continue
            if name in names:
                self.add(f"{path}.name", f"Duplicate value: {_go_quote(name)}", name)
            else:
                names.add(name)
        return names

    def init_containers(self, containers: Any, regular: Set[str], volumes: Set[str]) -> None:
        """``validateInitContainers``: names unique among init and regular containers together."""
        names = set(regular)
        for i, ctr in enumerate(containers if isinstance(containers, list) else []):
            if not isinstance(ctr, dict):
                continue
            path = f"spec.initContainers[{i}]"
            self.container(ctr, volumes, path)
            name = _name_of(ctr)
            if name is None:
                continue
            if name in names:
                self.add(f"{path}.name", f"Duplicate value: {_go_quote(name)}", name)
            elif name:
                names.add(name)

    def container(self, ctr: Dict[str, Any], volumes: Set[str], path: str) -> None:
        """``validateContainerCommon``: the name, the volume mounts, the resources."""
        name = _name_of(ctr)
        if name is not None:
            if not name:
                self.required(f"{path}.name")
            for msg in dns1123_label_errors(name) if name else ():
                self.invalid(f"{path}.name", _go_quote(name), msg, name)
        self.volume_mounts(ctr.get("volumeMounts"), volumes, f"{path}.volumeMounts")
        resources = ctr.get("resources")
        if isinstance(resources, dict):
            self.resources(resources, f"{path}.resources")

    def volume_mounts(self, mounts: Any, volumes: Set[str], path: str) -> None:
        """``ValidateVolumeMounts``: a name that is a volume, a mount path unique within the container."""
        paths: Set[str] = set()
        for i, mnt in enumerate(mounts if isinstance(mounts, list) else []):
            if not isinstance(mnt, dict):
                continue
            idx = f"{path}[{i}]"
            name = _name_of(mnt)
            mount_path = mnt.get("mountPath")
            mount_path = "" if mount_path is None else mount_path
            if name is not None:
                if not name:
                    self.required(f"{idx}.name")
                if name not in volumes:
                    self.add(f"{idx}.name", f"Not found: {_go_quote(name)}", name)
            if not isinstance(mount_path, str):
                continue
            if not mount_path:
                self.required(f"{idx}.mountPath")
            if mount_path in paths:
                self.invalid(f"{idx}.mountPath", _go_quote(mount_path), "must be unique", mount_path)
            paths.add(mount_path)

    # ------------------------------------------------------------------------------------- resources
    def resources(self, resources: Dict[str, Any], path: str) -> None:
        """``validateResourceRequirements`` with ``validateContainerResourceName``."""
        limits = resources.get("limits")
        requests = resources.get("requests")
        limits = limits if isinstance(limits, dict) else {}
        requests = requests if isinstance(requests, dict) else {}
        parsed_limits: Dict[str, Quantity] = {}
        cpu_or_memory = hugepages = False
        for raw_name, raw in limits.items():
            name = str(raw_name)
            q = self.quantity(name, raw, f"{path}.limits.{name}")
            if q is not None:
                parsed_limits[name] = q
            hugepages = hugepages or is_hugepages_resource(name)
            cpu_or_memory = cpu_or_memory or name in ("cpu", "memory")
        for raw_name, raw in requests.items():
            name = str(raw_name)
            field = f"{path}.requests.{name}"
            q = self.quantity(name, raw, field)
            if name in limits:
                limit = parsed_limits.get(name)
                if q is not None and limit is not None:
                    if q != limit and not overcommit_allowed(name):
                        self.invalid(field, _go_quote(str(q)), f"must be equal to {name} limit of {limit}", str(q))
                    elif q > limit:
                        self.invalid(field, _go_quote(str(q)),
                                     f"must be less than or equal to {name} limit of {limit}", str(q))
            elif not overcommit_allowed(name):
                self.required(f"{path}.limits.{name}", "Limit must be set for non overcommitable resources")
            hugepages = hugepages or is_hugepages_resource(name)
            cpu_or_memory = cpu_or_memory or name in ("cpu", "memory")
        if hugepages and not cpu_or_memory:
            self.add(path, "Forbidden: HugePages require cpu or memory")

    def quantity(self, name: str, raw: Any, field: str) -> Optional[Quantity]:
        """The name's checks, then the value decoded and ``ValidateResourceQuantityValue``; None if undecodable."""
        for msg in container_resource_name_errors(name):
            self.invalid(field, _go_quote(name), msg)
        try:
            q = json_quantity(raw)
        except ResourceValidationError as e:
            shown = _go_quote(raw) if isinstance(raw, str) else _show(raw)
            self.invalid(field, shown, e.problem, raw if isinstance(raw, str) else None)
            return None
        if q.sign() < 0:
            self.invalid(field, _go_quote(str(q)), "must be greater than or equal to 0", str(q))
        if is_integer_resource(name) and q.milli_value() % 1000 != 0:
            self.invalid(field, str(q), "must be an integer", str(q))
        return q


def _name_of(obj: Dict[str, Any]) -> Optional[str]:
    """The ``name`` as Go decodes it: missing or null is ""; None when it is not a string (a schema error)."""
    name = obj.get("name")
    if name is None:
        return ""
    return name if isinstance(name, str) else None


def _show(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, default=repr)
    except (TypeError, ValueError, RecursionError):
        text = type(value).__name__
    return _shorten(text)
