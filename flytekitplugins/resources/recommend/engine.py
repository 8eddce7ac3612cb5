"""Usage + the tasks' pods -> recommendations, each checked by the preview and preflight.

:func:`recommend` previews every task and overridden node (``preview.preview_entities``; then
``preflight.preflight`` with a policy), matches each pod to its usage (by flytepropeller's label values, see
``history.label_value``: a node with overrides of its own gets its own pods' usage, a task the usage of every
other node that runs it), sizes it (``rules.size``), writes the sized values into a copy of the serialized task
(or the node's overrides), and previews and preflights that copy again: a recommendation the cluster would
refuse carries the findings that say why (``Recommendation.checks``) and the row is marked ``refused``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ..findings import ERROR, INFO
from ..preview import task_nodes
from ..quantity import Quantity
from .cost import PricedGroup, load_prices, pod_cost
from .history import TaskUsage, label_value, merge
from .model import Recommendation
from .rules import Rules, Sizing, size

__all__ = ["Report", "Row", "preview_distinct", "recommend"]


@dataclass
class Row:
    """One task, or one node with overrides: what it asks for, what it used, what it should ask for."""

    task: str
    node: Optional[str] = None  #: the preview's node, ``workflow/node-id``
    requests: Dict[str, str] = field(default_factory=dict)  #: the pod's primary container now (Kubernetes names)
    limits: Dict[str, str] = field(default_factory=dict)
    accelerator: Optional[str] = None  #: the device (and partition) it asks for now
    usage: Optional[TaskUsage] = None
    sizing: Optional[Sizing] = None
    recommendation: Optional[Recommendation] = None  #: None when there is nothing to change (or no history)
    refused: bool = False  #: the recommended pod has an error finding
    cost_now: Optional[Tuple[str, float, float]] = None  #: (group, node price, pod cost) per hour
    cost_after: Optional[Tuple[str, float, float]] = None
    note: str = ""  #: why there is no recommendation
    refused_now: bool = False  #: the pod as it is now has an error finding too

    @property
    def name(self) -> str:
        return self.task if self.node is None else f"{self.node} ({self.task})"

    @property
    def saving_per_hour(self) -> Optional[float]:
        if self.cost_now is None or self.cost_after is None:
            return None
        return self.cost_now[2] - self.cost_after[2]

    def to_dict(self) -> Dict[str, Any]:
        u = self.usage
        rec = self.recommendation
        return {
            "task": self.task,
            "node": self.node,
            "requested": {"requests": self.requests, "limits": self.limits, "accelerator": self.accelerator},
            "used": None if u is None else {
                "runs": u.runs, "memory_peak_bytes": u.memory_peak_bytes, "cpu_p95_cores": u.cpu_p95_cores,
                "cpu_peak_cores": u.cpu_peak_cores, "oom_kills": u.oom_kills,
                "gpu_memory_peak_bytes": u.gpu_memory_peak_bytes, "gpu_model": u.gpu_model,
                "wall_seconds": u.wall_seconds, "source": u.source,
            },
            "recommended": None if self.sizing is None else {
                "requests": self.sizing.requests, "limits": self.sizing.limits,
                "accelerator": self.sizing.accelerator, "reasons": self.sizing.reasons,
                "notes": list(self.sizing.notes),
            },
            "change": None if rec is None else {
                "task": rec.task, "workflow": rec.workflow, "node": rec.node, "requests": rec.requests,
                "limits": rec.limits, "accelerator": rec.accelerator,
                "checks": [{"level": lv, "code": c, "message": m} for lv, c, m in rec.checks],
            },
            "refused": self.refused,
            "refused_now": self.refused_now,
            "cost_per_hour": None if self.cost_now is None else {
                "group": self.cost_now[0], "node_price": self.cost_now[1], "now": round(self.cost_now[2], 6),
                "recommended": None if self.cost_after is None else round(self.cost_after[2], 6),
                "recommended_group": None if self.cost_after is None else self.cost_after[0],
                "saving": None if self.saving_per_hour is None else round(self.saving_per_hour, 6),
            },
            "note": self.note or None,
        }


@dataclass
class Report:
    rows: List[Row]
    unmatched: List[TaskUsage]  #: usage of tasks the target does not have
    rules: Rules
    priced: bool = False  #: node groups with prices were given

    @property
    def refused(self) -> List[Row]:
        return [r for r in self.rows if r.refused]

    def recommendations(self) -> List[Recommendation]:
        return [r.recommendation for r in self.rows if r.recommendation is not None]

    def to_dict(self) -> Dict[str, Any]:
        return {"rules": list(self.rules.explain()), "rows": [r.to_dict() for r in self.rows],
                "unmatched": [{"task": u.task, "workflow": u.workflow, "node": u.node, "runs": u.runs}
                              for u in self.unmatched]}


# ------------------------------------------------------------------------------------------------ the pod now
def _primary(pod: Dict[str, Any], name: Optional[str]) -> Dict[str, Any]:
    containers = pod.get("spec", {}).get("containers") or [{}]
    if name:
        for c in containers:
            if c.get("name") == name:
                return c
    return containers[0]


def _quantities(values: Optional[Dict[str, Any]]) -> Dict[str, Quantity]:
    out = {}
    for k, v in (values or {}).items():
        try:
            out[k] = Quantity.parse(str(v))
        except ValueError:
            continue  # the preview has said what is wrong with it
    return out


def _strings(values: Optional[Dict[str, Any]]) -> Dict[str, str]:
    return {k: str(v) for k, v in (values or {}).items()}


def _model(device: str):
    from ..accelerators import CATALOG

    return next((m for m in CATALOG.values() if m.device == device), None)


def _accelerator(template: Any, overrides: Any = None) -> Tuple[str, Optional[str]]:
    ext = template.extended_resources
    if overrides is not None and overrides.HasField("extended_resources") \
            and overrides.extended_resources.HasField("gpu_accelerator"):
        ext = overrides.extended_resources
    if not ext.HasField("gpu_accelerator"):
        return "", None
    acc = ext.gpu_accelerator
    partition = acc.partition_size if acc.WhichOneof("partition_size_value") == "partition_size" else None
    return acc.device, partition


# ------------------------------------------------------------------------------------------------ the entities
def _index(entities: Sequence[Any]):
    from flyteidl.admin import task_pb2, workflow_pb2
    from flyteidl.core import tasks_pb2

    templates: Dict[str, Any] = {}
    specs: Dict[str, Any] = {}
    workflows: List[Any] = []
    for e in entities:
        if isinstance(e, task_pb2.TaskSpec):
            templates[e.template.id.name] = e.template
            specs[e.template.id.name] = e
        elif isinstance(e, tasks_pb2.TaskTemplate):
            templates[e.id.name] = e
            specs[e.id.name] = e
        elif isinstance(e, workflow_pb2.WorkflowSpec):
            workflows.append(e)
    return templates, specs, workflows


def _node_index(workflows: Sequence[Any]) -> Dict[str, int]:
    """The preview's node name (``workflow/node-id``) -> the index of the WorkflowSpec that holds it."""
    out: Dict[str, int] = {}
    for i, spec in enumerate(workflows):
        for wf in [spec.template, *spec.sub_workflows]:
            for n in task_nodes(wf.nodes):
                out.setdefault(f"{wf.id.name}/{n.id}" if wf.id.name else n.id, i)
    return out


