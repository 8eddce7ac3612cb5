"""Measuring what a running task used.

- ``record``: the usage record and its log line (``UsageRecord``, ``format_line``, ``parse_line``, ``PREFIX``)
- ``cgroup``: the process's cgroup (v1 and v2) found from ``/proc``, and readers of its usage and limits
- ``process``: ``getrusage`` figures and the per-task resident high-water mark
- ``gpu``: NVML peaks per device
- ``measure``: ``Meter``, one measured window, and the process's sampler thread
- ``deck``: the "Resources" deck's HTML
- ``task``: ``begin``/``end``, what the hook calls around ``PythonTask.dispatch_execute``

Nothing here is imported by ``import flytekit``; the hook imports ``task`` at the first task run.
"""
