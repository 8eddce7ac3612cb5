"""``python -m flytekitplugins.resources``: the ``flyte-resources`` command."""

from .cli import main

if __name__ == "__main__":
    main(prog_name="flyte-resources")
