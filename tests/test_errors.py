"""ResourceValidationError: one class wherever it is imported from, messages that print any value, and ints of
any size taken exactly as their digit strings are."""

import pickle
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import flytekitplugins.resources as package
from flytekitplugins.resources import Quantity, Resources, convert_resources_to_resource_model
from flytekitplugins.resources.errors import ResourceValidationError, digits_of, value_repr
from flytekitplugins.resources.quantity import ResourceValidationError as FromQuantity


def test_one_class_from_every_import_path():
    assert FromQuantity is ResourceValidationError
    assert package.ResourceValidationError is ResourceValidationError
    assert issubclass(ResourceValidationError, ValueError)


@pytest.mark.parametrize("kwargs, message", [
    (dict(field="mem", value="2GB", hint="use '2G'", task="wf.t"), "task 'wf.t': mem='2GB': bad; use '2G'"),
    (dict(field="cpu"), "cpu: bad"),
    (dict(value=None), "None: bad"),
    (dict(), "bad"),
    (dict(field="cpu", value=-(10**5000)), "cpu=-1" + "0" * 5000 + ": bad"),
], ids=["all-parts", "field", "none", "problem-only", "huge-int"])
def test_message_names_task_field_value_problem_and_hint(kwargs, message):
    e = ResourceValidationError("bad", **kwargs)
    assert str(e) == message
    again = pickle.loads(pickle.dumps(e))
    assert (str(again), again.field, again.task, again.hint) == (message, e.field, e.task, e.hint)


@pytest.mark.parametrize("value, text", [
    (10**5000, "1" + "0" * 5000), (-7, "-7"), (True, "True"), ("x", "'x'"), (0.5, "0.5"),
], ids=["huge-int", "int", "bool", "str", "float"])
def test_value_repr_prints_ints_of_any_size(value, text):
    assert value_repr(value) == text


_BIG = st.one_of(
    st.builds(lambda d, k: d * 10**k, st.integers(-(10**6), 10**6), st.integers(4250, 6000)),
    st.builds(lambda k, d: 10**k - d, st.integers(4290, 4400), st.integers(-5, 5)),
    st.integers(-(10**30), 10**30),
)


def _outcome(make):
    try:
        return "ok", make()
    except ResourceValidationError as e:
        return "refused", e.problem


@settings(max_examples=60, deadline=None)
@given(_BIG)
def test_a_huge_int_parses_exactly_as_its_digit_string(n):
    digits = digits_of(n)
    by_int = _outcome(lambda: Quantity.from_value(n))
    by_str = _outcome(lambda: Quantity.from_value(digits))
    assert by_int[0] == by_str[0] == "ok"
    assert by_int[1] == by_str[1] and str(by_int[1]) == str(by_str[1])


def _serialized(field, value):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = Resources(**{field: value})
    model = convert_resources_to_resource_model(requests=r)
    return [(e.name, e.value) for e in model.requests]


@settings(max_examples=40, deadline=None)
@given(_BIG, st.sampled_from(["cpu", "mem", "gpu", "ephemeral_storage"]))
def test_resources_take_a_huge_int_as_its_digit_string(n, field):
    by_int = _outcome(lambda: _serialized(field, n))
    by_str = _outcome(lambda: _serialized(field, digits_of(n)))
    assert by_int[0] == by_str[0]
    if by_int[0] == "ok":
        assert by_int == by_str
    else:  # the same refusal, and a message that prints (never Python's own ValueError)
        assert by_int[1] == by_str[1]


@pytest.mark.parametrize("value, outcome", [
    (10**5000, "ok"), (-(10**5000), "must not be negative"), (10**5000 + 1, "ok"),
], ids=["10**5000", "-10**5000", "10**5000+1"])
def test_the_ints_beyond_pythons_digit_limit(value, outcome):
    assert _outcome(lambda: _serialized("cpu", value))[0 if outcome == "ok" else 1] == outcome
    assert _outcome(lambda: _serialized("cpu", digits_of(value)))[0 if outcome == "ok" else 1] == outcome
    with pytest.raises(ResourceValidationError, match="parsed from a string, not int"):
        Quantity.parse(value)
