"""The exit statuses of every ``flyte-resources`` command, and the exceptions that carry them (click's own)."""

from __future__ import annotations

from typing import IO, Any, Iterable, Optional

import click

__all__ = ["EXIT_ERRORS", "EXIT_INPUT", "EXIT_OK", "InputError", "Refused", "exit_for"]

EXIT_OK = 0  #: nothing is refused
EXIT_ERRORS = 1  #: a finding is an error: flyteadmin, flytepropeller, Kubernetes or the policy refuses something
EXIT_INPUT = 2  #: an input cannot be read (a file, a key in it, a module, an option's value)


class _OneLine(click.ClickException):
    def show(self, file: Optional[IO[Any]] = None) -> None:
        message = self.format_message()
        click.echo(message if message.startswith("error") else f"error: {message}", err=True, file=file)


class InputError(_OneLine):
    """An input that cannot be read: one line on stderr naming the file and the key, exit status 2."""

    exit_code = EXIT_INPUT


class Refused(_OneLine):
    """A value refused while reading the target (the plugin's own validation): one line, exit status 1."""

    exit_code = EXIT_ERRORS


def exit_for(levels: Iterable[str]) -> None:
    """End the command: status 1 when one of the findings' levels is an error, else 0."""
    raise click.exceptions.Exit(EXIT_ERRORS if any(level == "error" for level in levels) else EXIT_OK)
