"""Quantity: apimachinery's ParseQuantity and Quantity.String(), as tables of input -> expected."""

import csv
import json
import math
import pathlib
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flytekitplugins.resources import Quantity, ResourceValidationError
from flytekitplugins.resources.quantity import BINARY_SI, DECIMAL_EXPONENT, DECIMAL_SI

# input, String(), Format, exact value
CANONICAL = [
    ("0", "0", DECIMAL_SI, "0"),
    ("1024Mi", "1Gi", BINARY_SI, "1073741824"),
    ("1.5", "1500m", DECIMAL_SI, "1.5"),
    ("1.5Gi", "1536Mi", BINARY_SI, "1610612736"),
    (".001Ki", "1024m", BINARY_SI, "1.024"),
    ("1e3", "1e3", DECIMAL_EXPONENT, "1000"),
    ("1E3", "1E3", DECIMAL_EXPONENT, "1000"),
    ("1e-3", "1e-3", DECIMAL_EXPONENT, "0.001"),
    ("1000m", "1", DECIMAL_SI, "1"),
    ("100m", "100m", DECIMAL_SI, "0.1"),
    ("0.1m", "100u", DECIMAL_SI, "0.0001"),  # 0.1m is 100u: no fractional digits
    ("0.1n", "1n", DECIMAL_SI, "1E-9"),  # rounded up to the nano precision
    ("-0.1n", "-1n", DECIMAL_SI, "-1E-9"),  # away from zero
    ("1e-10", "1e-9", DECIMAL_EXPONENT, "1E-9"),
    ("1Ki", "1Ki", BINARY_SI, "1024"),
    ("8Ki", "8Ki", BINARY_SI, "8192"),
    ("1.1Ki", "1126400m", BINARY_SI, "1126.4"),  # a binary suffix would round: shown in decimal
    ("0.5Ki", "512", BINARY_SI, "512"),  # below 1024: printed as decimal
    ("7Ei", "7Ei", BINARY_SI, "8070450532247928832"),
    ("8Ei", "9223372036854775807", BINARY_SI, "9223372036854775807"),  # capped at 2^63-1
    ("1E", "1E", DECIMAL_SI, "1000000000000000000"),
    ("1000E", "1", DECIMAL_SI, "1E+21"),  # Go has no suffix beyond E and prints none
    ("1e21", "1e21", DECIMAL_EXPONENT, "1E+21"),
    ("99999999999999999999", "99999999999999999999", DECIMAL_SI, "99999999999999999999"),
    ("-1.5Gi", "-1536Mi", BINARY_SI, "-1610612736"),
    ("+1", "+1", DECIMAL_SI, "1"),  # canonical-looking input is echoed back unchanged
    ("01", "01", DECIMAL_SI, "1"),
    ("1.", "1.", DECIMAL_SI, "1"),
    ("1.M", "1.M", DECIMAL_SI, "1000000"),
    ("1.0", "1", DECIMAL_SI, "1"),
    (".5", "500m", DECIMAL_SI, "0.5"),
    ("5e+2", "500", DECIMAL_EXPONENT, "500"),
    ("-0", "0", DECIMAL_SI, "0"),
    (".", "0", DECIMAL_SI, "0"),  # the scanner's leniency: no digits at all is zero
    ("+", "0", DECIMAL_SI, "0"),
    ("Ki", "0", BINARY_SI, "0"),  # a suffix alone, too
    ("m", "0", DECIMAL_SI, "0"),
    ("1.5e-2147483648", "150e2147483646", DECIMAL_EXPONENT, None),  # int32 scale wrap, as in Go
]

REJECTED = [
    "", "2GB", "0.1mi", " 1", "1 ", "1.1.M", "1.5 cores", "123Mb", "1e", "1e+", "1EE3", "1Kii", "1MI", "1mi",
    "-.e-20", "１", "٣", "1_000", "0x10", "nan", "inf", "1k3", "1e9223372036854775808",
]


@pytest.mark.parametrize("text, canonical, fmt, value", CANONICAL)
def test_canonical_form_format_and_exact_value(text, canonical, fmt, value):
    q = Quantity.parse(text)
    assert str(q) == canonical
    assert q.format == fmt
    if value is not None:
        assert q.as_decimal() == Decimal(value)


