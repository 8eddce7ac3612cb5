"""Will one pod fit a node group? kube-scheduler's filters for a single pod on a node that runs only its
daemonsets' pods, offline.

- :mod:`.groups` reads the node groups (a node-group file, or ``kubectl get nodes -o json``);
- :mod:`.daemonsets` reads DaemonSet manifests and says which groups each one runs on, and what it takes there;
- :mod:`.filters` are the scheduler's filters (NodeResourcesFit, TaintToleration, NodeAffinity, NodeName) for
  one pod and one group: pure, pod and group in, reasons out (the rules and their sources are listed there);
- this module puts them together for a pod against a list of groups (:func:`fit`), with what is worked out
  once per list of groups kept for the next pod checked against the same groups.

The scheduler stops at the first filter plugin that rejects a node; here every check runs, so a group's
reasons are all the ways it does not fit.
"""

from __future__ import annotations

import bisect
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Tuple

from ...findings import ERROR, INFO, Finding
from .daemonsets import DaemonSet, display_names, parse_daemonset, parse_daemonsets, runs_on, taken_on
from .filters import (
    NO_AFFINITY,
    REASON_AFFINITY,
    REASON_NODE_NAME,
    REASON_TOO_MANY_PODS,
    TOO_MANY_PODS,
    WRONG_NODE,
    GroupRoom,
    PodChecks,
    Reason,
    checked_order,
    insufficient,
    pod_requests,
    taint_reason,
)
from .filters import group_reasons as _reasons_of
from .groups import NodeGroup, parse_node_groups

__all__ = [
    "REASON_AFFINITY",
    "REASON_NODE_NAME",
    "REASON_TOO_MANY_PODS",
    "DaemonSet",
    "NodeGroup",
    "fit",
    "group_reasons",
    "parse_daemonset",
    "parse_daemonsets",
    "parse_node_groups",
    "pod_requests",
    "runs_on",
]

_FITS: Tuple[Reason, ...] = ()


class _Decisions(NamedTuple):
    """What the filters decide for one pod against a :class:`_GroupList` (groups by index): all that the groups'
    reasons (without details) depend on, so that they are put together once for pods that decide alike."""

    wrong_node: Tuple[int, ...]  #: named nodes other than the one the pod names (``spec.nodeName``)
    taints: Optional[Tuple[Tuple[int, int], ...]]  #: (group, its first untolerated taint); None: each one's first
    affinity: Tuple[int, ...]  #: the groups its nodeSelector or required node affinity does not match
    short: Tuple[Tuple[str, int], ...]  #: per request: (resource, how many groups, least first, have too little)
    overflow: Tuple[str, ...]  #: resources it does not request that daemonsets overflow on some group


class _Outcome(NamedTuple):
    """The groups' reasons for one set of :class:`_Decisions`."""

    reasons: Tuple[Tuple[Reason, ...], ...]  #: per group, why the pod does not fit it (no details); () if it does
    fitting: Tuple[str, ...]  #: the names of the groups it fits
    closest: int  #: when it fits none: the group with the fewest reasons, then the first by name
    after: str  #: when it fits none: every group's reasons (``name: reason, reason | name: ...``)


