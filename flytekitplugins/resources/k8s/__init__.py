"""Kubernetes basics that the preview and the preflight both stand on, and nothing above them.

- :mod:`.names`: qualified names, DNS-1123 labels and subdomains, native, extended and hugepages resource
  names, each with Kubernetes' own error messages and a yes/no derived from them;
- :mod:`.resourcenames`: one table of the four resources a task asks for, by flytekit field, flyteidl enum,
  Kubernetes name and flyteadmin configuration key;
- :mod:`.manifest`: reading manifests, and YAML as Flyte (yaml.v3) reads it, with one-line errors naming the
  file and the key;
- :mod:`.podresources`: a pod's containers and their effective requests and limits (init containers,
  sidecars, pod-level resources), added and maxed as Kubernetes does.

Nothing here imports flytekit or kubernetes.
"""