@pytest.mark.parametrize("text", REJECTED)
def test_rejects_what_apimachinery_rejects(text):
    with pytest.raises(ResourceValidationError) as info:
        Quantity.parse(text)
    assert isinstance(info.value, ValueError)
    assert repr(text) in str(info.value)


def test_non_strings_are_refused_by_parse():
    with pytest.raises(ResourceValidationError):
        Quantity.parse(5)


@pytest.mark.parametrize("value, expected", [(0, "0"), (1024, "1024"), (0.5, "500m"), (1.0, "1"), (2.25, "2250m"),
                                             (1e-05, "10e-6"), (-0.0, "0")])
def test_from_value_uses_decimal_digits_and_shortest_repr(value, expected):
    assert str(Quantity.from_value(value)) == expected


@pytest.mark.parametrize("value", [True, False, float("nan"), float("inf")])
def test_from_value_refuses_bool_and_non_finite(value):
    with pytest.raises(ResourceValidationError):
        Quantity.from_value(value)


def test_comparison_is_by_value():
    assert Quantity.parse("1Gi") == Quantity.parse("1024Mi") == Quantity.parse("1073741824")
    assert Quantity.parse("999m") < Quantity.parse("1") < Quantity.parse("1001m")
    assert Quantity.parse("1e-9") == Quantity.parse("1n")
    assert Quantity.parse("-1") < Quantity.parse("0") < Quantity.parse("1n")
    assert hash(Quantity.parse("1k")) == hash(Quantity.parse("1000"))
    assert Quantity.parse("1") != "1"


def test_no_floats_inside():
    q = Quantity.parse("0.1")
    assert not any(isinstance(getattr(q, slot), float) for slot in Quantity.__slots__)
    assert q.as_decimal() == Decimal("0.1")  # not 0.1000000000000000055...


# -------------------------------------------------------------- the Go oracle table
ORACLE = pathlib.Path(__file__).parent / "data" / "apimachinery_quantities.tsv"


def _oracle_rows():
    if not ORACLE.exists():
        return []
    with ORACLE.open() as f:
        lines = [line for line in f if not line.startswith("#")]
    reader = csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE)
    reader.fieldnames = [name.replace("_json", "") for name in reader.fieldnames or []]
    return list(reader)


@pytest.mark.skipif(not ORACLE.exists(), reason="oracle table not generated")
def test_oracle_table_matches_every_row():
    """Every row was produced by running apimachinery's own Go code on the input."""
    rows = _oracle_rows()
    assert len(rows) > 5000
    mismatches = []
    for row in rows:
        if row["ok"] == "T":  # Go itself never returns (it builds 10^2147483639): nothing to compare
            continue
        text = json.loads(row["input"])
        try:
            q = Quantity.parse(text)
        except ResourceValidationError:
            if row["ok"] != "0":
                mismatches.append((text, "rejected", row))
            continue
        if row["ok"] != "1":
            mismatches.append((text, "accepted", row))
            continue
        got = (str(q), q.format, str(q.sign()))
        want = (json.loads(row["string"]), row["format"], row["cmp_zero"])
        if got != want:
            mismatches.append((text, got, want))
        elif row["exact"] not in ("-", "") and q.as_decimal() != Decimal(row["exact"]):
            mismatches.append((text, q.as_decimal(), row["exact"]))
    assert mismatches == []


