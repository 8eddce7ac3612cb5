"""The process's cgroup, read the way the kernel accounts it (pure functions of a file tree).

``find_cgroup(root)`` reads ``<root>/proc/self/cgroup`` and ``<root>/proc/self/mountinfo`` and returns where the
process's memory and CPU accounting files are (``root`` is ``/`` in a task; a ``tmp_path`` tree in the tests, or
``$FLYTEKITPLUGINS_RESOURCES_CGROUP_ROOT``). The readers take those directories and return numbers, or ``None``
for a file that is missing, unreadable or not what the kernel writes (never an exception):

===========  ==========================================  =============================================
             cgroup v2 (unified)                          cgroup v1
===========  ==========================================  =============================================
peak memory  ``memory.peak`` (bytes, since the cgroup     ``memory.max_usage_in_bytes``
             was created)
CPU time     ``cpu.stat`` ``usage_usec``                  ``cpuacct.usage`` (nanoseconds)
memory limit ``memory.max`` (``max`` = none)              ``memory.limit_in_bytes`` (>= 2^62 = none)
CPU limit    ``cpu.max`` (``$QUOTA $PERIOD``; ``max``)    ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``
                                                          (quota -1 = none)
===========  ==========================================  =============================================

A limit is the smallest one on the way from the process's cgroup up to the mount's root (a parent's limit binds
its children too).
"""

from __future__ import annotations

import os
from typing import Callable, List, NamedTuple, Optional, Tuple

__all__ = [
    "CgroupPaths",
    "find_cgroup",
    "read_cpu_limit_cores",
    "read_cpu_seconds",
    "read_memory_limit_bytes",
    "read_memory_peak_bytes",
]

# cgroup v1 writes PAGE_COUNTER_MAX * page size (9223372036854771712 with 4 KiB pages) for "no limit"
_V1_UNLIMITED = 1 << 62


class CgroupPaths(NamedTuple):
    """Where one process's accounting files are. ``version`` is 1 or 2; each directory is ``None`` when its
    controller is not mounted or not readable. ``top_*`` are the mount points, where walking up for limits stops."""

    version: int
    memory: Optional[str]
    cpu_usage: Optional[str]  # v2: the cgroup; v1: the cpuacct controller's directory
    cpu_limit: Optional[str]  # v2: the cgroup; v1: the cpu controller's directory
    top_memory: Optional[str] = None
    top_cpu_limit: Optional[str] = None

    @property
    def source(self) -> str:
        return f"cgroup{self.version}"


def _read(path: str) -> Optional[str]:
    try:
        with open(path, "rb") as f:
            data = f.read(4096)
    except OSError:
        return None
    try:
        return data.decode("ascii").strip()
    except UnicodeDecodeError:
        return None


