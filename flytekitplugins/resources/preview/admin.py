"""flyteadmin 1.16: registration checks on a task template, and execution-time defaults.

Specification: flyteadmin/pkg/manager/impl/validation/task_validator.go and
flyteadmin/pkg/manager/impl/execution_manager.go (setCompiledTaskDefaults) at flyte v1.16.8, with their
Go unit tests. Pure: protobufs and a Platform in, a new protobuf and findings out.
"""

from __future__ import annotations

from typing import List, Optional, Tuple

from flyteidl.core import tasks_pb2

from ..findings import Finding
from ..platform import Platform

__all__ = ["check_registration", "compile_task_defaults"]


def check_registration(
    template: tasks_pb2.TaskTemplate, platform: Platform, *, task: Optional[str] = None
) -> List[Finding]:
    """What flyteadmin's task validator refuses at registration (error findings)."""
    raise NotImplementedError


def compile_task_defaults(
    template: tasks_pb2.TaskTemplate, platform: Platform, *, task: Optional[str] = None
) -> Tuple[tasks_pb2.TaskTemplate, List[Finding]]:
    """A copy of the template with flyteadmin's execution-time defaults applied, and findings for each change."""
    raise NotImplementedError
