import pytest
from hypothesis import settings

import flytekitplugins.resources as plugin

# Property tests check behaviour, not speed: hypothesis's per-example deadline is a timing assertion
# that fails on a loaded 2-core CI machine. Speed goals live in benchmarks/.
settings.register_profile("no-deadline", deadline=None)
settings.load_profile("no-deadline")


@pytest.fixture(autouse=True)
def _plugin_active_for_every_test():
    plugin.activate()
    yield
    plugin.activate()
