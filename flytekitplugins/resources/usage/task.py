"""A running Flyte task, measured: what the hook calls around ``PythonTask.dispatch_execute``.

``begin(task, ctx)`` returns a ``TaskWindow`` (or ``None`` when measuring is off or cannot start) and
``end(window, error)`` prints the record. Neither ever raises: a failure to measure never fails the task and
never changes what it returns.

Where usage is read from (``FLYTEKITPLUGINS_RESOURCES_USAGE``):

- unset, ``on`` or ``auto``: the container's cgroup when the task is alone in its container, that is when
  flytekit runs it as a task execution (``pyflyte-execute``/``pyflyte-map-execute`` in a Flyte pod) and it is
  the first task this process measures; ``rusage`` otherwise (``pyflyte run`` runs a whole workflow in one
  process, whose cgroup is the user's session: a cgroup peak would be that session's);
- ``cgroup`` or ``rusage``: that source, whatever the mode (``cgroup`` falls back to ``rusage``, and says so in
  ``notes``, when the files cannot be read);
- ``off``: nothing is measured or printed.

``FLYTEKITPLUGINS_RESOURCES_USAGE_INTERVAL`` is the sampling period in seconds (default 0.5);
``FLYTEKITPLUGINS_RESOURCES_CGROUP_ROOT`` the directory the ``/proc`` and ``/sys/fs/cgroup`` paths are read
under (default ``/``). ``FLYTEKITPLUGINS_RESOURCES_USAGE_DECK``: unset, the Resources deck is added to every task
with ``enable_deck=True``; ``off`` never; ``on`` also for tasks without it (for those, where Flyte would not
render decks, the deck is written to a local HTML file whose path is printed, when run locally). Each of these
may also be given in the task's own ``environment={...}``, which wins over the process's.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
from typing import Any, Dict, Optional

from . import cgroup as cg
from .deck import DECK_NAME, render
from .measure import Meter
from .process import PeakTracker
from .record import UsageRecord, format_line

__all__ = ["CGROUP_ROOT_ENV", "DECK_ENV", "ENV", "INTERVAL_ENV", "TaskWindow", "begin", "end", "identity",
           "declared_resources"]

ENV = "FLYTEKITPLUGINS_RESOURCES_USAGE"
DECK_ENV = "FLYTEKITPLUGINS_RESOURCES_USAGE_DECK"
INTERVAL_ENV = "FLYTEKITPLUGINS_RESOURCES_USAGE_INTERVAL"
CGROUP_ROOT_ENV = "FLYTEKITPLUGINS_RESOURCES_CGROUP_ROOT"

_OFF = ("off", "0", "false", "no", "disable", "disabled")
_tracker = PeakTracker()
_lock = threading.Lock()
_cgroups: Dict[str, Optional[cg.CgroupPaths]] = {}
_measured = [0]  # tasks measured by this process


def _after_fork() -> None:
    global _lock
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


def _raw_setting(task: Any, name: str) -> str:
    env = getattr(task, "environment", None)
    if isinstance(env, dict) and isinstance(env.get(name), str):
        return env[name].strip()
    return os.environ.get(name, "").strip()


def _setting(task: Any, name: str) -> str:
    return _raw_setting(task, name).lower()


def _cgroup(root: str) -> Optional[cg.CgroupPaths]:
    if root not in _cgroups:
        _cgroups[root] = cg.find_cgroup(root)
    return _cgroups[root]


def _one_of(*names: str) -> Optional[str]:
    for n in names:
        v = os.environ.get(n)
        if v:
            return v
    return None


def identity() -> Dict[str, Any]:
    """Project, domain, workflow, execution, attempt and node from Flyte's environment (propeller's
    ``GetExecutionEnvVars``; flytekit's entry point reads the same names, with their short forms)."""
    execution = _one_of("FLYTE_INTERNAL_EXECUTION_ID", "_F_NM")
    attempt_text = os.environ.get("FLYTE_ATTEMPT_NUMBER", "")
    attempt = int(attempt_text) if attempt_text.isdigit() else None
    node = None
    url = os.environ.get("FLYTE_EXECUTION_URL", "")
    if "/nodeId/" in url:
        node = url.split("/nodeId/", 1)[1].split("/", 1)[0] or None
    if node is None and execution:
        # the pod is named "<execution>-<node>-<attempt>" (propeller's FixedLengthUniqueIDForParts, when short)
        host = os.environ.get("HOSTNAME", "")
        suffix = f"-{attempt}" if attempt is not None else ""
        if host.startswith(execution + "-") and suffix and host.endswith(suffix):
            node = host[len(execution) + 1:len(host) - len(suffix)] or None
    return {
        "project": _one_of("FLYTE_INTERNAL_EXECUTION_PROJECT", "_F_PRJ"),
        "domain": _one_of("FLYTE_INTERNAL_EXECUTION_DOMAIN", "_F_DM"),
        "workflow": _one_of("FLYTE_INTERNAL_EXECUTION_WORKFLOW", "_F_WF"),
        "execution": execution,
        "attempt": attempt,
        "node": node,
    }


