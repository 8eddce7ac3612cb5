"""The plugin's own usage records (``usage.record``) from log files or folders of JSON lines.

``read_records(paths)`` reads every file given, and every file under a folder given (recursively, in name
order), and parses every line with ``usage.record.parse_line``: lines without the record's prefix are the task's
other output and are skipped; a line with the prefix that is not a valid record is an error naming the file and
the line number (a record the recorder wrote is never half valid, so it is not skipped silently). Gzipped
files (``.gz``) are read too, as log shippers write them.
"""

from __future__ import annotations

import gzip
import os
from typing import Iterator, List, Sequence

from ..usage.record import PREFIX, UsageRecord, parse_line
from .history import UsageError

__all__ = ["read_records"]


def _files(path: str) -> Iterator[str]:
    if os.path.isdir(path):
        for root, dirs, names in os.walk(path):
            dirs.sort()
            for name in sorted(names):
                if not name.startswith("."):
                    yield os.path.join(root, name)
    elif os.path.exists(path):
        yield path
    else:
        raise UsageError(f"{path}: no such file or folder (--records takes log files or folders of them)")


def read_records(paths: Sequence[str]) -> List[UsageRecord]:
    """Every record in ``paths``; raises :class:`UsageError` naming the file (and line) that cannot be read."""
    out: List[UsageRecord] = []
    marker = PREFIX.encode()
    for path in paths:
        for name in _files(path):
            try:
                with (gzip.open(name, "rb") if name.endswith(".gz") else open(name, "rb")) as f:
                    for number, raw in enumerate(f, 1):
                        if marker not in raw:  # the common case: the task's other output, not decoded
                            continue
                        try:
                            line = raw.decode("utf-8")
                        except UnicodeDecodeError:
                            raise UsageError(f"{name}:{number}: a usage record that is not UTF-8 text") from None
                        try:
                            record = parse_line(line)
                        except (ValueError, TypeError) as e:
                            raise UsageError(f"{name}:{number}: {e}") from None
                        if record is not None:
                            out.append(record)
            except OSError as e:
                raise UsageError(f"{name}: cannot be read ({e.strerror or type(e).__name__})") from None
    return out
