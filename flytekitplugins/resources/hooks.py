"""The hook: the only module that touches flytekit internals.

``CALL_SITES`` below lists every place this plugin routes. ``activate()`` points each at the
plugin's implementation, ``deactivate()`` puts back the exact objects stock flytekit had.
Both are idempotent and thread-safe. Before patching a site the stock object is checked
(it must be the function flytekit defines, with the parameters this plugin expects); a site
that does not match is left stock, with one ``FlytekitResourcesCompatibilityWarning``.

Besides the listed modules, any other loaded ``flytekit*`` module (flytekit itself or a
``flytekitplugins.*`` package this table does not know) that imported one of the routed
functions by name is routed too: activation looks there for the stock function object,
deactivation for the plugin's. User modules are never rewritten.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import os
import sys
import threading
import warnings
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Tuple

from . import convert, enforce, pod, resources
from .quantity import ResourceValidationError

__all__ = ["CALL_SITES", "FlytekitResourcesCompatibilityWarning", "activate", "deactivate", "is_active"]


class FlytekitResourcesCompatibilityWarning(UserWarning):
    """A flytekit call site did not look as expected and was left stock."""


class Routed(NamedTuple):
    """One thing the plugin routes: where flytekit defines it and what replaces it."""

    key: str
    module: str  # the flytekit module that defines it
    path: str  # "name" or "Class.name"
    params: Tuple[str, ...]  # the stock object's parameter names, checked before patching
    make: Callable[[Any], Any]  # stock object -> replacement object


class CallSite(NamedTuple):
    """A module attribute that holds a routed object (the defining module, or one that imported it)."""

    module: str
    path: str
    key: str


def _describe_task(entity: Any) -> Optional[str]:
    return getattr(entity, "name", None)


def _describe_node(node: Any) -> Optional[str]:
    entity = getattr(node, "flyte_entity", None)
    name = getattr(entity, "name", None)
    node_id = getattr(node, "id", None)
    if name and node_id:
        return f"{name} (node {node_id})"
    return name or node_id


def _naming(describe: Callable[[Any], Optional[str]], position: int) -> Callable[[Any], Any]:
    """A wrapper factory: errors raised inside name the task found in argument ``position``."""

    def make(stock: Callable) -> Callable:
        @functools.wraps(stock)
        def named(*args, **kwargs):
            try:
                return stock(*args, **kwargs)
            except ResourceValidationError as e:
                if e.task is not None:
                    raise
                target = args[position] if len(args) > position else kwargs.get("entity")
                raise e.with_context(task=describe(target)).with_traceback(e.__traceback__) from None

        named.__flytekitplugins_resources__ = True
        return named

    return make


def _constant(replacement: Any) -> Callable[[Any], Any]:
    return lambda stock: replacement


def _node_overrides(stock: Callable) -> Callable:
    """``Node.with_overrides``: resolve the accelerator a ``gpu=`` override names, name the task in errors."""
    signature = inspect.signature(stock)

    @functools.wraps(stock)
    def with_overrides(self, *args, **kwargs):
        try:
            bound = signature.bind(self, *args, **kwargs)
            convert.resolve_override_arguments(bound.arguments, self)
            return stock(*bound.args, **bound.kwargs)
        except ResourceValidationError as e:
            if e.task is not None:
                raise
            raise e.with_context(task=_describe_node(self)).with_traceback(e.__traceback__) from None

    return with_overrides


def _task_with_policy(stock: Callable) -> Callable:
    """``get_serializable_task``: errors name the task, and the project's policy (when there is one) is enforced
    on what was serialized (``enforce.check_task``)."""
    named = _naming(_describe_task, 2)(stock)

    @functools.wraps(stock)
    def serializable_task(*args, **kwargs):
        spec = named(*args, **kwargs)
        settings = args[1] if len(args) > 1 else kwargs.get("settings")
        try:
            enforce.check_task(spec, settings)
        except ResourceValidationError as e:
            if e.task is not None:
                raise
            target = args[2] if len(args) > 2 else kwargs.get("entity")
            raise e.with_context(task=_describe_task(target)) from None
        return spec

    serializable_task.__flytekitplugins_resources__ = True
    return serializable_task


def _measured_dispatch(stock: Callable) -> Callable:
    """``PythonTask.dispatch_execute``: the task's run, measured (``usage.task``: never fails the task, never
    changes what it returns; ``FLYTEKITPLUGINS_RESOURCES_USAGE=off`` skips it)."""

    @functools.wraps(stock)
    def dispatch_execute(self, ctx, input_literal_map):
        from .usage import task as usage

        window = usage.begin(self, ctx)
        if window is None:
            return stock(self, ctx, input_literal_map)
        try:
            result = stock(self, ctx, input_literal_map)
        except BaseException as e:
            usage.end(window, e)
            raise
        if inspect.iscoroutine(result):
            return _finish_later(result, window, usage)
        usage.end(window)
        return result

    dispatch_execute.__flytekitplugins_resources__ = True
    return dispatch_execute


async def _finish_later(coroutine: Any, window: Any, usage: Any) -> Any:
    try:
        result = await coroutine
    except BaseException as e:
        usage.end(window, e)
        raise
    usage.end(window)
    return result


_STOCK_SIGNATURE = ("entity_mapping", "settings", "entity", "options")

#: What is routed, keyed by name.
ROUTED: Dict[str, Routed] = {
    r.key: r
    for r in (
        Routed("Resources.__post_init__", "flytekit.core.resources", "Resources.__post_init__", ("self",),
               _constant(resources.validating_post_init)),
        Routed("ResourceSpec.from_multiple_resource", "flytekit.core.resources", "ResourceSpec.from_multiple_resource",
               ("cls", "resource"), _constant(classmethod(resources.from_multiple_resource))),
        Routed("convert_resources_to_resource_model", "flytekit.core.resources", "convert_resources_to_resource_model",
               ("requests", "limits"), _constant(convert.convert_resources_to_resource_model)),
        Routed("construct_extended_resources", "flytekit.core.resources", "construct_extended_resources",
               ("accelerator", "shared_memory"), _constant(convert.construct_extended_resources)),
        Routed("pod_spec_from_resources", "flytekit.core.resources", "pod_spec_from_resources",
               ("primary_container_name", "requests", "limits", "k8s_gpu_resource_key"),
               _constant(pod.pod_spec_from_resources)),
        Routed("_get_container_definition", "flytekit.core.utils", "_get_container_definition",
               ("image", "resource_spec", "command", "args", "data_loading_config", "environment"),
               _constant(convert.container_definition)),
        Routed("_serialize_pod_spec", "flytekit.core.utils", "_serialize_pod_spec",
               ("pod_template", "primary_container", "settings"), _constant(pod.serialize_pod_spec)),
        Routed("Node.with_overrides", "flytekit.core.node", "Node.with_overrides",
               ("self", "node_name", "aliases", "requests", "limits"), _node_overrides),
        Routed("PythonAutoContainerTask.get_extended_resources", "flytekit.core.python_auto_container",
               "PythonAutoContainerTask.get_extended_resources", ("self", "settings"),
               _constant(convert.get_extended_resources)),
        # the base, for ContainerTask and the other tasks that inherit it
        Routed("Task.get_extended_resources", "flytekit.core.base_task", "Task.get_extended_resources",
               ("self", "settings"), _constant(convert.get_extended_resources)),
        Routed("get_serializable_task", "flytekit.tools.translator", "get_serializable_task", _STOCK_SIGNATURE,
               _task_with_policy),
        Routed("get_serializable_node", "flytekit.tools.translator", "get_serializable_node", _STOCK_SIGNATURE,
               _naming(_describe_node, 2)),
        # the task-execution site (pyflyte-execute, pyflyte-map-execute, pyflyte run): every Python task,
        # map-task children, @dynamic and plugin tasks run in their pod
        Routed("PythonTask.dispatch_execute", "flytekit.core.base_task", "PythonTask.dispatch_execute",
               ("self", "ctx", "input_literal_map"), _measured_dispatch),
    )
}

#: Every module attribute the plugin patches. Modules not yet imported are skipped (when they are
#: imported later they pick up the plugin's function from the defining module).
CALL_SITES: Tuple[CallSite, ...] = tuple(
    [CallSite(r.module, r.path, r.key) for r in ROUTED.values()]
    + [
        CallSite("flytekit.core.node", "convert_resources_to_resource_model", "convert_resources_to_resource_model"),
        CallSite("flytekit.core.node", "construct_extended_resources", "construct_extended_resources"),
        CallSite("flytekit.core.python_auto_container", "construct_extended_resources", "construct_extended_resources"),
        CallSite("flytekit.core.python_auto_container", "_get_container_definition", "_get_container_definition"),
        CallSite("flytekit.core.python_auto_container", "_serialize_pod_spec", "_serialize_pod_spec"),
        CallSite("flytekit.core.container_task", "_get_container_definition", "_get_container_definition"),
        CallSite("flytekit.core.container_task", "_serialize_pod_spec", "_serialize_pod_spec"),
        CallSite("flytekit.core.python_customized_container_task", "_get_container_definition",
                 "_get_container_definition"),
        CallSite("flytekit.tools.translator", "_serialize_pod_spec", "_serialize_pod_spec"),
        CallSite("flytekitplugins.ray.task", "convert_resources_to_resource_model",
                 "convert_resources_to_resource_model"),
        CallSite("flytekitplugins.ray.task", "pod_spec_from_resources", "pod_spec_from_resources"),
        CallSite("flytekitplugins.kfpytorch.task", "convert_resources_to_resource_model",
                 "convert_resources_to_resource_model"),
        CallSite("flytekitplugins.kfmpi.task", "convert_resources_to_resource_model",
                 "convert_resources_to_resource_model"),
        CallSite("flytekitplugins.dask.task", "convert_resources_to_resource_model",
                 "convert_resources_to_resource_model"),
    ]
)

# Module-level functions that other modules import by name (and so may hold a copy of).
_FUNCTION_KEYS = (
    "convert_resources_to_resource_model",
    "construct_extended_resources",
    "pod_spec_from_resources",
    "_get_container_definition",
    "_serialize_pod_spec",
)

class _State:
    """What must outlive a re-import of this plugin (``importlib.reload``, or its modules deleted from
    ``sys.modules`` and imported again): whether it is active, the lock, and every patch applied with
    the stock object it replaced. It is kept on flytekit's own ``flytekit.core.resources`` module, so a
    re-imported ``hooks`` finds the patches an earlier copy applied and ``deactivate()`` restores them."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.active = False
        # (holder, attribute, stock object as found in holder.__dict__, replacement)
        self.applied: List[Tuple[Any, str, Any, Any]] = []
        # key -> (stock, replacement) of the routed functions, for modules that imported them by name
        self.functions: Dict[str, Tuple[Any, Any]] = {}


