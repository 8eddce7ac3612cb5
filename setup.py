import re
from pathlib import Path

from setuptools import find_namespace_packages, setup

PLUGIN_NAME = "resources"

microlib_name = f"flytekitplugins-{PLUGIN_NAME}"

# Bounded to what `make test` runs: flytekit 1.16.0 and the newest 1.16.x, kubernetes 35, 36 and 37 (the preview
# models flyteidl / flytepropeller 1.16). kubernetes is imported by the pod-template helpers only, never by the CLI.
plugin_requires = [
    "flytekit>=1.16.0,<1.17",
    "flyteidl>=1.16.7,<1.17",
    "kubernetes>=35,<38",
    "mashumaro>=3.15,<4",
    "click>=8.1,<9",
    "rich>=13,<16",
    "pyyaml>=6,<7",
    'tomli>=1.1,<3; python_version < "3.11"',  # the policy in pyproject.toml (tomllib from 3.11)
    "libcst>=1.1,<2",  # recommend --apply: edits decorators and overrides, keeping formatting and comments
]

# One source of truth, read without importing the package (which needs its dependencies installed)
_VERSION_FILE = Path(__file__).parent / "flytekitplugins" / PLUGIN_NAME / "_version.py"
__version__ = re.search(r'^__version__ = "([^"]+)"$', _VERSION_FILE.read_text(), re.M).group(1)

setup(
    name=microlib_name,
    version=__version__,
    author="flytekitplugins-resources developers",
    description="Validated Kubernetes resources, accelerators and shared memory for flytekit tasks",
    long_description=(Path(__file__).parent / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    packages=find_namespace_packages(include=[f"flytekitplugins.{PLUGIN_NAME}", f"flytekitplugins.{PLUGIN_NAME}.*"]),
    py_modules=[f"flytekitplugins.{PLUGIN_NAME}_entrypoint"],
    # PEP 561: the public API is typed
    package_data={f"flytekitplugins.{PLUGIN_NAME}": ["py.typed"]},
    install_requires=plugin_requires,
    # the preview's OpenAPI check of the effective pod (kubernetes-validate ships the schemas, ~100 MB)
    extras_require={"schema": ["kubernetes-validate>=1.31.0,<2"]},
    license="apache2",
    python_requires=">=3.9",
    classifiers=[
        "Intended Audience :: Science/Research",
        "Intended Audience :: Developers",
        "License :: OSI Approved :: Apache Software License",
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3 :: Only",
        # the versions `make test` runs on
        "Programming Language :: Python :: 3.9",
        "Programming Language :: Python :: 3.11",
        "Programming Language :: Python :: 3.12",
        "Typing :: Typed",
        "Topic :: Scientific/Engineering",
        "Topic :: Software Development :: Libraries :: Python Modules",
    ],
    entry_points={
        "flytekit.plugins": [f"{PLUGIN_NAME}=flytekitplugins.{PLUGIN_NAME}_entrypoint"],
        "console_scripts": [f"flyte-resources=flytekitplugins.{PLUGIN_NAME}.cli:main"],
    },
)
