"""What this process (and the children it waited for) used, from ``getrusage`` (the ``rusage`` source).

CPU time is ``ru_utime + ru_stime`` of ``RUSAGE_SELF`` plus ``RUSAGE_CHILDREN``; a window's CPU time is the
difference between its end and its start. Peak memory is the kernel's resident-set high-water mark
(``ru_maxrss``), which on Linux can be reset to the current resident set by writing ``5`` to
``/proc/self/clear_refs``: a window resets it when it starts, so that what an earlier task of the same process
(``pyflyte run`` runs a whole workflow in one) touched is not counted. Windows may nest (a local ``@dynamic``
runs its tasks inside its own): every reset first folds the mark reached so far into each open window.
Where the reset is not possible (macOS, a read-only ``/proc``), a window's peak is the mark at its end when the
mark rose during the window, else the largest resident set the sampler saw (a lower bound).
A waited-for child's own peak (``RUSAGE_CHILDREN``'s ``ru_maxrss``, the largest child's) is added when it rose
during the window: the sum bounds what the process and that child held at once.
"""

from __future__ import annotations

import os
import resource
import sys
import threading
from typing import List, Optional

__all__ = ["PeakTracker", "cpu_seconds", "current_rss_bytes", "max_rss_bytes"]

_RSS_UNIT = 1 if sys.platform == "darwin" else 1024  # ru_maxrss is bytes on macOS, KiB on Linux
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def cpu_seconds() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def max_rss_bytes(who: int = resource.RUSAGE_SELF) -> int:
    return resource.getrusage(who).ru_maxrss * _RSS_UNIT


def current_rss_bytes(statm: str = "/proc/self/statm") -> Optional[int]:
    """The resident set now (Linux ``/proc/self/statm``), ``None`` elsewhere."""
    try:
        with open(statm, "rb") as f:
            fields = f.read(200).split()
        return int(fields[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return None


class _Window:
    __slots__ = ("peak", "mark_at_start", "children_at_start")

    def __init__(self, peak: int, mark_at_start: int, children_at_start: int) -> None:
        self.peak = peak
        self.mark_at_start = mark_at_start
        self.children_at_start = children_at_start


class PeakTracker:
    """Peak resident memory per window, for windows that may nest or overlap. ``clear_refs`` is the file whose
    write resets the high-water mark (``None``: never reset)."""

    def __init__(self, clear_refs: Optional[str] = "/proc/self/clear_refs") -> None:
        self._clear_refs = clear_refs
        self._can_reset = clear_refs is not None and sys.platform.startswith("linux")
        self._lock = threading.Lock()
        self._open: List[_Window] = []
        self._fd: Optional[int] = None
        self._fd_pid: Optional[int] = None
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._after_fork)

    def _after_fork(self) -> None:
        """A forked child starts with its own lock and no open windows (its high-water mark is its own)."""
        self._lock = threading.Lock()
        self._open = []

    def _reset(self) -> bool:
        if not self._can_reset:
            return False
        try:
            if self._fd is None or self._fd_pid != os.getpid():  # kept open: one write per window
                self._fd = os.open(self._clear_refs, os.O_WRONLY | getattr(os, "O_CLOEXEC", 0))  # type: ignore
                self._fd_pid = os.getpid()
            os.write(self._fd, b"5")
            return True
        except OSError:
            self._can_reset = False
            return False

    def _fold(self) -> int:
        mark = max_rss_bytes()
        for w in self._open:
            if mark > w.peak:
                w.peak = mark
        return mark

    def open(self) -> _Window:
        with self._lock:
            if self._can_reset:
                self._fold()  # what the open windows reached before the reset
            reset = self._reset()
            mark = max_rss_bytes()
            # after a reset the mark is the resident set now; without one, the window starts from what it sees
            start = mark if reset else (current_rss_bytes() or 0)
            w = _Window(start, -1 if reset else mark, max_rss_bytes(resource.RUSAGE_CHILDREN))
            self._open.append(w)
            return w

    def saw(self, window: _Window, rss: Optional[int]) -> None:
        """A resident-set sample taken during ``window`` (the sampler's)."""
        if rss is not None and rss > window.peak:
            window.peak = rss

    def close(self, window: _Window) -> int:
        """The window's peak (bytes); the window is closed."""
        with self._lock:
            mark = self._fold() if window.mark_at_start < 0 else max_rss_bytes()
            if window.mark_at_start >= 0 and mark > window.mark_at_start and mark > window.peak:
                window.peak = mark  # the mark rose during the window: that rise happened in it
            if window in self._open:
                self._open.remove(window)
            peak = window.peak
            children = max_rss_bytes(resource.RUSAGE_CHILDREN)
            if children > window.children_at_start:
                peak += children
            return peak
