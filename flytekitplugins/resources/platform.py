"""Flyte's platform configuration, as platform teams write it, loaded and merged over Flyte's defaults.

Inputs are the YAML files Flyte's Helm values and config maps already hold:

- flytepropeller's ``plugins: k8s: {...}`` (``flyteplugins/go/tasks/pluginmachinery/flytek8s/config/config.go``
  at flyte v1.16.8: the JSON names of ``K8sPluginConfig``);
- flyteadmin's ``task_resources: {defaults: {...}, limits: {...}}``
  (``flyteadmin/pkg/runtime/task_resource_provider.go``: ``cpu``, ``gpu``, ``memory``, ``ephemeralStorage``);
- base pod templates: Kubernetes ``PodTemplate`` manifests (``kind: PodTemplate``), by ``metadata.name``.

Also accepted: the same sections inside flyte-core / flyte-binary / flyte-sandbox / flyte Helm values and
inside rendered ConfigMaps (see :func:`load_platform` for the shapes). Several files merge in order as
flytestdlib merges its ``--config`` files (mappings merge key by key, lists and scalars replace). With none,
Flyte's own built-in defaults apply (the defaults of the dataclasses below, checked against config.go and
task_resource_provider.go at v1.16.8). Kubernetes objects inside the
configuration (tolerations, affinity, security contexts, pod templates) are kept as JSON dicts with
Kubernetes' JSON field names, so nothing here imports ``kubernetes``.

An unknown key, a bad quantity or a malformed manifest is a ``ResourceValidationError`` naming the file
and the key. This module uses ``quantity`` only; nothing below it uses this module.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from .findings import WARNING, Finding
from .k8s.manifest import parse_yaml_text
from .k8s.resourcenames import ADMIN_ORDER
from .quantity import Quantity, ResourceValidationError

__all__ = ["K8sConfig", "Platform", "TaskResourceSet", "TaskResources", "load_platform"]

JSONDict = Dict[str, Any]
_BUILTIN = "Flyte's default"


def _q(s: str) -> Quantity:
    return Quantity.parse(s)


@dataclass(frozen=True)
class TaskResourceSet:
    """flyteadmin's ``TaskResourceSet``: a zero/absent value means "not set"."""

    cpu: Optional[Quantity] = None
    gpu: Optional[Quantity] = None
    memory: Optional[Quantity] = None
    ephemeral_storage: Optional[Quantity] = None


@dataclass(frozen=True)
class TaskResources:
    """flyteadmin's ``task_resources`` section; built-in defaults from ``task_resource_provider.go``."""

    defaults: TaskResourceSet = field(default_factory=lambda: TaskResourceSet(cpu=_q("2"), memory=_q("200Mi")))
    limits: TaskResourceSet = field(
        default_factory=lambda: TaskResourceSet(cpu=_q("2"), memory=_q("1Gi"), gpu=_q("1"))
    )


@dataclass(frozen=True)
class K8sConfig:
    """flytepropeller's ``plugins.k8s`` section (the keys that shape a pod); defaults from ``config.go``.

    Field names are the JSON keys with ``-`` as ``_``. Kubernetes objects are JSON dicts.
    """

    default_cpus: Quantity = field(default_factory=lambda: _q("1000m"))
    default_memory: Quantity = field(default_factory=lambda: _q("1024Mi"))
    default_annotations: Mapping[str, str] = field(
        default_factory=lambda: {"cluster-autoscaler.kubernetes.io/safe-to-evict": "false"}
    )
    default_labels: Mapping[str, str] = field(default_factory=dict)
    default_env_vars: Mapping[str, str] = field(default_factory=dict)
    default_env_vars_from_env: Mapping[str, str] = field(default_factory=dict)
    default_env_from_configmaps: Tuple[str, ...] = ()
    default_env_from_secrets: Tuple[str, ...] = ()
    default_tolerations: Tuple[JSONDict, ...] = ()
    default_node_selector: Mapping[str, str] = field(default_factory=dict)
    default_affinity: Optional[JSONDict] = None
    scheduler_name: str = ""
    interruptible_tolerations: Tuple[JSONDict, ...] = ()
    interruptible_node_selector: Mapping[str, str] = field(default_factory=dict)
    interruptible_node_selector_requirement: Optional[JSONDict] = None
    non_interruptible_node_selector_requirement: Optional[JSONDict] = None
    resource_tolerations: Mapping[str, Tuple[JSONDict, ...]] = field(default_factory=dict)
    image_pull_policy: str = ""
    gpu_device_node_label: str = "k8s.amazonaws.com/accelerator"
    gpu_partition_size_node_label: str = "k8s.amazonaws.com/gpu-partition-size"
    gpu_unpartitioned_node_selector_requirement: Optional[JSONDict] = None
    gpu_unpartitioned_toleration: Optional[JSONDict] = None
    gpu_resource_name: str = "nvidia.com/gpu"
    default_pod_security_context: Optional[JSONDict] = None
    default_security_context: Optional[JSONDict] = None
    enable_host_networking_pod: Optional[bool] = None
    default_pod_dns_config: Optional[JSONDict] = None
    default_pod_template_name: str = ""
    add_tolerations_for_extended_resources: Tuple[str, ...] = ()


