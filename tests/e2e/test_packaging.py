"""The wheel as the ecosystem expects it: PEP 561's py.typed, every subpackage, the version from one place."""

import os
import pathlib
import re
import shutil
import subprocess
import zipfile

import pytest

from ..helpers import ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

UV = ROOT / ".cache" / "uv-bootstrap" / "bin" / "uv"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    uv = str(UV) if UV.exists() else shutil.which("uv")
    if uv is None:
        pytest.skip("needs uv to build the wheel: `make .venvs/newest/.ready` installs it into .cache/uv-bootstrap")
    out = tmp_path_factory.mktemp("dist")
    source = tmp_path_factory.mktemp("src") / "src"
    # a clean copy: the wheel is built from the sources, not from a developer's build/, .venvs/ or egg-info
    skip = shutil.ignore_patterns(".git", ".venvs", ".cache", "build", "dist", "*.egg-info", "__pycache__", "demo-out",
                                  ".pytest_cache")
    shutil.copytree(ROOT, source, ignore=skip)
    done = subprocess.run([uv, "build", "--wheel", "-o", str(out), str(source)], capture_output=True, text=True,
                          env={**os.environ, "UV_CACHE_DIR": os.environ.get("UV_CACHE_DIR", str(ROOT / ".cache" /
                                                                                                  "uv"))})
    if done.returncode != 0 and "No solution found" in done.stderr + done.stdout:
        pytest.skip(f"uv cannot fetch the build backend here: {done.stderr.strip().splitlines()[-1]}")
    assert done.returncode == 0, done.stderr[-2000:]
    (path,) = out.glob("*.whl")
    return zipfile.ZipFile(path)


def test_the_wheel_has_py_typed_and_every_subpackage(wheel):
    names = set(wheel.namelist())
    assert "flytekitplugins/resources/py.typed" in names
    package = ROOT / "flytekitplugins" / "resources"
    for init in package.rglob("__init__.py"):
        relative = init.relative_to(ROOT).as_posix()
        if "__pycache__" not in relative:
            assert relative in names, f"{relative} is missing from the wheel"
    for module in package.rglob("*.py"):
        assert module.relative_to(ROOT).as_posix() in names
    assert "flytekitplugins/resources_entrypoint.py" in names


def test_the_wheel_says_its_version_pythons_and_bounds(wheel):
    (metadata,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    text = wheel.read(metadata).decode()
    version = re.search(r'__version__ = "([^"]+)"', (ROOT / "flytekitplugins/resources/_version.py").read_text())[1]
    assert f"\nVersion: {version}\n" in text
    classifiers = set(re.findall(r"^Classifier: Programming Language :: Python :: (3\.\d+)$", text, re.M))
    makefile = (ROOT / "Makefile").read_text()
    tested = set(re.findall(r"_PYTHON \?= \$\(call find_python,(3\.\d+)\)", makefile))
    assert classifiers == tested == {"3.9", "3.11", "3.12"}
    requires = dict(re.findall(r"^Requires-Dist: ([a-z-]+)([^;\n]*)", text, re.M))
    for dependency in ("flytekit", "flyteidl", "kubernetes", "mashumaro", "click", "rich", "pyyaml"):
        assert "<" in requires[dependency] and ">=" in requires[dependency], (dependency, requires[dependency])
    assert "Typing :: Typed" in text
    entry_points = [n for n in wheel.namelist() if n.endswith("entry_points.txt")]
    assert "flyte-resources = flytekitplugins.resources.cli:main" in wheel.read(entry_points[0]).decode()


def test_the_pyproject_names_its_build_backend():
    text = (ROOT / "pyproject.toml").read_text()
    assert re.search(r'^\[build-system\]\nrequires = \[.*"setuptools', text, re.M)
    assert 'build-backend = "setuptools.build_meta"' in text


def test_the_installed_version_is_the_one_in_version_py():
    import importlib.metadata

    import flytekitplugins.resources as plugin

    assert importlib.metadata.version("flytekitplugins-resources") == plugin.__version__
    assert pathlib.Path(plugin.__file__).with_name("py.typed").exists()
