"""Reading manifests and YAML: values as Kubernetes and Flyte read them, and one-line errors naming file and key."""

import pytest

from flytekitplugins.resources.errors import ResourceValidationError
from flytekitplugins.resources.k8s.manifest import (
    check_keys,
    copy_json,
    header,
    json_quantity,
    mapping,
    metadata,
    parse_yaml_text,
    quantity,
    resource_list,
    round_up_milli,
    sequence,
    string,
)
from flytekitplugins.resources.quantity import Quantity

SRC = "f.yaml"


@pytest.mark.parametrize("call, message", [
    (lambda: mapping(SRC, "spec", [1]), "f.yaml: spec: must be a mapping, not list [1]"),
    (lambda: sequence(SRC, "spec.items", {"a": 1}), "f.yaml: spec.items: must be a list, not dict {'a': 1}"),
    (lambda: string(SRC, "metadata.name", 5), "f.yaml: metadata.name: must be a string, not int 5 (quote it in YAML)"),
    (lambda: string(SRC, "metadata.name", "", allow_empty=False), "f.yaml: metadata.name: must not be empty"),
    (lambda: quantity(SRC, "max.cpu", True), "f.yaml: max.cpu: True is not a valid Kubernetes quantity (a bool)"),
    (lambda: resource_list(SRC, "max", {"cpu": "-1"}), "f.yaml: max.cpu: '-1' must be greater than or equal to 0"),
    (lambda: check_keys(SRC, "spec", {"limits": [], "x": 1}, ("limits",)),
     "f.yaml: spec.x: unknown field 'x'; expected one of: limits"),
    (lambda: header([], SRC, "LimitRange"), "f.yaml: a LimitRange manifest must be a mapping, not list"),
    (lambda: header({"kind": "Pod"}, SRC, "LimitRange"), "f.yaml: kind: must be 'LimitRange', not 'Pod'"),
    (lambda: header({"kind": "LimitRange", "apiVersion": "v2"}, SRC, "LimitRange"),
     "f.yaml: apiVersion: must be 'v1', not 'v2'"),
    (lambda: metadata({"metadata": {}}, SRC), "f.yaml: metadata.name: must be a string, not null None"),
])
def test_errors_are_one_line_naming_file_and_key(call, message):
    with pytest.raises(ResourceValidationError) as e:
        call()
    assert str(e.value) == message and "\n" not in str(e.value)


def test_none_is_empty_and_values_pass_through():
    assert mapping(SRC, "x", None) == {} and sequence(SRC, "x", None) == []
    assert metadata({"metadata": {"name": "n", "namespace": "ns"}}, SRC) == ("n", "ns")
    assert metadata({"metadata": {"name": "n", "namespace": ""}}, SRC) == ("n", None)


@pytest.mark.parametrize("text, rounded", [
    ("2n", "1m"), ("-2n", "-1m"), ("1500001n", "2m"), ("1", "1"), ("2Gi", "2Gi"), ("1m", "1m"),
    ("1001u", "2m"), ("0.5", "500m"),
])
def test_round_up_milli_is_set_defaults_resource_list(text, rounded):
    q = Quantity.parse(text)
    r = round_up_milli(q)
    assert str(r) == rounded
    if q.as_decimal().as_tuple().exponent >= -3:
        assert r is q  # a value that needs no rounding is returned as it is


def test_resource_list_rounds_unless_told_not_to():
    assert {k: str(v) for k, v in resource_list(SRC, "r", {"cpu": "2n", "memory": 1024}).items()} == \
        {"cpu": "1m", "memory": "1024"}
    assert str(resource_list(SRC, "r", {"cpu": "2n"}, round_milli=False)["cpu"]) == "2n"
    assert str(resource_list(SRC, "r", {"cpu": "-1"}, non_negative=False)["cpu"]) == "-1"


@pytest.mark.parametrize("value, text", [
    (None, "0"), ("  500m ", "500m"), (2, "2"), (1.5, "1500m"), (2.0, "2"), (1e22, "10e21"), ("huge-int", None),
])
def test_json_quantity_decodes_as_unmarshal_json(value, text):
    value = 10**5000 if value == "huge-int" else value  # (built here: pytest cannot print it as a test id)
    q = json_quantity(value)
    if text is None:
        assert q == Quantity.from_value(value)
    else:
        assert str(q) == text


@pytest.mark.parametrize("value", [True, float("nan"), float("inf"), [1], {"a": 1}, "abc"])
def test_json_quantity_refuses_what_is_not_a_quantity(value):
    with pytest.raises(ResourceValidationError):
        json_quantity(value)


def test_copy_json_is_deep():
    doc = {"a": [{"b": 1}], "c": "x"}
    out = copy_json(doc)
    assert out == doc and out["a"] is not doc["a"] and out["a"][0] is not doc["a"][0]


@pytest.mark.parametrize("text, expected", [
    ("spot: yes\nn: no\non: off", [{"spot": "yes", "n": "no", "on": "off"}]),  # YAML 1.2: only true/false
    ("t: true\nf: False", [{"t": True, "f": False}]),
    ("time: 1:30", [{"time": "1:30"}]),  # no base-60 numbers
    ("o: 0o17\nh: 0x1F\ni: -3\nf: 1.5", [{"o": 15, "h": 31, "i": -3, "f": 1.5}]),
    ("a: 1\n---\nb: 2\n", [{"a": 1}, {"b": 2}]),
])
def test_yaml_is_read_as_yaml_v3_reads_it(text, expected):
    assert parse_yaml_text(SRC, text) == expected


@pytest.mark.parametrize("text, fragment", [
    ("a: 1\na: 2\n", "the key 'a' is given twice in one mapping (first at line 1)"),
    ("a: [1\n", "is not valid YAML at line 2"),
])
def test_bad_yaml_is_one_line_naming_the_file(text, fragment):
    with pytest.raises(ResourceValidationError) as e:
        parse_yaml_text(SRC, text)
    assert str(e.value).startswith("f.yaml: (YAML): is not valid YAML") and fragment in str(e.value)
    assert "\n" not in str(e.value)