def _find_node(spec: Any, preview_node: str):
    for wf in [spec.template, *spec.sub_workflows]:
        for n in task_nodes(wf.nodes):
            if (f"{wf.id.name}/{n.id}" if wf.id.name else n.id) == preview_node:
                return n
    return None


_IDL = {"cpu": "CPU", "mem": "MEMORY", "gpu": "GPU", "ephemeral_storage": "EPHEMERAL_STORAGE"}
_K8S = {"cpu": "cpu", "mem": "memory", "gpu": "nvidia.com/gpu", "ephemeral_storage": "ephemeral-storage"}


def _set_entries(resources: Any, requests: Dict[str, str], limits: Dict[str, str]) -> None:
    from flyteidl.core import tasks_pb2

    for entries, values in ((resources.requests, requests), (resources.limits, limits)):
        for k, v in values.items():
            name = getattr(tasks_pb2.Resources, _IDL[k])
            for e in entries:
                if e.name == name:
                    e.value = v
                    break
            else:
                entries.add(name=name, value=v)


def _set_pod_spec(template: Any, requests: Dict[str, str], limits: Dict[str, str]) -> None:
    from google.protobuf.json_format import MessageToDict, ParseDict

    spec = MessageToDict(template.k8s_pod.pod_spec)
    c = _primary({"spec": spec}, template.config.get("primary_container_name"))
    res = c.setdefault("resources", {})
    for key, values in (("requests", requests), ("limits", limits)):
        if values:
            res.setdefault(key, {}).update({_K8S[k]: v for k, v in values.items()})
    template.k8s_pod.pod_spec.Clear()
    ParseDict(spec, template.k8s_pod.pod_spec)


