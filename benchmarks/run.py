"""`make bench`: each figure is a ratio of two timings taken in the same run, alternating, median of rounds.

1. `import flytekit` with the plugin vs without it (goal <= 1.03)
2. serializing 1,000 tasks (defined in benchmarks/sample_tasks.py) with the plugin vs stock flytekit (goal <= 1.00)
   and 300 pod-template tasks (goal <= 0.77: stock builds a kubernetes ApiClient and deep-copies the template
   for every one)
3. Quantity.parse vs kubernetes.utils.parse_quantity (cold: every string new; warm: repeated strings)
4. recommend over 10,000 tasks and 30 days of history: from records, and from Prometheus against the time
   Prometheus takes to answer the queries
5. the CLI's start-up: `flyte-resources --help`, and `flyte-resources check` on a pyflyte package archive, against
   `python -c "import flytekit"` (neither imports flytekit nor kubernetes)
"""

import json
import os
import subprocess
import sys
import time
import timeit
import warnings
from collections import OrderedDict

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "15"))

# Hides (or keeps) this plugin's entry point; the same shim runs in both variants so they differ only
# in whether flytekit loads the plugin.
IMPORT_PROBE = """
import importlib.metadata as md, sys, time
_entry_points = md.entry_points
def entry_points(**kw):
    eps = _entry_points(**kw)
    if {hide} and kw.get("group") == "flytekit.plugins":
        return [e for e in eps if e.name != "resources"]
    return eps
md.entry_points = entry_points
t = time.perf_counter()
import flytekit
elapsed = time.perf_counter() - t
assert ("flytekitplugins.resources" in sys.modules) != {hide}
assert "kubernetes" not in sys.modules
print(elapsed)
"""


def _import_time(hide: bool) -> float:
    out = subprocess.run([sys.executable, "-c", IMPORT_PROBE.format(hide=hide)], capture_output=True, text=True,
                         check=True)
    return float(out.stdout.strip().splitlines()[-1])


# The plugin's cost where it occurs: flytekit imported with the plugin's entry point hidden, then the
# entry point imported (and so the plugin activated) in the same process, gc on, as flytekit would.
IN_PLACE_PROBE = IMPORT_PROBE.format(hide=True).replace(
    "print(elapsed)",
    "import importlib\n"
    "t = time.perf_counter()\n"
    "importlib.import_module('flytekitplugins.resources_entrypoint')\n"
    "print(elapsed, time.perf_counter() - t)",
).replace('assert ("flytekitplugins.resources" in sys.modules) != True', "")


def bench_import():
    # Timing noise on a shared 2-core machine only ever adds time, so each variant's best run is the
    # estimate of its cost (medians here drift by several per cent between batches).
    with_plugin, without = [], []
    for _ in range(ROUNDS):
        without.append(_import_time(hide=True))
        with_plugin.append(_import_time(hide=False))
    a, b = min(with_plugin), min(without)
    runs = [subprocess.run([sys.executable, "-c", IN_PLACE_PROBE], capture_output=True, text=True, check=True)
            .stdout.split() for _ in range(ROUNDS)]
    base, extra = min(float(r[0]) for r in runs), min(float(r[1]) for r in runs)
    label = (f"import flytekit: with plugin {a * 1000:.0f} ms, without {b * 1000:.0f} ms; "
             f"in place the plugin adds {extra * 1000:.1f} ms = {(base + extra) / base:.3f}x")
    return label, a / b, 1.03


def _serialization_ratio(tasks, rounds):
    """(plugin's best, stock's best) time to serialize ``tasks``, alternating stock and plugin rounds."""
    from flytekit.configuration import Image, ImageConfig, SerializationSettings
    from flytekit.tools.translator import get_serializable

    import flytekitplugins.resources as plugin

    settings = SerializationSettings(
        image_config=ImageConfig(default_image=Image(name="default", fqn="img", tag="v1")),
        project="p", domain="d", version="v1",
    )

    def serialize_all():
        t0 = time.perf_counter()
        for t in tasks:
            get_serializable(OrderedDict(), settings, t)
        return time.perf_counter() - t0

    plugin.deactivate()
    stock_bytes = _idl_bytes(tasks, settings)
    serialize_all()  # warm both paths' caches alike
    plugin.activate()
    assert _idl_bytes(tasks, settings) == stock_bytes, "the plugin's output differs from stock flytekit's"
    serialize_all()
    ours, stock = [], []
    for _ in range(rounds):
        plugin.deactivate()
        stock.append(serialize_all())
        plugin.activate()
        ours.append(serialize_all())
    return min(ours), min(stock)


