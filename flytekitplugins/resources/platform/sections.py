"""The two sections of Flyte's configuration the preview reads, each key checked as Flyte decodes it.

- flytepropeller's ``plugins.k8s`` (``K8sPluginConfig``, flyteplugins ``flytek8s/config/config.go`` at v1.16.8):
  the keys are :data:`~.model.K8S_KEYS` (from :class:`~.model.K8sConfig`'s fields), plus the keys that do not
  shape a pod (accepted, not interpreted);
- flyteadmin's ``task_resources`` (``TaskResourceSet``: the keys of the resource names table).

A section parser returns a *layer*: the section's values in a form :func:`~.merge.merge` can merge as
flytestdlib does (dicts stay dicts, lists stay lists). What Flyte would do differently from what the file
seems to say is reported through ``notice(code, message, source, field)``.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Tuple

from ..k8s.resourcenames import ADMIN_ORDER
from ..quantity import Quantity
from .model import K8S_KEYS, JSONDict
from .values import config_quantity, fail, jsonable

__all__ = ["K8S_IGNORED", "TR_KEYS", "k8s_section", "task_resources_section"]

Notice = Callable[[str, str, str, str], None]  #: (code, message, source, field)

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
#: plugins.k8s keys of K8sPluginConfig that do not shape a pod: accepted, not interpreted
K8S_IGNORED = frozenset({
    "inject-finalizer", "co-pilot", "delete-resource-on-finalize", "create-container-error-grace-period",
    "create-container-config-error-grace-period", "image-pull-backoff-grace-period", "pod-pending-timeout",
    "default-pod-template-resync", "send-object-events", "update-base-backoff-duration", "update-backoff-retries",
    "enable-distributed-error-aggregation",
})
#: flyteadmin TaskResourceSet keys (lowercased, as viper delivers them) -> (attribute, JSON key)
TR_KEYS = {r.admin_key_lower: (r.attribute, r.admin_key) for r in ADMIN_ORDER}
TR_LEGACY = frozenset({"storage"})  # older charts (charts/flyte) still write it; flyteadmin 1.16 ignores it


def k8s_section(where: str, body: Any, notice: Notice) -> Optional[Dict[str, Any]]:
    """``plugins.k8s``: each key checked and brought to a mergeable form (None for a null section)."""
    if body is None:
        return None
    if not isinstance(body, dict):
        raise fail(where, "plugins.k8s", body, "must be a mapping of K8sPluginConfig keys")
    layer: Dict[str, Any] = {}
    for raw_key, value in body.items():
        key = str(raw_key).lower()
        dotted = f"plugins.k8s.{raw_key}"
        if key in K8S_IGNORED:
            continue
        if key not in K8S_KEYS:
            raise fail(where, dotted, value, "is not a key of flytepropeller's plugins.k8s (K8sPluginConfig)",
                       _suggest(key, list(K8S_KEYS) + sorted(K8S_IGNORED)))
        kind = K8S_KEYS[key][1]
        layer[key] = _normalise(where, dotted, kind, value, notice)
    return layer


def task_resources_section(where: str, body: Any, notice: Notice) -> Optional[Dict[str, Any]]:
    """flyteadmin's ``task_resources``: ``{"defaults"/"limits": {key: quantity or None} or None}`` (None for a
    null section)."""
    if body is None:
        return None
    if not isinstance(body, dict):
        raise fail(where, "task_resources", body, "must be a mapping with 'defaults' and/or 'limits'")
    layer: Dict[str, Any] = {}
    for raw_key, value in body.items():
        key = str(raw_key).lower()
        dotted = f"task_resources.{raw_key}"
        if key not in ("defaults", "limits"):
            raise fail(where, dotted, value, "is not a key of flyteadmin's task_resources",
                       "use 'defaults' and 'limits'")
        if value is None:
            layer[key] = None  # Go: a null struct is zeroed: every value unset
            continue
        if not isinstance(value, dict):
            raise fail(where, dotted, value, "must be a mapping of cpu, gpu, memory, ephemeralStorage")
        entries: Dict[str, Optional[Quantity]] = {}
        for rk, rv in value.items():
            rkey = str(rk).lower()
            rdotted = f"{dotted}.{rk}"
            if rkey in TR_LEGACY:
                notice("platform.ignored-key", f"{where}: {rdotted} is ignored by flyteadmin 1.16 "
                       "(TaskResourceSet has no storage; use ephemeralStorage)", where, rdotted)
                continue
            if rkey not in TR_KEYS:
                raise fail(where, rdotted, rv, "is not a key of flyteadmin's TaskResourceSet",
                           "use cpu, gpu, memory or ephemeralStorage")
            entries[rkey] = None if rv is None else config_quantity(where, rdotted, rv)
        layer[key] = entries
    return layer


def _suggest(key: str, known: List[str]) -> str:
    import difflib

    close = difflib.get_close_matches(key, known, n=1)
    return f"did you mean {close[0]!r}?" if close else "see K8sPluginConfig in flyteplugins' flytek8s/config/config.go"


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
    raise fail(where, key, value, f"must be a string, not a {type(value).__name__}")


def _normalise(where: str, dotted: str, kind: str, value: Any, notice: Notice) -> Any:
    """Check one plugins.k8s value and bring it to a mergeable form (dicts stay dicts, lists stay lists)."""
    if kind == "quantity":
        return None if value is None else config_quantity(where, dotted, value)
    if kind == "str":
        if isinstance(value, (dict, list)):
            raise fail(where, dotted, value, "must be a string")
        text = _scalar_str(where, dotted, value)
        if dotted.lower().endswith("image-pull-policy") and text not in ("", "Always", "IfNotPresent", "Never"):
            raise fail(where, dotted, value, "is not an image pull policy Kubernetes accepts",
                       "use Always, IfNotPresent or Never")
        return text
    if kind == "bool":
        if value is None:
            return None
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "t", "f"):
            return value.lower() in ("true", "1", "t")
        raise fail(where, dotted, value, "must be true or false")
    if kind == "strlist":
        if value is None:
            return []
        if isinstance(value, str):  # mapstructure's StringToSliceHookFunc(",")
            return [s for s in value.split(",")] if value else []
        if not isinstance(value, list):
            raise fail(where, dotted, value, "must be a list of strings")
        return [_scalar_str(where, f"{dotted}[{i}]", v) for i, v in enumerate(value)]
    if kind == "strmap":
        return _string_map(where, dotted, value, notice)
    if kind == "tolerations":
        if value is None:
            return []
        if not isinstance(value, list):
            raise fail(where, dotted, value, "must be a list of tolerations",
                       "write e.g. [{key: dedicated, operator: Equal, value: flyte, effect: NoSchedule}]")
        return [_k8s_object(where, f"{dotted}[{i}]", "Toleration", t) for i, t in enumerate(value)]
    if kind == "restolerations":
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise fail(where, dotted, value, "must map a resource name to a list of tolerations")
        return {str(rk): _normalise(where, f"{dotted}.{rk}", "tolerations", rv, notice) for rk, rv in value.items()}
    # a Kubernetes object
    if value is None:
        return None
    return _k8s_object(where, dotted, kind, value)


def _string_map(where: str, dotted: str, value: Any, notice: Notice) -> Any:
    if value is None:
        return {}
    if isinstance(value, list):
        # flytestdlib's sliceToMapHook: [{K: v}, {K2: v2}] is one map, and keeps the keys' case
        out: Dict[str, str] = {}
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                raise fail(where, f"{dotted}[{i}]", item, "must be a mapping (the list form is [{KEY: value}, ...])")
            for k, v in item.items():
                out[str(k)] = _scalar_str(where, f"{dotted}[{i}].{k}", v)
        return ("list", out)
    if not isinstance(value, dict):
        raise fail(where, dotted, value, "must be a mapping of strings (or the list form [{KEY: value}, ...])")
    out = {}
    for k, v in value.items():
        key = str(k)
        if "." not in key and key != key.lower():
            # viper lowercases every map key it reads; flytestdlib restores only dotted keys and list items
            notice("platform.key-lowercased", f"{where}: {dotted}.{key}: Flyte's config loader lowercases "
                   f"this key to {key.lower()!r}; write the list form ({dotted}: [{{{key}: ...}}]) to keep "
                   "its case", where, f"{dotted}.{key}")
            key = key.lower()
        out[key] = _scalar_str(where, f"{dotted}.{k}", v)
    return out


def _k8s_object(where: str, dotted: str, kind: str, value: Any) -> JSONDict:
    if not isinstance(value, dict):
        raise fail(where, dotted, value, f"must be a Kubernetes {kind} (a mapping)")
    fields = _K8S_FIELDS[kind]
    by_lower = {f.lower(): f for f in fields}
    out: JSONDict = {}
    for k, v in value.items():
        canonical = by_lower.get(str(k).lower())
        if canonical is None:
            raise fail(where, f"{dotted}.{k}", v, f"is not a field of a Kubernetes {kind}",
                       f"its fields are {', '.join(fields)}")
        if kind in ("Toleration", "NodeSelectorRequirement") and canonical in _K8S_STR_FIELDS:
            if not isinstance(v, str):
                raise fail(where, f"{dotted}.{k}", v, "must be a string")
        if canonical == "tolerationSeconds" and v is not None and (isinstance(v, bool) or not isinstance(v, int)):
            raise fail(where, f"{dotted}.{k}", v, "must be a whole number of seconds")
        if canonical == "values" and (not isinstance(v, list) or not all(isinstance(x, str) for x in v)):
            raise fail(where, f"{dotted}.{k}", v, "must be a list of strings")
        out[canonical] = jsonable(v)
    return out
