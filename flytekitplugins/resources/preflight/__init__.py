"""Preflight: will the effective pod be admitted, and will it ever schedule?

Each check is a pure function on a previewed pod (a v1 Pod manifest as a dict) that returns findings of the
preview's shape (:class:`~flytekitplugins.resources.findings.Finding`):

- ``limitrange.apply_limit_ranges``: the LimitRanger admission plugin (defaults, min, max, ratio);
- ``quota.check_quotas``: the ResourceQuota admission plugin, for one pod (other pods' usage is unknown);
- ``nodefit.fit``: kube-scheduler's NodeResourcesFit, NodeAffinity and TaintToleration filters against node
  groups, less what the daemonsets that run on them take;
- ``policy.check_rules``: the project's Flyte rules (allowed accelerators, required limits, GPUs per task).

:func:`preflight` runs them in admission order (LimitRanger mutates the pod first, then quota, scheduling and
the project's rules) on the pods :func:`~flytekitplugins.resources.preview.preview_entities` built, with the
objects a :class:`~flytekitplugins.resources.preflight.policy.Policy` names for the task's namespace.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Tuple

from ..findings import Finding
from .limitrange import apply_limit_ranges
from .nodefit import fit
from .policy import Policy, check_rules, find_policy, load_policy
from .quota import check_quotas

__all__ = ["Policy", "find_policy", "load_policy", "preflight"]


def preflight(previews: List[Any], policy: Policy, platform: Any = None, *, project: Optional[str] = None,
              domain: Optional[str] = None) -> List[Any]:
    """New previews: each pod as admitted (LimitRange defaults applied, in the namespace the policy's template
    gives), with the preflight findings after the preview's.

    The checks are pure functions of the pod: a package's many tasks with the same pod are checked once, and
    the findings placed at each task, node and role. A refused preview (flyteadmin or flytepropeller refuses the
    task) is passed through unchecked: its pod never reaches the cluster."""
    from ..preview import PodPreview
    from ..preview.flytek8s import go_marshal

    project = project or policy.project
    domain = domain or policy.domain
    namespace = policy.namespace(project, domain)
    ranges, quotas = policy.objects_for(namespace)
    rules = policy.rules_for(project, domain)
    label = platform.k8s.gpu_device_node_label if platform is not None else "k8s.amazonaws.com/accelerator"
    seen: Dict[str, Tuple[Dict[str, Any], List[Finding]]] = {}
    out = []
    for p in previews:
        if p.pod is None or p.refused:  # no pod (a task that runs in none, or one Flyte refuses): nothing to admit
            out.append(p)
            continue
        # apply_limit_ranges copies the pod: a shallow copy here only sets the namespace
        pod = {**p.pod, "metadata": {**(p.pod.get("metadata") or {}), "namespace": namespace}}
        key = json.dumps(pod, sort_keys=True, separators=(",", ":"))
        if key not in seen:  # the checks run once per distinct pod, with no task: each finding is placed below
            admitted, found = apply_limit_ranges(pod, ranges)
            found = found + check_quotas(admitted, quotas)
            found = found + fit(admitted, policy.node_groups, daemonsets=policy.daemonsets)[1]
            found = found + check_rules(admitted, rules, gpu_label=label)
            seen[key] = (admitted, found)
        admitted, found = seen[key]
        placed = [f.placed(task=p.task, node=p.node, role=p.role) for f in found]
        # as the API server stores it (sorted maps; LimitRanger's defaults and annotation included)
        out.append(PodPreview(p.task, p.node, go_marshal(admitted), list(p.findings) + placed, p.role))
    return out
