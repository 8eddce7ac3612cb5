from setuptools import find_namespace_packages, setup

PLUGIN_NAME = "resources"

microlib_name = f"flytekitplugins-{PLUGIN_NAME}"

plugin_requires = [
    "flytekit>=1.16.0,<2", "flyteidl", "kubernetes", "mashumaro", "click", "rich", "pyyaml",
    'tomli>=1.1; python_version < "3.11"',  # the policy in pyproject.toml (tomllib from 3.11)
    "libcst>=1.1,<2",  # recommend --apply: edits decorators and overrides, keeping formatting and comments
]

__version__ = "0.1.0"

setup(
    name=microlib_name,
    version=__version__,
    author="flytekitplugins-resources developers",
    description="Validated Kubernetes resources, accelerators and shared memory for flytekit tasks",
    long_description=open("README.md").read(),
    long_description_content_type="text/markdown",
    packages=find_namespace_packages(include=[f"flytekitplugins.{PLUGIN_NAME}", f"flytekitplugins.{PLUGIN_NAME}.*"]),
    py_modules=[f"flytekitplugins.{PLUGIN_NAME}_entrypoint"],
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
        "Topic :: Scientific/Engineering",
        "Topic :: Software Development :: Libraries :: Python Modules",
    ],
    entry_points={
        "flytekit.plugins": [f"{PLUGIN_NAME}=flytekitplugins.{PLUGIN_NAME}_entrypoint"],
        "console_scripts": [f"flyte-resources=flytekitplugins.{PLUGIN_NAME}.cli:main"],
    },
)