@dataclass(frozen=True)
class Platform:
    """Everything the preview needs to know about one Flyte deployment."""

    k8s: K8sConfig = field(default_factory=K8sConfig)
    task_resources: TaskResources = field(default_factory=TaskResources)
    #: base PodTemplate manifests (JSON dicts, ``kind: PodTemplate``) by ``metadata.name``
    pod_templates: Mapping[str, JSONDict] = field(default_factory=dict)
    #: where each key that is not a built-in default came from: ``"plugins.k8s.default-cpus"`` -> ``"prod.yaml"``
    #: (task resources as ``"task_resources.limits.cpu"``, pod templates as ``"pod_templates.<name>"``)
    sources: Mapping[str, str] = field(default_factory=dict)
    #: what Flyte's own config loader would do differently from what the files seem to say (lowercased map
    #: keys, ignored legacy keys, a later value Flyte ignores); ``warning`` findings, codes ``platform.*``
    findings: Tuple[Finding, ...] = ()

    def source_of(self, key: str) -> str:
        """``"plugins.k8s.default-cpus (prod.yaml)"`` or ``"plugins.k8s.default-cpus (Flyte's default)"``."""
        return f"{key} ({self.sources.get(key, _BUILTIN)})"



# ============================================================================================ loading
# Kubernetes objects: their top-level JSON field names (k8s.io/api/core/v1, Kubernetes 1.33). Go's
# encoding/json matches field names case-insensitively (and viper lowercases map keys), so we do too and
# store the canonical spelling.
_K8S_FIELDS: Dict[str, Tuple[str, ...]] = {
    "Toleration": ("key", "operator", "value", "effect", "tolerationSeconds"),
    "NodeSelectorRequirement": ("key", "operator", "values"),
    "Affinity": ("nodeAffinity", "podAffinity", "podAntiAffinity"),
    "PodSecurityContext": (
        "seLinuxOptions", "windowsOptions", "runAsUser", "runAsGroup", "runAsNonRoot", "supplementalGroups",
        "supplementalGroupsPolicy", "fsGroup", "sysctls", "fsGroupChangePolicy", "seccompProfile",
        "appArmorProfile", "seLinuxChangePolicy",
    ),
    "SecurityContext": (
        "capabilities", "privileged", "seLinuxOptions", "windowsOptions", "runAsUser", "runAsGroup",
        "runAsNonRoot", "readOnlyRootFilesystem", "allowPrivilegeEscalation", "procMount", "seccompProfile",
        "appArmorProfile",
    ),
    "PodDNSConfig": ("nameservers", "searches", "options"),
}
_K8S_STR_FIELDS = {"key", "operator", "value", "effect"}