def _set_accelerator(ext_holder: Any, profile: Optional[str]) -> None:
    if profile:
        ext_holder.extended_resources.gpu_accelerator.partition_size = profile


# ------------------------------------------------------------------------------------------------ previews
def _distinct_key(spec: Any) -> Optional[bytes]:
    """A task's template without its name and container args (which name the task): tasks with the same key
    build the same pod resources and findings. None for pod-template tasks (their args are in the pod spec)."""
    template = getattr(spec, "template", spec)
    if template.HasField("k8s_pod"):
        return None
    copy = type(template)()
    copy.CopyFrom(template)
    copy.id.name = ""
    del copy.container.args[:]
    return copy.SerializeToString(deterministic=True)


def _rename(f: Any, new: str) -> Any:
    return replace(f, task=new)  # the place is the finding's fields; the message never names the task


def preview_distinct(specs: Dict[str, Any], workflows: Sequence[Any], platform: Any, policy: Any, project: str,
                     domain: str) -> List[Any]:
    """``preview_entities`` (then ``preflight``) of the tasks and the workflows' overridden nodes, each distinct
    task previewed once: tasks that differ only in name and args share one preview, renamed (a package of
    10,000 tasks has a few hundred distinct resource sets; recommendations rounded to readable steps fewer).
    The shared pods are the same dict: read them, never change them."""
    from ..preview import PodPreview, preview_entities

    def run(entities: List[Any]) -> List[Any]:
        out = preview_entities(entities, platform, project=project, domain=domain)
        if policy is not None:
            from ..preflight import preflight

            out = preflight(out, policy, platform, project=project, domain=domain)
        return out

    groups: Dict[Any, List[str]] = {}
    for name, spec in specs.items():
        key = _distinct_key(spec)
        groups.setdefault(key if key is not None else ("own", name), []).append(name)
    firsts = [names[0] for names in groups.values()]
    by_first: Dict[str, List[Any]] = {}
    for p in run([specs[n] for n in firsts]):
        by_first.setdefault(p.task, []).append(p)
    out: List[Any] = []
    for names in groups.values():
        first = names[0]
        for name in names:
            for p in by_first.get(first, []):
                if name == first:
                    out.append(p)
                else:
                    out.append(PodPreview(name, p.node, p.pod, [_rename(f, name) for f in p.findings], p.role,
                                          refused=p.refused))
    if workflows:
        referenced = set()
        for w in workflows:
            for wf in [w.template, *w.sub_workflows]:
                referenced.update(n.task_node.reference_id.name for n in task_nodes(wf.nodes))
        entities = [specs[n] for n in sorted(referenced) if n in specs] + list(workflows)
        out.extend(p for p in run(entities) if p.node is not None)
    return out


