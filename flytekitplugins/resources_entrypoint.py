"""flytekit's entry point for flytekitplugins-resources.

flytekit imports every ``flytekit.plugins`` entry point at the end of ``import flytekit`` and does
not catch errors. This module imports (and so activates) the plugin, and turns any failure into one
warning, so that ``import flytekit`` never breaks, whatever a future flytekit changes.
"""

import warnings

try:
    import flytekitplugins.resources  # noqa: F401  (activates unless FLYTEKITPLUGINS_RESOURCES_DISABLE=1)
except Exception as e:  # pragma: no cover - exercised in a subprocess test
    warnings.warn(
        f"flytekitplugins-resources could not be loaded ({e!r}); flytekit runs without it",
        UserWarning,
        stacklevel=2,
    )