_STATE_ATTRIBUTE = "__flytekitplugins_resources_state__"


def _shared_state() -> _State:
    import flytekit.core.resources as holder

    state = getattr(holder, _STATE_ATTRIBUTE, None)
    if state is None or not all(hasattr(state, a) for a in ("lock", "active", "applied", "functions")):
        state = _State()
        setattr(holder, _STATE_ATTRIBUTE, state)
    return state


_state = _shared_state()


def _reinit_lock_after_fork() -> None:
    """In a forked child the lock may be held by a thread that does not exist there: start afresh."""
    _shared_state().lock = threading.RLock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reinit_lock_after_fork)

_warned: set = set()
_applied = _state.applied  # the same list as the shared state's (tests and tools read it here)
_replacements: Dict[str, Any] = {}
_stock: Dict[str, Any] = {}


def _warn_once(key: str, message: str) -> None:
    if key not in _warned:
        _warned.add(key)
        warnings.warn(
            f"flytekitplugins-resources: {message}; that path is left as stock flytekit has it",
            FlytekitResourcesCompatibilityWarning,
            stacklevel=3,
        )


def _resolve(module_name: str, path: str) -> Tuple[Any, str]:
    """(object that holds the attribute, attribute name) for a loaded module; KeyError if not loaded."""
    holder: Any = sys.modules[module_name]
    *owners, attr = path.split(".")
    for owner in owners:
        holder = getattr(holder, owner)
    return holder, attr


