"""flytekit's entry point for flytekitplugins-resources.

flytekit imports every ``flytekit.plugins`` entry point at the end of ``import flytekit`` and does
not catch errors. This module activates the plugin (unless ``FLYTEKITPLUGINS_RESOURCES_DISABLE=1``), also when
``flytekitplugins.resources`` was imported before flytekit (its root imports nothing heavy and activates nothing
by itself then), and turns any failure into one warning, so that ``import flytekit`` never breaks, whatever a
future flytekit changes.
"""

import warnings

try:
    import flytekitplugins.resources as _plugin

    _plugin.activate_unless_disabled()
except Exception as e:  # pragma: no cover - exercised in a subprocess test
    warnings.warn(
        f"flytekitplugins-resources could not be loaded ({e!r}); flytekit runs without it",
        UserWarning,
        stacklevel=2,
    )
