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

Modules imported on demand (never by the hook; ``import flytekit`` stays as cheap):

- ``platform``: Flyte's platform configuration (``load_platform``); ``findings``: ``Finding``
- ``preview``: the pods flyteadmin and flytepropeller 1.16 build (``preview_entities``)
- ``preflight``: LimitRange, ResourceQuota, node fit and the project's policy (``preflight``, ``load_policy``)
- ``cli``: ``flyte-resources preview | check | report``; ``report``: what a package will register
- ``usage``: measuring every task run (the hook calls it around ``PythonTask.dispatch_execute``; one record line
  in the task's log, ``FLYTEKITPLUGINS_RESOURCES_USAGE=off`` to stop it)
"""

import os as _os
import warnings as _warnings

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

if _os.environ.get(DISABLE_ENV_VAR, "").strip().lower() not in ("1", "true", "yes"):
    try:
        activate()
    except Exception as _e:  # never break `import flytekit`
        _warnings.warn(
            f"flytekitplugins-resources could not activate: {_e!r}", FlytekitResourcesCompatibilityWarning, stacklevel=2
        )
