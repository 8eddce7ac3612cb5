"""Hostile input: any text or object into the public entry points is accepted or refused with the plugin's
error, never Python's own, and in time linear in its size (benchmarks/run.py prints the slope)."""

import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flytekitplugins.resources import Quantity, Resources, ResourceValidationError
from flytekitplugins.resources.accelerators import MAX_DEVICE_COUNT, parse_gpu_spec

# the inputs that took seconds (backtracking regexes) or raised Python's int-digit ValueError before
HOSTILE = [
    "0" * 20000 + "x",
    "1" * 40000 + "x",
    "9" * 5000,
    "1." + "5" * 8000 + "Mi",
    "+" + "0" * 10000 + ".",
    "1e" + "9" * 5000,
    "1" * 3000 + " Gi!",
    "A" + " " * 8000 + "x",
    "A100 " + "MIG " * 2000 + "3g.20gb",
    "A100:" + "1" * 5000,
    "A100:" + "0" * 5000 + "2",
    ":" * 5000,
]


@pytest.mark.parametrize("text", HOSTILE, ids=lambda t: f"{t[:12]}...{len(t)}")
@pytest.mark.parametrize("field", ["cpu", "mem", "gpu", "ephemeral_storage"])
def test_hostile_strings_are_accepted_or_refused_with_the_plugins_error(text, field):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            Resources(**{field: text})
        except ResourceValidationError as e:
            assert e.field == field


def test_a_huge_count_is_refused_not_changed():
    with pytest.raises(ResourceValidationError, match="more devices than any node has"):
        parse_gpu_spec(f"A100:{MAX_DEVICE_COUNT + 1}")
    assert parse_gpu_spec("A100:0002").count == 2  # leading zeros read as the number they are


@pytest.mark.parametrize(
    "text, model, partition, count",
    [("A100:2", "A100", None, 2), ("H100 MIG 3g.40gb", "H100", "3g.40gb", 1),
     ("H100 mig 3G.40GB:2", "H100", "3g.40gb", 2), ("A100 80G:4", "A100 80GB", None, 4),
     ("V5E 2x4", "TPU v5e", "2x4", 8), ("A100 1g.5gb+me", "A100", "1g.5gb+me", 1)],
)
def test_gpu_specs_parse_as_before(text, model, partition, count):
    spec = parse_gpu_spec(text)
    assert (spec.accelerator.model.name, spec.accelerator.partition, spec.count) == (model, partition, count)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="ascii"), max_size=60) | st.text(max_size=30))
def test_any_text_parses_or_is_refused_with_the_plugins_error(text):
    try:
        q = Quantity.parse(text)
    except ResourceValidationError:
        return
    assert Quantity.parse(str(q)) == q  # what parses prints back to the same value


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=40), st.integers(), st.floats(), st.booleans(), st.none(), st.binary(max_size=8),
                 st.lists(st.integers(), max_size=3), st.tuples(st.text(max_size=5), st.text(max_size=5))))
def test_any_value_in_any_field_is_accepted_or_refused_with_a_named_error(value):
    for field in ("cpu", "mem", "gpu", "ephemeral_storage"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                Resources(**{field: value})
            except ResourceValidationError as e:
                assert e.field is not None or e.value is not None
            except (TypeError, AssertionError, ValueError) as e:  # flytekit's own checks raise what they raise
                tb = e.__traceback__
                while tb.tb_next is not None:
                    tb = tb.tb_next
                assert tb.tb_frame.f_code.co_filename.replace("\\", "/").endswith("flytekit/core/resources.py"), e


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40) | st.from_regex(r"[A-Za-z0-9 ]{1,12}( (MIG )?[0-9]g\.[0-9]{1,2}gb)?(:[0-9]{0,4})?",
                                             fullmatch=True))
def test_any_gpu_spec_text_is_parsed_or_refused_with_the_plugins_error(text):
    try:
        spec = parse_gpu_spec(text)
    except ResourceValidationError:
        return
    assert spec is None or spec.count >= 1


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=20))
def test_partitions_and_attributes_of_any_name_raise_only_the_documented_errors(name):
    from flytekitplugins.resources import accelerators as acc

    for model in (acc.A100, acc.T4, acc.TPU_V5E):
        try:
            model.partitioned(name)
        except ResourceValidationError:
            pass
        for prefix in ("partition_", "slice_", ""):
            try:
                getattr(model, prefix + name)
            except AttributeError:
                pass
