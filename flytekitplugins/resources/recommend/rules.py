"""The right-sizing rules, written once (in the manner of Robusta KRR's "simple" strategy). Pure functions.

- **Memory** (request and limit, equal): the highest working set of any run (``memory_peak_bytes``) plus a margin
  (``memory_margin``, 15%). After an OOM kill the peak seen is not what the task needed (it was killed at its
  limit): the base is then the larger of the peak and the limit the killed run had, plus ``oom_bump`` (25%),
  before the margin. Memory is not compressible, so the limit equals the request: a limit above the request
  lets a pod be OOM-killed or evicted when the node runs short, one below it is refused.
- **CPU request**: a high percentile (``cpu_quantile``, p95) of the task's CPU use: the request is what the
  scheduler reserves, and usage above it is borrowed from idle cores, not refused.
- **CPU limit** (only when the pod has one; Flyte sets a missing limit to the request): the highest use seen,
  never below the request, so the task is not throttled at what it is known to need.
- **GPU**: the count stays. A task on one GPU of a model with MIG profiles whose peak GPU memory (plus the
  memory margin) fits a smaller profile is pointed to the smallest such profile (``"A100 80GB MIG 1g.10gb"``);
  a profile ``Ng.Mgb`` is counted as M×10⁹ bytes (NVIDIA's profiles hold a little more).
- **Rounding** to readable quantities, always up, exactly (integers and fractions, never floats for bytes):
  memory to 64Mi steps below 1Gi, 256Mi below 8Gi, 1Gi below 64Gi, 4Gi above; CPU to 100m (at least 100m);
  memory at least 64Mi. A value within a millionth of a core of a step stays on it (a measured rate of
  0.4000000001 cores is 400m).

A field is recommended only when the rounded value differs from what the pod asks for now.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Dict, Optional, Tuple

from ..accelerators import AcceleratorModel
from ..quantity import Quantity
from .history import TaskUsage

__all__ = ["Rules", "Sizing", "format_bytes", "format_cores", "mig_profile", "round_cpu_milli", "round_memory",
           "size"]

KI, MI, GI = 1 << 10, 1 << 20, 1 << 30


@dataclass(frozen=True)
class Rules:
    memory_margin: float = 0.15  #: added to the peak memory (and GPU memory)
    oom_bump: float = 0.25  #: added to the killed run's limit after an OOM kill, before the margin
    cpu_quantile: float = 0.95  #: the percentile of CPU use the request covers
    cpu_step_milli: int = 100
    min_cpu_milli: int = 100
    min_memory_bytes: int = 64 * MI

    def explain(self) -> Tuple[str, ...]:
        """The rules as sentences, for the output's legend."""
        return (
            f"memory: request = limit = the peak working set + {_pct(self.memory_margin)}; after an OOM kill, "
            f"the killed run's limit + {_pct(self.oom_bump)} first; rounded up to 64Mi/256Mi/1Gi/4Gi steps",
            f"cpu: request = p{_pct(self.cpu_quantile, sign=False)} of CPU use; limit (when the pod has one) = the "
            f"peak, never below the request; rounded up to {self.cpu_step_milli}m",
            f"gpu: one GPU whose peak memory + {_pct(self.memory_margin)} fits a smaller MIG profile of its model "
            "is pointed to the smallest that fits",
        )


def _pct(x: float, sign: bool = True) -> str:
    text = f"{x * 100:g}"
    return f"{text}%" if sign else text


def _fraction(x: float) -> Fraction:
    return Fraction(repr(float(x)))


