"""Resources and ResourceSpec: validation at construction, messages, round-trips, flytekit compatibility."""

import warnings
from decimal import Decimal

import flytekit
import pytest
from flytekit.core.resources import ResourceSpec as StockResourceSpec
from hypothesis import given
from hypothesis import strategies as st

from flytekitplugins.resources import (
    Quantity,
    Resources,
    ResourceSpec,
    ResourceValidationError,
    ResourceValueWarning,
    convert_resources_to_resource_model,
)

VALID = [
    dict(cpu="1", mem="2Gi"),
    dict(cpu=1, mem=1024**3),
    dict(cpu=0.5),
    dict(cpu="0", mem="0", gpu=0, ephemeral_storage="0"),
    dict(cpu=("1", "2"), mem=("1Gi", "1Gi")),
    dict(gpu="2", ephemeral_storage="10Gi"),
    dict(gpu="2000m"),  # whole, whatever the spelling
    dict(mem="1.5Gi"),
    dict(cpu="1e3"),
]


@pytest.mark.parametrize("kwargs", VALID)
@pytest.mark.parametrize("cls", [Resources, flytekit.Resources], ids=["plugin", "flytekit-while-active"])
def test_valid_values_construct(cls, kwargs):
    r = cls(**kwargs)
    for field, value in kwargs.items():
        assert getattr(r, field) == value


# field, value, fragments the message must contain
INVALID = [
    ("mem", "2GB", ["mem='2GB'", "'GB' is not a Kubernetes unit", "'2G' (10^9 bytes)", "'2Gi' (2^30 bytes)"]),
    ("cpu", "1.5 cores", ["cpu='1.5 cores'", "'1.5'", "'500m'"]),
    ("cpu", "-1", ["cpu='-1'", "negative"]),
    ("gpu", "0.5", ["gpu='0.5'", "whole", "MIG"]),
    ("ephemeral_storage", "123Mb", ["ephemeral_storage='123Mb'", "'123M'", "'123Mi'"]),
    ("mem", "0.1mi", ["mem='0.1mi'", "case-sensitive", "'0.1Mi'"]),
    ("mem", "", ["mem=''", "empty string"]),
    ("cpu", " 1", ["cpu=' 1'", "whitespace", "'1'"]),
    ("mem", "1.1.M", ["mem='1.1.M'", "one decimal point"]),
    ("cpu", "１", ["cpu='１'", "ASCII"]),
    ("cpu", True, ["cpu=True", "bool"]),
    ("gpu", False, ["gpu=False", "bool"]),
    ("cpu", float("nan"), ["cpu=nan", "finite"]),
    ("mem", "lots", ["mem='lots'", "suffix"]),
    ("cpu", -0.5, ["cpu=-0.5", "negative"]),
    ("gpu", 1.5, None),  # flytekit's own type check: gpu is str or int
]


@pytest.mark.parametrize("field, value, fragments", INVALID)
@pytest.mark.parametrize("cls", [Resources, flytekit.Resources], ids=["plugin", "flytekit-while-active"])
def test_invalid_values_raise_a_message_naming_field_value_and_fix(cls, field, value, fragments):
    if fragments is None:
        with pytest.raises(AssertionError):  # flytekit's own type checks still raise what they raise
            cls(**{field: value})
        return
    with pytest.raises(ResourceValidationError) as info:
        cls(**{field: value})
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, message
    assert info.value.field == field
    assert isinstance(info.value, ValueError)


def test_pair_request_above_limit_is_refused():
    message = r"cpu=\('2', '1'\): the request '2' is greater than the limit '1'"
    with pytest.raises(ResourceValidationError, match=message):
        Resources(cpu=("2", "1"))
    with pytest.raises(ResourceValidationError, match="greater than the limit"):
        Resources(mem=("1025Mi", "1Gi"))
    Resources(mem=("1024Mi", "1Gi"))  # equal values in different units are fine


def test_pair_with_a_missing_half_is_refused_by_flytekit_itself():
    with pytest.raises(AssertionError):
        Resources(cpu=("1", None))


