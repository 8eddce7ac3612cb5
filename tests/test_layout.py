"""The preview is laid out like flyteplugins, and data flows one way: the flytek8s helpers import nothing of the
pod builder, the builder nothing of the plugins, the plugins nothing of the dispatcher; no import cycle in the
package; no module takes another module's ``_private`` names."""

import ast
import pathlib
from typing import Dict, Set

import pytest

import flytekitplugins.resources as plugin

ROOT = pathlib.Path(plugin.__file__).parent
PACKAGE = "flytekitplugins.resources"


def _module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(ROOT.parent.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in ROOT.rglob("*.py")}


def _imports(path: pathlib.Path):
    """(module imported, names imported) for every import of the plugin's own modules in ``path``."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith(PACKAGE):
                names = [a.name for a in node.names]
                modules = [n for n in names if f"{target}.{n}" in MODULES]  # "from . import flytek8s"
                for n in modules:
                    yield f"{target}.{n}", []
                if len(modules) < len(names):
                    yield target, [n for n in names if n not in modules]
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith(PACKAGE):
                    yield a.name, []


def _graph(prefix: str, leave_out: tuple = ()) -> Dict[str, Set[str]]:
    out: Dict[str, Set[str]] = {}
    for name, path in MODULES.items():
        if name.startswith(prefix) and not name.startswith(leave_out):
            out[name] = {t for t, _ in _imports(path) if t in MODULES and t.startswith(prefix) and t != name}
    return out


def test_no_module_takes_another_modules_private_names():
    taken = [(name, target, n) for name, path in MODULES.items()
             for target, names in _imports(path) for n in names if n.startswith("_") and not n.startswith("__")]
    assert taken == []


@pytest.mark.parametrize(
    "module, never",
    [
        ("preview.flytek8s", ["preview.pod_builder", "preview.plugins", "preview.propeller", "preview.admin",
                              "preview.schema", "findings"]),
        ("preview.pod_builder", ["preview.plugins", "preview.propeller", "preview.admin"]),
        ("preview.plugins", ["preview.propeller", "preview.plugins.ray", "preview.plugins.pytorch",
                             "preview.plugins.dask"]),
        ("preview.plugins.ray", ["preview.propeller"]),
        ("preview.plugins.pytorch", ["preview.propeller"]),
        ("preview.plugins.dask", ["preview.propeller"]),
        ("preview.admin", ["preview.pod_builder", "preview.plugins", "preview.propeller"]),
    ],
)
def test_lower_modules_never_import_higher_ones(module, never):
    imported = {t[len(PACKAGE) + 1:] for t, _ in _imports(MODULES[f"{PACKAGE}.{module}"])}
    assert not [n for n in never if n in imported or any(i.startswith(n + ".") for i in imported)]


# the whole package, the command line included
@pytest.mark.parametrize("prefix, leave_out", [(f"{PACKAGE}.preview", ()),
                                               (PACKAGE, ())])
def test_no_import_cycle(prefix, leave_out):
    # imports inside functions count too: a lazy import back up is a cycle all the same
    graph = _graph(prefix, leave_out)
    state: Dict[str, int] = {}

    def visit(n: str, path: list) -> None:
        state[n] = 1
        for m in sorted(graph.get(n, ())):
            assert state.get(m) != 1, " -> ".join(path + [m])
            if m not in state:
                visit(m, path + [m])
        state[n] = 2

    for n in sorted(graph):
        if n not in state:
            visit(n, [n])


def test_plugins_are_registered_by_task_type():
    from flytekitplugins.resources.preview import plugins, propeller  # noqa: F401 (the dispatcher registers them)

    assert plugins.registered() == ("dask", "pytorch", "ray")
    assert plugins.plugin_for("python-task") is None