_K8S_NAMES = {"cpu": "cpu", "memory": "memory", "ephemeral_storage": "ephemeral-storage"}


def declared_resources(task: Any) -> Dict[str, Dict[str, str]]:
    """The task's own requests and limits, as it would serialize them, under Kubernetes' names
    (``{"requests": {"cpu": "2", "memory": "4Gi"}, "limits": {...}}``); empty for a task without them."""
    spec = getattr(task, "resources", None)
    requests, limits = getattr(spec, "requests", None), getattr(spec, "limits", None)
    if requests is None and limits is None:
        return {"requests": {}, "limits": {}}
    from flytekit.models.task import Resources as IdlResources

    from ..accelerators import resource_name_for
    from ..convert import container_definition, resolve_accelerator

    model = container_definition("", spec, []).resources  # the container's entries, as the task serializes
    names = {
        IdlResources.ResourceName.CPU: "cpu",
        IdlResources.ResourceName.MEMORY: "memory",
        IdlResources.ResourceName.EPHEMERAL_STORAGE: "ephemeral-storage",
        IdlResources.ResourceName.GPU: resource_name_for(
            resolve_accelerator(getattr(task, "accelerator", None), requests, limits)),
    }
    return {
        "requests": {names.get(e.name, str(e.name)): e.value for e in model.requests},
        "limits": {names.get(e.name, str(e.name)): e.value for e in model.limits},
    }


def _interval(task: Any) -> float:
    try:
        value = float(_setting(task, INTERVAL_ENV) or 0.5)
    except ValueError:
        return 0.5
    return min(60.0, max(0.01, value)) if value == value else 0.5


def _alone_in_container(ctx: Any) -> bool:
    mode = getattr(getattr(getattr(ctx, "execution_state", None), "mode", None), "name", None)
    return mode == "TASK_EXECUTION" and _measured[0] == 0


class TaskWindow:
    """One task being measured."""

    def __init__(self, task: Any, ctx: Any, meter: Meter, notes: list) -> None:
        self.task = task
        self.name = str(getattr(task, "name", None) or type(task).__name__)
        self.meter = meter
        self.ctx = ctx
        self.succeeded: Optional[bool] = None
        self._notes = notes
        self.identity = identity()
        try:
            self.declared = declared_resources(task)
        except Exception as e:
            self.declared = {"requests": {}, "limits": {}}
            self._notes.append(f"declared resources unreadable: {e}")
        self.record_: Optional[UsageRecord] = None
        self.deck_file: Optional[str] = None

    def record(self) -> UsageRecord:
        """The final record once ``end`` ran, else what was measured so far."""
        if self.record_ is not None:
            return self.record_
        return self._build(self.meter.snapshot())

    def _build(self, m: Any) -> UsageRecord:
        return UsageRecord(
            task=self.name,
            started=m.started,
            wall_seconds=round(m.wall_seconds, 6),
            succeeded=self.succeeded,
            requests=dict(self.declared["requests"]),
            limits=dict(self.declared["limits"]),
            container_limits=m.container_limits,
            memory_peak_bytes=m.memory_peak_bytes,
            cpu_seconds=None if m.cpu_seconds is None else round(m.cpu_seconds, 6),
            cpu_avg_cores=None if m.cpu_avg_cores is None else round(m.cpu_avg_cores, 4),
            cpu_peak_cores=None if m.cpu_peak_cores is None else round(m.cpu_peak_cores, 4),
            shm_peak_bytes=m.shm_peak_bytes,
            gpus=m.gpus,
            sources=m.sources,
            notes=self._notes + m.notes,
            **self.identity,
        )


