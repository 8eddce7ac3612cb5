"""The four resources a Flyte task asks for, by every name the layers give them: one table.

========================  ==================  ==================  ===================  ==========================
flytekit field            flyteidl enum       flytekit pod spec   Kubernetes           flyteadmin task_resources
========================  ==================  ==================  ===================  ==========================
``cpu``                   ``CPU`` (1)         ``cpu``             ``cpu``              ``cpu``
``mem``                   ``MEMORY`` (3)      ``memory``          ``memory``           ``memory``
``gpu``                   ``GPU`` (2)         ``gpu``             ``nvidia.com/gpu``   ``gpu``
``ephemeral_storage``     ``EPHEMERAL_STORAGE``  ``ephemeral-storage``  ``ephemeral-storage``  ``ephemeralStorage``
========================  ==================  ==================  ===================  ==========================

- the flyteidl enum is ``flyteidl.core.tasks_pb2.Resources.ResourceName`` (``STORAGE`` (4) and ``UNKNOWN`` (0)
  are not a task's resources: flyteadmin skips them); the numbers are kept here so that reading the table
  imports no protobuf (a test checks them against flyteidl);
- the flytekit pod spec name is what flytekit's ``_sanitize_resource_name`` writes into a pod template's
  resources (the enum's name, lower case, ``_`` -> ``-``);
- the Kubernetes name of ``gpu`` is flytepropeller's ``ToK8sResourceList`` default (its ``gpu-resource-name``
  setting can change it);
- flyteadmin's key is the ``TaskResourceSet`` JSON key; viper delivers it lower-cased (``ephemeralstorage``),
  and the plugin's :class:`~flytekitplugins.resources.platform.TaskResourceSet` attribute is ``attribute``.
"""

from __future__ import annotations

from typing import Dict, NamedTuple, Tuple

__all__ = [
    "ADMIN_ORDER",
    "BY_FIELD",
    "BY_IDL",
    "FIELDS",
    "RESOURCE_NAMES",
    "ResourceName",
]


class ResourceName(NamedTuple):
    """One resource, by the name each layer gives it."""

    field: str  #: flytekit ``Resources`` field: ``mem``
    idl: int  #: ``flyteidl.core.tasks_pb2.Resources.ResourceName``: ``MEMORY`` (3)
    pod_spec: str  #: flytekit's name in a pod template's resources: ``memory``
    k8s: str  #: the Kubernetes resource name flytepropeller writes: ``memory``, ``nvidia.com/gpu``
    admin_key: str  #: flyteadmin's ``task_resources`` key: ``ephemeralStorage``
    attribute: str  #: the plugin's ``TaskResourceSet`` attribute: ``ephemeral_storage``

    @property
    def admin_key_lower(self) -> str:
        """The flyteadmin key as viper delivers it (lower case): ``ephemeralstorage``."""
        return self.admin_key.lower()


#: In flytekit's field order.
RESOURCE_NAMES: Tuple[ResourceName, ...] = (
    ResourceName("cpu", 1, "cpu", "cpu", "cpu", "cpu"),
    ResourceName("mem", 3, "memory", "memory", "memory", "memory"),
    ResourceName("gpu", 2, "gpu", "nvidia.com/gpu", "gpu", "gpu"),
    ResourceName("ephemeral_storage", 5, "ephemeral-storage", "ephemeral-storage", "ephemeralStorage",
                 "ephemeral_storage"),
)

#: The fields of ``Resources``, in declaration order.
FIELDS: Tuple[str, ...] = tuple(r.field for r in RESOURCE_NAMES)
BY_FIELD: Dict[str, ResourceName] = {r.field: r for r in RESOURCE_NAMES}
BY_IDL: Dict[int, ResourceName] = {r.idl: r for r in RESOURCE_NAMES}
#: In the field order of flyteadmin's ``TaskResourceSet`` (cpu, gpu, memory, ephemeral storage).
ADMIN_ORDER: Tuple[ResourceName, ...] = tuple(BY_FIELD[f] for f in ("cpu", "gpu", "mem", "ephemeral_storage"))
