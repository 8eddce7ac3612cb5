"""Peak GPU memory and utilisation per device, through NVIDIA's NVML (``nvidia-ml-py``, ``import pynvml``).

Only tried where an NVIDIA driver is present (``/dev/nvidiactl`` or ``/proc/driver/nvidia``) and ``pynvml``
imports; initialised in the sampler thread, never on the task's own path. The devices are those NVML sees: in a
pod, the ones the device plugin gave the container. Memory is the device's used memory (every process on it);
utilisation is NVML's percentage of time a kernel ran during its last sample period.
"""

from __future__ import annotations

import os
from typing import Any, Dict, List, Optional

from .record import GpuUsage

__all__ = ["NvmlSampler", "nvidia_driver_present"]


_present: Dict[int, bool] = {}


def nvidia_driver_present() -> bool:
    """Whether an NVIDIA driver is there (looked up once per process)."""
    pid = os.getpid()
    if pid not in _present:
        _present[pid] = os.path.exists("/dev/nvidiactl") or os.path.isdir("/proc/driver/nvidia/gpus")
    return _present[pid]


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


class NvmlSampler:
    """``start()`` (False when NVML is unusable), ``sample()`` any number of times, ``usage()``, ``stop()``.
    Any NVML error makes that reading (or the whole sampler) absent; nothing is raised."""

    def __init__(self, nvml: Any) -> None:
        self._nvml = nvml
        self._handles: List[Any] = []
        self._peaks: Dict[int, Dict[str, Any]] = {}
        self.error: Optional[str] = None

    def start(self) -> bool:
        nvml = self._nvml
        try:
            nvml.nvmlInit()
            count = nvml.nvmlDeviceGetCount()
            for i in range(count):
                handle = nvml.nvmlDeviceGetHandleByIndex(i)
                try:
                    name = _text(nvml.nvmlDeviceGetName(handle))
                except Exception:
                    name = None
                try:
                    total = int(nvml.nvmlDeviceGetMemoryInfo(handle).total)
                except Exception:
                    total = None
                self._handles.append(handle)
                self._peaks[i] = {"name": name, "total": total, "memory": None, "util": None}
        except Exception as e:
            self.error = f"NVML: {e}"
            self._handles = []
            return False
        return bool(self._handles)

    def sample(self) -> None:
        nvml = self._nvml
        for i, handle in enumerate(self._handles):
            peak = self._peaks[i]
            try:
                used = int(nvml.nvmlDeviceGetMemoryInfo(handle).used)
                if peak["memory"] is None or used > peak["memory"]:
                    peak["memory"] = used
            except Exception:
                pass
            try:
                util = float(nvml.nvmlDeviceGetUtilizationRates(handle).gpu)
                if peak["util"] is None or util > peak["util"]:
                    peak["util"] = util
            except Exception:
                pass

    def usage(self) -> List[GpuUsage]:
        return [
            GpuUsage(index=i, name=p["name"], memory_peak_bytes=p["memory"], memory_total_bytes=p["total"],
                     utilization_peak_percent=p["util"])
            for i, p in sorted(self._peaks.items())
        ]

    def stop(self) -> None:
        if self._handles:
            try:
                self._nvml.nvmlShutdown()
            except Exception:
                pass
            self._handles = []
