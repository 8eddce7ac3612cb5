"""A real Prometheus with a generated history of Flyte task pods (for the recommend tests and the benchmark).

``write_history(pods, path)`` writes OpenMetrics text as cAdvisor, kube-state-metrics and the DCGM exporter
would have scraped it (one sample a minute), ``Server.start(history)`` loads it with ``promtool tsdb
create-blocks-from openmetrics`` and runs ``prometheus`` on 127.0.0.1 and a free port until ``stop()``.
Debian's package provides both: ``apt-get install prometheus``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, TextIO

MISSING = "prometheus/promtool not installed: apt-get install prometheus"
MI = 1 << 20
STEP = 60  # seconds between samples


def available() -> bool:
    return shutil.which("prometheus") is not None and shutil.which("promtool") is not None


@dataclass
class Pod:
    """One task pod's life: constant CPU use (with an optional one-minute spike), memory rising to a peak."""

    name: str
    labels: Dict[str, str]  #: Flyte's pod labels as kube-state-metrics exports them (label_task_name, ...)
    start: int  #: unix seconds
    minutes: int
    cores: float
    memory_peak: int  #: bytes
    spike_minute: Optional[int] = None  #: the minute it uses 5x its cores
    oom_killed: bool = False
    gpu_mib_peak: Optional[int] = None
    gpu_model: str = "NVIDIA A100-SXM4-80GB"
    namespace: str = "ml-development"
    extra_containers: Dict[str, int] = field(default_factory=dict)  #: name -> constant memory (e.g. "POD")

    def times(self, lo: int = -(1 << 62), hi: int = 1 << 62) -> Iterable[int]:
        return (t for t in (self.start + i * STEP for i in range(self.minutes)) if lo <= t < hi)

    def samples(self, lo: int, hi: int) -> Iterable[tuple]:
        """(minute, time) of the samples in [lo, hi)."""
        first = max(0, -(-(lo - self.start) // STEP))
        last = min(self.minutes, -(-(hi - self.start) // STEP))
        return ((i, self.start + i * STEP) for i in range(first, last))

    def memory_at(self, i: int) -> int:
        top = self.minutes // 2
        low = 100 * MI
        if i <= top:
            return low + (self.memory_peak - low) * i // top
        return self.memory_peak - (self.memory_peak - low) * (i - top) // (self.minutes - top)


def _labels(d: Dict[str, str]) -> str:
    return "{" + ",".join(f'{k}="{v}"' for k, v in d.items()) + "}"


BLOCK = 7200  # promtool writes one TSDB block per 2 hours, and reads its whole input once per block


def write_history_files(pods: List[Pod], directory: str) -> List[str]:
    """The history as one OpenMetrics file per 2-hour block (promtool then reads each sample once)."""
    buckets: Dict[int, List[Pod]] = {}
    for p in pods:
        for b in range(p.start // BLOCK, (p.start + p.minutes * STEP) // BLOCK + 1):
            buckets.setdefault(b, []).append(p)
    paths = []
    for b, some in sorted(buckets.items()):
        path = os.path.join(directory, f"history-{b}.om")
        with open(path, "w") as f:
            write_history(some, f, (b * BLOCK, (b + 1) * BLOCK))
        paths.append(path)
    return paths


def write_history(pods: List[Pod], out: TextIO, window: Optional[tuple] = None) -> None:
    """OpenMetrics text: every sample of one metric together, each series in time order, then ``# EOF``;
    only the samples in ``window`` (start, end) when given."""
    lo, hi = window if window is not None else (-(1 << 62), 1 << 62)

    def fam(name: str, kind: str) -> None:
        out.write(f"# TYPE {name} {kind}\n")

    fam("kube_pod_labels", "gauge")
    for p in pods:
        if not p.labels:
            continue
        series = "kube_pod_labels" + _labels({"namespace": p.namespace, "pod": p.name, **p.labels})
        out.writelines(f"{series} 1 {t}\n" for _, t in p.samples(lo, hi))
    fam("container_memory_working_set_bytes", "gauge")
    for p in pods:
        series = "container_memory_working_set_bytes" + _labels(
            {"namespace": p.namespace, "pod": p.name, "container": "primary"})
        out.writelines(f"{series} {p.memory_at(i)} {t}\n" for i, t in p.samples(lo, hi))
        for c, value in p.extra_containers.items():
            s = "container_memory_working_set_bytes" + _labels(
                {"namespace": p.namespace, "pod": p.name, "container": c})
            out.writelines(f"{s} {value} {t}\n" for _, t in p.samples(lo, hi))
    fam("container_cpu_usage_seconds", "counter")
    for p in pods:
        series = "container_cpu_usage_seconds_total" + _labels(
            {"namespace": p.namespace, "pod": p.name, "container": "primary"})
        total = 0.0
        for i, t in enumerate(p.times()):
            if lo <= t < hi:
                out.write(f"{series} {total:.6f} {t}\n")
            total += p.cores * STEP * (5 if i == p.spike_minute else 1)
    fam("kube_pod_container_status_last_terminated_reason", "gauge")
    for p in pods:
        if p.oom_killed:
            series = "kube_pod_container_status_last_terminated_reason" + _labels(
                {"namespace": p.namespace, "pod": p.name, "container": "primary", "reason": "OOMKilled"})
            out.writelines(f"{series} 1 {t}\n" for t in list(p.times())[-10:] if lo <= t < hi)
    fam("DCGM_FI_DEV_FB_USED", "gauge")
    for p in pods:
        if p.gpu_mib_peak is not None:
            series = "DCGM_FI_DEV_FB_USED" + _labels({"gpu": "0", "modelName": p.gpu_model, "namespace": p.namespace,
                                                      "pod": p.name, "container": "primary"})
            out.writelines(f"{series} {p.gpu_mib_peak * i // (p.minutes - 1)} {t}\n" for i, t in p.samples(lo, hi))
    out.write("# EOF\n")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``prometheus`` over a TSDB made from a history file; always ``stop()`` it (or use ``with``)."""

    def __init__(self, workdir: str) -> None:
        self.workdir = workdir
        self.process: Optional[subprocess.Popen] = None
        self.url = ""
        self.load_seconds = 0.0

    @classmethod
    def start(cls, history: List[str], workdir: Optional[str] = None, timeout: float = 120.0) -> Server:
        """``history``: OpenMetrics files (``write_history_files``), each loaded with promtool."""
        self = cls(workdir or tempfile.mkdtemp(prefix="prom-"))
        data = os.path.join(self.workdir, "data")
        t = time.perf_counter()
        os.makedirs(data, exist_ok=True)

        def load(path: str) -> None:  # each file becomes blocks of its own: several promtools at once
            subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", "-q", path, data],
                           check=True, capture_output=True, text=True)

        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            list(pool.map(load, history))
        self.load_seconds = time.perf_counter() - t
        config = os.path.join(self.workdir, "prometheus.yml")
        with open(config, "w") as f:
            f.write("global:\n  scrape_interval: 1h\nscrape_configs: []\n")
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.log = open(os.path.join(self.workdir, "prometheus.log"), "w")
        self.process = subprocess.Popen(
            ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={data}",
             "--storage.tsdb.retention.time=100y", f"--web.listen-address=127.0.0.1:{port}",
             "--query.timeout=10m", "--query.max-samples=500000000"],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(self.url + "/-/ready", timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                with open(os.path.join(self.workdir, "prometheus.log")) as f:
                    raise RuntimeError("prometheus did not start:\n" + f.read()[-2000:])
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if getattr(self, "log", None):
            self.log.close()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
