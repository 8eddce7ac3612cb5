"""Reading Kubernetes manifests, and YAML as Flyte and Kubernetes read it: one-line errors naming file and key.

Every helper takes ``source`` (the file, or what the document is) and ``path`` (the dotted key inside it), so
that a bad value reads ``limits.yaml: spec.limits[0].max.cpu: 'abc' is not a valid Kubernetes quantity
(...)``: one line, a :class:`~flytekitplugins.resources.errors.ResourceValidationError`, never a traceback.

YAML is read as Flyte's Go parser (yaml.v3, YAML 1.2) reads it: see :func:`yaml_loader`. PyYAML is imported
on first use only.
"""

from __future__ import annotations

import math
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ..errors import ResourceValidationError, digits_of
from ..quantity import Quantity

__all__ = [
    "ResourceList",
    "check_keys",
    "copy_json",
    "fail",
    "header",
    "json_quantity",
    "mapping",
    "metadata",
    "parse_yaml_text",
    "quantity",
    "resource_list",
    "round_up_milli",
    "sequence",
    "string",
    "type_name",
    "yaml_loader",
]

ResourceList = Dict[str, Quantity]
_ZERO = Quantity.parse("0")

_JSON_CONTAINERS = (dict, list)


def copy_json(value: Any) -> Any:
    """A deep copy of a JSON document (dicts, lists, scalars), several times faster than ``copy.deepcopy``."""
    if isinstance(value, dict):  # scalars are taken as they are, without a call each
        return {k: copy_json(v) if isinstance(v, _JSON_CONTAINERS) else v for k, v in value.items()}
    if isinstance(value, list):
        return [copy_json(v) if isinstance(v, _JSON_CONTAINERS) else v for v in value]
    return value


def fail(source: str, path: str, problem: str) -> ResourceValidationError:
    """The error for a bad manifest or pod: ``source: key.path: problem``."""
    return ResourceValidationError(problem, field=f"{source}: {path}" if path else source)


def type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def mapping(source: str, path: str, value: Any) -> Dict[Any, Any]:
    """``value`` as a mapping (None is empty); anything else is an error naming ``path``."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise fail(source, path, f"must be a mapping, not {type_name(value)} {value!r}")
    return value


def sequence(source: str, path: str, value: Any) -> List[Any]:
    """``value`` as a list (None is empty); anything else is an error naming ``path``."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise fail(source, path, f"must be a list, not {type_name(value)} {value!r}")
    return value


def string(source: str, path: str, value: Any, *, allow_empty: bool = True) -> str:
    if not isinstance(value, str):
        hint = " (quote it in YAML)" if isinstance(value, (bool, int, float)) else ""
        raise fail(source, path, f"must be a string, not {type_name(value)} {value!r}{hint}")
    if not allow_empty and not value:
        raise fail(source, path, "must not be empty")
    return value


