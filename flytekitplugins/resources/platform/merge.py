"""Merging the layers of configuration files into a :class:`~.model.Platform`: pure, no file is read here."""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, Sequence, Tuple

from ..findings import WARNING, Finding
from ..k8s.resourcenames import ADMIN_ORDER
from ..quantity import Quantity
from .model import K8S_KEYS, JSONDict, K8sConfig, Platform, TaskResources, TaskResourceSet
from .sections import TR_KEYS

__all__ = ["Layer", "merge"]

Layer = Tuple[str, Dict[str, Any]]  #: (where, {key: value}) of one section of one file


def merge(k8s_layers: Sequence[Layer], tr_layers: Sequence[Layer], pod_templates: Mapping[str, JSONDict],
          sources: Mapping[str, str], findings: Sequence[Finding]) -> Platform:
    """The :class:`Platform` of the section layers merged in order over Flyte's defaults, as flytestdlib merges
    its ``--config`` files (viper ``MergeConfig``, then mapstructure with ``ZeroFields``). Pure: the arguments
    are not changed; ``sources`` and ``findings`` are extended in the result."""
    sources = dict(sources)
    findings = list(findings)

    def notice(code: str, message: str, source: str, field_: str) -> None:
        findings.append(Finding(WARNING, code, message, field=field_, source=source))

    merged: Dict[str, Any] = {}
    for where, layer in k8s_layers:
        for key, value in layer.items():
            kind = K8S_KEYS[key][1]
            dotted = f"plugins.k8s.{key}"
            if key in merged and isinstance(merged[key], dict) and not isinstance(value, dict):
                # viper's mergeMaps: a map already there is kept and the later non-map value is dropped
                notice("platform.value-ignored", f"{where}: {dotted} is ignored: an earlier file gives it "
                       "as a mapping and Flyte's config merge keeps the mapping (write both the same "
                       "way)", where, dotted)
                continue
            if key in merged and isinstance(merged[key], dict) and isinstance(value, dict) \
                    and kind not in ("quantity", "str", "bool"):
                merged[key] = _deep_merge(merged[key], value)
                sources[dotted] = _join(sources.get(dotted), where)
            else:
                merged[key] = value
                sources[dotted] = where
    k8s_kwargs: Dict[str, Any] = {}
    for key, value in merged.items():
        attr, kind = K8S_KEYS[key]
        k8s_kwargs[attr] = _finish(kind, value)

    tr = {"defaults": dict(_set_dict(TaskResources().defaults)), "limits": dict(_set_dict(TaskResources().limits))}
    for where, layer in tr_layers:
        for part, entries in layer.items():
            if entries is None:
                tr[part] = {}
                for k in TR_KEYS.values():
                    sources[f"task_resources.{part}.{k[1]}"] = where
                continue
            for rkey, q in entries.items():
                attr, jkey = TR_KEYS[rkey]
                tr[part][attr] = q
                sources[f"task_resources.{part}.{jkey}"] = where
    task_resources = TaskResources(
        defaults=TaskResourceSet(**{k: v for k, v in tr["defaults"].items() if v is not None and v.sign() != 0}),
        limits=TaskResourceSet(**{k: v for k, v in tr["limits"].items() if v is not None and v.sign() != 0}),
    )
    return Platform(
        k8s=K8sConfig(**k8s_kwargs),
        task_resources=task_resources,
        pod_templates=dict(pod_templates),
        sources=sources,
        findings=tuple(findings),
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
