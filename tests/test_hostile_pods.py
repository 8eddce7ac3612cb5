"""Hostile input to every public pod helper and convert function: arbitrary text and arbitrary Python
objects. Only ResourceValidationError may escape (and flytekit's own errors where stock flytekit raises
them while building the input, e.g. Resources' type assertion)."""

import os

import pytest
from flytekit import PodTemplate, Resources
from flytekit.core.resources import ResourceSpec
from flytekit.extras import accelerators as fk
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flytekitplugins.resources import ResourceValidationError, convert, pod

pytestmark = pytest.mark.filterwarnings("ignore")
# HOSTILE_EXAMPLES=600 for a longer hunt
_SETTINGS = settings(max_examples=int(os.environ.get("HOSTILE_EXAMPLES", "60")),
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20), st.binary(max_size=8),
    st.just(object()), st.just(float("nan")), st.just(2**70), st.sampled_from(["1", "1Gi", "A100:2", "", " "]),
)
hostile = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.tuples(inner, inner),
                            st.dictionaries(st.one_of(st.text(max_size=10), st.integers()), inner, max_size=3)),
    max_leaves=8,
)


def _model_dicts(cls_name):
    """Dicts whose keys are the model's own (JSON or Python spelling) and whose values are hostile."""
    import kubernetes.client as k8s

    cls = getattr(k8s, cls_name)
    keys = sorted(set(cls.attribute_map) | set(cls.attribute_map.values()))
    return st.dictionaries(st.sampled_from(keys), hostile, max_size=4)


def _resources(draw_kwargs):
    """A Resources from hostile field values, or the input refused at construction (as stock does too)."""
    try:
        return Resources(**draw_kwargs)
    except (ResourceValidationError, AssertionError, ValueError):
        return None


resource_kwargs = st.fixed_dictionaries({}, optional={f: st.one_of(hostile, st.text(max_size=12))
                                                      for f in ("cpu", "mem", "gpu", "ephemeral_storage")})
resources_or_hostile = st.one_of(hostile, resource_kwargs.map(_resources))
templates = st.one_of(
    st.none(), hostile,
    st.builds(lambda: pod.pod_template()),
    st.builds(lambda: pod.with_accelerator(pod.pod_template(), "A100:2")),
    st.builds(lambda: pod.with_shared_memory(pod.pod_template(), "1Gi")),
    st.builds(lambda: PodTemplate(labels={"a": "b"})),
)
accelerators = st.one_of(hostile, st.text(max_size=20), st.sampled_from([fk.A100, fk.T4, fk.A100.partition_1g_5gb]),
                         st.sampled_from(["A100:2", "H100 MIG 3g.40gb", "MI300X:8", "V5E 2x4", "A100:0", "A100:-1"]))


def only_named_errors(call):
    try:
        call()
    except ResourceValidationError:
        pass


@_SETTINGS
@given(name=st.one_of(hostile, st.text()), labels=hostile, annotations=hostile)
def test_pod_template(name, labels, annotations):
    only_named_errors(lambda: pod.pod_template(name, labels=labels, annotations=annotations))


@_SETTINGS
@given(template=templates, selector=st.one_of(hostile, st.dictionaries(st.text(), st.text())))
def test_with_node_selector(template, selector):
    only_named_errors(lambda: pod.with_node_selector(template, selector))


@_SETTINGS
@given(template=templates, tolerations=st.one_of(hostile, st.lists(st.one_of(hostile, _model_dicts("V1Toleration")),
                                                                   max_size=3)))
def test_with_tolerations(template, tolerations):
    only_named_errors(lambda: pod.with_tolerations(template, tolerations))


@_SETTINGS
@given(template=templates, accelerator=accelerators, device=st.one_of(st.none(), hostile),
       partition=st.one_of(st.none(), hostile), tolerate=hostile, mig=st.one_of(hostile, st.sampled_from(["mixed"])))
def test_with_accelerator(template, accelerator, device, partition, tolerate, mig):
    only_named_errors(lambda: pod.with_accelerator(template, accelerator, device_node_label=device,
                                                   partition_node_label=partition, tolerate=tolerate,
                                                   mig_strategy=mig))


@_SETTINGS
@given(template=templates, size=st.one_of(hostile, st.text(max_size=12)))
def test_with_shared_memory(template, size):
    only_named_errors(lambda: pod.with_shared_memory(template, size))


@_SETTINGS
@given(template=templates,
       volumes=st.one_of(hostile, st.lists(st.one_of(hostile, _model_dicts("V1Volume")), max_size=3)),
       mounts=st.one_of(hostile, st.lists(st.one_of(hostile, _model_dicts("V1VolumeMount")), max_size=3)))
def test_with_volumes(template, volumes, mounts):
    only_named_errors(lambda: pod.with_volumes(template, volumes, mounts))


@_SETTINGS
@given(template=templates, env=st.one_of(hostile, st.dictionaries(st.text(), st.text())))
def test_with_env(template, env):
    only_named_errors(lambda: pod.with_env(template, env))


@_SETTINGS
@given(template=templates, requests=resources_or_hostile, limits=resources_or_hostile,
       key=st.one_of(st.none(), hostile))
def test_with_resources(template, requests, limits, key):
    only_named_errors(lambda: pod.with_resources(template, requests, limits, k8s_gpu_resource_key=key))


@_SETTINGS
@given(name=st.one_of(hostile, st.text()), requests=resources_or_hostile, limits=resources_or_hostile,
       key=st.one_of(st.none(), hostile), mig=st.one_of(hostile, st.sampled_from(["single", "mixed"])))
def test_pod_spec_from_resources(name, requests, limits, key, mig):
    only_named_errors(lambda: pod.pod_spec_from_resources(name, requests, limits, key, mig_strategy=mig))


@_SETTINGS
@given(requests=resources_or_hostile, limits=resources_or_hostile)
def test_convert_resources_to_resource_model(requests, limits):
    only_named_errors(lambda: convert.convert_resources_to_resource_model(requests, limits))


@_SETTINGS
@given(requests=resource_kwargs.map(_resources), limits=resource_kwargs.map(_resources))
def test_container_definition(requests, limits):
    spec = ResourceSpec(requests=requests or Resources(), limits=limits or Resources())
    only_named_errors(lambda: convert.container_definition("img", spec, ["x"]))


@_SETTINGS
@given(accelerator=st.one_of(st.none(), accelerators), shared_memory=st.one_of(hostile, st.text(max_size=12)))
def test_construct_extended_resources(accelerator, shared_memory):
    only_named_errors(lambda: convert.construct_extended_resources(accelerator=accelerator,
                                                                    shared_memory=shared_memory))


@_SETTINGS
@given(shared_memory=st.one_of(hostile, st.text(max_size=12)), template=templates, limit=hostile)
def test_shared_memory_checks(shared_memory, template, limit):
    only_named_errors(lambda: convert.check_shared_memory(shared_memory, template, limit))
    if shared_memory is not None and shared_memory is not False:
        only_named_errors(lambda: convert.shared_memory_size(shared_memory))


@_SETTINGS
@given(template=templates, accelerator=accelerators, requests=resources_or_hostile, limits=resources_or_hostile)
def test_accelerator_checks(template, accelerator, requests, limits):
    only_named_errors(lambda: convert.check_template_accelerator(template, accelerator))
    only_named_errors(lambda: convert.resolve_accelerator(accelerator, requests, limits))
