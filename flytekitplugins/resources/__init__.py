"""flytekitplugins-resources: every Flyte task's compute resources, correct before they leave the laptop.

Installing the package is enough: on ``import flytekit`` it routes flytekit's resource
serialization through this plugin (set ``FLYTEKITPLUGINS_RESOURCES_DISABLE=1`` to keep it off).

Exports:

- ``Quantity``, ``ResourceValidationError``: Kubernetes quantities, parsed exactly as apimachinery does
- ``Resources``, ``ResourceSpec``, ``ResourceValueWarning``: validated drop-ins for flytekit's classes
  (``Resources(gpu="A100:2")`` names the accelerator and the count at once)
- ``convert_resources_to_resource_model``, ``construct_extended_resources``: to flyteidl
- ``pod_spec_from_resources``: to a Kubernetes pod spec; ``pod``: pod-template helpers
- ``Accelerator`` and the catalog constants ``T4 L4 L40S A10 A10G V100 A100 A100_80GB H100 H200 B200
  RTX_PRO_6000 TPU_V5E TPU_V5P TPU_V6E INFERENTIA2 TRAINIUM1 TRAINIUM2 MI250X MI300X MI325X``
  (module ``accelerators``)
- ``SHARED_MEMORY_MOUNT_NAME``, ``SHARED_MEMORY_MOUNT_PATH``, ``BaseAccelerator``: flytekit's own
- ``activate``, ``deactivate``, ``is_active``, ``FlytekitResourcesCompatibilityWarning``: the hook
- ``__version__``

The names are imported when first used: ``import flytekitplugins.resources`` alone imports neither flytekit nor
kubernetes (the ``flyte-resources`` command relies on it). The hook is activated by ``import flytekit`` (its
entry point), or at once when flytekit is already imported.

Modules imported on demand (never by the hook; ``import flytekit`` stays as cheap):

- ``platform``: Flyte's platform configuration (``load_platform``); ``findings``: ``Finding``
- ``preview``: the pods flyteadmin and flytepropeller 1.16 build (``preview_entities``)
- ``preflight``: LimitRange, ResourceQuota, node fit and the project's policy (``preflight``, ``load_policy``)
- ``cli``: ``flyte-resources preview | check | report``; ``report``: what a package will register
- ``usage``: measuring every task run (the hook calls it around ``PythonTask.dispatch_execute``; one record line
  in the task's log, ``FLYTEKITPLUGINS_RESOURCES_USAGE=off`` to stop it)
"""

from __future__ import annotations

import importlib as _importlib
import sys as _sys
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence

from ._version import __version__

if TYPE_CHECKING:  # what the lazy attributes below are, for type checkers and IDEs
    from flytekit.extras.accelerators import BaseAccelerator

    from . import accelerators, pod
    from .accelerators import (
        A10,
        A10G,
        A100,
        A100_80GB,
        B200,
        H100,
        H200,
        INFERENTIA2,
        L4,
        L40S,
        MI250X,
        MI300X,
        MI325X,
        RTX_PRO_6000,
        T4,
        TPU_V5E,
        TPU_V5P,
        TPU_V6E,
        TRAINIUM1,
        TRAINIUM2,
        V100,
        Accelerator,
    )
    from .convert import (
        SHARED_MEMORY_MOUNT_NAME,
        SHARED_MEMORY_MOUNT_PATH,
        construct_extended_resources,
        convert_resources_to_resource_model,
    )
    from .errors import ResourceValidationError
    from .hooks import FlytekitResourcesCompatibilityWarning, activate, deactivate, is_active
    from .pod import pod_spec_from_resources
    from .quantity import Quantity
    from .resources import Resources, ResourceSpec, ResourceValueWarning

__all__ = [
    "__version__",
    "A10",
    "A10G",
    "A100",
    "A100_80GB",
    "B200",
    "H100",
    "H200",
    "INFERENTIA2",
    "L4",
    "L40S",
    "MI250X",
    "MI300X",
    "MI325X",
    "RTX_PRO_6000",
    "SHARED_MEMORY_MOUNT_NAME",
    "SHARED_MEMORY_MOUNT_PATH",
    "T4",
    "TPU_V5E",
    "TPU_V5P",
    "TPU_V6E",
    "TRAINIUM1",
    "TRAINIUM2",
    "V100",
    "Accelerator",
    "BaseAccelerator",
    "FlytekitResourcesCompatibilityWarning",
    "Quantity",
    "ResourceSpec",
    "ResourceValidationError",
    "ResourceValueWarning",
    "Resources",
    "accelerators",
    "activate",
    "construct_extended_resources",
    "convert_resources_to_resource_model",
    "deactivate",
    "is_active",
    "pod",
    "pod_spec_from_resources",
]

DISABLE_ENV_VAR = "FLYTEKITPLUGINS_RESOURCES_DISABLE"