#: plugins.k8s keys that shape a pod: JSON key -> (K8sConfig attribute, kind)
_K8S_KEYS: Dict[str, Tuple[str, str]] = {
    "default-cpus": ("default_cpus", "quantity"),
    "default-memory": ("default_memory", "quantity"),
    "default-annotations": ("default_annotations", "strmap"),
    "default-labels": ("default_labels", "strmap"),
    "default-env-vars": ("default_env_vars", "strmap"),
    "default-env-vars-from-env": ("default_env_vars_from_env", "strmap"),
    "default-env-from-configmaps": ("default_env_from_configmaps", "strlist"),
    "default-env-from-secrets": ("default_env_from_secrets", "strlist"),
    "default-tolerations": ("default_tolerations", "tolerations"),
    "default-node-selector": ("default_node_selector", "strmap"),
    "default-affinity": ("default_affinity", "Affinity"),
    "scheduler-name": ("scheduler_name", "str"),
    "interruptible-tolerations": ("interruptible_tolerations", "tolerations"),
    "interruptible-node-selector": ("interruptible_node_selector", "strmap"),
    "interruptible-node-selector-requirement": ("interruptible_node_selector_requirement", "NodeSelectorRequirement"),
    "non-interruptible-node-selector-requirement": (
        "non_interruptible_node_selector_requirement", "NodeSelectorRequirement"),
    "resource-tolerations": ("resource_tolerations", "restolerations"),
    "image-pull-policy": ("image_pull_policy", "str"),
    "gpu-device-node-label": ("gpu_device_node_label", "str"),
    "gpu-partition-size-node-label": ("gpu_partition_size_node_label", "str"),
    "gpu-unpartitioned-node-selector-requirement": (
        "gpu_unpartitioned_node_selector_requirement", "NodeSelectorRequirement"),
    "gpu-unpartitioned-toleration": ("gpu_unpartitioned_toleration", "Toleration"),
    "gpu-resource-name": ("gpu_resource_name", "str"),
    "default-pod-security-context": ("default_pod_security_context", "PodSecurityContext"),
    "default-security-context": ("default_security_context", "SecurityContext"),
    "enable-host-networking-pod": ("enable_host_networking_pod", "bool"),
    "default-pod-dns-config": ("default_pod_dns_config", "PodDNSConfig"),
    "default-pod-template-name": ("default_pod_template_name", "str"),
    "add-tolerations-for-extended-resources": ("add_tolerations_for_extended_resources", "strlist"),
}
#: plugins.k8s keys of K8sPluginConfig that do not shape a pod: accepted, not interpreted
_K8S_IGNORED = frozenset({
    "inject-finalizer", "co-pilot", "delete-resource-on-finalize", "create-container-error-grace-period",
    "create-container-config-error-grace-period", "image-pull-backoff-grace-period", "pod-pending-timeout",
    "default-pod-template-resync", "send-object-events", "update-base-backoff-duration", "update-backoff-retries",
    "enable-distributed-error-aggregation",
})
#: flyteadmin TaskResourceSet keys (lowercased, as viper delivers them) -> (attribute, JSON key)
_TR_KEYS = {r.admin_key_lower: (r.attribute, r.admin_key) for r in ADMIN_ORDER}
_TR_LEGACY = frozenset({"storage"})  # older charts (charts/flyte) still write it; flyteadmin 1.16 ignores it


_NO_VALUE: Any = object()


def _fail(where: str, key: str, value: Any, problem: str, hint: Optional[str] = None) -> ResourceValidationError:
    """``<file>: <dotted.key>=<value>: <problem>; <hint>`` (the key alone when there is no value to show)."""
    if value is _NO_VALUE:
        return ResourceValidationError(problem, field=f"{where}: {key}", hint=hint)
    return ResourceValidationError(problem, field=f"{where}: {key}", value=value, hint=hint)


