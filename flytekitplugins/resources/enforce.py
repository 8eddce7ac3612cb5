"""The project's policy, enforced while flytekit serializes a task (``pyflyte package``, ``register``,
``run --remote``).

The hook calls :func:`check_task` with each serialized task. When a policy is found
(``$FLYTEKITPLUGINS_RESOURCES_POLICY``, or ``[tool.flytekitplugins-resources]`` in the nearest
``pyproject.toml``), the task's pods are previewed and preflighted; an error stops the command with a
:class:`ResourceValidationError` listing every refusal, and each warning is printed once to stderr. The policy is
looked up once per process (from the current directory when the first task is serialized); without one this
costs one dictionary lookup per task, and nothing here imports the preview until a policy is found.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from typing import Any, Iterator, Optional, Set, Tuple

from .quantity import ResourceValidationError

__all__ = ["check_task", "reset", "suspended"]

_lock = threading.Lock()
_cache: dict = {}
_warned: Set[str] = set()
_suspended = threading.local()


@contextlib.contextmanager
def suspended() -> Iterator[None]:
    """No policy checks while serializing in this block (``flyte-resources check`` runs them all itself)."""
    depth = getattr(_suspended, "depth", 0)
    _suspended.depth = depth + 1
    try:
        yield
    finally:
        _suspended.depth = depth


def reset() -> None:
    """Forget the loaded policy and the warnings printed (for a changed policy file, and for tests)."""
    with _lock:
        _cache.clear()
        _warned.clear()


def _policy() -> Tuple[Any, Any]:
    """The policy and its platform, looked up once per process (``reset()`` looks again): the hook runs this
    for every task serialized, so it must cost next to nothing when there is no policy."""
    found = _cache.get("policy")
    if found is not None:
        return found
    with _lock:
        if "policy" not in _cache:
            from .preflight.policy import find_policy

            located = find_policy()
            if located is None:
                _cache["policy"] = (None, None)
            else:
                from .preflight.policy import load_policy, platform_from

                policy = load_policy(*located)
                _cache["policy"] = (policy, platform_from(policy))
        return _cache["policy"]


def _known(value: Optional[str]) -> Optional[str]:
    """A project or domain, unless it is pyflyte package's ``{{ registration.project }}`` placeholder."""
    return value if value and "{{" not in value else None


def check_task(task_spec: Any, settings: Any) -> None:
    """Preview and preflight one serialized task (a flytekit ``TaskSpec`` model) against the policy."""
    policy, platform = _cache.get("policy") or _policy()
    if policy is None or getattr(_suspended, "depth", 0):
        return
    from .preflight import preflight
    from .preview import preview_entities

    template = task_spec.template.to_flyte_idl()
    project = _known(getattr(settings, "project", None)) or policy.project
    domain = _known(getattr(settings, "domain", None)) or policy.domain
    previews = preview_entities([template], platform, project=project, domain=domain)
    previews = preflight(previews, policy, platform, project=project, domain=domain)
    name = template.id.name
    errors = []
    for p in previews:
        for f in p.findings:
            if f.level == "error":
                text = f.text(with_task=False)  # the error below names the task
                if text not in errors:
                    errors.append(text)
            elif f.level == "warning":
                text = f.text()
                if text not in _warned:
                    _warned.add(text)
                    print(f"flytekitplugins-resources: warning: {text}", file=sys.stderr)
    if errors:
        lines = "\n  ".join(errors)
        raise ResourceValidationError(
            f"refused by the policy in {policy.source} (`flyte-resources check` shows every finding):\n  {lines}",
            task=name,
        )
