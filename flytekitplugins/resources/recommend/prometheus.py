"""Usage from Prometheus, as platform teams run it: a handful of PromQL queries aggregated by task in Prometheus.

The metrics (the usual kube-prometheus stack):

- cAdvisor (the kubelet): ``container_memory_working_set_bytes`` (what the OOM killer and the kubelet's eviction
  look at) and ``container_cpu_usage_seconds_total``;
- kube-state-metrics: ``kube_pod_labels``, one series per pod with its labels as ``label_<key>`` (``-`` becomes
  ``_``): Flyte labels every task pod with ``project``, ``domain``, ``workflow-name``, ``task-name``, ``node-id``
  and ``execution-id``. kube-state-metrics 2.x exports pod labels only when asked:
  ``--metric-labels-allowlist=pods=[project,domain,workflow-name,task-name,node-id,execution-id]``;
  and ``kube_pod_container_status_last_terminated_reason{reason="OOMKilled"}``;
- DCGM exporter (when present): ``DCGM_FI_DEV_FB_USED`` (MiB) with the pod's ``namespace`` and ``pod`` labels.

Every query joins a per-pod aggregate over the window with the pod's Flyte labels (``* on (namespace, pod)
group_left (...)``) and aggregates by task, workflow and node in Prometheus: one answer row per task and node,
never one query per pod. CPU is the ``rate`` over ``step`` in a subquery at ``step`` resolution; its
``quantile_over_time`` (default p95) per pod, the highest across the task's pods (the busiest run decides).

HTTP is the standard library's (``urllib``): ``POST /api/v1/query`` (form-encoded, so long queries fit).
"""

from __future__ import annotations

import json
import math
import socket
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Callable, Dict, List, Optional, Tuple

from .history import TaskUsage, UsageError

__all__ = ["QUERIES", "fetch_usage", "parse_duration", "queries", "query"]

_GROUP = ("label_task_name", "label_workflow_name", "label_node_id")
_BY = ", ".join(_GROUP)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400}

#: the queries, by name, in the order they run: {W} window, {S} step, {Q} quantile, {F} extra label filters
QUERIES: Tuple[Tuple[str, str], ...] = (
    ("runs", "count by ({by}) ({pods})"),
    ("memory", "max by ({by}) (max_over_time(container_memory_working_set_bytes{{container!=\"\",container!=\"POD\"}}"
               "[{W}]) * on (namespace, pod) group_left ({by}) {pods})"),
    ("cpu_quantile", "max by ({by}) (quantile_over_time({Q}, rate(container_cpu_usage_seconds_total{{container!=\"\","
                     "container!=\"POD\"}}[{S}])[{W}:{S}]) * on (namespace, pod) group_left ({by}) {pods})"),
    ("cpu_peak", "max by ({by}) (max_over_time(rate(container_cpu_usage_seconds_total{{container!=\"\","
                 "container!=\"POD\"}}[{S}])[{W}:{S}]) * on (namespace, pod) group_left ({by}) {pods})"),
    ("oom_kills", "count by ({by}) ((max by (namespace, pod) (max_over_time(kube_pod_container_status_last_terminated"
                  "_reason{{reason=\"OOMKilled\"}}[{W}])) > 0) * on (namespace, pod) group_left ({by}) {pods})"),
    ("gpu_memory", "max by ({by}, modelName) (max_over_time(DCGM_FI_DEV_FB_USED[{W}]) * on (namespace, pod) "
                   "group_left ({by}) {pods})"),
)
_PODS = "max by (namespace, pod, {by}) (max_over_time(kube_pod_labels{{label_task_name!=\"\"{F}}}[{W}]))"


def parse_duration(text: str, what: str = "--since") -> str:
    """A PromQL duration (``14d``, ``6h``, ``90m``): a whole number and one unit, checked without a pattern."""
    text = text.strip()
    if len(text) < 2 or text[-1] not in _UNITS or not text[:-1].isdigit() or int(text[:-1]) == 0:
        raise UsageError(f"{what} {text!r}: not a duration; write a whole number and a unit, e.g. 14d, 12h, 30m "
                         f"(units: {', '.join(_UNITS)})")
    return text


def duration_seconds(text: str) -> int:
    return int(text[:-1]) * _UNITS[text[-1]]


