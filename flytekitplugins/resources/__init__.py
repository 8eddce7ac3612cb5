"""flytekitplugins-resources: every Flyte task's compute resources, correct before they leave the laptop.

Installing the package is enough: on ``import flytekit`` it routes flytekit's resource
serialization through this plugin (set ``FLYTEKITPLUGINS_RESOURCES_DISABLE=1`` to keep it off).

Exports:

- ``Quantity``, ``ResourceValidationError``: Kubernetes quantities, parsed exactly as apimachinery does
- ``Resources``, ``ResourceSpec``, ``ResourceValueWarning``: validated drop-ins for flytekit's classes
- ``convert_resources_to_resource_model``, ``construct_extended_resources``: to flyteidl
- ``pod_spec_from_resources``: to a Kubernetes pod spec
- ``SHARED_MEMORY_MOUNT_NAME``, ``SHARED_MEMORY_MOUNT_PATH``, ``BaseAccelerator``: flytekit's own
- ``activate``, ``deactivate``, ``is_active``: the hook
"""

import os as _os
import warnings as _warnings

from flytekit.extras.accelerators import BaseAccelerator

from .convert import (
    SHARED_MEMORY_MOUNT_NAME,
    SHARED_MEMORY_MOUNT_PATH,
    construct_extended_resources,
    convert_resources_to_resource_model,
)
from .hooks import FlytekitResourcesCompatibilityWarning, activate, deactivate, is_active
from .pod import pod_spec_from_resources
from .quantity import Quantity, ResourceValidationError
from .resources import Resources, ResourceSpec, ResourceValueWarning

__all__ = [
    "SHARED_MEMORY_MOUNT_NAME",
    "SHARED_MEMORY_MOUNT_PATH",
    "BaseAccelerator",
    "FlytekitResourcesCompatibilityWarning",
    "Quantity",
    "ResourceSpec",
    "ResourceValidationError",
    "ResourceValueWarning",
    "Resources",
    "activate",
    "construct_extended_resources",
    "convert_resources_to_resource_model",
    "deactivate",
    "is_active",
    "pod_spec_from_resources",
]

DISABLE_ENV_VAR = "FLYTEKITPLUGINS_RESOURCES_DISABLE"

if _os.environ.get(DISABLE_ENV_VAR, "").strip().lower() not in ("1", "true", "yes"):
    try:
        activate()
    except Exception as _e:  # never break `import flytekit`
        _warnings.warn(
            f"flytekitplugins-resources could not activate: {_e!r}", FlytekitResourcesCompatibilityWarning, stacklevel=2
        )
