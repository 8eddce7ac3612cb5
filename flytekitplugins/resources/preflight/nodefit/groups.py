"""Node groups: what the nodes a pod may land on offer, read from a node-group file or ``kubectl get nodes``.

Input: ``kubectl get nodes -o json`` (a ``List``/``NodeList``, or one ``Node``), one group per node; or a
node-group file::

    nodeGroups:
      - name: a100
        count: 4
        allocatable: {cpu: "96", memory: 1Ti, nvidia.com/gpu: "8", pods: "110"}
        labels: {k8s.amazonaws.com/accelerator: nvidia-tesla-a100}
        taints: [{key: nvidia.com/gpu, value: present, effect: NoSchedule}]

A group that does not list ``pods`` is not checked for it (a real node always lists it). Every problem is a
:class:`ResourceValidationError` naming the file and the key path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

from ...k8s.manifest import fail as _fail
from ...k8s.manifest import mapping as _mapping
from ...k8s.manifest import parse_yaml_text, quantity
from ...k8s.manifest import sequence as _sequence
from ...k8s.manifest import string as _string
from ...k8s.manifest import type_name as _type_name
from ...quantity import Quantity

__all__ = ["NodeGroup", "nonnegative_quantity", "parse_node_groups"]

EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")  #: the taint effects a node can have
_GROUP_KEYS = ("name", "count", "allocatable", "labels", "taints", "price-per-hour")  # the price: recommend.cost
_TAINT_KEYS = ("key", "value", "effect", "timeAdded")


# ------------------------------------------------------------------------------------------------ node groups
@dataclass(frozen=True)
class NodeGroup:
    """Nodes that are alike: the same allocatable resources, labels and taints."""

    name: str  #: the group's name (a node's name for ``kubectl get nodes`` input)
    allocatable: Dict[str, Quantity]  #: per node: ``cpu``, ``memory``, ``pods``, ``nvidia.com/gpu``...
    labels: Dict[str, str]
    taints: Tuple[Dict[str, str], ...]  #: ``{"key": .., "value": .., "effect": ..}``
    count: Optional[int] = None  #: how many nodes, when known
    source: str = ""  #: the file it was read from
    node_name: Optional[str] = None  #: the node's ``metadata.name`` (kubectl input), for matchFields/nodeName


def nonnegative_quantity(source: str, path: str, value: Any) -> Quantity:
    """A manifest quantity (``quantity``), refused when negative: allocatable is never below zero."""
    q = quantity(source, path, value)
    if q.sign() < 0:
        raise _fail(source, path, f"{value!r} must be greater than or equal to 0")
    return q


def _allocatable(source: str, path: str, value: Any) -> Dict[str, Quantity]:
    out: Dict[str, Quantity] = {}
    for k, v in _mapping(source, path, value).items():
        name = _string(source, f"{path} (a key)", k, allow_empty=False)
        out[name] = nonnegative_quantity(source, f"{path}.{name}", v)
    return out


def _labels(source: str, path: str, value: Any) -> Dict[str, str]:
    out: Dict[str, str] = {}
    for k, v in _mapping(source, path, value).items():
        key = _string(source, f"{path} (a key)", k, allow_empty=False)
        out[key] = _string(source, f"{path}.{key}", v)
    return out


def _taints(source: str, path: str, value: Any, *, strict: bool) -> Tuple[Dict[str, str], ...]:
    out = []
    for i, t in enumerate(_sequence(source, path, value)):
        where = f"{path}[{i}]"
        t = _mapping(source, where, t)
        if strict:
            for k in t:
                if k not in _TAINT_KEYS:
                    raise _fail(source, f"{where}.{k}", "is not a key of a taint; use key, value and effect")
        key = _string(source, f"{where}.key", t.get("key"), allow_empty=False)
        val = _string(source, f"{where}.value", t.get("value", "") if t.get("value") is not None else "")
        effect = _string(source, f"{where}.effect", t.get("effect"), allow_empty=False)
        if effect not in EFFECTS:
            raise _fail(source, f"{where}.effect",
                        f"{effect!r} is not a taint effect; use one of {', '.join(EFFECTS)}")
        out.append({"key": key, "value": val, "effect": effect})
    return tuple(out)


def _from_node_groups(doc: Dict[str, Any], source: str) -> List[NodeGroup]:
    for k in doc:
        if k != "nodeGroups":
            raise _fail(source, str(k), "is not a key of a node-group file; it holds 'nodeGroups' only")
    groups: List[NodeGroup] = []
    seen: Dict[str, int] = {}
    for i, g in enumerate(_sequence(source, "nodeGroups", doc["nodeGroups"])):
        where = f"nodeGroups[{i}]"
        g = _mapping(source, where, g)
        for k in g:
            if k not in _GROUP_KEYS:
                raise _fail(source, f"{where}.{k}", f"is not a key of a node group; use {', '.join(_GROUP_KEYS)}")
        name = _string(source, f"{where}.name", g.get("name"), allow_empty=False)
        if name in seen:
            raise _fail(source, f"{where}.name", f"{name!r} is given twice (also nodeGroups[{seen[name]}])")
        seen[name] = i
        count = g.get("count")
        if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 0):
            raise _fail(source, f"{where}.count", f"{count!r} must be a whole number >= 0")
        groups.append(NodeGroup(
            name=name,
            allocatable=_allocatable(source, f"{where}.allocatable", g.get("allocatable")),
            labels=_labels(source, f"{where}.labels", g.get("labels")),
            taints=_taints(source, f"{where}.taints", g.get("taints"), strict=True),
            count=count,
            source=source,
        ))
    return groups


def _from_node(item: Any, source: str, where: str) -> NodeGroup:
    item = _mapping(source, where or "(document)", item)
    at = f"{where}." if where else ""
    kind = item.get("kind", "Node")
    if kind != "Node":
        raise _fail(source, f"{at}kind", f"{kind!r} is not a Node")
    meta = _mapping(source, f"{at}metadata", item.get("metadata"))
    name = _string(source, f"{at}metadata.name", meta.get("name"), allow_empty=False)
    spec = _mapping(source, f"{at}spec", item.get("spec"))
    status = _mapping(source, f"{at}status", item.get("status"))
    return NodeGroup(
        name=name,
        allocatable=_allocatable(source, f"{at}status.allocatable", status.get("allocatable")),
        labels=_labels(source, f"{at}metadata.labels", meta.get("labels")),
        taints=_taints(source, f"{at}spec.taints", spec.get("taints"), strict=False),
        count=1,
        source=source,
        node_name=name,
    )


def parse_node_groups(doc: Any, source: str) -> List[NodeGroup]:
    """Node groups from ``kubectl get nodes -o json`` output or a node-group file (parsed, or as text).

    Every problem raises :class:`ResourceValidationError` naming ``source`` and the key path, e.g.
    ``nodes.yaml: nodeGroups[2].allocatable.cpu: 'abc' is not a valid Kubernetes quantity (...)``.
    """
    if isinstance(doc, bytes):
        try:
            doc = doc.decode("utf-8")
        except UnicodeDecodeError:
            raise _fail(source, "", "is not UTF-8 text") from None
    if isinstance(doc, str):
        docs = [d for d in parse_yaml_text(source, doc) if d is not None]  # as Flyte reads its files
        if len(docs) != 1:
            raise _fail(source, "", f"must hold one YAML/JSON document, not {len(docs)}")
        doc = docs[0]
    if not isinstance(doc, dict):
        raise _fail(source, "",
                    f"must be a mapping (kubectl get nodes -o json, or 'nodeGroups:'), not {_type_name(doc)}")
    if "nodeGroups" in doc:
        return _from_node_groups(doc, source)
    kind = doc.get("kind")
    if kind == "Node":
        return [_from_node(doc, source, "")]
    if kind in ("List", "NodeList") or (kind is None and "items" in doc):
        groups = []
        seen: Dict[str, int] = {}
        for i, item in enumerate(_sequence(source, "items", doc.get("items"))):
            g = _from_node(item, source, f"items[{i}]")
            if g.name in seen:
                raise _fail(source, f"items[{i}].metadata.name",
                            f"{g.name!r} is given twice (also items[{seen[g.name]}])")
            seen[g.name] = i
            groups.append(g)
        return groups
    raise _fail(source, "kind" if kind is not None else "", (f"{kind!r} is not " if kind is not None else "is not ")
                + "a node list: give 'kubectl get nodes -o json' output (kind: List) or a file with 'nodeGroups:'")
