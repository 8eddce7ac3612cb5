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
from typing import Any, Callable, Dict, List, NamedTuple, Optional

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
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._gpu: Optional[NvmlSampler] = None
        self._gpu_ready = False
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
        if self._use_cgroup:
            if cg.read_cpu_seconds(c) is not None:  # type: ignore[arg-type]
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
            self._limits = {"memory_bytes": cg.read_memory_limit_bytes(c), "cpu_cores": cg.read_cpu_limit_cores(c)}
            self.sources["limits"] = c.source
        if not self._memory_from_cgroup:
            self._window = self._tracker.open()
        self._shm_start = shm_used_bytes(self._shm_path)
        self._shm_peak = self._shm_start
        if self._shm_start is not None:
            self.sources["shm"] = "statvfs"
        self._t0 = self._last_t = self._clock()
        self._cpu0 = self._last_cpu = self._cpu()
        self._peak_cores: Optional[float] = None
        self._thread = threading.Thread(target=self._run, name="flytekitplugins-resources-usage", daemon=True)
        self._thread.start()
        return self

    # -- sampling -------------------------------------------------------------------------------------------
    def _sample_cpu(self, final: bool) -> None:
        t, cpu = self._clock(), self._cpu()
        dt = t - self._last_t
        if cpu is None or self._last_cpu is None:
            return
        # an interval shorter than half the period is too coarse for tick-based counters: skip it at the end
        if dt > 0 and (not final or dt >= self._interval / 2):
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

    def _run(self) -> None:
        try:
            self._start_gpu()
            while not self._stop.wait(self._interval):
                self._sample_cpu(final=False)
                self._sample_other()
            if self._gpu_ready:
                self._gpu.sample()  # type: ignore[union-attr]
        except Exception as e:  # a sampler that breaks leaves what it had
            self.notes.append(f"sampler stopped: {e!r}")
        finally:
            if self._gpu is not None:
                self._gpu.stop()

    # -- the result -----------------------------------------------------------------------------------------
    def _collect(self, final: bool) -> Measured:
        wall = self._clock() - self._t0
        cpu_end = self._cpu()
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
        self._stop.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout=0.1)
            if thread.is_alive():
                self.notes.append("the sampler did not stop within 0.1 s (GPU readings may be missing)")
        self._sample_cpu(final=True)
        self._result = self._collect(final=True)
        return self._result
