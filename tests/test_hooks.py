"""The hook: routing, exact restoration, idempotence, thread-safety, version guards, start-up cost."""

import json
import subprocess
import sys
import threading
import types
import warnings

import flytekit
import pytest
from flytekit import Resources, task, workflow

import flytekitplugins.resources as plugin
from flytekitplugins.resources import ResourceValidationError, hooks

from .helpers import idl, stock_flytekit


def _snapshot():
    """Every patched call site as (module, path) -> the raw object it holds now."""
    out = {}
    for site in hooks.CALL_SITES:
        if site.module in sys.modules:
            holder, attr = hooks._resolve(site.module, site.path)
            out[(site.module, site.path)] = hooks._raw(holder, attr)
    return out


def test_deactivate_restores_every_stock_object_exactly():
    with stock_flytekit():
        stock = _snapshot()
    active = _snapshot()
    assert all(active[k] is not stock[k] for k in stock), [k for k in stock if active[k] is stock[k]]
    plugin.deactivate()
    try:
        restored = _snapshot()
        assert all(restored[k] is stock[k] for k in stock)
        assert not plugin.is_active()
    finally:
        plugin.activate()


def test_activate_and_deactivate_are_idempotent():
    before = _snapshot()
    plugin.activate()
    plugin.activate()
    assert _snapshot() == before
    plugin.deactivate()
    stock = _snapshot()
    plugin.deactivate()
    assert _snapshot() == stock
    plugin.activate()
    assert all(_snapshot()[k] is before[k] for k in before)


