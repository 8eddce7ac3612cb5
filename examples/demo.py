"""`make demo`: package the bundled example workflows with pyflyte, then print per task the requests,
limits, accelerator and shared memory that will be registered. Stock flytekit is tried on the same
examples for comparison. Last, `flyte-resources preview` shows the pods Flyte 1.16 would build from the
package under the example platform configuration (examples/platform/flyte.yaml): defaults, clamps,
GPU tolerations and affinity, and the task flyteadmin refuses. Then the preflight example
(examples/preflight: a project whose pyproject.toml names the namespace's LimitRange and ResourceQuota and
the cluster's node groups): `flyte-resources check` finds the task the LimitRange refuses and the one no node
can run, and `pyflyte package` there stops on the refused one. Last, right-sizing (examples/recommend): a usage
history of the example tasks (the plugin's records, generated deterministically), `flyte-resources recommend`'s
table with the reason for each number and what it saves on the priced node groups, and the diff `--apply`
would make to examples/workflows."""

import os
import pathlib
import subprocess
import sys

from flytekitplugins.resources.report import read_package, render, rows

HERE = pathlib.Path(__file__).resolve().parent
OUT = HERE.parent / "demo-out"
IMAGE = "ghcr.io/flyteorg/flytekit:py3.11-1.16.31"


def package(target: pathlib.Path, **env) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "flytekit.clis.sdk_in_container.pyflyte", "--pkgs", "workflows", "package",
           "--image", IMAGE, "-o", str(target), "--force"]
    return subprocess.run(cmd, cwd=HERE, capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "200", "PYTHONWARNINGS": "ignore", **env})


def main() -> int:
    OUT.mkdir(exist_ok=True)
    target = OUT / "flyte-package.tgz"
    result = package(target)
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        return result.returncode
    print(f"pyflyte package examples/workflows -> {target.relative_to(HERE.parent)}\n")
    print(render(rows(read_package(str(target)))))

    stock = package(OUT / "stock.tgz", FLYTEKITPLUGINS_RESOURCES_DISABLE="1")
    last = [line.strip() for line in (stock.stdout + stock.stderr).splitlines() if line.strip()]
    verdict = "succeeds" if stock.returncode == 0 else f"fails: {last[-1] if last else stock.returncode}"
    print(f"\nThe same examples with the plugin off (FLYTEKITPLUGINS_RESOURCES_DISABLE=1): pyflyte package {verdict}")

    platform = HERE / "platform" / "flyte.yaml"
    cmd = ["flyte-resources", "preview", str(target.relative_to(HERE.parent)), "--platform",
           str(platform.relative_to(HERE.parent))]
    print(f"\n$ {' '.join(cmd)}")
    preview = subprocess.run([sys.executable, "-m", "flytekitplugins.resources"] + cmd[1:], cwd=HERE.parent,
                             capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"})
    sys.stdout.write(preview.stdout + preview.stderr)
    print(f"(exit status {preview.returncode}: 1 means a finding is an error, here the task flyteadmin refuses)")
    if preview.returncode not in (0, 1):
        return preview.returncode
    return preflight()


def preflight() -> int:
    project = HERE / "preflight"
    env = {**os.environ, "COLUMNS": "200", "PYTHONWARNINGS": "ignore"}
    env.pop("FLYTEKITPLUGINS_RESOURCES_POLICY", None)  # the policy is the one in examples/preflight/pyproject.toml
    print("\n$ cd examples/preflight && flyte-resources check jobs    # the policy in pyproject.toml")
    check = subprocess.run([sys.executable, "-m", "flytekitplugins.resources", "check", "jobs"], cwd=project,
                           capture_output=True, text=True, env=env)
    sys.stdout.write(check.stdout + check.stderr)
    print(f"(exit status {check.returncode})")
    print("\n$ cd examples/preflight && pyflyte --pkgs jobs package ...")
    cmd = [sys.executable, "-m", "flytekit.clis.sdk_in_container.pyflyte", "--pkgs", "jobs", "package",
           "--image", IMAGE, "-o", str(OUT / "preflight.tgz"), "--force"]
    stopped = subprocess.run(cmd, cwd=project, capture_output=True, text=True, env=env)
    lines = [line for line in (stopped.stdout + stopped.stderr).splitlines() if line.strip()]
    print("\n".join(lines[-8:]))
    print(f"(exit status {stopped.returncode}: the policy stops the package)")
    if not (check.returncode == 1 and stopped.returncode != 0):
        return 1
    return recommend()


def recommend() -> int:
    sys.path.insert(0, str(HERE / "recommend"))
    from usage_history import write

    usage = write(OUT / "usage")
    env = {**os.environ, "COLUMNS": "200", "PYTHONWARNINGS": "ignore"}
    env.pop("FLYTEKITPLUGINS_RESOURCES_POLICY", None)
    args = ["recommend", "workflows", "--records", os.path.relpath(usage, HERE), "--policy", "recommend/policy.toml"]
    print(f"\n$ python examples/recommend/usage_history.py {usage.relative_to(HERE.parent)}   "
          "# the tasks' usage records, as a log collector gathers them")
    print(f"$ cd examples && flyte-resources {' '.join(args)}")
    run = subprocess.run([sys.executable, "-m", "flytekitplugins.resources", *args], cwd=HERE, capture_output=True,
                         text=True, env=env)
    sys.stdout.write(run.stdout + _ours(run.stderr))
    print(f"(exit status {run.returncode}: 1 means a recommendation would be refused, here the OOM-killed task "
          "that needs more memory than the platform allows)")
    print(f"\n$ cd examples && flyte-resources {' '.join(args)} --diff")
    diff = subprocess.run([sys.executable, "-m", "flytekitplugins.resources", *args, "--diff"], cwd=HERE,
                          capture_output=True, text=True, env=env)
    sys.stdout.write(diff.stdout + _ours(diff.stderr))
    return 0 if run.returncode in (0, 1) else run.returncode


def _ours(stderr: str) -> str:
    """The command's own lines on stderr (not flytekit's loader warnings)."""
    keep = ("error", "not edited", "left alone", "edited")
    return "".join(line + "\n" for line in stderr.splitlines() if line.startswith(keep))


if __name__ == "__main__":
    sys.exit(main())
