"""Reading the commands' inputs: a package archive or importable modules, the platform files and the policy.

An archive is read with flyteidl alone; only module targets import flytekit (to serialize them as ``pyflyte
package`` would). Every unreadable input is an :class:`~.errors.InputError` (one line, exit status 2).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import pathlib
import sys
from typing import Any, Iterator, List, Optional, Sequence, Tuple

from ..findings import WARNING, Finding
from ..quantity import ResourceValidationError
from .errors import InputError

__all__ = ["FLYTEKIT_LOG", "builtin_defaults_note", "capture_flytekit_log", "load_platform_files", "load_policy_file",
           "load_target", "platform_files_of"]

FLYTEKIT_LOG = "flytekit.log"  #: the code of a finding made of one of flytekit's own log lines


def load_target(target: str, log: Optional[List[Finding]] = None) -> List[Any]:
    """flyteidl protobufs from a package archive/folder, or from serializing importable modules.

    Raises :class:`InputError` for an unreadable package or an unknown module, and lets
    :class:`ResourceValidationError` (a value the plugin refuses while serializing) through for the caller to
    report. flytekit's log lines while serializing are appended to ``log`` as findings, never printed."""
    path = pathlib.Path(target)
    if path.exists() and (path.is_dir() and any(path.glob("*.pb")) or path.is_file()):
        return _load_package(target)
    if target.endswith((".tgz", ".tar.gz", ".tar")):
        raise InputError(f"{target}: no such file")
    return _serialize_modules([p.strip() for p in target.split(",") if p.strip()], log if log is not None else [])


def _load_package(path: str) -> List[Any]:
    from flyteidl.admin import launch_plan_pb2, task_pb2, workflow_pb2
    from google.protobuf.message import DecodeError

    from ..report import ReportError, read_package

    kinds = {"_1.pb": task_pb2.TaskSpec, "_2.pb": workflow_pb2.WorkflowSpec, "_3.pb": launch_plan_pb2.LaunchPlan}
    out: List[Any] = []
    try:
        for name, data in read_package(path):
            kind = next((k for suffix, k in kinds.items() if name.endswith(suffix)), None)
            if kind is None:
                continue
            message = kind()
            try:
                message.ParseFromString(data)
            except DecodeError as e:
                raise InputError(f"{path}: {name}: is not a {kind.__name__} protobuf ({e})") from None
            out.append(message)
    except ReportError as e:
        raise InputError(str(e)) from None
    return out


def _serialize_modules(pkgs: List[str], log: List[Finding]) -> List[Any]:
    if not pkgs:
        raise InputError("no target: give a pyflyte package archive or importable modules")
    # importing flytekit runs the plugin's entry point: the hook is active from here on
    from flytekit.configuration import ImageConfig, SerializationSettings
    from flytekit.tools.repo import serialize_get_control_plane_entities, serialize_load_only

    from ..enforce import suspended

    settings = SerializationSettings(image_config=ImageConfig.auto_default_image())
    root = os.getcwd()
    with capture_flytekit_log(log):
        try:
            with _stdout_to(io.StringIO()):  # flytekit's loader prints a banner on stdout
                serialize_load_only(pkgs, settings, root)
        except ModuleNotFoundError as e:
            raise InputError(f"{e.name}: no such module or package under {root}") from None
        with _stdout_to(sys.stderr), suspended():  # the policy is checked by the command, on every task at once
            entities = serialize_get_control_plane_entities(settings, root)
    return [e.to_flyte_idl() for e in entities]


@contextlib.contextmanager
def _stdout_to(stream: Any) -> Iterator[None]:
    """stdout stays the command's output (json, yaml): whatever flytekit prints there goes to ``stream``."""
    saved, sys.stdout = sys.stdout, stream
    try:
        yield
    finally:
        sys.stdout = saved


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: List[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextlib.contextmanager
def capture_flytekit_log(findings: List[Finding]) -> Iterator[None]:
    """flytekit's own log lines (its ``flytekit`` logger and the loggers under it) become ``flytekit.log``
    warnings appended to ``findings`` (each distinct line once) instead of lines printed between the command's
    output; its handlers are put back afterwards."""
    logger = logging.getLogger("flytekit")
    saved = (logger.handlers[:], logger.propagate)
    collect = _Collect()
    logger.handlers = [collect]
    logger.propagate = False
    try:
        yield
    finally:
        logger.handlers, logger.propagate = saved
        seen = {f.message for f in findings if f.code == FLYTEKIT_LOG}
        for record in collect.records:
            try:
                text = " ".join(record.getMessage().split())
            except Exception:  # a malformed log call in flytekit must not break the command
                text = " ".join(str(record.msg).split())
            if text and text not in seen:
                seen.add(text)
                findings.append(Finding(WARNING, FLYTEKIT_LOG, f"flytekit logged: {text}",
                                        source=f"flytekit {record.filename}:{record.lineno}"))


def load_policy_file(policy_file: Optional[str], no_policy: bool) -> Any:
    """The policy (``--policy``, else the one found from the current directory), or None."""
    if no_policy:
        return None
    from ..preflight.policy import load_policy

    try:
        if policy_file is not None and not os.path.isfile(policy_file):
            raise ResourceValidationError(f"{policy_file}: no such policy file")
        return load_policy(policy_file)
    except ResourceValidationError as e:
        raise InputError(str(e)) from None


def platform_files_of(platform_files: Sequence[str], pod_template_files: Sequence[str],
                      policy: Any = None) -> Tuple[List[str], List[str]]:
    """The policy's platform and pod-template files first, then the command line's."""
    if policy is not None:
        return (list(policy.platform_files) + list(platform_files),
                list(policy.pod_template_files) + list(pod_template_files))
    return list(platform_files), list(pod_template_files)


def load_platform_files(platform_files: Sequence[str], pod_template_files: Sequence[str]) -> Any:
    from ..platform import load_platform

    try:
        return load_platform(list(platform_files), list(pod_template_files))
    except ResourceValidationError as e:
        raise InputError(str(e)) from None


def builtin_defaults_note(platform: Any) -> str:
    """What is assumed when no platform file is given: Flyte's built-in defaults, and how to give the cluster's."""
    admin, k8s = platform.task_resources, platform.k8s

    def fmt(rs: Any) -> str:
        return ", ".join(f"{name.replace('_', '-')} {getattr(rs, name)}" for name in
                         ("cpu", "memory", "gpu", "ephemeral_storage") if getattr(rs, name) is not None)

    return ("no platform configuration given: Flyte's built-in defaults are in use (flyteadmin task_resources "
            f"limits: {fmt(admin.limits)}; defaults: {fmt(admin.defaults)}; flytepropeller plugins.k8s "
            f"default-cpus {k8s.default_cpus}, default-memory {k8s.default_memory}). For the cluster's own, pass "
            "--platform FILE (Helm values or the flyteadmin / flytepropeller ConfigMaps; repeatable) or list them "
            "as `platform = [...]` in the policy ([tool.flytekitplugins-resources] in pyproject.toml).")