def quantity(source: str, path: str, value: Any) -> Quantity:
    """A quantity from a manifest value (string or YAML number); errors name ``source`` and ``path``."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise fail(source, path, f"{value!r} is not a valid Kubernetes quantity (a {type_name(value)})")
    try:
        return Quantity.from_value(value)
    except ResourceValidationError as e:
        raise fail(source, path, f"{value!r} {e.problem}") from None


def json_quantity(v: Any) -> Quantity:
    """How a JSON value decodes as a Quantity (``Quantity.UnmarshalJSON``: a string, trimmed, or a number; null is
    zero); anything else raises :class:`ResourceValidationError`."""
    if v is None:
        return _ZERO
    if isinstance(v, bool):
        raise ResourceValidationError("is not a quantity", value=v)
    if isinstance(v, str):
        return Quantity.parse(v.strip())
    if isinstance(v, int):
        return Quantity.parse(digits_of(v))
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ResourceValidationError("is not a quantity", value=v)
        return Quantity.parse(str(int(v)) if v.is_integer() and abs(v) < 1e21 else repr(v))
    raise ResourceValidationError("is not a quantity", value=v)


def round_up_milli(q: Quantity) -> Quantity:
    """``Quantity.RoundUp(-3)``, which ``SetDefaults_ResourceList`` applies to every resource value the API
    server stores: a value finer than ``1m`` becomes a whole number of milli units, rounded away from zero
    (``2n`` -> ``1m``). Any other value is returned as it is."""
    if int(q.as_decimal().as_tuple().exponent) >= -3:
        return q
    return Quantity(int(q.scaled_decimal(-3)), -3, q.format)


def resource_list(source: str, path: str, value: Any, *, non_negative: bool = True,
                  round_milli: bool = True) -> ResourceList:
    """A ``{name: quantity}`` map, each value rounded up to milli units (unless ``round_milli`` is false);
    with ``non_negative``, a negative value is refused as the API server does (``>= 0``)."""
    out: ResourceList = {}
    for k, v in mapping(source, path, value).items():
        if type(k) is str and k and type(v) is str:  # the usual case ("cpu": "500m"): no key path to build
            name = k
            try:
                q = Quantity.parse(v)
            except ResourceValidationError:
                q = quantity(source, f"{path}.{name}", v)  # raises, naming the key path
        else:
            name = string(source, f"{path} (a key)", k, allow_empty=False)
            q = quantity(source, f"{path}.{name}", v)
        if non_negative and q.sign() < 0:
            raise fail(source, f"{path}.{name}", f"{v!r} must be greater than or equal to 0")
        out[name] = round_up_milli(q) if round_milli else q
    return out


def check_keys(source: str, path: str, value: Dict[Any, Any], known: Sequence[str]) -> None:
    """Strict field validation, as ``kubectl apply`` does: an unknown key is an error."""
    for k in value:
        if k not in known:
            where = f"{path}.{k}" if path else str(k)
            raise fail(source, where, f"unknown field {k!r}; expected one of: {', '.join(known)}")


def metadata(doc: Dict[Any, Any], source: str) -> Tuple[str, Optional[str]]:
    """``metadata.name`` (required) and ``metadata.namespace`` (optional)."""
    meta = mapping(source, "metadata", doc.get("metadata"))
    name = string(source, "metadata.name", meta.get("name"), allow_empty=False)
    ns = meta.get("namespace")
    return name, (string(source, "metadata.namespace", ns) or None) if ns is not None else None


def header(doc: Any, source: str, kind: str) -> Dict[Any, Any]:
    """Check ``apiVersion: v1`` and ``kind``; the document as a mapping."""
    if not isinstance(doc, dict):
        raise fail(source, "", f"a {kind} manifest must be a mapping, not {type_name(doc)}")
    if doc.get("kind") != kind:
        raise fail(source, "kind", f"must be {kind!r}, not {doc.get('kind')!r}")
    api = doc.get("apiVersion")
    if api is not None and api != "v1":
        raise fail(source, "apiVersion", f"must be 'v1', not {api!r}")
    return doc


# ------------------------------------------------------------------------------------------------ YAML
_LOADER: Any = None


def yaml_loader() -> Any:
    """PyYAML's SafeLoader read the way Flyte's Go YAML parser (yaml.v3, YAML 1.2) reads files.

    - only ``true``/``false`` are booleans (YAML 1.1's ``yes``, ``no``, ``on``, ``off`` stay strings, so a
      label ``spot: yes`` is the string ``"yes"`` as Flyte sees it);
    - ``1:30`` is a string, not a base-60 number;
    - a key given twice in one mapping is an error, as in yaml.v3 (PyYAML would keep the last silently).
    """
    global _LOADER
    if _LOADER is not None:
        return _LOADER
    import re

    import yaml

    class Loader(yaml.SafeLoader):
        pass

    resolvers = {}
    for first, entries in yaml.SafeLoader.yaml_implicit_resolvers.items():
        kept = [(tag, rx) for tag, rx in entries if tag not in (
            "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float")]
        resolvers[first] = kept
    Loader.yaml_implicit_resolvers = resolvers
    Loader.add_implicit_resolver(
        "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
    Loader.add_implicit_resolver(
        "tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), list("-+0123456789"))
    Loader.add_implicit_resolver(
        "tag:yaml.org,2002:float",
        re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)"
                   r"|\.(?:nan|NaN|NAN))$"),
        list("-+.0123456789"))

    def construct_bool(loader: Any, node: Any) -> bool:
        return str(loader.construct_scalar(node)).lower() == "true"

    def construct_int(loader: Any, node: Any) -> int:
        text = str(loader.construct_scalar(node))
        if text.startswith("0o"):
            return int(text[2:], 8)
        if text.startswith("0x"):
            return int(text[2:], 16)
        return int(text)

    def construct_mapping(loader: Any, node: Any, deep: bool = False) -> Dict[Any, Any]:
        seen: Dict[Any, Any] = {}
        for key_node, _ in node.value:
            key = loader.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                continue  # SafeLoader reports unhashable keys itself
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {key!r} is given twice in one mapping (first at line "
                    f"{seen[key].line + 1}); Flyte's YAML parser refuses this", key_node.start_mark)
            seen[key] = key_node.start_mark
        return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)

    Loader.add_constructor("tag:yaml.org,2002:bool", construct_bool)
    Loader.add_constructor("tag:yaml.org,2002:int", construct_int)
    Loader.add_constructor("tag:yaml.org,2002:map", lambda loader, node: construct_mapping(loader, node, deep=True))
    _LOADER = Loader
    return Loader


def parse_yaml_text(where: str, text: str) -> List[Any]:
    """Every document of ``text`` as :func:`yaml_loader` reads it; invalid YAML is one line naming ``where``,
    the line and the column."""
    import yaml

    try:
        return list(yaml.load_all(text, Loader=yaml_loader()))  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise fail(where, "(YAML)", f"is not valid YAML{at}: {problem}") from None