def round_memory(n_bytes: int, minimum: int = 64 * MI) -> int:
    """Bytes rounded up to the readable step for their size."""
    n = max(int(n_bytes), minimum)
    step = 64 * MI if n < GI else 256 * MI if n < 8 * GI else GI if n < 64 * GI else 4 * GI
    return -(-n // step) * step


def memory_text(n_bytes: int) -> str:
    """A rounded byte count as a quantity a user writes: ``3Gi``, ``1280Mi``."""
    if n_bytes % GI == 0:
        return f"{n_bytes // GI}Gi"
    if n_bytes % MI == 0:
        return f"{n_bytes // MI}Mi"
    return str(n_bytes)


def round_cpu_milli(cores: float, step: int = 100, minimum: int = 100) -> int:
    """Cores rounded up to ``step`` millicores (within a millionth of a core of a step stays on it)."""
    milli = Fraction(repr(float(cores))) * 1000 - Fraction(1, 1000)
    return max(minimum, math.ceil(milli / step) * step)


def cpu_text(milli: int) -> str:
    return str(milli // 1000) if milli % 1000 == 0 else f"{milli}m"


def format_bytes(n: Optional[float]) -> str:
    """A measured byte count for people: ``3.1Gi``, ``412Mi``."""
    if n is None:
        return "-"
    for unit, size in (("Ti", 1 << 40), ("Gi", GI), ("Mi", MI), ("Ki", KI)):
        if n >= size:
            value = n / size
            return f"{value:.3g}{unit}" if value < 100 else f"{value:.0f}{unit}"
    return f"{int(n)}"


def format_cores(c: Optional[float]) -> str:
    return "-" if c is None else f"{c:.3g}"


def _profile_bytes(profile: str) -> Optional[int]:
    """``3g.40gb`` -> 40×10⁹; ``+me`` profiles (media engines, same memory) are skipped (None)."""
    if "+" in profile:
        return None
    head, _, mem = profile.partition(".")
    if not head.endswith("g") or not mem.endswith("gb") or not mem[:-2].isdigit():
        return None
    return int(mem[:-2]) * 10**9


def mig_profile(model: AcceleratorModel, need_bytes: int) -> Optional[str]:
    """The smallest MIG profile of ``model`` holding ``need_bytes`` that is smaller than the whole device."""
    sized = [(b, p) for p in model.partitions if (b := _profile_bytes(p)) is not None]
    if not sized:
        return None
    whole = max(b for b, _ in sized)
    fitting = sorted((b, p) for b, p in sized if b >= need_bytes and b < whole)
    return fitting[0][1] if fitting else None


@dataclass(frozen=True)
class Sizing:
    """What the rules recommend for one pod: every value (flytekit names), the changed ones, the reasons."""

    requests: Dict[str, str] = field(default_factory=dict)  #: every recommended request (changed or not)
    limits: Dict[str, str] = field(default_factory=dict)
    changed_requests: Dict[str, str] = field(default_factory=dict)
    changed_limits: Dict[str, str] = field(default_factory=dict)
    reasons: Dict[str, str] = field(default_factory=dict)  #: "requests.mem" -> why
    accelerator: Optional[str] = None  #: a MIG profile to use instead, as gpu="..." spells it
    notes: Tuple[str, ...] = ()  #: what could not be sized, and why

    @property
    def changed(self) -> bool:
        return bool(self.changed_requests or self.changed_limits or self.accelerator)


def _differs(new: str, current: Optional[Quantity]) -> bool:
    return current is None or Quantity.parse(new) != current


def size(usage: TaskUsage, requests: Dict[str, Quantity], limits: Dict[str, Quantity], *,
         model: Optional[AcceleratorModel] = None, partition: Optional[str] = None, gpus: int = 0,
         rules: Optional[Rules] = None) -> Sizing:
    """The rules on one pod: ``requests``/``limits`` are its primary container's now (Kubernetes names:
    ``cpu``, ``memory``), ``model`` its accelerator (when known), ``partition`` its MIG profile now, ``gpus``
    how many devices it asks for."""
    rules = rules if rules is not None else Rules()
    req: Dict[str, str] = {}
    lim: Dict[str, str] = {}
    reasons: Dict[str, str] = {}
    notes = []
    runs = f"{usage.runs} run{'s' if usage.runs != 1 else ''}"

    peak = usage.memory_peak_bytes
    if peak is not None and peak > 0:
        base = Fraction(peak)
        why = f"peak {format_bytes(peak)} over {runs}"
        if usage.oom_kills:
            killed_at = usage.oom_limit_bytes or (int(limits["memory"].as_decimal()) if "memory" in limits else None)
            top = max(peak, killed_at or 0)
            base = Fraction(top) * (1 + _fraction(rules.oom_bump))
            why = (f"{usage.oom_kills} OOM kill{'s' if usage.oom_kills != 1 else ''} in {runs} "
                   f"(at {format_bytes(top)}{', the limit' if killed_at and killed_at >= peak else ', the peak'}) "
                   f"+ {_pct(rules.oom_bump)}")
        wanted = math.ceil(base * (1 + _fraction(rules.memory_margin)))
        value = memory_text(round_memory(wanted, rules.min_memory_bytes))
        req["mem"] = lim["mem"] = value
        reasons["requests.mem"] = f"{why} + {_pct(rules.memory_margin)} margin = {format_bytes(wanted)}, " \
                                  f"rounded up to {value}"
        reasons["limits.mem"] = "equal to the request: memory is not compressible (a pod above its request " \
                                "is the first evicted or OOM-killed when the node runs short)"
    else:
        notes.append("no memory measurement: memory not sized")

    p = usage.cpu_p95_cores
    if p is not None:
        milli = round_cpu_milli(p, rules.cpu_step_milli, rules.min_cpu_milli)
        req["cpu"] = cpu_text(milli)
        reasons["requests.cpu"] = (f"p{_pct(rules.cpu_quantile, sign=False)} of CPU use {format_cores(p)} cores "
                                   f"over {runs}, rounded up to {req['cpu']}")
        if "cpu" in limits:
            top = usage.cpu_peak_cores if usage.cpu_peak_cores is not None else p
            lmilli = max(milli, round_cpu_milli(top, rules.cpu_step_milli, rules.min_cpu_milli))
            lim["cpu"] = cpu_text(lmilli)
            reasons["limits.cpu"] = (f"peak CPU use {format_cores(top)} cores, rounded up to {lim['cpu']}"
                                     + (" (not below the request)" if lmilli == milli and top < p else "")
                                     + ": a lower limit throttles the task")
    else:
        notes.append("no CPU measurement: CPU not sized")

    accelerator = None
    if usage.gpu_memory_peak_bytes is not None and gpus:
        need = math.ceil(Fraction(usage.gpu_memory_peak_bytes) * (1 + _fraction(rules.memory_margin)))
        if model is None:
            notes.append(f"GPU memory peak {format_bytes(usage.gpu_memory_peak_bytes)}: the task names no "
                         "accelerator model, so no MIG profile is suggested")
        elif gpus == 1 and model.partition_kind == "MIG profile":
            profile = mig_profile(model, need)
            current = _profile_bytes(partition) if partition else None
            if profile is not None and (current is None or (_profile_bytes(profile) or 0) < current):
                accelerator = f"{model.name} MIG {profile}"
                reasons["accelerator"] = (f"GPU memory peak {format_bytes(usage.gpu_memory_peak_bytes)} "
                                          f"+ {_pct(rules.memory_margin)} = {format_bytes(need)} fits MIG "
                                          f"profile {profile} of the {model.name}")

    changed_req = {k: v for k, v in req.items() if _differs(v, requests.get(_K8S[k]))}
    changed_lim = {k: v for k, v in lim.items() if _differs(v, limits.get(_K8S[k]))}
    # a request raised above an unchanged limit would be refused: the limit follows
    for k, v in changed_req.items():
        if k in lim and k not in changed_lim and _K8S[k] in limits and Quantity.parse(v) > limits[_K8S[k]]:
            changed_lim[k] = lim[k]
    return Sizing(req, lim, changed_req, changed_lim, reasons, accelerator, tuple(notes))


_K8S = {"cpu": "cpu", "mem": "memory", "gpu": "nvidia.com/gpu", "ephemeral_storage": "ephemeral-storage"}