class _Loader:
    def __init__(self) -> None:
        self.k8s_layers: List[Tuple[str, Dict[str, Any]]] = []  # (where, {json-key: normalised raw value})
        self.tr_layers: List[Tuple[str, Dict[str, Any]]] = []  # (where, {"defaults"/"limits": {...} or None})
        self.pod_templates: Dict[str, JSONDict] = {}
        self.sources: Dict[str, str] = {}
        self.findings: List[Finding] = []

    def notice(self, code: str, message: str, source: str, field_: str) -> None:
        self.findings.append(Finding(WARNING, code, message, field=field_, source=source))

    # ------------------------------------------------------------------ documents
    def document(self, where: str, doc: Any, *, pod_templates_only: bool = False) -> None:
        if doc is None:
            return
        if not isinstance(doc, dict):
            raise _fail(where, "(document)", doc, "is not a YAML mapping",
                        "give a Flyte config file, Helm values, a ConfigMap or a PodTemplate manifest")
        kind = doc.get("kind")
        if kind in ("List", "ConfigMapList") and not pod_templates_only:
            items = doc.get("items")
            if not isinstance(items, list):
                raise _fail(where, "items", items, f"a {kind} must have a list of items")
            for i, item in enumerate(items):
                if not isinstance(item, dict) or item.get("kind") not in ("PodTemplate", "ConfigMap"):
                    raise _fail(where, f"items[{i}].kind", item.get("kind") if isinstance(item, dict) else item,
                                "is not a PodTemplate or a ConfigMap")
                self.document(f"{where} (items[{i}])", item)
            return
        if kind in ("PodTemplate", "List", "PodTemplateList"):
            self.manifest(where, doc)
            return
        if pod_templates_only:
            raise _fail(where, "kind", kind, "is not a PodTemplate manifest",
                        "a pod template file holds 'kind: PodTemplate' documents (or a 'kind: List' of them)")
        if kind == "ConfigMap":
            data = doc.get("data") or {}
            if not isinstance(data, dict):
                raise _fail(where, "data", data, "a ConfigMap's data must be a mapping of file names to text")
            name = (doc.get("metadata") or {}).get("name", "?") if isinstance(doc.get("metadata"), dict) else "?"
            found = False
            for fname in sorted(data):  # Flyte reads the mounted files in glob (sorted) order
                text = data[fname]
                sub = f"{where} (ConfigMap {name}, {fname})"
                if not isinstance(text, str):
                    raise _fail(sub, "data", text, "is not text")
                parsed = parse_yaml_text(sub, text)
                for d in parsed:
                    found = self.config(sub, d) or found
            if not found:
                raise _fail(where, f"ConfigMap {name}", _NO_VALUE, "holds no 'plugins.k8s' or 'task_resources' section")
            return
        if kind is not None:
            raise _fail(where, "kind", kind, "is not a kind this loader reads",
                        "give a Flyte config file, Helm values, a ConfigMap or a PodTemplate manifest")
        if not self.values(where, doc):
            raise _fail(where, "(document)", _NO_VALUE,
                        "holds none of 'plugins.k8s', 'task_resources', flyte-core's 'configmap' or flyte-binary's "
                        "'configuration.inline'", "give flytepropeller's or flyteadmin's configuration")

    def values(self, where: str, doc: Dict[str, Any]) -> bool:
        """A Flyte config file, or Helm values (flyte-core, flyte-binary, and the charts that wrap them)."""
        found = self.config(where, doc)
        cm = doc.get("configmap")
        if isinstance(cm, dict):  # flyte-core: each section becomes one file of the config maps
            for section, body in cm.items():
                if isinstance(body, dict):
                    found = self.config(f"{where} (configmap.{section})", body) or found
        conf = doc.get("configuration")
        if isinstance(conf, dict) and isinstance(conf.get("inline"), dict):  # flyte-binary
            found = self.config(f"{where} (configuration.inline)", conf["inline"]) or found
        for wrapper in ("flyte", "flyte-core", "flyte-binary"):  # umbrella charts: flyte, flyte-sandbox
            if isinstance(doc.get(wrapper), dict):
                found = self.values(f"{where} ({wrapper})", doc[wrapper]) or found
        return found

    def config(self, where: str, doc: Any) -> bool:
        """One flytestdlib config file: top-level sections; only plugins.k8s and task_resources are read."""
        if not isinstance(doc, dict):
            return False
        found = False
        keys = {str(k).lower(): k for k in doc}  # viper's keys are case-insensitive
        if "plugins" in keys:
            plugins = doc[keys["plugins"]]
            if plugins is not None and not isinstance(plugins, dict):
                raise _fail(where, "plugins", plugins, "must be a mapping")
            pk = {str(k).lower(): k for k in (plugins or {})}
            if "k8s" in pk:
                found = True
                self.k8s_section(where, (plugins or {})[pk["k8s"]])
        if "task_resources" in keys:
            found = True
            self.tr_section(where, doc[keys["task_resources"]])
        return found

    # ------------------------------------------------------------------ plugins.k8s
    def k8s_section(self, where: str, body: Any) -> None:
        if body is None:
            return
        if not isinstance(body, dict):
            raise _fail(where, "plugins.k8s", body, "must be a mapping of K8sPluginConfig keys")
        layer: Dict[str, Any] = {}
        for raw_key, value in body.items():
            key = str(raw_key).lower()
            dotted = f"plugins.k8s.{raw_key}"
            if key in _K8S_IGNORED:
                continue
            if key not in _K8S_KEYS:
                raise _fail(where, dotted, value, "is not a key of flytepropeller's plugins.k8s (K8sPluginConfig)",
                            _suggest(key, list(_K8S_KEYS) + sorted(_K8S_IGNORED)))
            kind = _K8S_KEYS[key][1]
            layer[key] = _normalise(where, dotted, kind, value, self)
        self.k8s_layers.append((where, layer))

    # ------------------------------------------------------------------ task_resources
    def tr_section(self, where: str, body: Any) -> None:
        if body is None:
            return
        if not isinstance(body, dict):
            raise _fail(where, "task_resources", body, "must be a mapping with 'defaults' and/or 'limits'")
        layer: Dict[str, Any] = {}
        for raw_key, value in body.items():
            key = str(raw_key).lower()
            dotted = f"task_resources.{raw_key}"
            if key not in ("defaults", "limits"):
                raise _fail(where, dotted, value, "is not a key of flyteadmin's task_resources",
                            "use 'defaults' and 'limits'")
            if value is None:
                layer[key] = None  # Go: a null struct is zeroed: every value unset
                continue
            if not isinstance(value, dict):
                raise _fail(where, dotted, value, "must be a mapping of cpu, gpu, memory, ephemeralStorage")
            entries: Dict[str, Optional[Quantity]] = {}
            for rk, rv in value.items():
                rkey = str(rk).lower()
                rdotted = f"{dotted}.{rk}"
                if rkey in _TR_LEGACY:
                    self.notice("platform.ignored-key", f"{where}: {rdotted} is ignored by flyteadmin 1.16 "
                                "(TaskResourceSet has no storage; use ephemeralStorage)", where, rdotted)
                    continue
                if rkey not in _TR_KEYS:
                    raise _fail(where, rdotted, rv, "is not a key of flyteadmin's TaskResourceSet",
                                "use cpu, gpu, memory or ephemeralStorage")
                entries[rkey] = None if rv is None else _quantity(where, rdotted, rv)
            layer[key] = entries
        self.tr_layers.append((where, layer))

    # ------------------------------------------------------------------ manifests
    def manifest(self, where: str, doc: Dict[str, Any]) -> None:
        kind = doc.get("kind")
        if kind in ("List", "PodTemplateList"):
            items = doc.get("items")
            if not isinstance(items, list):
                raise _fail(where, "items", items, f"a {kind} must have a list of items")
            for i, item in enumerate(items):
                if not isinstance(item, dict) or item.get("kind") != "PodTemplate":
                    raise _fail(where, f"items[{i}].kind", item.get("kind") if isinstance(item, dict) else item,
                                "is not a PodTemplate")
                self.manifest(f"{where} (items[{i}])", item)
            return
        for k in doc:
            if k not in ("apiVersion", "kind", "metadata", "template"):
                raise _fail(where, f"PodTemplate.{k}", doc[k], "is not a field of a PodTemplate",
                            "a PodTemplate has apiVersion, kind, metadata and template")
        if doc.get("apiVersion", "v1") != "v1":
            raise _fail(where, "apiVersion", doc.get("apiVersion"), "a PodTemplate's apiVersion is 'v1'")
        meta = doc.get("metadata")
        name = meta.get("name") if isinstance(meta, dict) else None
        if not isinstance(name, str) or not name:
            raise _fail(where, "metadata.name", name, "a PodTemplate needs a name (metadata.name)")
        tmpl = doc.get("template")
        if tmpl is None:
            tmpl = {}
        if not isinstance(tmpl, dict):
            raise _fail(where, f"{name}: template", tmpl, "must be a mapping (metadata, spec)")
        for k in tmpl:
            if k not in ("metadata", "spec"):
                raise _fail(where, f"{name}: template.{k}", tmpl[k], "is not a field of a PodTemplateSpec",
                            "use template.metadata and template.spec")
        spec = tmpl.get("spec")
        if spec is not None and not isinstance(spec, dict):
            raise _fail(where, f"{name}: template.spec", spec, "must be a mapping (a PodSpec)")
        for lk in ("containers", "initContainers"):
            cs = (spec or {}).get(lk)
            if cs is None:
                continue
            if not isinstance(cs, list) or not all(isinstance(c, dict) for c in cs):
                raise _fail(where, f"{name}: template.spec.{lk}", cs, "must be a list of containers")
            for i, c in enumerate(cs):
                if not isinstance(c.get("name"), str) or not c.get("name"):
                    raise _fail(where, f"{name}: template.spec.{lk}[{i}].name", c.get("name"),
                                "every container needs a name")
                res = c.get("resources") or {}
                if not isinstance(res, dict):
                    raise _fail(where, f"{name}: template.spec.{lk}[{i}].resources", res, "must be a mapping")
                for part in ("requests", "limits"):
                    rl = res.get(part) or {}
                    if not isinstance(rl, dict):
                        raise _fail(where, f"{name}: template.spec.{lk}[{i}].resources.{part}", rl,
                                    "must be a mapping of resource names to quantities")
                    for rname, rv in rl.items():
                        _quantity(where, f"{name}: template.spec.{lk}[{i}].resources.{part}.{rname}", rv)
        self.pod_templates[name] = _jsonable(doc)
        self.sources[f"pod_templates.{name}"] = where

    # ------------------------------------------------------------------ merge
    def build(self) -> Platform:
        merged: Dict[str, Any] = {}
        for where, layer in self.k8s_layers:
            for key, value in layer.items():
                kind = _K8S_KEYS[key][1]
                dotted = f"plugins.k8s.{key}"
                if key in merged and isinstance(merged[key], dict) and not isinstance(value, dict):
                    # viper's mergeMaps: a map already there is kept and the later non-map value is dropped
                    self.notice("platform.value-ignored", f"{where}: {dotted} is ignored: an earlier file gives it "
                                "as a mapping and Flyte's config merge keeps the mapping (write both the same "
                                "way)", where, dotted)
                    continue
                if key in merged and isinstance(merged[key], dict) and isinstance(value, dict) \
                        and kind not in ("quantity", "str", "bool"):
                    merged[key] = _deep_merge(merged[key], value)
                    self.sources[dotted] = _join(self.sources.get(dotted), where)
                else:
                    merged[key] = value
                    self.sources[dotted] = where
        k8s_kwargs: Dict[str, Any] = {}
        for key, value in merged.items():
            attr, kind = _K8S_KEYS[key]
            k8s_kwargs[attr] = _finish(kind, value)

        tr = {"defaults": dict(_set_dict(TaskResources().defaults)), "limits": dict(_set_dict(TaskResources().limits))}
        for where, layer in self.tr_layers:
            for part, entries in layer.items():
                if entries is None:
                    tr[part] = {}
                    for k in _TR_KEYS.values():
                        self.sources[f"task_resources.{part}.{k[1]}"] = where
                    continue
                for rkey, q in entries.items():
                    attr, jkey = _TR_KEYS[rkey]
                    tr[part][attr] = q
                    self.sources[f"task_resources.{part}.{jkey}"] = where
        task_resources = TaskResources(
            defaults=TaskResourceSet(**{k: v for k, v in tr["defaults"].items() if v is not None and v.sign() != 0}),
            limits=TaskResourceSet(**{k: v for k, v in tr["limits"].items() if v is not None and v.sign() != 0}),
        )
        return Platform(
            k8s=K8sConfig(**k8s_kwargs),
            task_resources=task_resources,
            pod_templates=dict(self.pod_templates),
            sources=dict(self.sources),
            findings=tuple(self.findings),
        )