# ------------------------------------------------------------------------------------------------ recommend
def recommend(entities: Sequence[Any], usages: Sequence[TaskUsage], platform: Any = None, policy: Any = None, *,
              project: str = "flytesnacks", domain: str = "development", rules: Optional[Rules] = None,
              task: Optional[str] = None, previews: Optional[List[Any]] = None,
              check: bool = True) -> Report:
    """A :class:`Report`: one row per task (and per node with overrides) of ``entities``, with the usage matched
    to it, the sizing, the change (a :class:`Recommendation`) and what preview and preflight say of the
    recommended pod. ``previews`` (of the same entities, with ``preflight`` applied when there is a policy)
    saves previewing them again."""
    rules = rules if rules is not None else Rules()
    templates, specs, workflows = _index(entities)
    if previews is None:
        previews = preview_distinct(specs, workflows, platform, policy, project, domain)
        if task is not None:
            previews = [p for p in previews if p.task == task or p.task.rsplit(".", 1)[-1] == task]
    nodes = _node_index(workflows)
    priced: List[PricedGroup] = load_prices(policy.node_groups) if policy is not None else []
    daemonsets = policy.daemonsets if policy is not None else ()  # a node's room is what they leave

    # usage by label values; the nodes that have overrides of their own claim their pods' usage
    by_key: Dict[Tuple[str, str, str], List[TaskUsage]] = {}
    for u in usages:
        by_key.setdefault((label_value(u.task), label_value(u.workflow or ""), label_value(u.node or "")),
                          []).append(u)
    names_by_label: Dict[str, List[str]] = {}
    for name in templates:
        names_by_label.setdefault(label_value(name), []).append(name)
    keys_by_task: Dict[str, List[Tuple[str, str, str]]] = {}
    for k in by_key:
        keys_by_task.setdefault(k[0], []).append(k)
    claimed = set()
    node_keys: Dict[Tuple[str, Optional[str]], Tuple[str, str, str]] = {}
    for p in previews:
        if p.node is not None and p.role is None:
            wf_name, _, node_id = p.node.rpartition("/")
            key = (label_value(p.task), label_value(wf_name), label_value(node_id))
            node_keys[(p.task, p.node)] = key
            claimed.add(key)
    used_keys = set()

    rows: List[Row] = []
    for p in previews:
        if p.role is not None:
            continue  # plugin tasks with several pods (ray, pytorch, dask) are not sized here
        template = templates.get(p.task)
        overrides = None
        wf_name = node_id = None
        if p.node is not None:
            wf_name, _, node_id = p.node.rpartition("/")
            at = nodes.get(p.node)
            overrides = _find_node(workflows[at], p.node).task_node.overrides if at is not None else None
        primary_name = template.config.get("primary_container_name") if template is not None \
            and template.HasField("k8s_pod") else None
        c = _primary(p.pod, primary_name)
        res = c.get("resources") or {}
        device, partition = _accelerator(template, overrides) if template is not None else ("", None)
        row = Row(p.task, p.node, _strings(res.get("requests")), _strings(res.get("limits")),
                  (device + (f" {partition}" if partition else "")) or None,
                  refused_now=any(f.level == ERROR for f in p.findings))
        rows.append(row)
        if len(names_by_label.get(label_value(p.task), [])) > 1:
            row.note = (f"tasks {', '.join(sorted(names_by_label[label_value(p.task)]))} have the same pod label "
                        f"{label_value(p.task)!r}: their usage cannot be told apart")
            continue
        if p.node is not None:
            key = node_keys[(p.task, p.node)]
            found = by_key.get(key, [])
            used_keys.add(key)
        else:
            lv = label_value(p.task)
            keys = [k for k in keys_by_task.get(lv, ()) if k not in claimed]
            found = [u for k in keys for u in by_key[k]]
            used_keys.update(keys)
        usage = merge(found, p.task, wf_name, node_id)
        if usage is None or not usage.runs:
            row.note = "no usage in the window"
            continue
        row.usage = usage
        gpus = 0
        for values in (res.get("limits") or {}, res.get("requests") or {}):
            for k, v in values.items():
                if k in ("nvidia.com/gpu", "amd.com/gpu"):
                    try:
                        gpus = max(gpus, int(Quantity.parse(str(v)).as_decimal()))
                    except ValueError:
                        pass
        row.sizing = size(usage, _quantities(res.get("requests")), _quantities(res.get("limits")),
                          model=_model(device) if device else None, partition=partition, gpus=gpus, rules=rules)
        row.cost_now = pod_cost(p.pod, priced, daemonsets)
        if not row.sizing.changed:
            row.note = "already right-sized"
            row.cost_after = row.cost_now
            continue
        profile = row.sizing.accelerator.rsplit(" ", 1)[-1] if row.sizing.accelerator else None
        row.recommendation = Recommendation(
            task=p.task, requests=dict(row.sizing.changed_requests), limits=dict(row.sizing.changed_limits),
            node=node_id if p.node is not None else None, workflow=wf_name if p.node is not None else None,
            reasons={k: v for k, v in row.sizing.reasons.items()
                     if (k.startswith("requests.") and k[9:] in row.sizing.changed_requests)
                     or (k.startswith("limits.") and k[7:] in row.sizing.changed_limits)
                     or (k == "accelerator" and profile)},
            accelerator=row.sizing.accelerator,
        )
    if check:
        _check(rows, specs, workflows, nodes, platform, policy, project, domain, priced)
    unmatched = [u for k, us in by_key.items() if k not in used_keys for u in us]
    return Report(rows, unmatched, rules, bool(priced))