# -------------------------------------------------------------- properties
_suffix = st.sampled_from(["", "n", "u", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"])
_suffix |= st.builds(lambda e, n: f"{e}{n}", st.sampled_from(["e", "E"]), st.integers(-30, 30))
_number = st.builds(
    lambda sign, whole, dot, frac: sign + whole + (("." + frac) if dot else ""),
    st.sampled_from(["", "+", "-"]),
    st.text("0123456789", min_size=1, max_size=22),
    st.booleans(),
    st.text("0123456789", max_size=12),
)
valid_quantities = st.builds(lambda n, s: n + s, _number, _suffix)


@given(valid_quantities)
def test_grammar_strings_always_parse(text):
    Quantity.parse(text)


@given(valid_quantities)
def test_canonical_form_reparses_to_the_same_value_and_is_stable(text):
    q = Quantity.parse(text)
    again = Quantity.parse(str(q))
    if q.as_decimal().adjusted() <= 18:  # beyond E (10^18) Go prints no suffix: the string is not the value
        assert again == q
        assert str(Quantity.parse(str(again))) == str(again)


@given(st.text(max_size=12))
def test_any_text_parses_or_raises_resource_validation_error(text):
    try:
        q = Quantity.parse(text)
    except ResourceValidationError:
        return
    assert isinstance(str(q), str)


@given(st.integers(min_value=-(10**30), max_value=10**30))
def test_integers_are_exact(n):
    assert Quantity.from_value(n).as_decimal() == n


@given(valid_quantities, valid_quantities)
def test_order_agrees_with_exact_decimal_values(a, b):
    qa, qb = Quantity.parse(a), Quantity.parse(b)
    assert (qa < qb) == (qa.as_decimal() < qb.as_decimal())
    assert (qa == qb) == (qa.as_decimal() == qb.as_decimal())


# the constructor refuses what it cannot represent exactly, with the plugin's error
@pytest.mark.parametrize(
    "args, field",
    [((1, 0, "Bogus"), "format"), ((0.5, 0, "DecimalSI"), "coefficient"), ((1, 0.5, "DecimalSI"), "exponent"),
     ((True, 0, "DecimalSI"), "coefficient"), (("1", 0, "DecimalSI"), "coefficient")],
)
def test_the_constructor_refuses_inexact_or_unknown_arguments(args, field):
    with pytest.raises(ResourceValidationError) as info:
        Quantity(*args)
    assert info.value.field == field


@given(st.from_regex(r"[1-9][0-9]{0,16}([numkMGTPE]?|[KMGTPE]i)", fullmatch=True))
def test_the_fast_path_gives_exactly_what_the_general_path_gives(text):
    import re

    import flytekitplugins.resources.quantity as quantity

    fast = Quantity._parse(text)
    saved, quantity._SIMPLE = quantity._SIMPLE, re.compile(r"(?!)(x)(x)")
    try:
        general = Quantity._parse(text)
    finally:
        quantity._SIMPLE = saved
    assert (str(fast), fast.format, fast.as_decimal()) == (str(general), general.format, general.as_decimal())


@pytest.mark.parametrize(
    "a, b, total, difference",
    [
        # quantity_test.go TestQuantityAdd / TestQuantitySub: exact, in the left operand's format
        ("1", "500m", "1500m", "500m"),
        ("1Gi", "512Mi", "1536Mi", "512Mi"),
        ("100m", "200m", "300m", "-100m"),
        # a zero left operand takes the right one's format
        ("0", "1Gi", "1Gi", "-1Gi"),
        ("2", "1", "3", "1"),
        ("1G", "1Gi", "2073741824", "-73741824"),
    ],
)
def test_add_and_sub(a, b, total, difference):
    qa, qb = Quantity.parse(a), Quantity.parse(b)
    assert str(qa + qb) == total and str(qa - qb) == difference
    assert (qa + qb) - qb == qa


# ---------------------------------------------------------------- Go's integer views (apimachinery quantity_test.go)
_SCALES = {"Nano": -9, "Micro": -6, "Milli": -3, "0": 0, "2": 2, "-2": -2}


@pytest.mark.parametrize("from_scale, to_scale, expected", [
    # TestScaledValue: NewScaledQuantity(1, from).ScaledValue(to)
    ("Nano", "Nano", 1), ("Nano", "Micro", 1), ("Nano", "Milli", 1), ("Nano", "0", 1),
    ("Micro", "Nano", 1000), ("Micro", "Micro", 1), ("Micro", "Milli", 1), ("Micro", "0", 1),
    ("Milli", "Nano", 1000 * 1000), ("Milli", "Micro", 1000), ("Milli", "Milli", 1), ("Milli", "0", 1),
    ("0", "Nano", 1000 * 1000 * 1000), ("0", "Micro", 1000 * 1000), ("0", "Milli", 1000), ("0", "0", 1),
    ("2", "-2", 100 * 100),
])
def test_scaled_value_of_one_at_a_scale(from_scale, to_scale, expected):
    q = Quantity(1, _SCALES[from_scale], DECIMAL_SI)
    assert q.scaled_value(_SCALES[to_scale]) == expected
    assert q.scaled_decimal(_SCALES[to_scale]) == expected


_MAX = (1 << 63) - 1


@pytest.mark.parametrize("unscaled, scale, new_scale, want", [
    # TestScaledValueInternal: scaledValue(unscaled, scale, newScale), inf.Dec scales (value = unscaled*10^-scale)
    (1000, 0, 0, 1000),
    (1000, 0, -3, 1), (1000, 3, 0, 1), (0, 3, 0, 0),
    (999, 3, 0, 1), (500, 3, 0, 1), (499, 3, 0, 1), (1, 3, 0, 1),  # always round up
    (_MAX - 1, 1, 0, (_MAX - 1) // 10 + 1),  # a large scaled value does not lose precision
    (10**100, 100, 0, 1),  # a large intermediate result
    (0, 0, 3, 0), (1, 0, 3, 1000), (1, -3, 0, 1000), (1000, -3, 2, 100000000),
    (_MAX // 1000, 0, 3, (_MAX // 1000) * 1000),
])
def test_scaled_value_table(unscaled, scale, new_scale, want):
    q = Quantity(unscaled, -scale, DECIMAL_SI)
    assert q.scaled_value(-new_scale) == want


@pytest.mark.parametrize("text, value, milli", [
    # TestNewSet / TestMilliNewSet round trips: ParseQuantity(s).Value() and .MilliValue()
    ("1", 1, 1000), ("1k", 1000, 10**6), ("1234k", 1234000, 1234 * 10**6), ("1Ki", 1024, 1024000),
    ("1e6", 10**6, 10**9), ("1Mi", 1024 * 1024, 1024 * 1024 * 1000),
    ("1m", 1, 1), ("1234", 1234, 1234000), ("1e3", 1000, 10**6),
    # TestNewScaledSet round trips
    ("1n", 1, 1), ("1u", 1, 1), ("0", 0, 0),
    # rounding is away from zero, for negative values too (ceil of the magnitude)
    ("1.5", 2, 1500), ("-1.5", -2, -1500), ("0.0001", 1, 1), ("-0.0001", -1, -1), ("1500m", 2, 1500),
])
def test_value_and_milli_value(text, value, milli):
    q = Quantity.parse(text)
    assert (q.value(), q.milli_value()) == (value, milli)


@pytest.mark.parametrize("text, value, milli", [
    ("9223372036854775807", _MAX, _MAX),
    ("9223372036854775808", _MAX, _MAX),
    ("-9223372036854775809", -(1 << 63), -(1 << 63)),
    ("9223372036854775807m", 9223372036854776, _MAX),
    ("8Ei", 8 * 2**60 - 1, _MAX),  # binary values are capped at 2^63-1 when parsed
    ("1e2000000000", _MAX, _MAX),  # saturates without building 10^2000000000
])
def test_integer_views_saturate_at_int64(text, value, milli):
    q = Quantity.parse(text)
    assert (q.value(), q.milli_value()) == (value, milli)


def test_scaled_decimal_is_exact_beyond_int64():
    assert Quantity.parse("9223372036854775808").scaled_decimal(0) == Decimal(2**63)
    assert Quantity.parse("1e2000000000").scaled_decimal(-3) == Decimal("1e2000000003")
    assert Quantity.parse("-1e30").scaled_decimal(0) == Decimal("-1e30")


@given(st.integers(-(10**30), 10**30), st.integers(-12, 12), st.integers(-12, 12))
def test_scaled_value_is_the_ceiling_of_the_magnitude(coef, exp, scale):
    q = Quantity(coef, exp, DECIMAL_SI)
    exact = Fraction(coef) * Fraction(10) ** (exp - scale)
    magnitude = math.ceil(abs(exact))
    expected = magnitude if coef >= 0 else -magnitude
    assert q.scaled_decimal(scale) == expected
    assert q.scaled_value(scale) == max(-(1 << 63), min(_MAX, expected))
