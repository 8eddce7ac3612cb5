"""The project's policy: which cluster objects and Flyte rules a task's pods are checked against.

Written where the project already keeps its settings, with no new language::

    # pyproject.toml (found in the current directory or a parent), or any TOML/YAML file named by
    # FLYTEKITPLUGINS_RESOURCES_POLICY (its top level holds the same keys)
    [tool.flytekitplugins-resources]
    platform = ["deploy/flyte-values.yaml"]     # flytepropeller / flyteadmin config (as --platform)
    pod-templates = ["deploy/podtemplates.yaml"] # base PodTemplates (as --pod-template)
    cluster = ["deploy/limits.yaml"]            # LimitRange, ResourceQuota and DaemonSet manifests
    node-groups = ["deploy/nodes.yaml"]         # a node-group file, or `kubectl get nodes -o json` output
    namespace-template = "{{ project }}-{{ domain }}"   # flytepropeller's default
    project = "flytesnacks"                     # used when the project/domain is not known (pyflyte package)
    domain = "development"
    allowed-accelerators = ["nvidia-tesla-a100", "nvidia-l4"]
    required-limits = ["memory"]
    max-gpus-per-task = 8

    [[tool.flytekitplugins-resources.scopes]]   # rules for some projects/domains only (each key optional)
    project = "research"
    domain = "production"
    max-gpus-per-task = 16

Paths are relative to the file that names them. A LimitRange or ResourceQuota applies to the namespace in its
``metadata.namespace`` (rendered from ``namespace-template``), or to every namespace when it has none.
A DaemonSet (``kubectl get ds -A -o yaml``) runs on every node its pod template admits, whatever its namespace:
node fit counts what it takes (:mod:`.nodefit.daemonsets`).
``FLYTEKITPLUGINS_RESOURCES_POLICY=off`` turns the discovery off.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ..quantity import ResourceValidationError
from .limitrange import LimitRange, parse_limit_range
from .nodefit import DaemonSet, NodeGroup, parse_daemonset, parse_node_groups
from .quota import ResourceQuota, parse_resource_quota

__all__ = ["ENV_VAR", "Policy", "Rules", "find_policy", "load_policy"]

ENV_VAR = "FLYTEKITPLUGINS_RESOURCES_POLICY"
TABLE = "tool.flytekitplugins-resources"

_RULE_KEYS = ("allowed-accelerators", "required-limits", "max-gpus-per-task")
_FILE_KEYS = ("platform", "pod-templates", "cluster", "node-groups")
_TOP_KEYS = frozenset(_RULE_KEYS + _FILE_KEYS + ("namespace-template", "project", "domain", "scopes"))
_SCOPE_KEYS = frozenset(_RULE_KEYS + ("project", "domain"))


@dataclass(frozen=True)
class Rules:
    """Flyte-specific rules; ``None`` means no rule."""

    allowed_accelerators: Optional[Tuple[str, ...]] = None
    required_limits: Tuple[str, ...] = ()
    max_gpus_per_task: Optional[int] = None
    where: Dict[str, str] = field(default_factory=dict)  #: rule key -> where it is written

    def over(self, other: Rules) -> Rules:
        """These rules with ``other``'s set ones on top."""
        return Rules(
            other.allowed_accelerators if other.allowed_accelerators is not None else self.allowed_accelerators,
            other.required_limits or self.required_limits,
            other.max_gpus_per_task if other.max_gpus_per_task is not None else self.max_gpus_per_task,
            {**self.where, **other.where},
        )


@dataclass(frozen=True)
class Scope:
    project: Optional[str]
    domain: Optional[str]
    rules: Rules