def _idl_bytes(tasks, settings):
    from flytekit.tools.translator import get_serializable

    return [get_serializable(OrderedDict(), settings, t).to_flyte_idl().SerializeToString(deterministic=True)
            for t in tasks]


def bench_serialize():
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from sample_tasks import POD_TASKS, TASKS

    a, b = _serialization_ratio(TASKS, 3 * ROUNDS)
    plain = (f"serialize 1,000 tasks: with plugin {a * 1000:.1f} ms, stock {b * 1000:.1f} ms", a / b, 1.00)
    a, b = _serialization_ratio(POD_TASKS, 2 * ROUNDS)
    pods = (f"serialize 300 pod-template tasks: with plugin {a * 1000:.1f} ms, stock {b * 1000:.1f} ms", a / b, 0.77)
    return [plain, pods]


def bench_preview():
    """Preview 1,000 tasks (flyteadmin's checks and defaults, flytepropeller's pod) vs serializing them."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from flytekit.configuration import Image, ImageConfig, SerializationSettings
    from flytekit.tools.translator import get_serializable
    from sample_tasks import TASKS

    import flytekitplugins.resources as plugin
    from flytekitplugins.resources.platform import Platform
    from flytekitplugins.resources.preview import preview_entities

    plugin.activate()
    settings = SerializationSettings(
        image_config=ImageConfig(default_image=Image(name="default", fqn="img", tag="v1")),
        project="p", domain="d", version="v1",
    )

    def serialize():
        return [get_serializable(OrderedDict(), settings, t).to_flyte_idl() for t in TASKS]

    specs = serialize()
    for i, spec in enumerate(specs):  # the sample tasks share one function name: make 1,000 distinct tasks
        spec.template.id.name = f"sample_tasks.work_{i}"
    # limits that admit the sample tasks (4 cpu, 8Gi, 1 GPU): every pod is built, checked and preflighted (with
    # Flyte's built-in limits of 2 cpu flyteadmin would refuse them all, and a refused task has no pod to check)
    from flytekitplugins.resources.platform import TaskResources, TaskResourceSet
    from flytekitplugins.resources.quantity import Quantity

    limits = TaskResourceSet(cpu=Quantity.parse("8"), memory=Quantity.parse("16Gi"), gpu=Quantity.parse("2"))
    platform = Platform(task_resources=TaskResources(defaults=Platform().task_resources.defaults, limits=limits))
    preview_entities(specs, platform)  # warm
    ser = min(timeit.repeat(serialize, number=1, repeat=ROUNDS))
    assert len(preview_entities(specs, platform)) == len(TASKS)
    pre = min(timeit.repeat(lambda: preview_entities(specs, platform), number=1, repeat=ROUNDS))
    label = f"preview 1,000 tasks: {pre * 1000:.1f} ms, serializing them {ser * 1000:.1f} ms"
    out = [(label, pre / ser, 2.0)]

    from flytekitplugins.resources.preview import schema

    if schema.schema_available():
        preview_entities(specs[:10], platform, kubernetes_schema=True)  # warm: load the OpenAPI schema once
        sch = min(timeit.repeat(lambda: preview_entities(specs, platform, kubernetes_schema=True), number=1,
                                repeat=ROUNDS))
        out.append((f"the same with the OpenAPI schema check (kubernetes-validate): {sch * 1000:.1f} ms", sch / ser,
                    None))

    from flytekitplugins.resources.preflight import preflight

    policy = _bench_policy()
    previews = preview_entities(specs, platform)
    checked = preflight(previews, policy, platform)
    assert len(checked) == len(TASKS) and all(any(f.code.startswith("nodefit.") for f in p.findings)
                                              for p in checked)
    both = min(timeit.repeat(lambda: preflight(preview_entities(specs, platform), policy, platform), number=1,
                             repeat=ROUNDS))
    distinct = len({json.dumps(p.pod, sort_keys=True) for p in previews})
    out.append((f"preview + preflight (50 node groups, 4 DaemonSets, 5 LimitRanges, 5 ResourceQuotas; {distinct} "
                f"distinct pods): "
                f"{both * 1000:.1f} ms, preview alone {pre * 1000:.1f} ms", both / pre, 2.0))
    # the worst case: 1,000 pods that all differ (the checks run once per distinct pod)
    for i, p in enumerate(previews):
        p.pod["spec"]["containers"][0]["resources"]["requests"]["cpu"] = f"{100 + i}m"
    alone = min(timeit.repeat(lambda: preflight(previews, policy, platform), number=1, repeat=ROUNDS))
    out.append((f"the same with 1,000 distinct pods: preflight {alone * 1000:.1f} ms", (pre + alone) / pre, None))
    return out


def _startup_archive(path):
    """A pyflyte package archive of 10 of the sample tasks (start-up, not throughput, is measured)."""
    import io
    import tarfile

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from flytekit.configuration import Image, ImageConfig, SerializationSettings
    from flytekit.tools.translator import get_serializable
    from sample_tasks import TASKS

    settings = SerializationSettings(
        image_config=ImageConfig(default_image=Image(name="default", fqn="img", tag="v1")),
        project="p", domain="d", version="v1",
    )
    with tarfile.open(path, "w:gz") as tar:
        for i, t in enumerate(TASKS[:10]):
            spec = get_serializable(OrderedDict(), settings, t).to_flyte_idl()
            spec.template.id.name = f"sample_tasks.work_{i}"
            data = spec.SerializeToString()
            info = tarfile.TarInfo(f"{i}_sample_tasks.work_{i}_1.pb")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def _wall(cmd, ok=(0,)):
    t = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - t
    assert done.returncode in ok, (cmd, done.returncode, done.stderr[-500:])
    return elapsed


def bench_startup():
    """Whole processes, best of rounds, alternating: the CLI against `import flytekit` (the plugin installed)."""
    import tempfile

    script = os.path.join(os.path.dirname(sys.executable), "flyte-resources")
    cli = [script] if os.path.exists(script) else [sys.executable, "-m", "flytekitplugins.resources"]
    with tempfile.TemporaryDirectory() as tmp:
        archive = os.path.join(tmp, "flyte-package.tgz")
        _startup_archive(archive)
        flytekit, helps, checks = [], [], []
        for _ in range(max(5, ROUNDS // 2)):
            flytekit.append(_wall([sys.executable, "-c", "import flytekit"]))
            helps.append(_wall(cli + ["--help"]))
            # exit status 1: some sample tasks ask for more than Flyte's default platform limits
            checks.append(_wall(cli + ["check", archive, "--no-policy"], ok=(0, 1)))
    base = min(flytekit)
    return [
        (f"flyte-resources --help: {min(helps) * 1000:.0f} ms, python -c 'import flytekit' {base * 1000:.0f} ms",
         min(helps) / base, 0.5),
        (f"flyte-resources check on a 10-task archive: {min(checks) * 1000:.0f} ms (the same baseline)",
         min(checks) / base, 1.0),
    ]


def _bench_policy():
    from flytekitplugins.resources.preflight.limitrange import parse_limit_range
    from flytekitplugins.resources.preflight.nodefit import parse_daemonset, parse_node_groups
    from flytekitplugins.resources.preflight.policy import Policy
    from flytekitplugins.resources.preflight.quota import parse_resource_quota

    ns = "flytesnacks-development"

    def meta(kind, name):
        return {"apiVersion": "v1", "kind": kind, "metadata": {"name": name, "namespace": ns}}

    ranges = [parse_limit_range({**meta("LimitRange", f"lr{i}"), "spec": {"limits": [
        {"type": "Container", "max": {"memory": f"{64 + i}Gi"}, "min": {"cpu": "1m"}},
        {"type": "Pod", "max": {"cpu": f"{100 + i}"}}]}}, "bench") for i in range(5)]
    quotas = [parse_resource_quota({**meta("ResourceQuota", f"q{i}"), "spec": {"hard": {
        "requests.cpu": "1000", "limits.memory": "4Ti", "requests.nvidia.com/gpu": "64"}}}, "bench")
        for i in range(5)]
    gpu = {"k8s.amazonaws.com/accelerator": "nvidia-tesla-a100"}
    taint = [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}]
    groups = parse_node_groups({"nodeGroups": [
        {"name": f"g{i:02d}", "count": 3,
         "allocatable": {"cpu": str(2 + i), "memory": f"{4 + 2 * i}Gi", "pods": "110",
                         **({"nvidia.com/gpu": str(1 + i % 8)} if i % 5 == 0 else {})},
         "labels": {"pool": f"p{i % 7}", **(gpu if i % 5 == 0 else {})},
         "taints": taint if i % 5 == 0 else []}
        for i in range(50)]}, "bench")
    # every node runs a log shipper and a node exporter; GPU nodes also a device plugin and a DCGM exporter
    gpu_only = {"nodeSelector": gpu, "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists"}]}
    daemonsets = [parse_daemonset({"apiVersion": "apps/v1", "kind": "DaemonSet",
                                   "metadata": {"name": name, "namespace": "kube-system"},
                                   "spec": {"template": {"spec": {**extra, "containers": [
                                       {"name": name, "resources": {"requests": {"cpu": cpu, "memory": mem}}}]}}}},
                                  "bench")
                  for name, cpu, mem, extra in (
                      ("fluent-bit", "100m", "200Mi", {"tolerations": [{"operator": "Exists"}]}),
                      ("node-exporter", "50m", "64Mi", {"tolerations": [{"operator": "Exists"}]}),
                      ("nvidia-device-plugin", "10m", "20Mi", gpu_only),
                      ("dcgm-exporter", "250m", "512Mi", gpu_only))]
    return Policy(source="bench", limit_ranges=ranges, quotas=quotas, node_groups=groups, daemonsets=daemonsets,
                  project="flytesnacks", domain="development")


def bench_parse():
    from kubernetes.utils import parse_quantity

    from flytekitplugins.resources.quantity import Quantity

    cold = [f"{i}{s}" for i in range(1, 2000) for s in ("", "m", "Mi", "Gi", "k")]
    warm = ["1", "500m", "2Gi", "1.5", "100Mi", "250m", "4", "16Gi", "1e3", "10G"] * 1000
    out = []
    for label, corpus, ours_fn in (("cold", cold, Quantity._parse), ("warm", warm, Quantity.parse)):
        ours = min(timeit.repeat(lambda c=corpus, f=ours_fn: [f(s) for s in c], number=1, repeat=5))
        k8s = min(timeit.repeat(lambda c=corpus: [parse_quantity(s) for s in c], number=1, repeat=5))
        per = ours / len(corpus) * 1e6
        out.append((f"Quantity.parse vs kubernetes parse_quantity ({label}, {per:.2f} us/parse)", ours / k8s, None))
    return out


def bench_hostile_slope():
    """Time per input character for hostile inputs of growing size: linear time keeps it flat, so the ratio
    of the per-character time at 80,000 characters to that at 10,000 is about 1 (quadratic would be 8)."""
    import warnings as _w

    from flytekitplugins.resources import Resources
    from flytekitplugins.resources.quantity import Quantity

    cases = {
        "Quantity.parse('0'*n + 'x')": lambda n: Quantity._parse.__func__(Quantity, "0" * n + "x"),
        "Quantity.parse('1'*n + 'x')": lambda n: Quantity._parse.__func__(Quantity, "1" * n + "x"),
        "Resources(cpu='0'*n + 'x')": lambda n: Resources(cpu="0" * n + "x"),
        "Resources(mem='1'*n + ' Gi!')": lambda n: Resources(mem="1" * n + " Gi!"),
        "Resources(gpu='A' + ' '*n + 'x')": lambda n: Resources(gpu="A" + " " * n + "x"),
    }
    out = []
    for label, fn in cases.items():
        per_char = {}
        for n in (10_000, 80_000):
            def run(fn=fn, n=n):
                with _w.catch_warnings():
                    _w.simplefilter("ignore")
                    try:
                        fn(n)
                    except Exception:
                        pass
            per_char[n] = min(timeit.repeat(run, number=1, repeat=5)) / n
        out.append((f"slope of {label}: {per_char[80_000] * 1e9:.1f} ns/char at 80k vs "
                    f"{per_char[10_000] * 1e9:.1f} at 10k", per_char[80_000] / per_char[10_000], 2.0))
    return out


def _identity(x: int) -> int:
    return x


def bench_usage():
    """What measuring a task costs it (goal < 1 ms): usage.task.begin + end around one run (the cgroup lookup is
    cached per process; a sampler thread is started and stopped; the record is built and printed), in the local
    (rusage) and the pod (cgroup) mode, and the difference it makes to a whole local call of a trivial task."""
    import contextlib
    import io
    import statistics

    from flytekit import FlyteContextManager, task

    from flytekitplugins.resources.usage import task as usage

    trivial = task(_identity)
    ctx = FlyteContextManager.current_context()
    sink = io.StringIO()
    out = []
    for mode in ("rusage", "cgroup"):
        os.environ[usage.ENV] = mode

        def measured():
            usage.end(usage.begin(trivial, ctx))

        with contextlib.redirect_stderr(sink):
            measured()
            # noise on a shared machine only adds time: the best round is the estimate; CPU time beside it
            cpu0 = time.process_time()
            per = min(timeit.repeat(measured, number=20, repeat=ROUNDS)) / 20
            cpu = (time.process_time() - cpu0) / (20 * ROUNDS)
        sink.seek(0)
        sink.truncate()
        out.append((f"measuring a task ({mode} source): {per * 1e3:.3f} ms per task (CPU {cpu * 1e3:.3f} ms), "
                    "as a fraction of 1 ms", per / 1e-3, 1.0))

    def call():
        trivial(x=1)

    timings = {"on": [], "off": []}
    with contextlib.redirect_stderr(sink):
        for _ in range(ROUNDS):  # alternating, so that drift hits both alike
            for state in ("on", "off"):
                os.environ[usage.ENV] = "auto" if state == "on" else "off"
                timings[state].append(min(timeit.repeat(call, number=10, repeat=3)) / 10)
    os.environ.pop(usage.ENV, None)
    on, off = statistics.median(timings["on"]), statistics.median(timings["off"])
    out.append((f"a local call of a trivial task, measured vs not ({on * 1e3:.2f} ms vs {off * 1e3:.2f} ms)",
                on / off, None))
    return out


# ------------------------------------------------------------------------------------------------ recommend at scale
RECOMMEND_TASKS = int(os.environ.get("BENCH_RECOMMEND_TASKS", "10000"))
RECOMMEND_DAYS = 30


def _recommend_entities(n):
    """``n`` distinct serialized tasks (one real template, renamed), asking for cpu 1/2 and 1Gi of memory."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from flyteidl.core import tasks_pb2
    from flytekit.configuration import Image, ImageConfig, SerializationSettings
    from flytekit.tools.translator import get_serializable
    from sample_tasks import TASKS

    settings = SerializationSettings(
        image_config=ImageConfig(default_image=Image(name="default", fqn="img", tag="v1")),
        project="p", domain="d", version="v1",
    )
    base = get_serializable(OrderedDict(), settings, TASKS[0]).to_flyte_idl()
    resources = base.template.container.resources
    del resources.requests[:], resources.limits[:]
    R = tasks_pb2.Resources
    resources.requests.add(name=R.CPU, value="1")
    resources.requests.add(name=R.MEMORY, value="1Gi")
    resources.limits.add(name=R.CPU, value="2")
    resources.limits.add(name=R.MEMORY, value="1Gi")
    out = []
    for i in range(n):
        spec = type(base)()
        spec.CopyFrom(base)
        spec.template.id.name = f"jobs.step_{i}"
        out.append(spec)
    return out


