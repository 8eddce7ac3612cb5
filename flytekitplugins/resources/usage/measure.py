"""One measured window: from a task's start to its end, what it used (knows nothing of flytekit).

``Meter(...).start()`` reads the counters and starts a daemon sampler thread; ``stop()`` stops it and returns a
``Measured``. The sampler wakes every ``interval`` seconds to read the CPU counter (peak cores is the largest
increase per second over one interval), the resident set (process source), ``/dev/shm`` and the GPUs. Nothing
here raises: an unreadable counter makes its value ``None`` and says why in ``notes``.

Sources (``Measured.sources``):

- ``cgroup``: the container's cgroup (v2 or v1) when ``use_cgroup`` (the task is alone in its container):
  memory is the cgroup's peak since the container started (what its limit has to hold, start-up included),
  CPU the cgroup's usage during the window (every process of the container);
- ``rusage``: this process and the children it waited for (``process``), during the window only;
- ``statvfs`` for ``/dev/shm`` (the pod's own in a pod; locally the increase during the window);
- ``nvml`` for GPUs.
"""

from __future__ import annotations

import datetime
import os
import threading
import time
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Tuple

from . import cgroup as cg
from . import process
from .gpu import NvmlSampler, nvidia_driver_present
from .record import GpuUsage

__all__ = ["Measured", "Meter", "shm_used_bytes"]


def shm_used_bytes(path: str = "/dev/shm") -> Optional[int]:
    try:
        st = os.statvfs(path)
    except OSError:
        return None
    return (st.f_blocks - st.f_bfree) * st.f_frsize


class Measured(NamedTuple):
    started: str
    wall_seconds: float
    memory_peak_bytes: Optional[int]
    cpu_seconds: Optional[float]
    cpu_avg_cores: Optional[float]
    cpu_peak_cores: Optional[float]
    shm_peak_bytes: Optional[int]
    gpus: List[GpuUsage]
    container_limits: Dict[str, Any]
    sources: Dict[str, str]
    notes: List[str]


def _load_pynvml() -> Any:
    if not nvidia_driver_present():
        return None
    try:
        import pynvml  # nvidia-ml-py
    except Exception:
        return None
    return pynvml