def _check(rows: List[Row], specs: Dict[str, Any], workflows: List[Any], nodes: Dict[str, int], platform: Any,
           policy: Any, project: str, domain: str, priced: List[PricedGroup]) -> None:
    """Preview (and preflight) every recommendation, on copies of the serialized entities."""
    from flyteidl.admin import task_pb2

    wanted = [r for r in rows if r.recommendation is not None]
    if not wanted:
        return
    new_specs: Dict[str, Any] = {}
    new_workflows: Dict[int, Any] = {}
    for r in wanted:
        rec = r.recommendation
        profile = r.sizing.accelerator.rsplit(" ", 1)[-1] if r.sizing is not None and r.sizing.accelerator else None
        if r.node is None:
            spec = specs[r.task]
            copy = type(spec)()
            copy.CopyFrom(spec)
            template = copy.template if isinstance(copy, task_pb2.TaskSpec) else copy
            if template.HasField("k8s_pod"):
                _set_pod_spec(template, rec.requests, rec.limits)
            else:
                _set_entries(template.container.resources, rec.requests, rec.limits)
            _set_accelerator(template, profile)
            new_specs[r.task] = copy
        else:
            index = nodes[r.node]
            if index not in new_workflows:
                copy = type(workflows[index])()
                copy.CopyFrom(workflows[index])
                new_workflows[index] = copy
            node = _find_node(new_workflows[index], r.node)
            overrides = node.task_node.overrides
            _set_entries(overrides.resources, rec.requests, rec.limits)
            if profile and not overrides.extended_resources.HasField("gpu_accelerator"):
                # the node keeps the task's device: an override's accelerator replaces the task's whole
                task_spec = specs.get(r.task)
                template = getattr(task_spec, "template", task_spec)
                if template is not None and template.extended_resources.HasField("gpu_accelerator"):
                    overrides.extended_resources.gpu_accelerator.CopyFrom(template.extended_resources.gpu_accelerator)
            _set_accelerator(overrides, profile)
    # the recommended tasks, and the changed workflows with their tasks (as recommended where they are)
    names = set(new_specs)
    for w in new_workflows.values():
        for wf in [w.template, *w.sub_workflows]:
            names.update(n.task_node.reference_id.name for n in task_nodes(wf.nodes))
    checked = {n: new_specs.get(n, specs.get(n)) for n in sorted(names) if n in specs}
    previews = preview_distinct(checked, list(new_workflows.values()), platform, policy, project, domain)
    by_place = {(p.task, p.node): p for p in previews if p.role is None}
    for r in wanted:
        p = by_place.get((r.task, r.node))
        if p is None:
            continue
        checks = tuple((f.level, f.code, f.text()) for f in p.findings if f.level != INFO)
        if not p.refused:  # a refused task never runs: its refusals say why, and nothing is clamped
            checks += _not_effective(r, p, specs)
        r.recommendation = replace(r.recommendation, checks=checks)
        r.refused = any(level == ERROR for level, _, _ in checks)
        r.cost_after = pod_cost(p.pod, priced, policy.daemonsets if policy is not None else ())


def _not_effective(r: Row, p: Any, specs: Dict[str, Any]) -> Tuple[Tuple[str, str, str], ...]:
    """An error for each recommended value the pod Flyte builds does not have (a platform limit clamps it)."""
    spec = specs.get(r.task)
    template = getattr(spec, "template", spec)
    name = template.config.get("primary_container_name") if template is not None \
        and template.HasField("k8s_pod") else None
    res = _primary(p.pod, name).get("resources") or {}
    where = f"task '{r.task}'" + (f", node '{r.node}'" if r.node else "")
    out = []
    for kind, values in (("requests", r.recommendation.requests), ("limits", r.recommendation.limits)):
        for k, v in values.items():
            got = (res.get(kind) or {}).get(_K8S[k])
            try:
                same = got is not None and Quantity.parse(str(got)) == Quantity.parse(v)
            except ValueError:
                same = False
            if not same:
                out.append((ERROR, "recommend.not-effective",
                            f"{where}: the recommended {kind}.{_K8S[k]}={v} becomes {got or 'nothing'} in the pod "
                            "Flyte builds (the platform's limits decide): raise the platform limit or run it "
                            "elsewhere"))
    return tuple(out)