class _GroupList:
    """Node groups as :func:`fit` reads them, worked out once per list of groups and daemonsets
    (:func:`_group_list`): each group's :class:`~.filters.GroupRoom` (with what its daemonsets take), the groups
    with taints the scheduler filters on, those that allow no further pod, those that are named nodes, per
    resource the groups ordered by how much of it is left for the pod (the groups short of a request are found
    by bisection, not one by one), and the outcome of each set of decisions seen."""

    def __init__(self, groups: Sequence[NodeGroup], daemonsets: Sequence[DaemonSet] = ()) -> None:
        self.groups = tuple(groups)  # held: the ids in the cache key stay these groups' ids
        self.daemonsets = tuple(daemonsets)  # likewise
        self.names = [g.name for g in self.groups]
        files = [g.source for g in self.groups] + [ds.source for ds in self.daemonsets]
        self.sources = ", ".join(dict.fromkeys(f for f in files if f)) or None  #: the files they were read from
        labels = display_names(self.daemonsets)
        self.rooms = [GroupRoom(g, taken_on(self.daemonsets, g, labels)) for g in self.groups]
        self.tainted = [i for i, v in enumerate(self.rooms) if v.taints]
        self.no_pods = [i for i, v in enumerate(self.rooms) if v.no_pods]
        self.named = [i for i, g in enumerate(self.groups) if g.node_name]
        self.overflow: Dict[str, List[int]] = {}  #: per resource, the groups whose daemonsets alone overflow it
        for i, v in enumerate(self.rooms):
            for name in v.overflow:
                self.overflow.setdefault(name, []).append(i)
        self._amounts: Dict[str, Tuple[List[int], List[int]]] = {}
        self._outcomes: Dict[_Decisions, _Outcome] = {}

    def by_amount(self, name: str) -> Tuple[List[int], List[int]]:
        """(how much ``name`` the groups have left for the pod, least first, a group without it having 0 less
        what daemonsets take; the groups in that order), once per resource."""
        found = self._amounts.get(name)
        if found is None:
            have = [v.free(name) for v in self.rooms]
            order = sorted(range(len(have)), key=have.__getitem__)
            found = self._amounts[name] = ([have[i] for i in order], order)
        return found

    def short(self, name: str, need: int) -> int:
        """How many groups have less than ``need`` of ``name`` left: the first ones of :meth:`by_amount`."""
        return bisect.bisect_left(self.by_amount(name)[0], need)

    def decide(self, check: PodChecks) -> _Decisions:
        """The filters' decisions for ``check``'s pod: one group at a time only where a filter needs it (named
        nodes, tainted groups when the pod has tolerations, every group when it selects nodes); the groups
        short of a request by bisection."""
        wrong_node: Tuple[int, ...] = ()
        if check.node_name:
            wrong_node = tuple(i for i in self.named if self.groups[i].node_name != check.node_name)
        taints: Optional[Tuple[Tuple[int, int], ...]] = None  # no toleration: every tainted group, its first taint
        if check.tolerations:
            firsts = ((i, check.first_untolerated(self.rooms[i].taints)) for i in self.tainted)
            taints = tuple((i, t) for i, t in firsts if t is not None)
        affinity: Tuple[int, ...] = ()
        if not check.selector.any_group:
            affinity = tuple(i for i, g in enumerate(self.groups) if not check.selector.matches(g))
        short = tuple((name, self.short(name, need)) for name, need, _ in check.needs)
        overflow: Tuple[str, ...] = ()
        if self.overflow:
            requested = {name for name, _, _ in check.needs}
            overflow = tuple(name for name in checked_order(self.overflow) if name not in requested)
        return _Decisions(wrong_node, taints, affinity, short, overflow)

    def outcome(self, d: _Decisions) -> _Outcome:
        """The groups' reasons for ``d``, put together once per distinct decisions."""
        found = self._outcomes.get(d)
        if found is None:
            if len(self._outcomes) >= 1024:
                self._outcomes.clear()
            found = self._outcomes[d] = self._assemble(d)
        return found

    def _assemble(self, d: _Decisions) -> _Outcome:
        found: Dict[int, List[Reason]] = {}  # a group's reasons come in the order of the filters
        for i in d.wrong_node:
            found.setdefault(i, []).append(WRONG_NODE)
        for i, t in ((i, 0) for i in self.tainted) if d.taints is None else d.taints:
            found.setdefault(i, []).append(taint_reason(self.rooms[i].taints[t]))
        for i in d.affinity:
            found.setdefault(i, []).append(NO_AFFINITY)
        for i in self.no_pods:
            found.setdefault(i, []).append(TOO_MANY_PODS)
        for name, k in d.short:
            reason = insufficient(name)
            for i in sorted(self.by_amount(name)[1][:k]):
                found.setdefault(i, []).append(reason)
        for name in d.overflow:
            for i in self.overflow[name]:
                found.setdefault(i, []).append(insufficient(name))
        reasons = tuple(tuple(found.get(i, _FITS)) for i in range(len(self.groups)))
        fitting = tuple(name for name, rs in zip(self.names, reasons) if not rs)
        closest, after = -1, ""
        if reasons and not fitting:
            closest = min(range(len(reasons)), key=lambda i: (len(reasons[i]), self.names[i]))
            after = " | ".join(f"{name}: {', '.join(r.text for r in rs)}" for name, rs in zip(self.names, reasons))
        return _Outcome(reasons, fitting, closest, after)