def _raw(holder: Any, attr: str) -> Any:
    """The attribute as stored (a classmethod object, not the bound method)."""
    return holder.__dict__[attr] if isinstance(holder, type) else getattr(holder, attr)


def _parameters(obj: Any) -> Tuple[str, ...]:
    func = obj.__func__ if isinstance(obj, (classmethod, staticmethod)) else obj
    return tuple(inspect.signature(func).parameters)


def _prepare(routed: Routed) -> bool:
    """Look up the stock object and build its replacement; False (with a warning) if it is not as expected."""
    if routed.key in _replacements:
        return True
    try:
        if routed.module not in sys.modules:
            importlib.import_module(routed.module)
        holder, attr = _resolve(routed.module, routed.path)
        stock = _raw(holder, attr)
        params = _parameters(stock)
    except Exception as e:  # a moved or renamed internal: never break flytekit
        _warn_once(routed.key, f"cannot find {routed.module}.{routed.path} ({e})")
        return False
    if params[: len(routed.params)] != routed.params:
        _warn_once(routed.key, f"{routed.module}.{routed.path} has parameters {params}, expected {routed.params}")
        return False
    _stock[routed.key] = stock
    _replacements[routed.key] = routed.make(stock)
    return True


def _patch(holder: Any, attr: str, key: str) -> None:
    current = _raw(holder, attr)
    replacement = _replacements[key]
    if current is replacement:
        return
    if current is not _stock[key]:
        _warn_once(f"{key}@{holder!r}", f"{getattr(holder, '__name__', holder)}.{attr} is not flytekit's own")
        return
    setattr(holder, attr, replacement)
    _shared_state().applied.append((holder, attr, current, replacement))


