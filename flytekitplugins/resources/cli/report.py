"""``flyte-resources report``: per task and overridden node, what a package will register."""

from __future__ import annotations

import click

from .errors import InputError

__all__ = ["report"]


@click.command(help="""Per task and per overridden node of PACKAGE: the requests, limits, accelerator and
shared memory it will register, as serialized (before Flyte's defaults and clamps: `preview` shows those).

\b
PACKAGE is a `pyflyte package` archive (flyte-package.tgz) or a folder of its .pb files.

\b
Exit status: 0 printed; 2 the package cannot be read (one line naming the file and the member).""",
               short_help="What PACKAGE will register: requests, limits, accelerator, shared memory.")
@click.argument("package")
def report(package: str) -> None:
    from ..report import ReportError
    from ..report import report as report_text

    try:
        text = report_text(package)
    except ReportError as e:
        raise InputError(str(e)) from None
    click.echo(text)