def test_list_is_stored_as_tuple():
    r = Resources(cpu=["1", "2"], mem=["1Gi", "2Gi"])
    assert r.cpu == ("1", "2") and r.mem == ("1Gi", "2Gi")


def test_flytekit_length_check_still_applies():
    with pytest.raises(ValueError, match="must be of length 2"):
        Resources(cpu=("1", "2", "3"))


@pytest.mark.parametrize("value, message", [
    (1024, "mem=1024 is 1 KiB; did you mean '1024Mi'?"),
    ("512", "mem='512' is 512 bytes; did you mean '512Mi'?"),
    ("100Ki", "mem='100Ki' is 100 KiB; did you mean a size such as '512Mi' or '1Gi'?"),
])
def test_tiny_memory_warns(value, message):
    with pytest.warns(ResourceValueWarning) as record:
        Resources(mem=value)
    assert str(record[0].message) == message
    assert record[0].filename == __file__  # points at the user's line


def test_normal_memory_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Resources(mem="1Mi")
        Resources(mem="0")
        Resources(mem="2Gi")


@pytest.mark.parametrize("kwargs", VALID + [dict(cpu=("1", "2"), mem=["1Gi", "2Gi"])])
def test_json_and_dict_round_trip_to_an_equal_object(kwargs):
    r = Resources(**kwargs)
    assert Resources.from_json(r.to_json()) == r
    assert Resources.from_dict(r.to_dict()) == r
    spec = ResourceSpec.from_multiple_resource(r)
    assert ResourceSpec.from_json(spec.to_json()) == spec
    assert ResourceSpec.from_dict(spec.to_dict()) == spec


def test_stock_resources_round_trip_a_tuple_while_active():
    r = flytekit.Resources(cpu=("1", "2"))
    assert flytekit.Resources.from_json(r.to_json()) == r


def test_plugin_and_flytekit_objects_compare_equal():
    assert Resources(cpu="1") == flytekit.Resources(cpu="1")
    assert flytekit.Resources(cpu="1") == Resources(cpu="1")
    assert Resources(cpu="1") != flytekit.Resources(cpu="2")
    assert isinstance(Resources(), flytekit.Resources)
    empty = StockResourceSpec(requests=flytekit.Resources(), limits=flytekit.Resources())
    assert ResourceSpec(requests=Resources(), limits=Resources()) == empty
    assert empty == ResourceSpec(requests=Resources(), limits=Resources())


@pytest.mark.parametrize("cls", [ResourceSpec, StockResourceSpec], ids=["plugin", "flytekit-while-active"])
def test_from_multiple_resource_single_value_sets_request_and_limit(cls):
    spec = cls.from_multiple_resource(Resources(cpu="2", mem=("1Gi", "2Gi")))
    assert (spec.requests.cpu, spec.limits.cpu) == ("2", "2")
    assert (spec.requests.mem, spec.limits.mem) == ("1Gi", "2Gi")
    assert spec.requests.gpu is None and spec.limits.gpu is None


def test_resource_spec_checks_request_against_limit():
    with pytest.raises(ResourceValidationError, match="greater than the limit"):
        ResourceSpec(requests=Resources(cpu="2"), limits=Resources(cpu="1"))


# ------------------------------------------------------------------ property
_any_value = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=10),
    st.text("0123456789.+-eEinumkKMGTPi", max_size=10),
)
_field_value = st.one_of(_any_value, st.tuples(_any_value, _any_value), st.lists(_any_value, max_size=3))


@given(cpu=_field_value, mem=_field_value, gpu=_field_value, ephemeral_storage=_field_value)
def test_any_input_serializes_to_parseable_values_or_raises_resource_validation_error(cpu, mem, gpu, ephemeral_storage):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceValueWarning)
        try:
            r = Resources(cpu=cpu, mem=mem, gpu=gpu, ephemeral_storage=ephemeral_storage)
        except ResourceValidationError:
            return
        except AssertionError:  # flytekit's own type check (e.g. a float for mem)
            return
        except ValueError as e:  # flytekit's own length check
            assert "must be of length 2" in str(e)
            return
        spec = ResourceSpec.from_multiple_resource(r)
        model = convert_resources_to_resource_model(requests=spec.requests, limits=spec.limits)
    for entry in list(model.requests) + list(model.limits):
        assert isinstance(entry.value, str)
        assert Quantity.parse(entry.value).sign() >= 0
    model.to_flyte_idl().SerializeToString()  # protobuf accepts it


