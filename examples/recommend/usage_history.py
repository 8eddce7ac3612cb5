"""A usage history for the bundled examples (examples/workflows), as the plugin's records: JSON lines with the
usage record's prefix, the way a log collector gathers them from the tasks' pods. Deterministic (a fixed seed),
so `make demo` shows the same recommendations every time.

    python examples/recommend/usage_history.py OUT_DIR     # writes OUT_DIR/<task>.log
"""

import pathlib
import random
import sys
from datetime import datetime, timedelta, timezone

from flytekitplugins.resources.usage.record import GpuUsage, UsageRecord, format_line

GI, MI = 1 << 30, 1 << 20

# task, workflow, node, runs, memory peak (bytes), cpu peak cores, gpu (name, peak, total) or None, limit, fails
PROFILES = [
    ("workflows.basics.prepare", "workflows.basics.pipeline", "n0", 40, 610 * MI, 0.34, None, 2 * GI, 0),
    ("workflows.basics.square", None, None, 12, 180 * MI, 0.21, None, GI, 0),
    ("workflows.basics.total", "workflows.basics.pipeline", "n2", 40, int(3.1 * GI), 1.2, None, 8 * GI, 0),
    ("workflows.gpu.train", "workflows.gpu.gpu_pipeline", "n0", 14, 41 * GI, 6.1,
     ("NVIDIA A100-SXM4-40GB", 37 * GI, 40 * GI), 64 * GI, 0),
    ("workflows.gpu.evaluate", "workflows.gpu.gpu_pipeline", "n3", 14, 9 * GI, 1.4,
     ("NVIDIA H100 80GB HBM3 MIG 3g.40gb", 8 * GI, 40 * GI), 32 * GI, 0),
    ("workflows.gpu.embed", "workflows.gpu.gpu_pipeline", "n1", 14, 5 * GI, 1.1,
     ("NVIDIA A100-SXM4-80GB", int(7.2 * GI), 80 * GI), 32 * GI, 0),
    ("workflows.limits.aggregate", "workflows.limits.reduce", "n0", 10, 96 * GI, 3.2, None, 96 * GI, 3),
    ("workflows.pod_templates.preprocess", "workflows.pod_templates.templated", "n0", 20, int(4.6 * GI), 2.3,
     None, 16 * GI, 0),
]


def records(seed: int = 14):
    rng = random.Random(seed)
    start = datetime(2026, 11, 18, tzinfo=timezone.utc)
    for task, workflow, node, runs, memory, cpu, gpu, limit, fails in PROFILES:
        for i in range(runs):
            # the peak run is the first; the others use less, as a real history does
            scale = 1.0 if i == 0 else rng.uniform(0.6, 0.97)
            failed = i < fails
            yield UsageRecord(
                task=task, project="ml", domain="development", workflow=workflow, node=node,
                execution=f"a{rng.getrandbits(40):010x}",
                started=(start + timedelta(hours=8 * i + rng.randint(0, 60) / 60)).isoformat(),
                wall_seconds=round(rng.uniform(600, 3600), 1), succeeded=not failed,
                container_limits={"memory_bytes": limit, "cpu_cores": None},
                memory_peak_bytes=limit if failed else int(memory * scale),
                cpu_seconds=None, cpu_avg_cores=round(cpu * scale * 0.7, 3), cpu_peak_cores=round(cpu * scale, 3),
                gpus=[] if gpu is None else [GpuUsage(0, gpu[0], int(gpu[1] * scale), gpu[2], 80.0)],
                sources={"memory": "cgroup2", "cpu": "cgroup2", **({"gpu": "nvml"} if gpu else {})},
            )


def write(out: pathlib.Path) -> pathlib.Path:
    out.mkdir(parents=True, exist_ok=True)
    by_task = {}
    for r in records():
        by_task.setdefault(r.task, []).append(f"2026-11-18T00:00:00Z stdout F {format_line(r)}")
    for task, lines in by_task.items():
        (out / f"{task}.log").write_text("\n".join(["starting task", *lines, "done"]) + "\n")
    return out


if __name__ == "__main__":
    print(write(pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "demo-out/usage")))