def _usage_of(i):
    """Task i's deterministic usage: memory 200-800Mi, CPU 0.1-1.3 cores."""
    return (200 + (i * 37) % 600) * (1 << 20), 0.1 + ((i * 53) % 120) / 100


def bench_recommend():
    """recommend over 10,000 tasks and 30 days: the plugin's records (10 runs a task), and Prometheus (one pod
    a task, sampled every 5 minutes) against the time Prometheus takes to answer the queries."""
    import tempfile

    from flytekitplugins.resources.recommend.engine import recommend
    from flytekitplugins.resources.recommend.history import usage_from_records
    from flytekitplugins.resources.recommend.records import read_records
    from flytekitplugins.resources.usage.record import UsageRecord, format_line

    n = RECOMMEND_TASKS
    entities = _recommend_entities(n)
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "records.log")
        with open(path, "w") as f:
            for i in range(n):
                memory, cores = _usage_of(i)
                for run in range(10):
                    f.write("2026-11-01T00:00:00Z stdout F " + format_line(UsageRecord(
                        task=f"jobs.step_{i}", memory_peak_bytes=memory - run * (1 << 20),
                        cpu_peak_cores=cores, succeeded=True, wall_seconds=600.0)) + "\n")
        t = time.perf_counter()
        usages = usage_from_records(read_records([path]), path)
        read = time.perf_counter() - t
        t = time.perf_counter()
        report = recommend(entities, usages)
        rules = time.perf_counter() - t
        assert len(report.recommendations()) == n and not report.refused
        out.append((f"recommend {n:,} tasks from {10 * n:,} records: reading {read:.2f} s, rules + preview of "
                    f"every task and recommendation {rules:.2f} s, against a minute", (read + rules) / 60, 1.0))

        sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        from tests.e2e import prometheus as prom

        if not prom.available():
            out.append((f"recommend from Prometheus: skipped ({prom.MISSING})", 0.0, None))
            return out
        from flytekitplugins.resources.recommend import prometheus as promql

        end = int(time.time()) // 300 * 300 - 3600
        start = end - RECOMMEND_DAYS * 86400 + 3600
        history = os.path.join(tmp, "history")
        pods = []
        for i in range(n):
            memory, cores = _usage_of(i)
            label = f"jobs-step-{i}"
            pods.append(prom.Pod(f"e{i}-n0-0", {"label_project": "p", "label_domain": "d", "label_task_name": label,
                                                "label_workflow_name": "jobs-wf", "label_node_id": "n0",
                                                "label_execution_id": f"e{i}"},
                                 start + (i * 2591) % (RECOMMEND_DAYS * 86400 - 7200), 12, cores, memory))
        os.mkdir(history)
        prom.STEP, step = 300, prom.STEP
        try:
            files = prom.write_history_files(pods, history)
        finally:
            prom.STEP = step
        with prom.Server.start(files, os.path.join(tmp, "prom")) as server:
            since, rate = f"{RECOMMEND_DAYS}d", "10m"
            asked = [0.0]
            query = promql.query

            def timed(*args, **kw):  # the time Prometheus takes to answer (HTTP and JSON included)
                t = time.perf_counter()
                try:
                    return query(*args, **kw)
                finally:
                    asked[0] += time.perf_counter() - t

            promql.query = timed
            try:
                t = time.perf_counter()
                usages = promql.fetch_usage(server.url, since, step=rate, at=end, timeout=600)
                fetched = time.perf_counter() - t
            finally:
                promql.query = query
            t = time.perf_counter()
            report = recommend(entities, usages)
            ours = time.perf_counter() - t + (fetched - asked[0])
            asked = asked[0]
            assert len(report.recommendations()) == n, len(report.recommendations())
            out.append((f"recommend {n:,} tasks from Prometheus ({RECOMMEND_DAYS} days, loaded in "
                        f"{server.load_seconds:.0f} s): Prometheus answers the {len(promql.QUERIES)} queries in "
                        f"{asked:.2f} s, recommend's own work {ours:.2f} s", ours / asked, 1.0))
    return out