_GROUP_LISTS: Dict[Tuple[Tuple[int, ...], Tuple[int, ...]], _GroupList] = {}


def _group_list(groups: Sequence[NodeGroup], daemonsets: Sequence[DaemonSet] = ()) -> _GroupList:
    """The :class:`_GroupList` of ``groups`` and ``daemonsets``, kept for the next pods checked against the same
    ones (a policy's node groups are checked against every pod). The key is their identities; the entry holds
    them, so that no id in a key can belong to another object while the entry is kept."""
    key = (tuple(map(id, groups)), tuple(map(id, daemonsets)))
    found = _GROUP_LISTS.get(key)
    if found is None:
        if len(_GROUP_LISTS) >= 16:
            _GROUP_LISTS.clear()
        found = _GROUP_LISTS[key] = _GroupList(groups, daemonsets)
    return found


def group_reasons(pod: Dict[str, Any], group: NodeGroup, daemonsets: Sequence[DaemonSet] = ()) -> List[str]:
    """kube-scheduler's reasons why ``pod`` does not fit one node of ``group`` that runs the ``daemonsets`` the
    group admits (empty: it fits)."""
    room = _group_list((group,), daemonsets).rooms[0]
    return [r.text for r in _reasons_of(PodChecks(pod, "pod"), group, room)]


def _where(task: Optional[str], node: Optional[str]) -> str:
    if not task:
        return "pod" + (f", node '{node}'" if node else "")
    return f"task '{task}'" + (f", node '{node}'" if node else "")


def _field_of(r: Reason) -> str:
    if r.kind == "resource":
        return f"requests.{r.resource}"
    return {"taint": "tolerations", "affinity": "affinity", "pods": "pods", "node-name": "nodeName"}[r.kind]


def fit(
    pod: Dict[str, Any],
    groups: Sequence[NodeGroup],
    *,
    daemonsets: Sequence[DaemonSet] = (),
    task: Optional[str] = None,
    node: Optional[str] = None,
) -> Tuple[List[str], List[Finding]]:
    """The names of the groups whose nodes ``pod`` fits (in the order given), and one finding.

    Each node runs the ``daemonsets`` its group admits (:func:`~.daemonsets.runs_on`) before the pod: what they
    request is not there for it, and each takes one of the node's ``pods``.

    ``nodefit.fits`` (info) lists the groups (and the daemonsets that run on them); ``nodefit.no-fit`` (error)
    names the closest group (fewest reasons, then name) and what it lacks, with what its daemonsets take of
    it, and every group's reasons in ``after``. No groups: ``([], [])``. ``pod`` is not changed; a malformed
    pod raises :class:`ResourceValidationError`.
    """
    if not groups:
        return [], []
    where = _where(task, node)
    check = PodChecks(pod, where)
    group_list = _group_list(groups, daemonsets)
    outcome = group_list.outcome(group_list.decide(check))  # the details only for the closest group
    fitting = list(outcome.fitting)
    sources = group_list.sources
    reqs = ", ".join(f"{k}={v}" for k, v in sorted(check.requests.items()))
    if fitting:
        names = "'" + "', '".join(fitting) + "'"
        msg = f"fits node group{'s' if len(fitting) > 1 else ''} {names} ({len(fitting)} of {len(groups)})"
        running = dict.fromkeys(n for i, rs in enumerate(outcome.reasons) if not rs
                                for n in group_list.rooms[i].taken.names)
        if running:
            msg += f" beside daemonset{'s' if len(running) > 1 else ''} {', '.join(running)}"
        return fitting, [Finding(INFO, "nodefit.fits", msg, task=task, node=node, pod=None if task else "",
                                 before=reqs or None, after=", ".join(fitting), source=sources)]
    i = outcome.closest
    g = group_list.groups[i]
    rs = [check.detailed(r, g, group_list.rooms[i]) for r in outcome.reasons[i]]
    detail = check.closest_detail(g, rs)
    msg = (f"fits no node group ({len(groups)} given); closest is '{g.name}' "
           f"({', '.join(r.text for r in rs)}): {detail}")
    return [], [Finding(ERROR, "nodefit.no-fit", msg, task=task, node=node, pod=None if task else "",
                        field=_field_of(rs[0]), before=reqs or None, after=outcome.after, source=sources)]