class Meter:
    """Measures one window. ``cgroup``: the process's cgroup (or ``None``); ``use_cgroup``: read usage from it
    (else ``rusage``); limits are read from it either way. ``nvml``: a pynvml module, or a callable returning one
    (``None`` skips GPUs)."""

    def __init__(
        self,
        *,
        cgroup: Optional[cg.CgroupPaths],
        use_cgroup: bool,
        tracker: process.PeakTracker,
        interval: float = 0.5,
        shm_path: str = "/dev/shm",
        nvml: Any = _load_pynvml,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._cg = cgroup
        self._use_cgroup = use_cgroup and cgroup is not None
        self._tracker = tracker
        self._interval = interval
        self._shm_path = shm_path
        self._nvml = nvml
        self._clock = clock
        self.sources: Dict[str, str] = {}
        self.notes: List[str] = []
        self._gpu: Optional[NvmlSampler] = None
        self._gpu_ready = False
        # no driver, no NVML: decided here (two stat calls) so that the sampler need not wake for it
        self._gpu_started = nvml is None or (nvml is _load_pynvml and not nvidia_driver_present())
        self._busy = threading.Lock()  # a tick and the final sample do not interleave
        self._window: Any = None
        self._memory_from_cgroup = False
        self._result: Optional[Measured] = None

    # -- counters -------------------------------------------------------------------------------------------
    def _cpu(self) -> Optional[float]:
        if self._cpu_from_cgroup:
            return cg.read_cpu_seconds(self._cg)  # type: ignore[arg-type]
        return process.cpu_seconds()

    def start(self) -> Meter:
        self.started = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")
        c = self._cg
        self._cpu_from_cgroup = False
        cpu0 = None
        if self._use_cgroup:
            cpu0 = cg.read_cpu_seconds(c)  # type: ignore[arg-type]
            if cpu0 is not None:
                self._cpu_from_cgroup = True
            else:
                self.notes.append(f"{c.source}: CPU usage unreadable, used rusage")  # type: ignore[union-attr]
            if cg.read_memory_peak_bytes(c) is not None:  # type: ignore[arg-type]
                self._memory_from_cgroup = True
            else:
                self.notes.append(f"{c.source}: peak memory unreadable, used rusage")  # type: ignore[union-attr]
        self.sources["cpu"] = c.source if self._cpu_from_cgroup else "rusage"  # type: ignore[union-attr]
        self.sources["memory"] = c.source if self._memory_from_cgroup else "rusage"  # type: ignore[union-attr]
        self._limits = {"memory_bytes": None, "cpu_cores": None}
        if c is not None:
            self._limits = _limits(c)
            self.sources["limits"] = c.source
        if not self._memory_from_cgroup:
            self._window = self._tracker.open()
        self._shm_start = shm_used_bytes(self._shm_path)
        self._shm_peak = self._shm_start
        if self._shm_start is not None:
            self.sources["shm"] = "statvfs"
        self._t0 = self._last_t = self._clock()
        self._cpu0 = self._last_cpu = cpu0 if self._cpu_from_cgroup else self._cpu()
        self._peak_cores: Optional[float] = None
        # NVML (when there may be a GPU) starts at once, in the thread; the CPU is first sampled an interval on
        self.due = self._t0 if not self._gpu_started else self._t0 + self._interval
        SAMPLER.add(self)
        return self

    # -- sampling -------------------------------------------------------------------------------------------
    def _sample_cpu(self, final: bool, now: Optional[Tuple[float, Optional[float]]] = None) -> None:
        t, cpu = now if now is not None else (self._clock(), self._cpu())
        dt = t - self._last_t
        if cpu is None or self._last_cpu is None:
            return
        # an interval shorter than half the period is too coarse for tick-based counters: it is counted
        # with the next one (or, at the end, only in the average)
        if dt <= 0 or dt < self._interval / 2:
            return
        cores = max(0.0, (cpu - self._last_cpu) / dt)
        if self._peak_cores is None or cores > self._peak_cores:
            self._peak_cores = cores
        self._last_t, self._last_cpu = t, cpu

    def _sample_other(self) -> None:
        if self._window is not None:
            self._tracker.saw(self._window, process.current_rss_bytes())
        shm = shm_used_bytes(self._shm_path) if self._shm_start is not None else None
        if shm is not None and (self._shm_peak is None or shm > self._shm_peak):
            self._shm_peak = shm
        if self._gpu_ready:
            self._gpu.sample()  # type: ignore[union-attr]

    def _start_gpu(self) -> None:
        nvml = self._nvml() if callable(self._nvml) else self._nvml
        if nvml is None:
            return
        sampler = NvmlSampler(nvml)
        if sampler.start():
            self._gpu, self._gpu_ready = sampler, True
            self.sources["gpu"] = "nvml"
            sampler.sample()
        elif sampler.error:
            self.notes.append(sampler.error)

    def tick(self) -> None:
        """One sample (the sampler thread calls it every ``interval``; the first one starts NVML)."""
        if not self._gpu_started:
            self._gpu_started = True
            self._start_gpu()
        self._sample_cpu(final=False)
        self._sample_other()

    def retire(self) -> None:
        """After the window closed (in the sampler thread): NVML is shut down there, off the task's path."""
        if self._gpu is not None:
            self._gpu.stop()

    # -- the result -----------------------------------------------------------------------------------------
    def _collect(self, final: bool, now: Optional[Tuple[float, Optional[float]]] = None) -> Measured:
        t, cpu_end = now if now is not None else (self._clock(), self._cpu())
        wall = t - self._t0
        cpu = None if cpu_end is None or self._cpu0 is None else max(0.0, cpu_end - self._cpu0)
        avg = cpu / wall if cpu is not None and wall > 0 else None
        peak = self._peak_cores
        if avg is not None and (peak is None or peak < avg):
            peak = avg  # no full interval (a short task), or the last one was the busiest: at least the mean
        if self._memory_from_cgroup:
            memory = cg.read_memory_peak_bytes(self._cg)  # type: ignore[arg-type]
        elif final:
            memory = self._tracker.close(self._window)
        else:
            memory = max(self._window.peak, process.current_rss_bytes() or 0)
        shm = self._shm_peak
        if shm is not None and not self._use_cgroup:
            shm = max(0, shm - (self._shm_start or 0))  # locally /dev/shm is shared: the window's increase
        gpus = self._gpu.usage() if self._gpu is not None else []
        return Measured(self.started, wall, memory, cpu, avg, peak, shm, gpus, dict(self._limits),
                        dict(self.sources), list(self.notes))

    def snapshot(self) -> Measured:
        """What was measured so far (the window stays open)."""
        if self._result is not None:
            return self._result
        return self._collect(final=False)

    def stop(self) -> Measured:
        if self._result is not None:
            return self._result
        SAMPLER.remove(self)
        with self._busy:  # a tick under way ends first
            now = (self._clock(), self._cpu())  # one reading for the last interval and the totals
            self._sample_cpu(final=True, now=now)
            self._result = self._collect(final=True, now=now)
        if self._gpu is not None:
            SAMPLER.retire(self)
        return self._result


_LIMITS: Dict[Any, Dict[str, Any]] = {}


def _limits(paths: cg.CgroupPaths) -> Dict[str, Any]:
    """The container's limits: read once per process and cgroup (Kubernetes resizes a pod in place only
    through the API, which a task never sees mid-run)."""
    key = (os.getpid(), paths)
    if key not in _LIMITS:
        _LIMITS[key] = {"memory_bytes": cg.read_memory_limit_bytes(paths), "cpu_cores": cg.read_cpu_limit_cores(paths)}
    return dict(_LIMITS[key])


class _Sampler:
    """One daemon thread per process (starting a thread per task would cost more than the whole measurement;
    on a busy machine, milliseconds). It ticks each open window when it is due, waking every ``IDLE_TICK``
    seconds at most (so that a new window need not wake it: waking a thread is a context switch on the task's
    path), and ends after ``IDLE_EXIT`` seconds without a window; the next window starts it again."""

    IDLE_TICK = 0.5
    IDLE_EXIT = 60.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._meters: List[Meter] = []
        self._retired: List[Meter] = []
        self._wake = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._pid: Optional[int] = None

    def add(self, meter: Meter) -> None:
        with self._lock:
            self._meters.append(meter)
            if self._thread is None or self._pid != os.getpid():
                self._pid = os.getpid()  # a forked child has no sampler thread: start its own
                self._thread = threading.Thread(target=self._run, name="flytekitplugins-resources-usage",
                                                daemon=True)
                self._thread.start()
                return
        if meter.due - meter._t0 < self.IDLE_TICK:
            self._wake.set()  # due sooner than the thread's next look

    def remove(self, meter: Meter) -> None:
        with self._lock:
            if meter in self._meters:
                self._meters.remove(meter)

    def retire(self, meter: Meter) -> None:
        """Have the thread finish ``meter``'s GPU session."""
        with self._lock:
            self._retired.append(meter)
        self._wake.set()

    def _run(self) -> None:
        idle_since = time.monotonic()
        while True:
            with self._lock:
                meters, retired, self._retired = list(self._meters), self._retired, []
                now = time.monotonic()
                if meters or retired:
                    idle_since = now
                elif now - idle_since > self.IDLE_EXIT:
                    self._thread = None
                    return
            for m in retired:
                try:
                    m.retire()
                except Exception:
                    pass
            due = min([m.due for m in meters] + [now + self.IDLE_TICK])
            if due > now:
                self._wake.wait(due - now)
                self._wake.clear()
                continue
            for m in meters:
                if m.due <= now:
                    m.due = now + m._interval
                    try:
                        with m._busy:
                            if m._result is None:
                                m.tick()
                    except Exception as e:  # a window whose sampling breaks keeps what it had
                        m.notes.append(f"sampler: {e!r}")
                        self.remove(m)
                        self.retire(m)


    def after_fork(self) -> None:
        """In a forked child: no thread, no windows (they are the parent's), a fresh lock."""
        self._lock = threading.Lock()
        self._meters, self._retired, self._thread, self._pid = [], [], None, None
        self._wake = threading.Event()


SAMPLER = _Sampler()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=SAMPLER.after_fork)
