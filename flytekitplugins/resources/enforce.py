"""The project's policy, enforced while flytekit serializes a task (``pyflyte package``, ``register``,
``run --remote``).

The hook calls :func:`check_task` with each serialized task. When a policy is found
(``$FLYTEKITPLUGINS_RESOURCES_POLICY``, or ``[tool.flytekitplugins-resources]`` in the nearest
``pyproject.toml``), the task's pods are previewed and preflighted; an error stops the command with a
:class:`ResourceValidationError` listing every refusal, and each warning is printed once to stderr. Without a
policy this costs one cached lookup per task, and nothing here imports the preview until a policy is found.
"""

from __future__ import annotations

import contextlib
import os
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
    key = (os.getcwd(), os.environ.get("FLYTEKITPLUGINS_RESOURCES_POLICY"))
    with _lock:
        if key in _cache:
            return _cache[key]
    from .preflight.policy import find_policy

    found = find_policy()
    if found is None:
        value: Tuple[Any, Any] = (None, None)
    else:
        from .preflight.policy import load_policy, platform_from

        policy = load_policy(*found)
        value = (policy, platform_from(policy))
    with _lock:
        _cache[key] = value
    return value


def _known(value: Optional[str]) -> Optional[str]:
    """A project or domain, unless it is pyflyte package's ``{{ registration.project }}`` placeholder."""
    return value if value and "{{" not in value else None


def check_task(task_spec: Any, settings: Any) -> None:
    """Preview and preflight one serialized task (a flytekit ``TaskSpec`` model) against the policy."""
    if getattr(_suspended, "depth", 0):
        return
    policy, platform = _policy()
    if policy is None:
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
            text = _strip(f.message, name)
            if f.level == "error":
                if text not in errors:
                    errors.append(text)
            elif f.level == "warning" and f.message not in _warned:
                _warned.add(f.message)
                print(f"flytekitplugins-resources: warning: {f.message}", file=sys.stderr)
    if errors:
        lines = "\n  ".join(errors)
        raise ResourceValidationError(
            f"refused by the policy in {policy.source} (`flyte-resources check` shows every finding):\n  {lines}",
            task=name,
        )


def _strip(message: str, task: str) -> str:
    prefix = f"task '{task}'"
    if message.startswith(prefix + ": "):
        return message[len(prefix) + 2:]
    if message.startswith(prefix + ", "):
        return message[len(prefix) + 2:]
    return message