def _unescape(field: str) -> str:
    """mountinfo escapes space, tab, newline and backslash as octal (``\\040``)."""
    if "\\" not in field:
        return field
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and i + 4 <= len(field) and field[i + 1:i + 4].isdigit():
            out.append(chr(int(field[i + 1:i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


class _Mount(NamedTuple):
    root: str  # the cgroup path this mount shows at its mount point
    point: str
    fstype: str
    options: Tuple[str, ...]  # super options (v1: the controllers)


def _mounts(text: str) -> List[_Mount]:
    mounts = []
    for line in text.splitlines():
        left, sep, right = line.partition(" - ")
        if not sep:
            continue
        fields, tail = left.split(), right.split()
        if len(fields) < 5 or len(tail) < 3:
            continue
        if tail[0] in ("cgroup", "cgroup2"):
            mounts.append(_Mount(_unescape(fields[3]), _unescape(fields[4]), tail[0], tuple(tail[2].split(","))))
    return mounts


def _inside(mount: _Mount, cgroup_path: str, root: str) -> str:
    """The directory of ``cgroup_path`` under ``mount`` (paths under ``root``)."""
    point = os.path.join(root, mount.point.lstrip("/"))
    base = mount.root.rstrip("/")
    if cgroup_path == mount.root or cgroup_path.startswith(base + "/"):
        rel = cgroup_path[len(base):].lstrip("/")
    elif mount.root == "/":
        rel = cgroup_path.lstrip("/")
    else:  # a namespaced view that does not contain the path: the mount point is the closest we can get
        rel = ""
    return os.path.join(point, rel) if rel else point


def _top(mount: _Mount, root: str) -> str:
    return os.path.join(root, mount.point.lstrip("/"))


def find_cgroup(root: str = "/") -> Optional[CgroupPaths]:
    """The process's cgroup directories, v2 when its memory controller is there (a hybrid host mounts an empty
    unified hierarchy beside the v1 controllers), else v1; ``None`` when neither is found."""
    membership = _read(os.path.join(root, "proc/self/cgroup"))
    mountinfo = _read_all(os.path.join(root, "proc/self/mountinfo"))
    if not membership or mountinfo is None:
        return None
    mounts = _mounts(mountinfo)
    unified: Optional[str] = None
    v1: dict = {}
    for line in membership.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        hierarchy, controllers, path = parts
        if hierarchy == "0" and controllers == "":
            unified = path
        else:
            for c in controllers.split(","):
                v1[c] = path
    if unified is not None:
        for m in mounts:
            if m.fstype == "cgroup2":
                d = _inside(m, unified, root)
                if os.path.exists(os.path.join(d, "memory.max")) or os.path.exists(os.path.join(d, "memory.peak")):
                    return CgroupPaths(2, d, d, d, _top(m, root), _top(m, root))

    def v1_dir(controller: str) -> Tuple[Optional[str], Optional[str]]:
        if controller not in v1:
            return None, None
        for m in mounts:
            if m.fstype == "cgroup" and controller in m.options:
                return _inside(m, v1[controller], root), _top(m, root)
        return None, None

    memory, top_memory = v1_dir("memory")
    cpuacct, _ = v1_dir("cpuacct")
    cpu, top_cpu = v1_dir("cpu")
    if memory is None and cpuacct is None:
        return None
    return CgroupPaths(1, memory, cpuacct, cpu, top_memory, top_cpu)


def _read_all(path: str) -> Optional[str]:
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return None


def _int(text: Optional[str]) -> Optional[int]:
    if text is None or not text.isdigit() or len(text) > 20:
        return None
    return int(text)


def read_memory_peak_bytes(paths: CgroupPaths) -> Optional[int]:
    """The cgroup's peak memory since it was created (the container's, in a pod)."""
    if paths.memory is None:
        return None
    name = "memory.peak" if paths.version == 2 else "memory.max_usage_in_bytes"
    return _int(_read(os.path.join(paths.memory, name)))


def read_cpu_seconds(paths: CgroupPaths) -> Optional[float]:
    """CPU time used by every process of the cgroup so far (user + system)."""
    if paths.cpu_usage is None:
        return None
    if paths.version == 2:
        text = _read(os.path.join(paths.cpu_usage, "cpu.stat"))
        if text is None:
            return None
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key == "usage_usec":
                usec = _int(value.strip())
                return None if usec is None else usec / 1e6
        return None
    ns = _int(_read(os.path.join(paths.cpu_usage, "cpuacct.usage")))
    return None if ns is None else ns / 1e9


def _ancestors(directory: str, top: Optional[str]) -> List[str]:
    """``directory`` and its parents up to ``top`` (inclusive); only ``directory`` when ``top`` is not above it."""
    out = [directory]
    if top is None:
        return out
    top = os.path.normpath(top)
    d = os.path.normpath(directory)
    while d != top and d.startswith(top + os.sep):
        d = os.path.dirname(d)
        out.append(d)
    return out


def _smallest(values: List[Optional[float]]) -> Optional[float]:
    known = [v for v in values if v is not None]
    return min(known) if known else None


def _memory_limit_at(version: int) -> Callable[[str], Optional[float]]:
    def at(d: str) -> Optional[float]:
        if version == 2:
            text = _read(os.path.join(d, "memory.max"))
            return None if text in (None, "max") else _int(text)
        value = _int(_read(os.path.join(d, "memory.limit_in_bytes")))
        return None if value is None or value >= _V1_UNLIMITED else value

    return at


def read_memory_limit_bytes(paths: CgroupPaths) -> Optional[int]:
    """The memory limit the process runs under (``None``: unlimited or unknown)."""
    if paths.memory is None:
        return None
    at = _memory_limit_at(paths.version)
    found = _smallest([at(d) for d in _ancestors(paths.memory, paths.top_memory)])
    return None if found is None else int(found)


def _cpu_limit_at(version: int) -> Callable[[str], Optional[float]]:
    def at(d: str) -> Optional[float]:
        if version == 2:
            text = _read(os.path.join(d, "cpu.max"))
            if text is None:
                return None
            quota, _, period = text.partition(" ")
            q, p = _int(quota), _int(period.strip() or "100000")
        else:
            q = _int(_read(os.path.join(d, "cpu.cfs_quota_us")))  # -1 (no limit) is not digits: None
            p = _int(_read(os.path.join(d, "cpu.cfs_period_us")))
        if q is None or not p:
            return None
        return q / p

    return at


def read_cpu_limit_cores(paths: CgroupPaths) -> Optional[float]:
    """The CPU limit in cores (CFS quota / period; ``None``: unlimited or unknown)."""
    if paths.cpu_limit is None:
        return None
    at = _cpu_limit_at(paths.version)
    return _smallest([at(d) for d in _ancestors(paths.cpu_limit, paths.top_cpu_limit)])