@dataclass
class Policy:
    source: str  #: the file (and table) it was read from
    platform_files: List[str] = field(default_factory=list)
    pod_template_files: List[str] = field(default_factory=list)
    limit_ranges: List[LimitRange] = field(default_factory=list)
    quotas: List[ResourceQuota] = field(default_factory=list)
    node_groups: List[NodeGroup] = field(default_factory=list)
    daemonsets: List[DaemonSet] = field(default_factory=list)  #: from the cluster files, in every namespace
    namespace_template: str = "{{ project }}-{{ domain }}"
    project: str = "flytesnacks"
    domain: str = "development"
    rules: Rules = field(default_factory=Rules)
    scopes: List[Scope] = field(default_factory=list)

    def namespace(self, project: str, domain: str) -> str:
        """flytepropeller's namespace template rendered (``{{ project }}``, ``{{ domain }}``, spaces optional)."""
        out = self.namespace_template
        for name, value in (("project", project), ("domain", domain)):
            out = out.replace("{{ " + name + " }}", value).replace("{{" + name + "}}", value)
        return out

    def rules_for(self, project: str, domain: str) -> Rules:
        rules = self.rules
        for s in self.scopes:
            if (s.project is None or s.project == project) and (s.domain is None or s.domain == domain):
                rules = rules.over(s.rules)
        return rules

    def objects_for(self, namespace: str) -> Tuple[List[LimitRange], List[ResourceQuota]]:
        def applies(ns: Optional[str]) -> bool:
            return not ns or ns == namespace

        return ([r for r in self.limit_ranges if applies(r.namespace)],
                [q for q in self.quotas if applies(q.namespace)])


def _fail(source: str, key: str, problem: str) -> ResourceValidationError:
    return ResourceValidationError(f"{source}: {key}: {problem}")


def _read_toml(path: str) -> Dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.9/3.10
        import tomli as tomllib
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except OSError as e:
        raise ResourceValidationError(f"{path}: cannot be read ({e.strerror or e})") from None
    except tomllib.TOMLDecodeError as e:
        raise ResourceValidationError(f"{path}: is not valid TOML ({e})") from None


def _read_yaml_docs(path: str) -> List[Any]:
    import yaml

    try:
        with open(path, encoding="utf-8") as f:
            return [d for d in yaml.safe_load_all(f) if d is not None]
    except OSError as e:
        raise ResourceValidationError(f"{path}: cannot be read ({e.strerror or e})") from None
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise ResourceValidationError(f"{path}: is not valid YAML ({str(e).splitlines()[0]})") from None


