"""One table of resource names: it agrees with flytekit, flyteidl, flytepropeller's default and flyteadmin."""

import dataclasses

import pytest
from flyteidl.core import tasks_pb2
from flytekit.core.resources import Resources as StockResources
from flytekit.core.utils import _sanitize_resource_name  # flytekit's own conversion, to check the table against
from flytekit.models import task as task_models

from flytekitplugins.resources.k8s.resourcenames import ADMIN_ORDER, BY_FIELD, BY_IDL, FIELDS, RESOURCE_NAMES
from flytekitplugins.resources.platform import TaskResourceSet


def test_fields_are_flytekits_in_declaration_order():
    assert FIELDS == tuple(f.name for f in dataclasses.fields(StockResources))


@pytest.mark.parametrize("r", RESOURCE_NAMES, ids=FIELDS)
def test_each_row_agrees_with_flyteidl_and_flytekit(r):
    assert tasks_pb2.Resources.ResourceName.Name(r.idl) == r.field.upper().replace("MEM", "MEMORY")
    assert r.pod_spec == _sanitize_resource_name(task_models.Resources.ResourceEntry(r.idl, "1"))
    assert BY_FIELD[r.field] is r and BY_IDL[r.idl] is r
    assert hasattr(TaskResourceSet(), r.attribute)


def test_kubernetes_names_and_flyteadmin_keys():
    assert [r.k8s for r in RESOURCE_NAMES] == ["cpu", "memory", "nvidia.com/gpu", "ephemeral-storage"]
    assert [r.admin_key for r in ADMIN_ORDER] == ["cpu", "gpu", "memory", "ephemeralStorage"]
    assert [r.admin_key_lower for r in ADMIN_ORDER] == ["cpu", "gpu", "memory", "ephemeralstorage"]


def test_storage_and_unknown_are_not_a_tasks_resources():
    assert tasks_pb2.Resources.STORAGE not in BY_IDL and tasks_pb2.Resources.UNKNOWN not in BY_IDL
