"""Flyte's platform configuration, as platform teams write it, loaded and merged over Flyte's defaults.
Inputs are the YAML files Flyte's Helm values and config maps already hold:

- flytepropeller's ``plugins: k8s: {...}`` (``flyteplugins/go/tasks/pluginmachinery/flytek8s/config/config.go``
  at flyte v1.16.8: the JSON names of ``K8sPluginConfig``);
- flyteadmin's ``task_resources: {defaults: {...}, limits: {...}}``
  (``flyteadmin/pkg/runtime/task_resource_provider.go``: ``cpu``, ``gpu``, ``memory``, ``ephemeralStorage``);
- base pod templates: Kubernetes ``PodTemplate`` manifests (``kind: PodTemplate``), by ``metadata.name``.

Also accepted: the same sections inside flyte-core / flyte-binary / flyte-sandbox / flyte Helm values and
inside rendered ConfigMaps (see :func:`load_platform` for the shapes). Several files merge in order as
flytestdlib merges its ``--config`` files (mappings merge key by key, lists and scalars replace). With none,
Flyte's own built-in defaults apply (the defaults of the dataclasses below, checked against config.go and
task_resource_provider.go at v1.16.8). Kubernetes objects inside the
configuration (tolerations, affinity, security contexts, pod templates) are kept as JSON dicts with
Kubernetes' JSON field names, so nothing here imports ``kubernetes``.

An unknown key, a bad quantity or a malformed manifest is a ``ResourceValidationError`` naming the file
and the key. Nothing below this package uses it.

The parts, each using only those before it:

- :mod:`.model`: what a loaded configuration is (:class:`Platform`, :class:`K8sConfig`, ...), Flyte's defaults,
  and each ``plugins.k8s`` key described once (a :class:`K8sConfig` field and its kind);
- :mod:`.values`: the error form and the value readers the parts share;
- :mod:`.sections`: the ``plugins.k8s`` and ``task_resources`` section parsers;
- :mod:`.podtemplates`: PodTemplate manifests, checked;
- :mod:`.merge`: the layers merged as flytestdlib merges its files (pure);
- :mod:`.loader`: reading files and routing each document (config file, Helm values, ConfigMap, PodTemplate)
  to the parsers; :func:`load_platform`.
"""

from .loader import load_platform
from .model import K8S_KEYS, JSONDict, K8sConfig, Platform, TaskResources, TaskResourceSet

__all__ = ["K8S_KEYS", "JSONDict", "K8sConfig", "Platform", "TaskResourceSet", "TaskResources", "load_platform"]
