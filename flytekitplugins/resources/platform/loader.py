"""Reading platform files: each document routed to the parsers of what it holds, then the layers merged."""

from __future__ import annotations

import os
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

from ..errors import ResourceValidationError
from ..findings import WARNING, Finding
from ..k8s.manifest import parse_yaml_text
from .merge import merge
from .model import JSONDict, Platform
from .podtemplates import pod_templates
from .sections import k8s_section, task_resources_section
from .values import NO_VALUE, fail

__all__ = ["load_platform"]


class _Router:
    """Routes each document to the parsers of what it holds, and collects their layers in file order."""

    def __init__(self) -> None:
        self.k8s_layers: List[Tuple[str, Dict[str, Any]]] = []  # (where, {json-key: normalised raw value})
        self.tr_layers: List[Tuple[str, Dict[str, Any]]] = []  # (where, {"defaults"/"limits": {...} or None})
        self.pod_templates: Dict[str, JSONDict] = {}
        self.sources: Dict[str, str] = {}
        self.findings: List[Finding] = []

    def notice(self, code: str, message: str, source: str, field_: str) -> None:
        self.findings.append(Finding(WARNING, code, message, field=field_, source=source))

    def document(self, where: str, doc: Any, *, pod_templates_only: bool = False) -> None:
        if doc is None:
            return
        if not isinstance(doc, dict):
            raise fail(where, "(document)", doc, "is not a YAML mapping",
                       "give a Flyte config file, Helm values, a ConfigMap or a PodTemplate manifest")
        kind = doc.get("kind")
        if kind in ("List", "ConfigMapList") and not pod_templates_only:
            items = doc.get("items")
            if not isinstance(items, list):
                raise fail(where, "items", items, f"a {kind} must have a list of items")
            for i, item in enumerate(items):
                if not isinstance(item, dict) or item.get("kind") not in ("PodTemplate", "ConfigMap"):
                    raise fail(where, f"items[{i}].kind", item.get("kind") if isinstance(item, dict) else item,
                               "is not a PodTemplate or a ConfigMap")
                self.document(f"{where} (items[{i}])", item)
            return
        if kind in ("PodTemplate", "List", "PodTemplateList"):
            for name, at, template in pod_templates(where, doc):
                self.pod_templates[name] = template
                self.sources[f"pod_templates.{name}"] = at
            return
        if pod_templates_only:
            raise fail(where, "kind", kind, "is not a PodTemplate manifest",
                       "a pod template file holds 'kind: PodTemplate' documents (or a 'kind: List' of them)")
        if kind == "ConfigMap":
            data = doc.get("data") or {}
            if not isinstance(data, dict):
                raise fail(where, "data", data, "a ConfigMap's data must be a mapping of file names to text")
            name = (doc.get("metadata") or {}).get("name", "?") if isinstance(doc.get("metadata"), dict) else "?"
            found = False
            for fname in sorted(data):  # Flyte reads the mounted files in glob (sorted) order
                text = data[fname]
                sub = f"{where} (ConfigMap {name}, {fname})"
                if not isinstance(text, str):
                    raise fail(sub, "data", text, "is not text")
                parsed = parse_yaml_text(sub, text)
                for d in parsed:
                    found = self.config(sub, d) or found
            if not found:
                raise fail(where, f"ConfigMap {name}", NO_VALUE, "holds no 'plugins.k8s' or 'task_resources' section")
            return
        if kind is not None:
            raise fail(where, "kind", kind, "is not a kind this loader reads",
                       "give a Flyte config file, Helm values, a ConfigMap or a PodTemplate manifest")
        if not self.values(where, doc):
            raise fail(where, "(document)", NO_VALUE,
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
                raise fail(where, "plugins", plugins, "must be a mapping")
            pk = {str(k).lower(): k for k in (plugins or {})}
            if "k8s" in pk:
                found = True
                layer = k8s_section(where, (plugins or {})[pk["k8s"]], self.notice)
                if layer is not None:
                    self.k8s_layers.append((where, layer))
        if "task_resources" in keys:
            found = True
            layer = task_resources_section(where, doc[keys["task_resources"]], self.notice)
            if layer is not None:
                self.tr_layers.append((where, layer))
        return found

    def build(self) -> Platform:
        return merge(self.k8s_layers, self.tr_layers, self.pod_templates, self.sources, self.findings)


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
        raise fail(name, "(file)", NO_VALUE, "does not exist") from None
    except (OSError, UnicodeDecodeError) as e:
        raise fail(name, "(file)", NO_VALUE, f"cannot be read ({e.__class__.__name__}: {e})") from None


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
    loader = _Router()
    for src in files:
        name, text = _read(src)
        docs = parse_yaml_text(name, text)
        for i, doc in enumerate(docs):
            loader.document(name if len(docs) == 1 else f"{name} (document {i + 1})", doc)
    for src in pod_templates:
        name, text = _read(src)
        docs = [d for d in parse_yaml_text(name, text) if d is not None]
        if not docs:
            raise fail(name, "(file)", NO_VALUE, "holds no PodTemplate")
        for i, doc in enumerate(docs):
            loader.document(name if len(docs) == 1 else f"{name} (document {i + 1})", doc, pod_templates_only=True)
    return loader.build()
