"""Base pod templates: Kubernetes ``PodTemplate`` manifests, checked as far as the preview relies on them."""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

from .model import JSONDict
from .values import config_quantity, fail, jsonable

__all__ = ["pod_templates"]


def pod_templates(where: str, doc: Dict[str, Any]) -> List[Tuple[str, str, JSONDict]]:
    """The PodTemplates of a ``kind: PodTemplate`` (or ``List``/``PodTemplateList``) manifest, checked:
    ``(name, where, manifest as JSON)`` for each, in order."""
    kind = doc.get("kind")
    if kind in ("List", "PodTemplateList"):
        out: List[Tuple[str, str, JSONDict]] = []
        items = doc.get("items")
        if not isinstance(items, list):
            raise fail(where, "items", items, f"a {kind} must have a list of items")
        for i, item in enumerate(items):
            if not isinstance(item, dict) or item.get("kind") != "PodTemplate":
                raise fail(where, f"items[{i}].kind", item.get("kind") if isinstance(item, dict) else item,
                           "is not a PodTemplate")
            out.extend(pod_templates(f"{where} (items[{i}])", item))
        return out
    for k in doc:
        if k not in ("apiVersion", "kind", "metadata", "template"):
            raise fail(where, f"PodTemplate.{k}", doc[k], "is not a field of a PodTemplate",
                       "a PodTemplate has apiVersion, kind, metadata and template")
    if doc.get("apiVersion", "v1") != "v1":
        raise fail(where, "apiVersion", doc.get("apiVersion"), "a PodTemplate's apiVersion is 'v1'")
    meta = doc.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    if not isinstance(name, str) or not name:
        raise fail(where, "metadata.name", name, "a PodTemplate needs a name (metadata.name)")
    tmpl = doc.get("template")
    if tmpl is None:
        tmpl = {}
    if not isinstance(tmpl, dict):
        raise fail(where, f"{name}: template", tmpl, "must be a mapping (metadata, spec)")
    for k in tmpl:
        if k not in ("metadata", "spec"):
            raise fail(where, f"{name}: template.{k}", tmpl[k], "is not a field of a PodTemplateSpec",
                       "use template.metadata and template.spec")
    spec = tmpl.get("spec")
    if spec is not None and not isinstance(spec, dict):
        raise fail(where, f"{name}: template.spec", spec, "must be a mapping (a PodSpec)")
    for lk in ("containers", "initContainers"):
        cs = (spec or {}).get(lk)
        if cs is None:
            continue
        if not isinstance(cs, list) or not all(isinstance(c, dict) for c in cs):
            raise fail(where, f"{name}: template.spec.{lk}", cs, "must be a list of containers")
        for i, c in enumerate(cs):
            if not isinstance(c.get("name"), str) or not c.get("name"):
                raise fail(where, f"{name}: template.spec.{lk}[{i}].name", c.get("name"),
                           "every container needs a name")
            res = c.get("resources") or {}
            if not isinstance(res, dict):
                raise fail(where, f"{name}: template.spec.{lk}[{i}].resources", res, "must be a mapping")
            for part in ("requests", "limits"):
                rl = res.get(part) or {}
                if not isinstance(rl, dict):
                    raise fail(where, f"{name}: template.spec.{lk}[{i}].resources.{part}", rl,
                               "must be a mapping of resource names to quantities")
                for rname, rv in rl.items():
                    config_quantity(where, f"{name}: template.spec.{lk}[{i}].resources.{part}.{rname}", rv)
    return [(name, where, jsonable(doc))]