def main():
    warnings.simplefilter("ignore")
    # As after `pip install` (which compiles bytecode): the plugin's own sources precompiled too, so the
    # import ratio measures import and activation, not compiling source on every start.
    import compileall
    import pathlib

    import flytekitplugins.resources as plugin

    compileall.compile_dir(str(pathlib.Path(plugin.__file__).parent), quiet=1)
    compileall.compile_file(str(pathlib.Path(plugin.__file__).parent.parent / "resources_entrypoint.py"), quiet=1)
    only = os.environ.get("BENCH_ONLY")  # e.g. BENCH_ONLY=startup: one group of figures
    groups = {"import": lambda: [bench_import()], "serialize": bench_serialize, "preview": bench_preview,
              "parse": bench_parse, "hostile": bench_hostile_slope, "startup": bench_startup,
              "usage": bench_usage, "recommend": bench_recommend}
    results = [r for name, run in groups.items() if not only or name in only.split(",") for r in run()]
    width = max(len(r[0]) for r in results)
    print("ratio = plugin / baseline, measured in this run (lower is better)")
    for label, ratio, goal in results:
        verdict = "" if goal is None else f"  goal <= {goal:.2f}: {'met' if ratio <= goal else 'MISSED'}"
        print(f"{label:<{width}}  ratio {ratio:.3f}{verdict}")


if __name__ == "__main__":
    main()
