"""Run pyflyte, and write every entity that `pyflyte register` would send to $DUMP_DIR as protobufs.

`register --dry-run` serializes everything but sends and writes nothing; this wraps the one
function that produces the entities, so the test can read back exactly what would be registered.
"""

import os
import pathlib
import sys

from flytekit.models.admin.workflow import WorkflowSpec
from flytekit.models.launch_plan import LaunchPlan
from flytekit.models.task import TaskSpec
from flytekit.tools import repo

_serialize = repo.serialize_get_control_plane_entities


def _dumping(*args, **kwargs):
    entities = _serialize(*args, **kwargs)
    out = pathlib.Path(os.environ["DUMP_DIR"])
    out.mkdir(parents=True, exist_ok=True)
    for i, entity in enumerate(entities):
        if isinstance(entity, TaskSpec):
            name, kind = entity.template.id.name, 1
        elif isinstance(entity, WorkflowSpec):
            name, kind = entity.template.id.name, 2
        elif isinstance(entity, LaunchPlan):
            name, kind = entity.id.name, 3
        else:
            continue
        (out / f"{i}_{name}_{kind}.pb").write_bytes(entity.to_flyte_idl().SerializeToString())
    return entities


repo.serialize_get_control_plane_entities = _dumping

if __name__ == "__main__":
    from flytekit.clis.sdk_in_container.pyflyte import main

    sys.argv[0] = "pyflyte"
    main()