def find_policy(start: Optional[str] = None) -> Optional[Tuple[str, Dict[str, Any]]]:
    """The policy's file and table: ``$FLYTEKITPLUGINS_RESOURCES_POLICY``, else the nearest ``pyproject.toml``
    (from ``start``, the current directory by default, upwards) with a ``[tool.flytekitplugins-resources]``."""
    named = os.environ.get(ENV_VAR)
    if named is not None:
        if named.strip().lower() in ("", "off", "none", "0"):
            return None
        if not os.path.isfile(named):
            raise ResourceValidationError(f"{named}: the policy file named by {ENV_VAR} does not exist")
        doc = _read_toml(named) if named.endswith(".toml") else (_read_yaml_docs(named) or [{}])[0]
        if not isinstance(doc, dict):
            raise _fail(named, "(top level)", "must be a mapping of policy keys")
        table = doc.get("tool", {}).get("flytekitplugins-resources", doc) if isinstance(doc.get("tool"), dict) else doc
        return named, table
    here = os.path.abspath(start or os.getcwd())
    while True:
        candidate = os.path.join(here, "pyproject.toml")
        if os.path.isfile(candidate):
            doc = _read_toml(candidate)
            table = (doc.get("tool") or {}).get("flytekitplugins-resources")
            if table is not None:
                return candidate, table
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def load_policy(path: Optional[str] = None, table: Optional[Dict[str, Any]] = None) -> Optional[Policy]:
    """The policy :func:`find_policy` finds (or the one in ``path``), with every file it names loaded."""
    if path is None:
        found = find_policy()
        if found is None:
            return None
        path, table = found
    elif table is None:
        doc = _read_toml(path) if path.endswith(".toml") else (_read_yaml_docs(path) or [{}])[0]
        if not isinstance(doc, dict):
            raise _fail(path, "(top level)", "must be a mapping of policy keys")
        tool = doc.get("tool")
        table = tool.get("flytekitplugins-resources", doc) if isinstance(tool, dict) else doc
    shown = _shown(os.path.abspath(path))
    source = f"{shown} [{TABLE}]" if path.endswith("pyproject.toml") else shown
    if not isinstance(table, dict):
        raise _fail(source, "(table)", f"must be a table of policy keys, not {type(table).__name__}")
    unknown = sorted(set(table) - _TOP_KEYS)
    if unknown:
        raise _fail(source, unknown[0], f"is not a policy key; known keys: {', '.join(sorted(_TOP_KEYS))}")
    base = os.path.dirname(os.path.abspath(path))
    policy = Policy(source=source)
    files = {k: _paths(source, k, table.get(k, []), base) for k in _FILE_KEYS}
    policy.platform_files, policy.pod_template_files = files["platform"], files["pod-templates"]
    seen: Dict[Tuple[Optional[str], str], str] = {}
    for f in files["cluster"]:
        for i, doc in enumerate(_read_yaml_docs(f)):
            listed = _is_list(doc)
            for j, item in enumerate(_items(doc)):
                kind = item.get("kind") if isinstance(item, dict) else None
                where = f if i == 0 else f"{f} (document {i + 1})"
                if kind == "LimitRange":
                    policy.limit_ranges.append(parse_limit_range(item, where))
                elif kind == "ResourceQuota":
                    policy.quotas.append(parse_resource_quota(item, where))
                elif kind == "DaemonSet":
                    at = f"items[{j}]." if listed else ""
                    ds = parse_daemonset(item, where, at)
                    key = (ds.namespace, ds.name)
                    if key in seen:
                        raise _fail(where, f"{at}metadata.name", f"DaemonSet {ds.name!r} (namespace "
                                    f"{ds.namespace or 'default'!r}) is given twice (also in {seen[key]}): "
                                    "node fit would count it twice")
                    seen[key] = f"{where} {at}".rstrip(". ")
                    policy.daemonsets.append(ds)
                else:
                    raise _fail(where, "kind", f"{kind!r} is not a LimitRange, a ResourceQuota or a DaemonSet "
                                "(cluster files hold those; node groups go under node-groups)")
    for f in files["node-groups"]:
        docs = _read_yaml_docs(f)  # JSON is YAML: `kubectl get nodes -o json` reads here too
        for doc in docs:
            policy.node_groups.extend(parse_node_groups(doc, f))
    for key in ("namespace-template", "project", "domain"):
        if key in table:
            value = table[key]
            if not isinstance(value, str) or not value:
                raise _fail(source, key, f"must be a non-empty string, not {value!r}")
            setattr(policy, key.replace("-", "_"), value)
    policy.rules = _rules(source, "", table)
    scopes = table.get("scopes", [])
    if not isinstance(scopes, list):
        raise _fail(source, "scopes", "must be a list of tables ([[...scopes]])")
    for i, s in enumerate(scopes):
        key = f"scopes[{i}]"
        if not isinstance(s, dict):
            raise _fail(source, key, "must be a table")
        unknown = sorted(set(s) - _SCOPE_KEYS)
        if unknown:
            raise _fail(source, f"{key}.{unknown[0]}", f"is not a scope key; known: {', '.join(sorted(_SCOPE_KEYS))}")
        for k in ("project", "domain"):
            if k in s and not isinstance(s[k], str):
                raise _fail(source, f"{key}.{k}", f"must be a string, not {s[k]!r}")
        policy.scopes.append(Scope(s.get("project"), s.get("domain"), _rules(source, key + ".", s)))
    return policy


def _is_list(doc: Any) -> bool:
    return isinstance(doc, dict) and str(doc.get("kind", "")).endswith("List") and isinstance(doc.get("items"), list)


def _items(doc: Any) -> List[Any]:
    return list(doc["items"]) if _is_list(doc) else [doc]


