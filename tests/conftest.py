import contextlib
from collections import OrderedDict

import pytest
from flytekit.configuration import Image, ImageConfig, SerializationSettings
from hypothesis import settings

import flytekitplugins.resources as plugin

# Property tests check behaviour, not speed: hypothesis's per-example deadline is a timing assertion
# that fails on a loaded 2-core CI machine. Speed goals live in benchmarks/.
settings.register_profile("no-deadline", deadline=None)
settings.load_profile("no-deadline")

SETTINGS = SerializationSettings(
    image_config=ImageConfig(default_image=Image(name="default", fqn="ghcr.io/example/img", tag="v1")),
    project="p",
    domain="d",
    version="v1",
)


@contextlib.contextmanager
def stock_flytekit():
    """Run the block with the plugin deactivated (plain flytekit), then re-activate it."""
    plugin.deactivate()
    try:
        yield
    finally:
        plugin.activate()


def serialize_all(entity, settings=SETTINGS) -> dict:
    """Every IDL object serializing ``entity`` produces, as deterministic bytes keyed by entity name."""
    from flytekit.tools.translator import get_serializable

    mapping = OrderedDict()
    get_serializable(mapping, settings, entity)
    out = {}
    for source, model in mapping.items():
        name = getattr(source, "name", None) or getattr(source, "id", None) or repr(source)
        out[f"{type(source).__name__}:{name}"] = model.to_flyte_idl().SerializeToString(deterministic=True)
    return out


def idl(entity, settings=SETTINGS):
    """The serialized task template (for a task) as an IDL message."""
    from flytekit.tools.translator import get_serializable

    return get_serializable(OrderedDict(), settings, entity)


@pytest.fixture(autouse=True)
def _plugin_active_for_every_test():
    plugin.activate()
    yield
    plugin.activate()