def test_concurrent_toggling_ends_consistent():
    def toggle():
        for _ in range(200):
            plugin.deactivate()
            plugin.activate()

    threads = [threading.Thread(target=toggle) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert plugin.is_active()
    plugin.deactivate()
    stock = _snapshot()
    plugin.activate()
    assert all(_snapshot()[k] is not stock[k] for k in stock)
    assert len(hooks._applied) == len(stock)  # no duplicate bookkeeping left by the races


def test_every_listed_site_of_loaded_flytekit_modules_is_routed():
    routed = _snapshot()
    for (module, path), obj in routed.items():
        assert obj is hooks._replacements[hooks.ROUTED[next(s.key for s in hooks.CALL_SITES
                                                             if (s.module, s.path) == (module, path))].key]


def test_a_module_that_imported_a_converter_by_name_before_activation_is_routed_and_restored():
    plugin.deactivate()
    from flytekit.core import resources as core

    fake = types.ModuleType("flytekitplugins.some_third_party")
    fake.convert_resources_to_resource_model = core.convert_resources_to_resource_model
    sys.modules[fake.__name__] = fake
    try:
        stock = fake.convert_resources_to_resource_model
        plugin.activate()
        assert fake.convert_resources_to_resource_model is plugin.convert_resources_to_resource_model
        plugin.deactivate()
        assert fake.convert_resources_to_resource_model is stock
    finally:
        del sys.modules[fake.__name__]
        plugin.activate()


def test_a_module_imported_while_active_is_restored_on_deactivate():
    from flytekit.core import resources as core

    fake = types.ModuleType("flytekitplugins.late_plugin")
    fake.pod_spec_from_resources = core.pod_spec_from_resources  # the plugin's, as imported while active
    sys.modules[fake.__name__] = fake
    try:
        assert fake.pod_spec_from_resources is plugin.pod_spec_from_resources
        plugin.deactivate()
        assert fake.pod_spec_from_resources is not plugin.pod_spec_from_resources
        assert fake.pod_spec_from_resources.__module__ == "flytekit.core.resources"
    finally:
        del sys.modules[fake.__name__]
        plugin.activate()


@pytest.mark.parametrize("module", ["flytekitplugins.ray.task", "flytekitplugins.kfpytorch.task",
                                    "flytekitplugins.kfmpi.task", "flytekitplugins.dask.task"])
def test_flytekit_plugins_use_the_plugins_converter(module):
    mod = pytest.importorskip(module)
    assert mod.convert_resources_to_resource_model is plugin.convert_resources_to_resource_model
    if hasattr(mod, "pod_spec_from_resources"):
        assert mod.pod_spec_from_resources is plugin.pod_spec_from_resources


def test_user_modules_that_import_the_plugins_functions_are_left_alone():
    user = types.ModuleType("my_project.tasks")
    user.convert_resources_to_resource_model = plugin.convert_resources_to_resource_model
    sys.modules[user.__name__] = user
    try:
        plugin.deactivate()
        assert user.convert_resources_to_resource_model is plugin.convert_resources_to_resource_model
    finally:
        del sys.modules[user.__name__]
        plugin.activate()


def test_flytekit_plugin_imported_before_activation_is_routed_after():
    # in a subprocess: reloading the plugin's module replaces its classes for every later test in this process
    pytest.importorskip("flytekitplugins.kfpytorch.task")
    result = _run(
        "import importlib, json, flytekit; import flytekitplugins.resources as plugin;"
        "import flytekitplugins.kfpytorch.task as mod; plugin.deactivate();"
        "importlib.reload(mod);"  # imports the stock function by name, as if loaded before the plugin
        "ours = plugin.convert_resources_to_resource_model;"
        "before = mod.convert_resources_to_resource_model is ours; plugin.activate();"
        "print(json.dumps([before, mod.convert_resources_to_resource_model is ours]))"
    )
    assert result == [False, True]


def test_a_site_that_does_not_look_as_expected_is_left_stock_with_one_warning(monkeypatch):
    plugin.deactivate()
    from flytekit.core import utils

    def _get_container_definition(image, spec, command, something_new=None):  # a future flytekit
        return "future"

    monkeypatch.setattr(utils, "_get_container_definition", _get_container_definition)
    monkeypatch.setattr(hooks, "_replacements", {})
    monkeypatch.setattr(hooks, "_stock", {})
    monkeypatch.setattr(hooks, "_warned", set())
    try:
        with pytest.warns(hooks.FlytekitResourcesCompatibilityWarning, match="_get_container_definition") as record:
            plugin.activate()
        assert len([w for w in record if "_get_container_definition" in str(w.message)]) == 1
        assert utils._get_container_definition is _get_container_definition
        from flytekit.core import resources as core

        assert core.convert_resources_to_resource_model is plugin.convert_resources_to_resource_model
    finally:
        plugin.deactivate()
    monkeypatch.undo()
    plugin.activate()


def _t(a: int) -> int:
    return a


def test_serialization_errors_name_the_task():
    t = task(requests=Resources(cpu="2"), limits=Resources(cpu="1"))(_t)
    with pytest.raises(ResourceValidationError) as info:
        idl(t)
    assert info.value.task == t.name
    assert str(info.value).startswith(f"task {t.name!r}: cpu='2': the request '2' is greater than the limit '1'")


def test_override_errors_name_the_task_and_node():
    t = task(_t)

    @workflow
    def wf(a: int) -> int:
        return t(a=a).with_overrides(requests=Resources(mem="2Gi"), limits=Resources(mem="1Gi"))

    with pytest.raises(ResourceValidationError) as info:
        _ = wf.nodes  # flytekit compiles the workflow on first use

    assert info.value.task.startswith(t.name) and "(node n0)" in info.value.task
    assert "mem='2Gi'" in str(info.value)


@pytest.mark.parametrize("kwargs, fragment", [
    (dict(accelerator="nvidia-tesla-a100"), "accelerator='nvidia-tesla-a100': must be a flytekit accelerator"),
    (dict(shared_memory="lots"), "shared_memory='lots': is not a valid Kubernetes quantity"),
    (dict(shared_memory="0"), "shared_memory='0': a shared memory of size 0 holds nothing"),
    (dict(shared_memory=1.5), "shared_memory=1.5: must be True or a size"),
])
def test_bad_extended_resources_raise_named_errors(kwargs, fragment):
    t = task(**kwargs)(_t)
    with pytest.raises(ResourceValidationError) as info:
        idl(t)
    assert fragment in str(info.value)
    assert info.value.task == t.name


def _run(code, **env):
    import os

    full_env = {**os.environ, **env}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full_env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_flytekit_activates_without_importing_kubernetes():
    result = _run(
        "import sys, json, flytekit; import flytekitplugins.resources as p; "
        "print(json.dumps([p.is_active(), 'kubernetes' in sys.modules]))"
    )
    assert result == [True, False]


def test_import_flytekit_loads_neither_the_preview_nor_the_cli():
    result = _run(
        "import sys, json, flytekit; import flytekitplugins.resources; "
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[-1] in "
        "('cli', 'preview', 'platform', 'admin', 'propeller', 'yaml', 'rich.table') "
        "and m.startswith('flytekitplugins'))))"
    )
    assert result == []


@pytest.mark.parametrize("value", ["1", "true"])
def test_environment_variable_keeps_the_plugin_off(value):
    result = _run(
        "import json, flytekit; import flytekitplugins.resources as p; from flytekit.core import resources as r;"
        "print(json.dumps([p.is_active(), r.convert_resources_to_resource_model.__module__]))",
        FLYTEKITPLUGINS_RESOURCES_DISABLE=value,
    )
    assert result == [False, "flytekit.core.resources"]


def test_stock_flytekit_resources_is_validated_while_active_and_not_after():
    with pytest.raises(ResourceValidationError):
        flytekit.Resources(mem="2GB")
    with stock_flytekit():
        assert flytekit.Resources(mem="2GB").mem == "2GB"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert flytekit.Resources(mem="2Gi").mem == "2Gi"


@pytest.mark.parametrize("plugin_module", ["flytekitplugins.ray.task", "flytekitplugins.kfpytorch.task",
                                           "flytekitplugins.dask.task"])
def test_importing_a_flytekit_plugin_first_routes_it_without_warnings(plugin_module):
    pytest.importorskip(plugin_module)
    result = _run(
        "import json, sys, warnings; warnings.filterwarnings('error', message='flytekitplugins-resources');"
        "assert 'flytekit' not in sys.modules;"
        f"import {plugin_module} as m; import flytekitplugins.resources as p;"
        "print(json.dumps(m.convert_resources_to_resource_model is p.convert_resources_to_resource_model))",
    )
    assert result is True


def test_a_plugin_that_cannot_load_leaves_import_flytekit_working():
    """A future flytekit that moves something the plugin imports must not break `import flytekit`."""
    result = _run(
        "import json, sys, warnings; sys.modules['flytekitplugins.resources.convert'] = None\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    import flytekit\n"
        "    from flytekit.core import resources as r\n"
        "print(json.dumps([r.convert_resources_to_resource_model.__module__,\n"
        "                  any('flytekitplugins-resources could not be loaded' in str(w.message) for w in caught)]))"
    )
    assert result == ["flytekit.core.resources", True]


@pytest.mark.parametrize("overrides, fragment", [
    (dict(requests=Resources(cpu="2")), "cpu='2': the override's request '2' is greater than the task's limit '1'"),
    (dict(limits=Resources(mem="1Gi")), "mem='1Gi': the task's request '4Gi' is greater than the override's limit"),
    (dict(limits=Resources(gpu="2")), "gpu='2': the task's request '1' is not equal to the override's limit '2'"),
])
def test_override_values_must_fit_the_tasks_own(overrides, fragment):
    t = task(requests=Resources(cpu="1", mem="4Gi", gpu="1"), limits=Resources(cpu="1", mem="4Gi", gpu="1"))(_t)

    @workflow
    def wf(a: int) -> int:
        return t(a=a).with_overrides(**overrides)

    with pytest.raises(ResourceValidationError) as info:
        _ = wf.nodes
    assert fragment in str(info.value)


def test_override_that_sets_both_request_and_limit_is_fine():
    t = task(requests=Resources(cpu="1"), limits=Resources(cpu="1"))(_t)

    @workflow
    def wf(a: int) -> int:
        return t(a=a).with_overrides(resources=Resources(cpu=("2", "4")))

    assert [r.value for r in wf.nodes[0]._resources.limits] == ["4"]


@pytest.mark.parametrize("overrides, fragment", [
    (dict(requests=Resources(cpu="3")), "cpu='3': the override's request '3' is greater than the task's limit '2'"),
    (dict(limits=Resources(mem="1Gi")), "mem='1Gi': the task's request '4Gi' is greater than the override's limit"),
    (dict(resources=Resources(gpu="A100:2"), accelerator=__import__("flytekit.extras.accelerators").extras
          .accelerators.T4), "disagrees with gpu='A100:2'"),
])
def test_map_task_overrides_get_the_same_checks_as_a_plain_node(overrides, fragment):
    import typing

    from flytekit import map_task

    t = task(requests=Resources(mem="4Gi"), limits=Resources(cpu="2", mem="4Gi"))(_t)

    @workflow
    def plain(a: int) -> int:
        return t(a=a).with_overrides(**overrides)

    @workflow
    def mapped(xs: typing.List[int]) -> typing.List[int]:
        return map_task(t)(a=xs).with_overrides(**overrides)

    for wf in (plain, mapped):
        with pytest.raises(ResourceValidationError) as info:
            _ = wf.nodes
        assert fragment in str(info.value)


@pytest.mark.parametrize("overrides, stock_words", [
    (dict(resources=Resources(cpu="1"), requests=Resources(cpu="1")),
     "`resource` can not be used together with the `limits` or `requests`. Please only set `resource`."),
    (dict(requests={"cpu": "1"}), "requests should be specified as flytekit.Resources"),
    (dict(limits="2"), "limits should be specified as flytekit.Resources"),
])
def test_override_errors_keep_stock_flytekits_words(overrides, stock_words):
    t = task(requests=Resources(cpu="1"))(_t)

    def build():
        @workflow
        def wf(a: int) -> int:
            return t(a=a).with_overrides(**overrides)

        return wf.nodes

    with stock_flytekit(), pytest.raises((ValueError, AssertionError), match="should be|can not be") as stock:
        build()
    assert stock_words in str(stock.value)
    with pytest.raises(ResourceValidationError) as ours:
        build()
    assert stock_words in str(ours.value)


_REIMPORT = """
import importlib, json, sys, warnings
warnings.simplefilter("ignore")
import flytekit
from flytekit.core import resources as core, utils
import flytekitplugins.resources as plugin
plugin.deactivate()
stock = (core.convert_resources_to_resource_model, utils._get_container_definition, core.Resources.__post_init__)
plugin.activate()
if {how!r} == "reload":
    importlib.reload(importlib.import_module("flytekitplugins.resources.hooks"))
else:
    for name in [m for m in sys.modules if m.startswith("flytekitplugins.resources")]:
        del sys.modules[name]
    import flytekitplugins.resources as plugin
from flytekitplugins.resources import hooks
was_active = hooks.is_active()
hooks.deactivate()
now = (core.convert_resources_to_resource_model, utils._get_container_definition, core.Resources.__post_init__)
restored = all(a is b for a, b in zip(now, stock))
hooks.activate()
routed = core.convert_resources_to_resource_model is not stock[0]
print(json.dumps([was_active, restored, routed, hooks.is_active()]))
"""


@pytest.mark.parametrize("how", ["reload", "sys.modules"])
def test_deactivate_restores_stock_flytekit_after_the_plugin_is_reimported(how):
    out = subprocess.run([sys.executable, "-c", _REIMPORT.format(how=how)], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [True, True, True, True]


_FORK = """
import os, sys, threading, time, warnings
warnings.simplefilter("ignore")
import flytekitplugins.resources as plugin
from flytekitplugins.resources import hooks

plugin.deactivate()
inside, release = threading.Event(), threading.Event()
prepare = hooks._prepare

def blocking_prepare(routed):
    if threading.current_thread().name == "toggler":
        inside.set()
        release.wait()
    return prepare(routed)

hooks._prepare = blocking_prepare
toggler = threading.Thread(target=plugin.activate, name="toggler")
toggler.start()
inside.wait()  # the toggler is inside activate(), holding the lock
pid = os.fork()
if pid == 0:
    plugin.activate()
    plugin.deactivate()
    os._exit(0 if not plugin.is_active() else 3)
for _ in range(600):
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        break
    time.sleep(0.05)
else:
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    status = "hung"
release.set()
toggler.join()
print("child", status)
"""


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs os.fork")
def test_a_child_forked_while_another_thread_toggles_the_plugin_does_not_hang():
    out = subprocess.run([sys.executable, "-c", _FORK], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "child 0"


def test_a_reimported_plugin_validates_once_with_flytekits_own_checks():
    result = _run(
        "import importlib, json, flytekit; import flytekitplugins.resources as p; "
        "import flytekitplugins.resources.resources as r; from flytekit.core import resources as fr; "
        "r2 = importlib.reload(r); p.deactivate(); stock = fr.Resources.__post_init__; "
        "print(json.dumps([r2._stock_post_init is stock, r._stock_post_init is stock]))"
    )
    assert result == [True, True]


def test_the_task_execution_site_is_version_guarded_and_restored_identically(monkeypatch):
    """PythonTask.dispatch_execute (measuring a task's run): routed while active, stock after deactivate, and
    left stock with one warning when a future flytekit changes its parameters."""
    from flytekit.core.base_task import PythonTask

    stock = hooks._stock["PythonTask.dispatch_execute"]
    assert PythonTask.__dict__["dispatch_execute"] is hooks._replacements["PythonTask.dispatch_execute"]
    plugin.deactivate()
    assert PythonTask.__dict__["dispatch_execute"] is stock
    plugin.activate()
    plugin.activate()
    assert PythonTask.__dict__["dispatch_execute"] is hooks._replacements["PythonTask.dispatch_execute"]

    plugin.deactivate()

    def dispatch_execute(self, context, literals, something_new=None):  # a future flytekit
        return "future"

    monkeypatch.setattr(PythonTask, "dispatch_execute", dispatch_execute)
    monkeypatch.setattr(hooks, "_replacements", {})
    monkeypatch.setattr(hooks, "_stock", {})
    monkeypatch.setattr(hooks, "_warned", set())
    try:
        with pytest.warns(hooks.FlytekitResourcesCompatibilityWarning, match="dispatch_execute") as record:
            plugin.activate()
        assert len([w for w in record if "dispatch_execute" in str(w.message)]) == 1
        assert PythonTask.__dict__["dispatch_execute"] is dispatch_execute
    finally:
        plugin.deactivate()
    monkeypatch.undo()
    plugin.activate()
    assert PythonTask.__dict__["dispatch_execute"] is not stock


# --- the package root imports nothing heavy; flytekit first, whatever the user imports first --------------


def _imports_flytekit_closure():
    """The plugin's modules (dotted, under the package) whose module-level imports reach flytekit."""
    import ast
    import pathlib

    root = pathlib.Path(plugin.__file__).parent
    imports = {}
    for path in root.rglob("*.py"):
        parts = path.relative_to(root).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        name = ".".join(parts)
        package = parts if path.name == "__init__.py" else parts[:-1]
        found = set()
        body = list(ast.parse(path.read_text()).body)
        while body:  # module level, including try/if blocks (never functions: those import on demand)
            node = body.pop()
            if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
                continue
            if isinstance(node, (ast.Try, ast.If, ast.With)):
                body.extend(node.body + getattr(node, "orelse", []) + getattr(node, "finalbody", [])
                            + [h for x in getattr(node, "handlers", []) for h in x.body])
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level == 0:
                    found.add(node.module)
                else:
                    base = list(package[: len(package) - node.level + 1])
                    target = ".".join(base + ([node.module] if node.module else []))
                    found.add("." + target)
                    found.update("." + ".".join(filter(None, [target, a.name])) for a in node.names)
        imports[name] = found
    heavy = set()
    changed = True
    while changed:
        changed = False
        for name, found in imports.items():
            if name in heavy:
                continue
            if any(m == "flytekit" or m.startswith("flytekit.") or m.lstrip(".") in heavy for m in found):
                heavy.add(name)
                changed = True
    return heavy - {""}


def test_the_modules_that_import_flytekit_are_the_ones_the_root_imports_it_before():
    heavy = _imports_flytekit_closure()
    assert heavy == set(plugin.NEEDS_FLYTEKIT)
    light = {"cli", "cli.load", "cli.render", "cli.preview", "cli.report", "cli.errors", "preview", "preflight",
             "report", "platform", "findings", "quantity", "enforce"}
    assert not heavy & light


# the first and last of the flytekit-dependent modules the activation imports, the hook itself, the root, the CLI
@pytest.mark.slow
@pytest.mark.parametrize("first", ["accelerators", "pod", "hooks", "", "cli"])
def test_whatever_is_imported_first_flytekit_gets_an_active_hook(first):
    name = "flytekitplugins.resources" + (f".{first}" if first else "")
    result = _run(
        "import json, sys, warnings\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        f"    import {name} as first\n"
        "    again = sys.modules[first.__name__] is first\n"
        "    import flytekit\n"
        "    import flytekitplugins.resources as p\n"
        "    from flytekitplugins.resources import ResourceValidationError\n"
        "    try:\n"
        "        flytekit.Resources(mem='2GB')\n"
        "        validated = False\n"
        "    except ResourceValidationError:\n"
        "        validated = True\n"
        "print(json.dumps([p.is_active(), validated, again, [str(w.message) for w in caught\n"
        "                  if 'flytekitplugins-resources' in str(w.message)]]))"
    )
    assert result == [True, True, True, []]


def test_a_name_from_the_root_before_flytekit_is_the_validated_class_with_the_hook_active():
    result = _run(
        "import json, sys; import flytekitplugins.resources as p; light = 'flytekit' not in sys.modules;"
        "R = p.Resources; from flytekit.core import resources as fr;"
        "print(json.dumps([light, p.is_active(), issubclass(R, fr.Resources), R.__module__,"
        "                  p.__version__ == __import__('flytekitplugins.resources._version').resources._version"
        ".__version__]))"
    )
    assert result == [True, True, True, "flytekitplugins.resources.resources", True]
