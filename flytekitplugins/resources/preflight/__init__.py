"""Preflight: will the effective pod be admitted, and will it ever schedule?

Each check is a pure function on a previewed pod (a v1 Pod manifest as a dict) that returns findings of the
preview's shape (:class:`~flytekitplugins.resources.findings.Finding`):

- ``limitrange.apply_limit_ranges``: the LimitRanger admission plugin (defaults, min, max, ratio);
- ``quota.check_quotas``: the ResourceQuota admission plugin, for one pod (other pods' usage is unknown);
- ``nodefit.fit``: kube-scheduler's NodeResourcesFit, NodeAffinity and TaintToleration filters against node
  groups;
- ``policy.check_rules``: the project's Flyte rules (allowed accelerators, required limits, GPUs per task).

:func:`preflight` runs them in admission order (LimitRanger mutates the pod first, then quota, scheduling and
the project's rules) on the pods :func:`~flytekitplugins.resources.preview.preview_entities` built, with the
objects a :class:`~flytekitplugins.resources.preflight.policy.Policy` names for the task's namespace.
"""

from __future__ import annotations

import copy
from typing import Any, List, Optional

from .limitrange import apply_limit_ranges
from .nodefit import fit
from .policy import Policy, check_rules, find_policy, load_policy
from .quota import check_quotas

__all__ = ["Policy", "find_policy", "load_policy", "preflight"]


def preflight(previews: List[Any], policy: Policy, platform: Any = None, *, project: Optional[str] = None,
              domain: Optional[str] = None) -> List[Any]:
    """New previews: each pod as admitted (LimitRange defaults applied, in the namespace the policy's template
    gives), with the preflight findings after the preview's."""
    from ..preview import PodPreview

    project = project or policy.project
    domain = domain or policy.domain
    namespace = policy.namespace(project, domain)
    ranges, quotas = policy.objects_for(namespace)
    rules = policy.rules_for(project, domain)
    label = platform.k8s.gpu_device_node_label if platform is not None else "k8s.amazonaws.com/accelerator"
    out = []
    for p in previews:
        pod = copy.deepcopy(p.pod)
        pod.setdefault("metadata", {})["namespace"] = namespace
        admitted, found = apply_limit_ranges(pod, ranges, task=p.task, node=_node(p))
        found = found + check_quotas(admitted, quotas, task=p.task, node=_node(p))
        found = found + fit(admitted, policy.node_groups, task=p.task, node=_node(p))[1]
        found = found + check_rules(admitted, rules, gpu_label=label, task=p.task, node=_node(p))
        out.append(PodPreview(p.task, p.node, admitted, list(p.findings) + found, p.role))
    return out


def _node(p: Any) -> Optional[str]:
    """The node, and the replica role when there is one, for the findings' ``where``."""
    if p.role:
        return f"{p.node} ({p.role})" if p.node else p.role
    return p.node