# Where each exported name lives. The package root imports none of them until one is used, so that
# `flyte-resources --help` and the preview of a package archive never import flytekit or kubernetes.
_EXPORTS: Dict[str, str] = {
    **{name: "accelerators" for name in (
        "A10", "A10G", "A100", "A100_80GB", "B200", "H100", "H200", "INFERENTIA2", "L4", "L40S", "MI250X",
        "MI300X", "MI325X", "RTX_PRO_6000", "T4", "TPU_V5E", "TPU_V5P", "TPU_V6E", "TRAINIUM1", "TRAINIUM2", "V100",
        "Accelerator",
    )},
    **{name: "convert" for name in (
        "SHARED_MEMORY_MOUNT_NAME", "SHARED_MEMORY_MOUNT_PATH", "construct_extended_resources",
        "convert_resources_to_resource_model",
    )},
    **{name: "hooks" for name in ("FlytekitResourcesCompatibilityWarning", "activate", "deactivate", "is_active")},
    "pod_spec_from_resources": "pod",
    "Quantity": "quantity",
    "ResourceValidationError": "errors",
    **{name: "resources" for name in ("Resources", "ResourceSpec", "ResourceValueWarning")},
}

# The modules (dotted, under this package) that import flytekit, directly or through each other: the hook's
# activation imports them, so flytekit has to be imported before any of them starts executing (_FlytekitFirst).
# tests/test_hooks.py derives this set from the sources.
NEEDS_FLYTEKIT = frozenset({"accelerators", "convert", "hooks", "pod", "resources",
                            # right-sizing reads the accelerator catalog (MIG profiles)
                            "recommend", "recommend.apply", "recommend.engine", "recommend.rules"})


def __getattr__(name: str) -> Any:
    if name == "BaseAccelerator":
        from flytekit.extras.accelerators import BaseAccelerator

        return BaseAccelerator
    module = _EXPORTS.get(name)
    if module is None:
        if name in ("accelerators", "pod"):
            return _importlib.import_module(f"{__name__}.{name}")
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(_importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> List[str]:
    return sorted(set(globals()) | set(__all__))


def activate_unless_disabled() -> None:
    """Activate the hook unless ``$FLYTEKITPLUGINS_RESOURCES_DISABLE`` says not to (what ``import flytekit``
    does through the entry point). A failure to patch is one warning; an import error propagates, for the entry
    point to turn into its own warning."""
    import os
    import warnings

    if os.environ.get(DISABLE_ENV_VAR, "").strip().lower() in ("1", "true", "yes"):
        return
    from . import hooks

    try:
        hooks.activate()
    except Exception as e:  # never break `import flytekit`
        warnings.warn(f"flytekitplugins-resources could not activate: {e!r}",
                      hooks.FlytekitResourcesCompatibilityWarning, stacklevel=2)


class _Loaded:
    """A loader for a module that importing flytekit has just imported in full (the hook's activation needs it):
    the import in progress gets that module instead of executing the file a second time."""

    def __init__(self, module: Any) -> None:
        self.module, self.spec = module, module.__spec__

    def create_module(self, spec: Any) -> Any:
        return self.module

    def exec_module(self, module: Any) -> None:
        module.__spec__ = self.spec  # the module's own spec again (importlib.reload uses it)


class _FlytekitFirst:
    """Imports flytekit before the first of the plugin's flytekit-dependent modules starts executing.

    ``import flytekit`` runs this plugin's entry point, which activates the hook, which imports those modules: had
    one of them started first, the activation would find it half-executed. Installed only while flytekit is not
    imported; removes itself once it is."""

    @classmethod
    def find_spec(cls, fullname: str, path: Optional[Sequence[str]] = None, target: Any = None) -> Any:
        if "flytekit" in _sys.modules:
            cls.remove()
            return None
        if not fullname.startswith(__name__ + ".") or fullname[len(__name__) + 1:] not in NEEDS_FLYTEKIT:
            return None
        cls.remove()
        import flytekit  # noqa: F401  (runs the entry point, which activates the hook)

        if "flytekitplugins.resources_entrypoint" not in _sys.modules:  # not installed: no entry point
            activate_unless_disabled()
        module = _sys.modules.get(fullname)
        if module is None:
            return None
        import importlib.util

        return importlib.util.spec_from_loader(fullname, _Loaded(module), origin=getattr(module.__spec__, "origin",
                                                                                         None))

    @classmethod
    def remove(cls) -> None:
        try:
            _sys.meta_path.remove(cls)  # type: ignore[arg-type]
        except ValueError:
            pass


if "flytekit" in _sys.modules:
    # flytekit is imported (or being imported: its entry point is what imports this package): activate now
    activate_unless_disabled()
else:
    # flytekit's entry point activates the hook when flytekit is imported
    _sys.meta_path.insert(0, _FlytekitFirst)  # type: ignore[arg-type]