def _set_dict(s: TaskResourceSet) -> Dict[str, Optional[Quantity]]:
    return {r.attribute: getattr(s, r.attribute) for r in ADMIN_ORDER}


def _join(old: Optional[str], new: str) -> str:
    if not old or old == new:
        return new
    return f"{old}, {new}"


def _deep_merge(old: Dict[str, Any], new: Dict[str, Any]) -> Dict[str, Any]:
    out = dict(old)
    for k, v in new.items():
        if k in out and isinstance(out[k], dict):
            if isinstance(v, dict):
                out[k] = _deep_merge(out[k], v)
            # else: viper keeps the map and drops the non-map value
        else:
            out[k] = v
    return out


def _suggest(key: str, known: List[str]) -> str:
    import difflib

    close = difflib.get_close_matches(key, known, n=1)
    return f"did you mean {close[0]!r}?" if close else "see K8sPluginConfig in flyteplugins' flytek8s/config/config.go"


def _quantity(where: str, key: str, value: Any) -> Quantity:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _fail(where, key, value, "is not a quantity", "write a Kubernetes quantity such as '500m', 2 or '4Gi'")
    try:
        return Quantity.from_value(value)
    except ResourceValidationError as e:
        raise _fail(where, key, value, e.problem, e.hint) from None


def _scalar_str(where: str, key: str, value: Any) -> str:
    """mapstructure's weak typing into a string: numbers print, booleans are '1'/'0', null is ''."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if not value.is_integer() else str(int(value))
    if isinstance(value, str):
        return value
    raise _fail(where, key, value, f"must be a string, not a {type(value).__name__}")


def _normalise(where: str, dotted: str, kind: str, value: Any, loader: _Loader) -> Any:
    """Check one plugins.k8s value and bring it to a mergeable form (dicts stay dicts, lists stay lists)."""
    if kind == "quantity":
        return None if value is None else _quantity(where, dotted, value)
    if kind == "str":
        if isinstance(value, (dict, list)):
            raise _fail(where, dotted, value, "must be a string")
        text = _scalar_str(where, dotted, value)
        if dotted.lower().endswith("image-pull-policy") and text not in ("", "Always", "IfNotPresent", "Never"):
            raise _fail(where, dotted, value, "is not an image pull policy Kubernetes accepts",
                        "use Always, IfNotPresent or Never")
        return text
    if kind == "bool":
        if value is None:
            return None
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "t", "f"):
            return value.lower() in ("true", "1", "t")
        raise _fail(where, dotted, value, "must be true or false")
    if kind == "strlist":
        if value is None:
            return []
        if isinstance(value, str):  # mapstructure's StringToSliceHookFunc(",")
            return [s for s in value.split(",")] if value else []
        if not isinstance(value, list):
            raise _fail(where, dotted, value, "must be a list of strings")
        return [_scalar_str(where, f"{dotted}[{i}]", v) for i, v in enumerate(value)]
    if kind == "strmap":
        return _string_map(where, dotted, value, loader)
    if kind == "tolerations":
        if value is None:
            return []
        if not isinstance(value, list):
            raise _fail(where, dotted, value, "must be a list of tolerations",
                        "write e.g. [{key: dedicated, operator: Equal, value: flyte, effect: NoSchedule}]")
        return [_k8s_object(where, f"{dotted}[{i}]", "Toleration", t) for i, t in enumerate(value)]
    if kind == "restolerations":
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise _fail(where, dotted, value, "must map a resource name to a list of tolerations")
        return {str(rk): _normalise(where, f"{dotted}.{rk}", "tolerations", rv, loader) for rk, rv in value.items()}
    # a Kubernetes object
    if value is None:
        return None
    return _k8s_object(where, dotted, kind, value)


def _string_map(where: str, dotted: str, value: Any, loader: _Loader) -> Any:
    if value is None:
        return {}
    if isinstance(value, list):
        # flytestdlib's sliceToMapHook: [{K: v}, {K2: v2}] is one map, and keeps the keys' case
        out: Dict[str, str] = {}
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                raise _fail(where, f"{dotted}[{i}]", item, "must be a mapping (the list form is [{KEY: value}, ...])")
            for k, v in item.items():
                out[str(k)] = _scalar_str(where, f"{dotted}[{i}].{k}", v)
        return ("list", out)
    if not isinstance(value, dict):
        raise _fail(where, dotted, value, "must be a mapping of strings (or the list form [{KEY: value}, ...])")
    out = {}
    for k, v in value.items():
        key = str(k)
        if "." not in key and key != key.lower():
            # viper lowercases every map key it reads; flytestdlib restores only dotted keys and list items
            loader.notice("platform.key-lowercased", f"{where}: {dotted}.{key}: Flyte's config loader lowercases "
                          f"this key to {key.lower()!r}; write the list form ({dotted}: [{{{key}: ...}}]) to keep "
                          "its case", where, f"{dotted}.{key}")
            key = key.lower()
        out[key] = _scalar_str(where, f"{dotted}.{k}", v)
    return out


def _k8s_object(where: str, dotted: str, kind: str, value: Any) -> JSONDict:
    if not isinstance(value, dict):
        raise _fail(where, dotted, value, f"must be a Kubernetes {kind} (a mapping)")
    fields = _K8S_FIELDS[kind]
    by_lower = {f.lower(): f for f in fields}
    out: JSONDict = {}
    for k, v in value.items():
        canonical = by_lower.get(str(k).lower())
        if canonical is None:
            raise _fail(where, f"{dotted}.{k}", v, f"is not a field of a Kubernetes {kind}",
                        f"its fields are {', '.join(fields)}")
        if kind in ("Toleration", "NodeSelectorRequirement") and canonical in _K8S_STR_FIELDS:
            if not isinstance(v, str):
                raise _fail(where, f"{dotted}.{k}", v, "must be a string")
        if canonical == "tolerationSeconds" and v is not None and (isinstance(v, bool) or not isinstance(v, int)):
            raise _fail(where, f"{dotted}.{k}", v, "must be a whole number of seconds")
        if canonical == "values" and (not isinstance(v, list) or not all(isinstance(x, str) for x in v)):
            raise _fail(where, f"{dotted}.{k}", v, "must be a list of strings")
        out[canonical] = _jsonable(v)
    return out


def _finish(kind: str, value: Any) -> Any:
    if kind == "strmap":
        if isinstance(value, tuple):
            value = value[1]
        return dict(value)
    if kind in ("tolerations", "strlist"):
        return tuple(value)
    if kind == "restolerations":
        return {k: tuple(v) for k, v in value.items()}
    return value


def _jsonable(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    return v


def _read(source: Union[str, os.PathLike[str], object]) -> Tuple[str, str]:
    """(name for messages, text) of a path, or of an open text/binary stream with ``read()``."""
    read: Optional[Callable[[], Any]] = getattr(source, "read", None)
    if read is not None:
        name = str(getattr(source, "name", "<stream>"))
        data = read()
        return name, data.decode("utf-8") if isinstance(data, bytes) else str(data)
    if not isinstance(source, (str, os.PathLike)):
        raise ResourceValidationError("is not a file path or an open file", field="platform file", value=source)
    name = os.fspath(source)
    try:
        with open(name, encoding="utf-8") as f:
            return name, f.read()
    except FileNotFoundError:
        raise _fail(name, "(file)", _NO_VALUE, "does not exist") from None
    except (OSError, UnicodeDecodeError) as e:
        raise _fail(name, "(file)", _NO_VALUE, f"cannot be read ({e.__class__.__name__}: {e})") from None


def load_platform(
    files: Sequence[Union[str, object]] = (), pod_templates: Sequence[Union[str, object]] = ()
) -> Platform:
    """Load platform YAML files (merged in order) and PodTemplate manifest files into a :class:`Platform`.

    ``files`` and ``pod_templates`` are paths or open files (anything with ``read()``). Each YAML document
    in ``files`` may be:

    - a Flyte config file (what ``flytepropeller``/``flyteadmin``/``flyte`` read with ``--config``):
      top-level ``plugins: {k8s: {...}}`` and/or ``task_resources: {defaults: ..., limits: ...}``; other
      sections (``propeller``, ``storage``, ``plugins.logs``...) are ignored;
    - flyte-core Helm values: every section under ``configmap:`` (``configmap.k8s.plugins.k8s``,
      ``configmap.task_resource_defaults.task_resources``, ``configmap.copilot``...), each read as one file;
    - flyte-binary Helm values: ``configuration.inline``;
    - the umbrella charts' values: the above under ``flyte:``, ``flyte-core:`` or ``flyte-binary:``
      (charts/flyte, charts/flyte-sandbox);
    - a rendered ConfigMap (``kubectl get cm flyte-propeller-config -o yaml``): each ``data`` entry parsed
      as a config file, in file-name order;
    - PodTemplate manifests, as in ``pod_templates``.

    ``pod_templates`` files hold ``kind: PodTemplate`` documents (several per file, or a ``kind: List``),
    stored by ``metadata.name``; a later one with the same name replaces the earlier.

    Merging follows flytestdlib (viper ``MergeConfig`` then mapstructure with ``ZeroFields``): files are
    read in order; a mapping merges key by key with the same mapping from earlier files (so
    ``default-labels`` from two files are combined, the later file winning per label); a list or a scalar
    replaces; a later non-mapping value where an earlier file had a mapping is ignored by Flyte (reported
    in ``Platform.findings``). A key a file sets replaces Flyte's built-in default for that key wholesale
    (setting ``default-annotations`` drops the built-in ``cluster-autoscaler...safe-to-evict``), while
    ``task_resources.defaults``/``limits`` replace the built-in value per resource (``null`` clears all).
    String maps given as mappings get their keys lowercased unless they contain a dot, as viper does; the
    list form ``[{KEY: value}]`` keeps the case (both reported in ``findings``). A zero task resource means
    unset and is stored as ``None``.

    Raises :class:`ResourceValidationError` naming the file and the dotted key for a missing or unreadable
    file, bad YAML, an unknown key, a bad quantity, a wrong type, an unknown field of a Kubernetes object or
    a malformed manifest.
    """
    if isinstance(files, (str, os.PathLike)) or isinstance(pod_templates, (str, os.PathLike)):
        raise ResourceValidationError("must be a list of files, not one path", field="load_platform",
                                      value=files if isinstance(files, (str, os.PathLike)) else pod_templates,
                                      hint="wrap it in a list: load_platform(['flyte.yaml'])")
    loader = _Loader()
    for src in files:
        name, text = _read(src)
        docs = parse_yaml_text(name, text)
        for i, doc in enumerate(docs):
            loader.document(name if len(docs) == 1 else f"{name} (document {i + 1})", doc)
    for src in pod_templates:
        name, text = _read(src)
        docs = [d for d in parse_yaml_text(name, text) if d is not None]
        if not docs:
            raise _fail(name, "(file)", _NO_VALUE, "holds no PodTemplate")
        for i, doc in enumerate(docs):
            loader.document(name if len(docs) == 1 else f"{name} (document {i + 1})", doc, pod_templates_only=True)
    return loader.build()
