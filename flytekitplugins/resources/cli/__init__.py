"""``flyte-resources``: preview the pods Flyte 1.16 builds, check tasks in CI, report a package.

::

    flyte-resources preview TARGET [--platform FILE]... [--pod-template FILE]... [--task NAME]
                                   [--policy FILE | --no-policy] [--project P] [--domain D]
                                   [--output table|yaml|json]
    flyte-resources check   TARGET [--platform FILE]... [--pod-template FILE]... [--policy FILE | --no-policy]
                                   [--project P] [--domain D] [--output table|json]
    flyte-resources report  PACKAGE
    flyte-resources --version

With a policy (``--policy``, ``$FLYTEKITPLUGINS_RESOURCES_POLICY``, or ``[tool.flytekitplugins-resources]`` in
the nearest ``pyproject.toml``), the pods are also checked against the cluster's LimitRanges, ResourceQuotas
and node groups and the project's rules (``preflight``), and the platform files it names are loaded first.

TARGET is a ``pyflyte package`` archive (or a folder of ``.pb`` files), or, like pyflyte's ``--pkgs``,
one or more importable modules or packages (comma-separated) from the current directory, serialized
here as ``pyflyte package`` would, with the plugin active.

Exit status, the same for every command: 0 when nothing is refused; 1 when a finding is an error (flyteadmin,
flytepropeller or Kubernetes will refuse it, or the plugin refused a value while serializing); 2 when an input
cannot be read (one line naming the file and the key, never a traceback).

Layout: ``errors`` (exit statuses, click exceptions), ``load`` (targets, platform, policy, flytekit's log),
``render`` (tables, findings, YAML, JSON: the only module of the plugin that prints), one module per command
(``preview``: preview and check; ``report``), each registered on :data:`main` below. ``--help``, ``--version``
and every command on an archive import neither flytekit nor kubernetes; the hook never imports this package.
"""

from __future__ import annotations

import click

from .._version import __version__
from .errors import EXIT_ERRORS, EXIT_INPUT, EXIT_OK, InputError
from .preview import TARGET_HELP, check, preview
from .recommend import recommend
from .report import report

__all__ = ["EXIT_ERRORS", "EXIT_INPUT", "EXIT_OK", "InputError", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, help=f"""Preview and check the pods
Flyte 1.16 builds from your tasks, offline: flyteadmin's defaults and refusals, flytepropeller's pod, and with a
policy the cluster's LimitRanges, ResourceQuotas and node groups.

{TARGET_HELP}

\b
Exit status (every command): 0 nothing is refused; 1 a finding is an error; 2 an input cannot be read.""")
@click.version_option(__version__, "--version", prog_name="flyte-resources", message="%(prog)s %(version)s")
def main() -> None:
    pass


# One command per module; a new one is written as cli/<name>.py and added here.
for _command in (preview, check, report, recommend):
    main.add_command(_command)