_deck_class: Any = None


def _deck(window: TaskWindow) -> Any:
    """A flytekit Deck whose HTML is drawn when flytekit renders the decks (locally at the end of the task's
    dispatch, in a pod after it): the record as it stands then."""
    global _deck_class
    if _deck_class is None:
        from flytekit.deck import Deck

        class ResourcesDeck(Deck):
            def __init__(self, window: TaskWindow) -> None:
                super().__init__(DECK_NAME, "", auto_add_to_deck=False)
                self._window = window

            @property
            def html(self) -> str:
                try:
                    return render(self._window.record())
                except Exception as e:  # never break flytekit's deck rendering
                    return f"<p>flytekitplugins-resources: the Resources deck could not be drawn ({e!r})</p>"

        _deck_class = ResourcesDeck
    return _deck_class(window)


def begin(task: Any, ctx: Any) -> Optional[TaskWindow]:
    """Start measuring ``task`` (``None`` when off or when measuring cannot start)."""
    try:
        setting = _setting(task, ENV)
        if setting in _OFF:
            return None
        notes: list = []
        root = _raw_setting(task, CGROUP_ROOT_ENV) or "/"
        with _lock:
            paths = _cgroup(root)
            if setting == "cgroup":
                use = True
            elif setting == "rusage":
                use = False
            else:
                if setting not in ("", "on", "auto", "1", "true", "yes"):
                    notes.append(f"{ENV}={setting!r} is not off, on, auto, cgroup or rusage: measured as auto")
                use = _alone_in_container(ctx)
            _measured[0] += 1
        if use and paths is None:
            notes.append("no cgroup found in /proc/self/cgroup and /proc/self/mountinfo: used rusage")
        meter = Meter(cgroup=paths, use_cgroup=use, tracker=_tracker, interval=_interval(task))
        window = TaskWindow(task, ctx, meter, notes)
        meter.start()
        deck = _setting(task, DECK_ENV)
        wants_deck = deck not in _OFF and (deck in ("on", "1", "true", "yes") or _enable_deck(task))
        if wants_deck and _enable_deck(task):
            params = getattr(ctx, "user_space_params", None)
            decks = getattr(params, "decks", None)
            if isinstance(decks, list):
                decks.append(_deck(window))
        elif wants_deck:
            window.deck_file = ""  # written by end()
        return window
    except Exception:
        return None


def _enable_deck(task: Any) -> bool:
    try:
        return bool(getattr(task, "enable_deck", False))
    except Exception:
        return False


def end(window: Optional[TaskWindow], error: Optional[BaseException] = None) -> Optional[UsageRecord]:
    """Stop measuring, print the record to stderr (one line, ``record.PREFIX`` first) and return it."""
    if window is None:
        return None
    try:
        window.succeeded = error is None or type(error).__name__ == "IgnoreOutputs"
        window.record_ = window._build(window.meter.stop())
        line = format_line(window.record_)
        stream = sys.stderr
        stream.write(line + "\n")
        stream.flush()
        if window.deck_file == "":
            _write_deck_file(window)
        return window.record_
    except Exception:
        return None


def _write_deck_file(window: TaskWindow) -> None:
    mode = getattr(getattr(getattr(window.ctx, "execution_state", None), "mode", None), "name", None)
    if mode == "TASK_EXECUTION":
        return  # Flyte renders decks only for tasks with enable_deck=True
    directory = tempfile.mkdtemp(prefix="flyte-resources-deck-")
    path = os.path.join(directory, "resources.html")
    with open(path, "w", encoding="utf-8") as f:
        f.write("<!doctype html><html><head><meta charset='utf-8'><title>Resources</title></head><body>\n")
        f.write(render(window.record_))  # type: ignore[arg-type]
        f.write("\n</body></html>\n")
    window.deck_file = path
    sys.stderr.write(f"flytekitplugins-resources: {window.name}: Resources deck at file://{path}\n")