def _string(value: str) -> str:
    """A PromQL string literal (double-quoted, backslash and quote escaped)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def queries(since: str, step: str = "5m", quantile: float = 0.95,
            labels: Optional[Dict[str, str]] = None) -> List[Tuple[str, str]]:
    """(name, PromQL) of every query for a window; ``labels`` filters the pods (``{"project": "ml"}``)."""
    extra = "".join(f",label_{k.replace('-', '_')}={_string(v)}" for k, v in sorted((labels or {}).items()))
    pods = _PODS.format(by=_BY, F=extra, W=since)
    return [(name, text.format(by=_BY, pods=pods, W=since, S=step, Q=repr(float(quantile))))
            for name, text in QUERIES]


def query(url: str, promql: str, *, at: Optional[float] = None, timeout: float = 120.0,
          name: str = "query") -> List[Dict[str, Any]]:
    """The instant vector Prometheus answers (``[{"metric": {...}, "value": [t, "v"]}]``); one-line
    :class:`UsageError` when it cannot be reached or refuses the query."""
    form = {"query": promql}
    if at is not None:
        form["time"] = repr(float(at))
    data = urllib.parse.urlencode(form).encode()
    endpoint = url.rstrip("/") + "/api/v1/query"
    request = urllib.request.Request(endpoint, data=data, method="POST",
                                     headers={"Content-Type": "application/x-www-form-urlencoded",
                                              "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
    except urllib.error.HTTPError as e:
        body = e.read() or b""
        answer = _json(body)
        if isinstance(answer, dict) and answer.get("status") == "error":
            raise UsageError(f"{url}: Prometheus refused the {name} query ({answer.get('errorType', 'error')}: "
                             f"{_one_line(answer.get('error', ''))})") from None
        raise UsageError(f"{url}: HTTP {e.code} {e.reason} from {endpoint} (is this a Prometheus server?)") from None
    except urllib.error.URLError as e:
        raise UsageError(f"{url}: cannot reach Prometheus ({_one_line(str(e.reason))}); check --prometheus") from None
    except (socket.timeout, TimeoutError):
        raise UsageError(f"{url}: Prometheus did not answer the {name} query within {timeout:g} s; "
                         "try a shorter --since or a coarser --step") from None
    except (OSError, ValueError) as e:
        raise UsageError(f"{url}: cannot reach Prometheus ({_one_line(str(e))}); check --prometheus") from None
    answer = _json(body)
    if not isinstance(answer, dict) or "status" not in answer:
        raise UsageError(f"{url}: the answer to the {name} query is not a Prometheus API answer "
                         f"(is this a Prometheus server?)")
    if answer["status"] != "success":
        raise UsageError(f"{url}: Prometheus refused the {name} query ({answer.get('errorType', 'error')}: "
                         f"{_one_line(str(answer.get('error', '')))})")
    data_ = answer.get("data")
    if not isinstance(data_, dict) or data_.get("resultType") != "vector" or not isinstance(data_.get("result"), list):
        raise UsageError(f"{url}: the answer to the {name} query is not an instant vector")
    return data_["result"]


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def _one_line(text: str) -> str:
    text = " ".join(str(text).split())
    return text[:300] + "..." if len(text) > 300 else text


def _value(row: Dict[str, Any]) -> Optional[float]:
    try:
        v = float(row["value"][1])
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def fetch_usage(url: str, since: str, *, step: str = "5m", quantile: float = 0.95,
                labels: Optional[Dict[str, str]] = None, at: Optional[float] = None, timeout: float = 120.0,
                progress: Optional[Callable[[str], None]] = None) -> List[TaskUsage]:
    """One :class:`TaskUsage` per (``task-name``, ``workflow-name``, ``node-id``) label set that ran in the
    window ending at ``at`` (default: now). ``progress`` is called with each query's name before it runs."""
    since = parse_duration(since)
    step = parse_duration(step, "--step")
    rows: Dict[Tuple[str, Optional[str], Optional[str]], Dict[str, Any]] = {}
    for name, promql in queries(since, step, quantile, labels):
        if progress is not None:
            progress(name)
        for row in query(url, promql, at=at, timeout=timeout, name=name):
            metric = row.get("metric") if isinstance(row, dict) else None
            value = _value(row) if isinstance(row, dict) else None
            if not isinstance(metric, dict) or value is None or not metric.get("label_task_name"):
                continue
            key = (str(metric["label_task_name"]), metric.get("label_workflow_name") or None,
                   metric.get("label_node_id") or None)
            if name != "runs" and key not in rows:
                continue  # a series whose pod has no Flyte labels in the window
            got = rows.setdefault(key, {})
            if name == "gpu_memory":
                if value * 2**20 > got.get("gpu_memory", -1):
                    got["gpu_memory"] = value * 2**20  # DCGM reports MiB
                    got["gpu_model"] = metric.get("modelName")
            else:
                got[name] = value
    out = []
    for (task, workflow, node), got in rows.items():
        gpu = got.get("gpu_memory")
        out.append(TaskUsage(
            task=task, workflow=workflow, node=node, runs=int(got.get("runs", 0)),
            memory_peak_bytes=int(got["memory"]) if "memory" in got else None,
            cpu_p95_cores=got.get("cpu_quantile"), cpu_peak_cores=got.get("cpu_peak"),
            oom_kills=int(got.get("oom_kills", 0)), gpu_memory_peak_bytes=int(gpu) if gpu is not None else None,
            gpu_model=got.get("gpu_model"), source="prometheus",
        ))
    return out