def test_a_space_before_a_valid_unit_gets_the_right_hint():
    with pytest.raises(ResourceValidationError, match=r"a quantity has no spaces: '2Gi'"):
        Resources(mem="2 Gi")


def test_tiny_memory_suggestion_only_when_plausible():
    with pytest.warns(ResourceValueWarning, match="a size such as '512Mi' or '1Gi'"):
        Resources(mem="1048575")


def test_resources_split_by_flytekit_warn_only_once(recwarn):
    import flytekit as fk

    @fk.task(resources=Resources(mem=1024))
    def t(a: int) -> int:
        return a

    tiny = [w for w in recwarn if issubclass(w.category, ResourceValueWarning)]
    assert len(tiny) == 1 and tiny[0].filename == __file__


class _OddFloat(float):
    def __repr__(self):
        return "OddFloat(!)"

    __str__ = __repr__


class _OddInt(int):
    def __repr__(self):
        return "OddInt(!)"

    __str__ = __repr__


# numbers by value, any size, never Python's own ValueError
@pytest.mark.parametrize(
    "kwargs, field, expected",
    [
        (dict(cpu=_OddFloat(0.5)), "cpu", Decimal("0.5")),
        (dict(cpu=_OddInt(2)), "cpu", Decimal(2)),
        (dict(mem="0" * 5000 + "1"), "mem", Decimal(1)),
        (dict(cpu=10**5000), "cpu", Decimal(10) ** 5000),
        (dict(mem="9" * 5000), "mem", Decimal("9" * 5000)),
    ],
)
def test_numbers_are_taken_by_value_and_at_any_size(kwargs, field, expected):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = Resources(**kwargs)
    assert Quantity.from_value(getattr(r, field)).as_decimal() == expected


def _ceil_nano(text):
    """Decimal text rounded up to a nano, as apimachinery rounds a quantity it cannot hold exactly."""
    import decimal

    with decimal.localcontext() as ctx:
        ctx.prec = 10_000
        return Decimal(text).quantize(Decimal("1e-9"), rounding=decimal.ROUND_CEILING)


# (text, its value and canonical string) or (text, None, the words of the refusal): apimachinery parses any
# number of digits, rounds a fraction up to nano, and refuses an exponent its int64 parse of the suffix cannot hold
@pytest.mark.parametrize("text, value, canonical", [
    ("9" * 5000, Decimal("9" * 5000), "9" * 5000),
    ("1." + "1" * 6000 + "Gi", _ceil_nano(Decimal("1." + "1" * 6000) * 2**30), "1193046471111111112n"),
    ("-" + "7" * 4500 + "m", Decimal("-" + "7" * 4500 + "e-3"), "-" + "7" * 4500 + "m"),
    ("1e" + "1" * 5000, None, "unknown suffix 'e111"),
], ids=["5000-nines", "6000-digit-fraction-Gi", "4500-digit-negative-milli", "5000-digit-exponent"])
def test_quantities_of_any_length_parse_or_refuse_with_the_plugins_error(text, value, canonical):
    if value is None:
        with pytest.raises(ResourceValidationError) as info:
            Quantity.parse(text)
        assert canonical in info.value.problem and "is not a valid Kubernetes quantity" in info.value.problem
        return
    q = Quantity.parse(text)
    assert q.as_decimal() == value
    assert str(q) == canonical


# an ephemeral_storage pair round-trips through JSON and dicts like the other fields
@pytest.mark.parametrize("kwargs", [dict(ephemeral_storage=("1Gi", "2Gi")), dict(ephemeral_storage=["1Gi", "2Gi"]),
                                    dict(cpu=("1", "2"), ephemeral_storage=("10Gi", "20Gi")),
                                    dict(ephemeral_storage="5Gi")])
def test_ephemeral_storage_pairs_round_trip(kwargs):
    r = Resources(**kwargs)
    assert Resources.from_json(r.to_json()) == r
    assert Resources.from_dict(r.to_dict()) == r
