"""Helpers the test modules share (test modules never import each other)."""

import contextlib
import os
import pathlib
import shutil
import subprocess
import sys
import textwrap
from collections import OrderedDict

from flyteidl.admin import task_pb2, workflow_pb2
from flyteidl.core import identifier_pb2, tasks_pb2
from flyteidl.core import workflow_pb2 as core_wf
from flytekit.configuration import Image, ImageConfig, SerializationSettings

import flytekitplugins.resources as plugin

ROOT = pathlib.Path(__file__).resolve().parents[1]

SETTINGS = SerializationSettings(
    image_config=ImageConfig(default_image=Image(name="default", fqn="ghcr.io/example/img", tag="v1")),
    project="p",
    domain="d",
    version="v1",
)


# --- serializing in this process ------------------------------------------------------------------------


@contextlib.contextmanager
def stock_flytekit():
    """Run the block with the plugin deactivated (plain flytekit), then re-activate it."""
    plugin.deactivate()
    try:
        yield
    finally:
        plugin.activate()


def serialize_all(entity, settings=SETTINGS) -> dict:
    """Every IDL object serializing ``entity`` produces, as deterministic bytes keyed by entity name."""
    from flytekit.tools.translator import get_serializable

    mapping = OrderedDict()
    get_serializable(mapping, settings, entity)
    out = {}
    for source, model in mapping.items():
        name = getattr(source, "name", None) or getattr(source, "id", None) or repr(source)
        out[f"{type(source).__name__}:{name}"] = model.to_flyte_idl().SerializeToString(deterministic=True)
    return out


def idl(entity, settings=SETTINGS):
    """The serialized task template (for a task) as an IDL message."""
    from flytekit.tools.translator import get_serializable

    return get_serializable(OrderedDict(), settings, entity)


# --- hand-made protobufs, as pyflyte package writes them --------------------------------------------------


def task_spec(name, cpu="1", interruptible=False):
    """A container task's TaskSpec requesting and limited to ``cpu``."""
    t = tasks_pb2.TaskTemplate(id=identifier_pb2.Identifier(resource_type=1, name=name), type="python-task")
    t.metadata.interruptible = interruptible
    t.metadata.runtime.version = "1.16.0"
    t.container.image = "img"
    t.interface.SetInParent()
    t.container.resources.requests.add(name=tasks_pb2.Resources.CPU, value=cpu)
    t.container.resources.limits.add(name=tasks_pb2.Resources.CPU, value=cpu)
    return task_pb2.TaskSpec(template=t)


def task_node(node_id, task, cpu=None, interruptible=None):
    """A workflow node running ``task``, with a cpu request override and its own interruptible when given."""
    n = core_wf.Node(id=node_id)
    n.task_node.reference_id.name = task
    if cpu is not None:
        n.task_node.overrides.resources.requests.add(name=tasks_pb2.Resources.CPU, value=cpu)
    if interruptible is not None:
        n.metadata.interruptible = interruptible
    return n


def workflow_spec(name, *nodes):
    wf = workflow_pb2.WorkflowSpec()
    wf.template.id.name = name
    wf.template.nodes.extend(nodes)
    return wf


# --- pyflyte in a subprocess ------------------------------------------------------------------------------

IMAGE = "ghcr.io/flyteorg/flytekit:py3.11-1.16.31"
PYFLYTE = [sys.executable, "-m", "flytekit.clis.sdk_in_container.pyflyte"]


def subprocess_env(**extra):
    """The environment for a subprocess: the plugin on, wide columns, no warnings."""
    env = {k: v for k, v in os.environ.items() if k != "FLYTEKITPLUGINS_RESOURCES_DISABLE"}
    env.update(COLUMNS="400", PYTHONWARNINGS="ignore", **extra)
    return env


def example_project(tmp_path, extra=None):
    """A copy of examples/workflows under ``tmp_path`` (plus ``extra`` modules: name -> source)."""
    shutil.copytree(ROOT / "examples" / "workflows", tmp_path / "workflows")
    for name, source in (extra or {}).items():
        (tmp_path / "workflows" / name).write_text(textwrap.dedent(source))
    return tmp_path


def pyflyte_package(project, pkgs="workflows", output="pkg.tgz", **env):
    """``pyflyte --pkgs PKGS package`` in ``project``; the CompletedProcess."""
    return subprocess.run(
        PYFLYTE + ["--pkgs", pkgs, "package", "--image", IMAGE, "-o", output, "--force"],
        cwd=project, capture_output=True, text=True, env=subprocess_env(**env),
    )
