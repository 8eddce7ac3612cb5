"""The project's policy: where it is found, what it says, how the preflight applies it, and the hook that
enforces it while flytekit serializes a task."""

import dataclasses
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from flytekit import Resources, task

from flytekitplugins.resources import enforce
from flytekitplugins.resources.preflight import preflight
from flytekitplugins.resources.preflight.policy import ENV_VAR, find_policy, load_policy, platform_from
from flytekitplugins.resources.preview import preview_entities
from flytekitplugins.resources.quantity import ResourceValidationError

from .helpers import SETTINGS, idl

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "preflight"

LIMITS = """\
apiVersion: v1
kind: LimitRange
metadata: {name: lr, namespace: ml-development}
spec:
  limits:
    - type: Container
      max: {memory: 8Gi}
---
apiVersion: v1
kind: LimitRange
metadata: {name: prod-only, namespace: ml-production}
spec:
  limits:
    - type: Container
      max: {memory: 1Gi}
"""
NODES = """\
nodeGroups:
  - name: small
    allocatable: {cpu: "4", memory: 16Gi, pods: "110"}
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    (tmp_path / "cluster.yaml").write_text(LIMITS)
    (tmp_path / "nodes.yaml").write_text(NODES)
    (tmp_path / "platform.yaml").write_text("task_resources:\n  limits: {cpu: 16, memory: 64Gi, gpu: 8}\n")

    def write(extra=""):
        (tmp_path / "pyproject.toml").write_text(textwrap.dedent("""\
            [project]
            name = "x"
            [tool.flytekitplugins-resources]
            platform = ["platform.yaml"]
            cluster = ["cluster.yaml"]
            node-groups = ["nodes.yaml"]
            project = "ml"
            """) + textwrap.dedent(extra))
        enforce.reset()
        return tmp_path

    monkeypatch.chdir(tmp_path)
    yield write
    enforce.reset()


def _previews(entity, policy, **kw):
    with enforce.suspended():  # serialize as flyte-resources check does, then run every check
        template = idl(entity).template.to_flyte_idl()
    platform = platform_from(policy)
    return preflight(preview_entities([template], platform), policy, platform, **kw)


def _codes(previews, level="error"):
    return [f.code for p in previews for f in p.findings if f.level == level]


def test_found_in_the_nearest_pyproject_upwards(project, tmp_path):
    project()
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    path, table = find_policy(str(tmp_path / "sub" / "deeper"))
    assert path == str(tmp_path / "pyproject.toml") and table["project"] == "ml"


def test_the_env_var_names_a_file_or_turns_discovery_off(project, tmp_path, monkeypatch):
    project()
    other = tmp_path / "policy.yaml"
    other.write_text("project: other\n")
    monkeypatch.setenv(ENV_VAR, str(other))
    assert load_policy().project == "other"
    monkeypatch.setenv(ENV_VAR, "off")
    assert load_policy() is None


def test_namespace_objects_apply_to_their_namespace_only(project):
    # Flyte's namespace template {{ project }}-{{ domain }} decides which LimitRange applies
    policy = load_policy(str(project() / "pyproject.toml"))

    @task(requests=Resources(cpu="1", mem="4Gi"))
    def t() -> None: ...

    assert _codes(_previews(t, policy)) == []  # ml-development: max 8Gi
    assert _codes(_previews(t, policy, domain="production")) == ["limitrange.max"]  # ml-production: max 1Gi


def test_flyte_rules_and_scopes(project):
    policy = load_policy(str(project("""\
        allowed-accelerators = ["nvidia-l4"]
        max-gpus-per-task = 1
        required-limits = ["ephemeral-storage"]
        [[tool.flytekitplugins-resources.scopes]]
        domain = "production"
        max-gpus-per-task = 4
        """) / "pyproject.toml"))

    @task(resources=Resources(gpu="A100:2", cpu="1", mem="1Gi"))
    def t() -> None: ...

    dev = _codes(_previews(t, policy))
    assert {"policy.max-gpus", "policy.accelerator", "policy.limit-required"} <= set(dev)
    prod = _previews(t, policy, domain="production")
    assert "policy.max-gpus" not in _codes(prod)  # the production scope allows 4
    (accelerator,) = [f for p in prod for f in p.findings if f.code == "policy.accelerator"]
    assert "'nvidia-tesla-a100' is not allowed" in accelerator.message and "pyproject.toml" in accelerator.source


@pytest.mark.parametrize(
    "extra, key",
    [
        ('unknown-key = 1\n', "unknown-key"),
        ('max-gpus-per-task = "eight"\n', "max-gpus-per-task"),
        ('allowed-accelerators = "a100"\n', "allowed-accelerators"),
        ('pod-templates = ["missing.yaml"]\n', "pod-templates"),
        ('[[tool.flytekitplugins-resources.scopes]]\nteam = "x"\n', "scopes[0].team"),
    ],
    ids=["unknown", "not-a-number", "not-a-list", "missing-file", "unknown-scope-key"],
)
def test_a_bad_policy_names_the_file_and_the_key(project, extra, key):
    path = project(extra) / "pyproject.toml"
    with pytest.raises(ResourceValidationError) as e:
        load_policy(str(path))
    assert str(e.value).startswith("pyproject.toml [tool.flytekitplugins-resources]: ") and key in str(e.value)


def test_a_cluster_file_with_another_kind_is_refused(project, tmp_path):
    (tmp_path / "cluster.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    with pytest.raises(ResourceValidationError, match="cluster.yaml: kind: 'ConfigMap' is not a LimitRange"):
        load_policy(str(project() / "pyproject.toml"))


def test_the_hook_refuses_a_task_the_policy_refuses(project):
    project()
    settings = dataclasses.replace(SETTINGS, project="ml", domain="development")  # namespace ml-development

    @task(requests=Resources(cpu="1", mem="12Gi"))
    def big() -> None: ...

    @task(requests=Resources(cpu="1", mem="1Gi"))
    def fine() -> None: ...

    with pytest.raises(ResourceValidationError) as e:
        idl(big, settings)
    assert "maximum memory usage per Container is 8Gi, but limit is 12Gi" in str(e.value)
    assert e.value.task and e.value.task.endswith("big")
    idl(fine, settings)  # passes
    idl(big, dataclasses.replace(settings, domain="staging"))  # ml-staging has no LimitRange
    with enforce.suspended():
        idl(big, settings)  # flyte-resources check serializes with the policy suspended


def test_the_hook_lets_a_task_without_a_pod_through_the_policy(project):
    """An Echo task (and any task Flyte runs without a pod) has nothing a LimitRange or a node could refuse."""
    from flytekit.core.task import Echo

    project()
    settings = dataclasses.replace(SETTINGS, project="ml", domain="production")  # max 1Gi per container there
    echo = Echo(name="echo_through_policy", inputs={"a": int})
    template = idl(echo, settings).template
    assert template.container is None and template.k8s_pod is None
    policy = load_policy()
    (preview,) = _previews(echo, policy, domain="production")
    assert preview.pod is None and [f.code for f in preview.findings] == ["preview.no-pod"]


def test_without_a_policy_the_hook_changes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(ENV_VAR, raising=False)
    enforce.reset()

    @task(requests=Resources(cpu="1", mem="12Gi"))
    def big() -> None: ...

    assert idl(big).template.container.resources.requests


@pytest.mark.e2e
@pytest.mark.slow
def test_pyflyte_package_stops_on_the_refused_example(tmp_path):
    # end to end: the bundled example project; pyflyte package in a subprocess stops with the finding
    work = tmp_path / "preflight"
    shutil.copytree(EXAMPLE, work)
    shutil.copytree(EXAMPLE.parent / "platform", tmp_path / "platform")
    env = {k: v for k, v in os.environ.items() if k != ENV_VAR}
    cmd = [sys.executable, "-m", "flytekit.clis.sdk_in_container.pyflyte", "--pkgs", "jobs", "package",
           "--image", "ghcr.io/flyteorg/flytekit:py3.11-1.16.31", "-o", str(tmp_path / "p.tgz"), "--force"]
    result = subprocess.run(cmd, cwd=work, capture_output=True, text=True, env={**env, "COLUMNS": "300"})
    out = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0
    assert "jobs.pipeline.aggregate" in out and "maximum memory usage per Container is 32Gi, but limit is 48Gi" in out
    assert not (tmp_path / "p.tgz").exists()
    check = subprocess.run([sys.executable, "-m", "flytekitplugins.resources", "check", "jobs", "-o", "json"],
                           cwd=work, capture_output=True, text=True, env=env)
    import json

    codes = {(f["task"], f["code"]) for f in json.loads(check.stdout)}
    assert check.returncode == 1
    assert codes == {("jobs.pipeline.aggregate", "limitrange.max"), ("jobs.pipeline.train", "nodefit.no-fit")}


def test_the_hook_prints_each_warning_once_and_lets_the_task_through(project, tmp_path, capsys):
    project()
    settings = dataclasses.replace(SETTINGS, project="ml", domain="staging")

    # a limit given alone is not checked at registration: flyteadmin lowers it to the platform's 64Gi (and
    # the request, from the limit, to match: the 16Gi node group is then too small, so no node groups here)
    (tmp_path / "nodes.yaml").write_text("nodeGroups: []\n")

    @task(limits=Resources(cpu="1", mem="100Gi"))
    def roomy() -> None: ...

    idl(roomy, settings)
    idl(roomy, settings)
    err = capsys.readouterr().err
    lowered = [line for line in err.splitlines() if "limits.memory='100Gi' is lowered to '64Gi'" in line]
    assert len(lowered) == 1 and lowered[0].startswith("flytekitplugins-resources: warning: task ")