def activate() -> None:
    """Route flytekit's resource conversions through this plugin. Idempotent and thread-safe."""
    state = _shared_state()
    with state.lock:
        if state.active:
            return
        ready = {key for key, routed in ROUTED.items() if _prepare(routed)}
        for site in CALL_SITES:
            if site.key not in ready or site.module not in sys.modules:
                continue
            defining = (site.module, site.path) == (ROUTED[site.key].module, ROUTED[site.key].path)
            if not defining and site.path not in vars(sys.modules[site.module]):
                # still being imported (e.g. `import flytekitplugins.ray` imports flytekit first):
                # it will import the plugin's function from the defining module when it gets there
                continue
            try:
                holder, attr = _resolve(site.module, site.path)
                _patch(holder, attr, site.key)
            except Exception as e:
                _warn_once(f"{site.module}.{site.path}", f"cannot patch {site.module}.{site.path} ({e})")
        state.functions.clear()
        state.functions.update({k: (_stock[k], _replacements[k]) for k in _FUNCTION_KEYS if k in ready})
        _sweep(
            {id(_stock[k]): k for k in _FUNCTION_KEYS if k in ready},
            lambda module, attr, key: _patch(module, attr, key),
        )
        state.active = True


def _sweep(wanted: Dict[int, str], act: Callable[[Any, str, str], None]) -> None:
    """Call ``act(module, name, key)`` for every loaded module attribute that is one of ``wanted``."""
    names = {ROUTED[key].path for key in wanted.values()}
    for module_name, module in list(sys.modules.items()):
        if not module_name.startswith("flytekit") or module_name.startswith(__package__):
            continue
        namespace = getattr(module, "__dict__", None)
        if not isinstance(namespace, dict):
            continue
        for name in names:
            obj = namespace.get(name)
            if obj is not None and id(obj) in wanted:
                act(module, name, wanted[id(obj)])


def deactivate() -> None:
    """Put back every object stock flytekit had. Idempotent and thread-safe, and it works after this
    plugin was re-imported: the stock objects are kept on flytekit, not only here."""
    state = _shared_state()
    with state.lock:
        if not state.active:
            return
        for holder, attr, stock, replacement in reversed(state.applied):
            if _raw(holder, attr) is replacement:
                setattr(holder, attr, stock)
        state.applied.clear()

        # modules imported while active picked up the plugin's functions by name
        functions = dict(state.functions)
        _sweep(
            {id(replacement): key for key, (_, replacement) in functions.items()},
            lambda module, name, key: setattr(module, name, functions[key][0]),
        )
        state.functions.clear()
        state.active = False


def is_active() -> bool:
    """Whether flytekit currently routes through this plugin."""
    return _shared_state().active
