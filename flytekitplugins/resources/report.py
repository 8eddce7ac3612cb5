"""What will be registered: per task, the requests, limits, accelerator and shared memory.

Reads what ``pyflyte package`` writes (a ``.tgz`` or a folder of ``*_1.pb`` task specs and
``*_2.pb`` workflow specs)::

    python -m flytekitplugins.resources.report flyte-package.tgz

From code: ``summarize(path)`` returns the rows, ``report(path)`` the text, ``main(argv)`` is the
command (exit status 0, or 2 with one line naming the file and member when the package cannot be read, as
``flyte-resources report`` does).
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import tarfile
import zlib
from dataclasses import dataclass, field
from typing import Dict, Iterable, Iterator, List, Optional, Tuple

from flyteidl.admin import task_pb2, workflow_pb2
from flyteidl.core import tasks_pb2
from google.protobuf.message import DecodeError

from .k8s.resourcenames import RESOURCE_NAMES

__all__ = ["ReportError", "Row", "main", "read_package", "render", "report", "rows", "summarize"]

_NAMES = {r.idl: r.field for r in RESOURCE_NAMES}


class ReportError(ValueError):
    """A package that cannot be read: the message names the file, and the member when there is one."""

    def __init__(self, path: str, problem: str, member: Optional[str] = None) -> None:
        self.path, self.member, self.problem = path, member, problem
        super().__init__(f"{path}: {f'{member}: ' if member else ''}{problem}")


@dataclass
class Row:
    """One task (or one overridden node) and the resources it will ask the cluster for."""

    name: str
    requests: Dict[str, str] = field(default_factory=dict)
    limits: Dict[str, str] = field(default_factory=dict)
    accelerator: str = ""
    shared_memory: str = ""
    where: str = "container"  # container | pod template | override


def read_package(path: str) -> Iterator[Tuple[str, bytes]]:
    """(file name, bytes) of every ``.pb`` in a package archive or folder, in name order.

    Raises :class:`ReportError` naming the file (and the member) when it cannot be read."""
    p = pathlib.Path(path)
    if p.is_dir():
        for f in sorted(p.glob("*.pb")):
            try:
                data = f.read_bytes()
            except OSError as e:
                raise ReportError(path, f"cannot be read ({e.strerror or type(e).__name__})", f.name) from None
            yield f.name, data
        return
    if not p.exists():
        raise ReportError(path, "no such file or folder")
    try:
        tar = tarfile.open(p)
    except (tarfile.TarError, OSError, EOFError, zlib.error) as e:
        raise ReportError(path, f"is not a pyflyte package (.tgz or folder): {_why(e)}") from None
    with tar:
        try:
            members = sorted(tar.getmembers(), key=lambda m: m.name)
        except (tarfile.TarError, OSError, EOFError, zlib.error) as e:
            raise ReportError(path, f"is a damaged archive: {_why(e)}") from None
        for member in members:
            if not member.name.endswith(".pb"):
                continue
            if not member.isfile():
                raise ReportError(path, "is not a regular file in the archive", member.name)
            try:
                stream = tar.extractfile(member)
                data = stream.read() if stream is not None else b""
            except (tarfile.TarError, OSError, EOFError, zlib.error) as e:
                raise ReportError(path, f"cannot be read: {_why(e)}", member.name) from None
            yield member.name, data


def _why(e: BaseException) -> str:
    """An exception as one short line."""
    text = " ".join(str(e).split())
    if isinstance(e, tarfile.ReadError) and text.startswith("file could not be opened successfully"):
        return "not a gzip, bzip2, xz or tar archive"
    return (text[:200] + "...") if len(text) > 200 else text or type(e).__name__


def _entries(resources: tasks_pb2.Resources) -> Tuple[Dict[str, str], Dict[str, str]]:
    return (
        {_NAMES.get(e.name, str(e.name)): e.value for e in resources.requests},
        {_NAMES.get(e.name, str(e.name)): e.value for e in resources.limits},
    )


def _accelerator(ext: tasks_pb2.ExtendedResources) -> str:
    if not ext.HasField("gpu_accelerator"):
        return ""
    acc = ext.gpu_accelerator
    text = acc.device
    if acc.WhichOneof("partition_size_value") == "partition_size":
        text += f" partition {acc.partition_size}"
    elif acc.WhichOneof("partition_size_value") == "unpartitioned":
        text += " (unpartitioned)"
    return text


def _shared_memory(ext: tasks_pb2.ExtendedResources) -> str:
    if not ext.HasField("shared_memory"):
        return ""
    return ext.shared_memory.size_limit or "node-sized"


_DEVICE_LABELS = ("k8s.amazonaws.com/accelerator", "cloud.google.com/gke-tpu-accelerator")
_PARTITION_LABELS = ("k8s.amazonaws.com/gpu-partition-size", "cloud.google.com/gke-tpu-topology")


def _pod_row(row: Row, template: tasks_pb2.TaskTemplate) -> None:
    """Fill a row from a pod template: the primary container's resources, the accelerator its node
    affinity asks for, and a memory-backed volume mounted at /dev/shm."""
    from google.protobuf.json_format import MessageToDict

    spec = MessageToDict(template.k8s_pod.pod_spec)
    primary_name = template.config.get("primary_container_name", "primary")
    primary = next((c for c in spec.get("containers", []) if c.get("name") == primary_name), {})
    res = primary.get("resources", {})
    row.requests, row.limits = dict(res.get("requests", {})), dict(res.get("limits", {}))
    node_affinity = spec.get("affinity", {}).get("nodeAffinity", {})
    required = node_affinity.get("requiredDuringSchedulingIgnoredDuringExecution", {})
    found: Dict[str, str] = {}
    for term in required.get("nodeSelectorTerms", [])[:1]:
        for expr in term.get("matchExpressions", []):
            if expr.get("key") in _DEVICE_LABELS + _PARTITION_LABELS and expr.get("operator") == "In":
                found[expr["key"]] = ",".join(expr.get("values", []))
    device = next((found[k] for k in _DEVICE_LABELS if k in found), "")
    partition = next((found[k] for k in _PARTITION_LABELS if k in found), "")
    if device and not row.accelerator:
        row.accelerator = f"{device}{f' partition {partition}' if partition else ''} (node affinity)"
    mounts = {m.get("name") for m in primary.get("volumeMounts", []) if m.get("mountPath") == "/dev/shm"}
    for volume in spec.get("volumes", []):
        if volume.get("name") in mounts and volume.get("emptyDir", {}).get("medium") == "Memory" \
                and not row.shared_memory:
            row.shared_memory = f"{volume['emptyDir'].get('sizeLimit', 'node-sized')} (pod volume)"


def rows(files: Iterable[Tuple[str, bytes]], path: str = "package") -> List[Row]:
    """Rows for every task spec and every workflow node that overrides resources.

    Raises :class:`ReportError` naming ``path`` and the member that is not a valid spec."""
    out: List[Row] = []
    for name, data in files:
        try:
            out.extend(_member_rows(name, data))
        except DecodeError as e:
            kind = "TaskSpec" if name.endswith("_1.pb") else "WorkflowSpec"
            raise ReportError(path, f"is not a {kind} protobuf ({_why(e)})", name) from None
        except ReportError:
            raise
        except Exception as e:  # a spec that decodes but is not shaped as pyflyte writes it
            raise ReportError(path, f"has an unexpected shape ({type(e).__name__}: {_why(e)})", name) from None
    return out


def _member_rows(name: str, data: bytes) -> List[Row]:
    out: List[Row] = []
    if name.endswith("_1.pb"):
        spec = task_pb2.TaskSpec()
        spec.ParseFromString(data)
        t = spec.template
        row = Row(t.id.name, accelerator=_accelerator(t.extended_resources),
                  shared_memory=_shared_memory(t.extended_resources))
        if t.HasField("container"):
            row.requests, row.limits = _entries(t.container.resources)
        elif t.HasField("k8s_pod"):
            _pod_row(row, t)
            row.where = "pod template"
        out.append(row)
    elif name.endswith("_2.pb"):
        wf = workflow_pb2.WorkflowSpec()
        wf.ParseFromString(data)
        for node in wf.template.nodes:
            target = node.task_node if node.HasField("task_node") else None
            if node.HasField("array_node") and node.array_node.node.HasField("task_node"):
                target = node.array_node.node.task_node
            if target is None or not target.HasField("overrides"):
                continue
            o = target.overrides
            requests, limits = _entries(o.resources)
            row = Row(f"{wf.template.id.name}/{node.id}", requests, limits, _accelerator(o.extended_resources),
                      _shared_memory(o.extended_resources), where="override")
            if requests or limits or row.accelerator or row.shared_memory:
                out.append(row)
    return out


_ORDER = {name: i for i, name in enumerate(dict.fromkeys(n for r in RESOURCE_NAMES for n in (r.field, r.pod_spec)))}


def _fmt(values: Dict[str, str]) -> str:
    ordered = sorted(values.items(), key=lambda kv: _ORDER.get(kv[0], len(_ORDER)))
    return " ".join(f"{k}={v}" for k, v in ordered) or "-"


def render(table: List[Row]) -> str:
    """A plain-text table, one line per row."""
    header = ("task / node", "where", "requests", "limits", "accelerator", "shared memory")
    lines = [(r.name, r.where, _fmt(r.requests), _fmt(r.limits), r.accelerator or "-", r.shared_memory or "-")
             for r in table]
    widths = [max(len(str(x)) for x in col) for col in zip(header, *lines)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    out = [fmt.format(*header), fmt.format(*("-" * w for w in widths))] + [fmt.format(*line) for line in lines]
    return "\n".join(line.rstrip() for line in out)


def summarize(path: str) -> List[Row]:
    """The rows of a ``pyflyte package`` output (a ``.tgz`` or a folder); :class:`ReportError` if unreadable."""
    return rows(read_package(path), path)


def report(path: str) -> str:
    """The text ``python -m flytekitplugins.resources.report PATH`` prints."""
    return render(summarize(path))


def main(argv: Optional[List[str]] = None) -> int:
    """The command: print the report of one package; on an unreadable package print one line and return 2 (an
    input that cannot be read, as for every ``flyte-resources`` command)."""
    parser = argparse.ArgumentParser(prog="python -m flytekitplugins.resources.report",
                                     description=(__doc__ or "").splitlines()[0])
    parser.add_argument("package", help="a pyflyte package .tgz, or a folder of .pb files")
    args = parser.parse_args(argv)
    try:
        text = report(args.package)
    except ReportError as e:
        sys.stderr.write(f"error: {e}\n")
        return 2
    sys.stdout.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