def _paths(source: str, key: str, value: Any, base: str) -> List[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _fail(source, key, f"must be a file path or a list of them, not {value!r}")
    out = []
    for v in value:
        p = os.path.normpath(v if os.path.isabs(v) else os.path.join(base, v))
        if not os.path.isfile(p):
            raise _fail(source, key, f"{v!r} does not exist (paths are relative to {base})")
        out.append(_shown(p))
    return out


def _shown(path: str) -> str:
    """A path as findings show it: relative to the current directory when that is shorter."""
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive
        return path
    return rel if len(rel) < len(path) else path


def _rules(source: str, prefix: str, table: Dict[str, Any]) -> Rules:
    where = {k: f"{source} {prefix}{k}" for k in _RULE_KEYS if k in table}
    allowed = table.get("allowed-accelerators")
    if allowed is not None and (not isinstance(allowed, list) or not all(isinstance(a, str) for a in allowed)):
        raise _fail(source, prefix + "allowed-accelerators", f"must be a list of strings, not {allowed!r}")
    required = table.get("required-limits", [])
    if not isinstance(required, list) or not all(isinstance(r, str) and r for r in required):
        raise _fail(source, prefix + "required-limits", f"must be a list of resource names, not {required!r}")
    max_gpus = table.get("max-gpus-per-task")
    if max_gpus is not None and (isinstance(max_gpus, bool) or not isinstance(max_gpus, int) or max_gpus < 0):
        raise _fail(source, prefix + "max-gpus-per-task", f"must be a whole number >= 0, not {max_gpus!r}")
    return Rules(tuple(allowed) if allowed is not None else None, tuple(required), max_gpus, where)


def check_rules(pod: Dict[str, Any], rules: Rules, *, gpu_label: str, task: Optional[str] = None,
                node: Optional[str] = None) -> List[Any]:
    """The Flyte rules on one pod: required limits on every container, the GPU count, the accelerator."""
    from ..findings import ERROR, Finding
    from ..quantity import Quantity

    place = {"task": task, "node": node, "pod": None if task else ""}
    out: List[Finding] = []
    spec = pod.get("spec") or {}
    containers = list(spec.get("containers") or [])
    for c in containers:
        limits = (c.get("resources") or {}).get("limits") or {}
        for r in rules.required_limits:
            if r not in limits or Quantity.parse(str(limits[r])).sign() == 0:
                out.append(Finding(ERROR, "policy.limit-required",
                                   f"container '{c.get('name')}' has no {r} limit; the policy requires one "
                                   f"(set limits={{{r!r}: ...}})", **place,
                                   field=f"containers[{c.get('name')}].limits.{r}",
                                   source=rules.where.get("required-limits")))
    gpus = Quantity.parse("0")
    for c in containers:
        for k, v in ((c.get("resources") or {}).get("limits") or {}).items():
            if k.endswith("/gpu"):
                gpus = gpus + Quantity.parse(str(v))
    if rules.max_gpus_per_task is not None and gpus > Quantity.parse(str(rules.max_gpus_per_task)):
        out.append(Finding(ERROR, "policy.max-gpus",
                           f"asks for {gpus} GPUs; the policy allows at most {rules.max_gpus_per_task} per "
                           "task", **place, field="limits.gpu", before=str(gpus),
                           source=rules.where.get("max-gpus-per-task")))
    if rules.allowed_accelerators is not None and gpus.sign() > 0:
        devices = _required_values(spec, gpu_label)
        bad = [d for d in devices if d not in rules.allowed_accelerators]
        if not devices:
            out.append(Finding(ERROR, "policy.accelerator",
                               f"asks for GPUs without naming an accelerator; the policy allows "
                               f"{', '.join(rules.allowed_accelerators) or 'none'} (set accelerator=...)",
                               **place, field="accelerator",
                               source=rules.where.get("allowed-accelerators")))
        for d in bad:
            out.append(Finding(ERROR, "policy.accelerator",
                               f"accelerator '{d}' is not allowed; the policy allows "
                               f"{', '.join(rules.allowed_accelerators) or 'none'}", **place,
                               field="accelerator", before=d, source=rules.where.get("allowed-accelerators")))
    return out


def _required_values(spec: Dict[str, Any], label: str) -> List[str]:
    values: List[str] = []
    if label in (spec.get("nodeSelector") or {}):
        values.append(spec["nodeSelector"][label])
    required = (((spec.get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution") or {})
    for term in required.get("nodeSelectorTerms") or []:
        for e in term.get("matchExpressions") or []:
            if e.get("key") == label and e.get("operator") == "In":
                values.extend(v for v in e.get("values") or [] if v not in values)
    return values


def platform_from(policy: Policy, extra_platform: Sequence[str] = (), extra_templates: Sequence[str] = ()) -> Any:
    """The Platform the policy names (then any extra files, merged after)."""
    from ..platform import load_platform

    return load_platform(list(policy.platform_files) + list(extra_platform),
                         list(policy.pod_template_files) + list(extra_templates))
