"""Kubernetes' name rules: Kubernetes' own messages ([] when valid), and the yes/no derived from them."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flytekitplugins.resources.k8s.names import (
    container_resource_name_errors,
    dns1123_label_errors,
    dns1123_subdomain_errors,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_extended_resource,
    is_hugepages_resource,
    is_integer_resource,
    is_label_value,
    is_native_resource,
    is_qualified_name,
    overcommit_allowed,
    qualified_name_errors,
)

LABEL_REGEX_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and "
    "end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)


@pytest.mark.parametrize(
    "name, messages",
    [
        # content/kube.go IsLabelKey messages (TestIsLabelKey errorCases)
        pytest.param("example.com/", ["name part must be non-empty", "name part must consist of alphanumeric "
                                      "characters, '-', '_' or '.', and must start and end with an alphanumeric "
                                      "character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
                                      "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"],
                     id="empty-name-part"),
        pytest.param("/simple", ["prefix part must be non-empty"], id="empty-prefix-part"),
        pytest.param("a/b/c", ["a valid label key must consist of alphanumeric characters, '-', '_' or '.', and must "
                               "start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or "
                               "'123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') "
                               "with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"],
                     id="two-slashes"),
        pytest.param("Example.com/abc", ["prefix part a lowercase RFC 1123 subdomain must consist of lower case "
                                         "alphanumeric characters, '-' or '.', and must start and end with an "
                                         "alphanumeric character (e.g. 'example.com', regex used for validation is "
                                         "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"],
                     id="uppercase-prefix"),
        pytest.param("nvidia.com/gpu", [], id="nvidia-gpu"),
    ],
)
def test_qualified_name_messages(name, messages):
    assert qualified_name_errors(name) == messages
    assert is_qualified_name(name) is (messages == [])


DNS_GOOD = ["a", "ab", "abc", "a1", "a-1", "a--1--2--b", "0", "01", "012", "1a", "1-a", "1--a--b--2", "a" * 63]
DNS_BAD = [
    "", "A", "ABC", "aBc", "A1", "A-1", "1-A", "-", "a-", "-a", "1-", "-1",
    "_", "a_", "_a", "a_b", "1_", "_1", "1_2", ".", "a.", ".a", "a.b", "1.", ".1", "1.2",
    " ", "a ", " a", "a b", "1 ", " 1", "1 2", "a" * 64,
    "a\n",  # Go's $ is the end of the text; Python's would accept a trailing newline
]


@pytest.mark.parametrize("value", DNS_GOOD)
def test_dns1123_label_good(value):
    # TestIsDNS1123Label goodValues
    assert dns1123_label_errors(value) == []
    assert is_dns1123_label(value)


@pytest.mark.parametrize("value", DNS_BAD)
def test_dns1123_label_bad(value):
    # TestIsDNS1123Label badValues; a dotted but otherwise valid name says "must not contain dots"
    errs = dns1123_label_errors(value)
    assert errs and not is_dns1123_label(value)
    if value in ("a.b", "1.2"):
        assert errs == ["must not contain dots"]


def test_dns1123_label_long_hostile_name():
    # no backtracking regex: a long almost-valid name is scanned once
    assert dns1123_label_errors("a" * 100_000 + "-") == ["must be no more than 63 characters", LABEL_REGEX_MSG]


# ------------------------------------------------------------------------------------------ against Kubernetes' regexes
_LABEL_RE = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_SUBDOMAIN_RE = _LABEL_RE + r"(\." + _LABEL_RE + ")*"
_NAME_RE = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_TEXT = st.text(alphabet="aAz09-_./ é\n", max_size=70) | st.sampled_from(["a" * 63, "a" * 64, "a." * 127, "b" * 254])


def _full(pattern, s):
    import re

    return re.fullmatch(pattern, s) is not None  # fullmatch: a trailing newline is not accepted (Go's $)


@given(_TEXT)
def test_label_and_subdomain_agree_with_the_regexes(s):
    assert is_dns1123_label(s) is (len(s) <= 63 and _full(_LABEL_RE, s))
    assert is_dns1123_subdomain(s) is (len(s) <= 253 and _full(_SUBDOMAIN_RE, s))
    assert (dns1123_subdomain_errors(s) == []) is is_dns1123_subdomain(s)


@given(_TEXT)
def test_qualified_name_agrees_with_is_qualified_name_in_go(s):
    parts = s.split("/")
    name = parts[-1]
    ok_name = 0 < len(name) <= 63 and _full(_NAME_RE, name)
    if len(parts) == 1:
        expected = ok_name
    elif len(parts) == 2:
        expected = ok_name and 0 < len(parts[0]) <= 253 and _full(_SUBDOMAIN_RE, parts[0])
    else:
        expected = False
    assert is_qualified_name(s) is expected
    assert is_label_value(s) is (s == "" or (len(parts) == 1 and ok_name))


@pytest.mark.parametrize("name, native, extended, hugepages, integer, overcommit", [
    ("cpu", True, False, False, False, True),
    ("memory", True, False, False, False, True),
    ("nvidia.com/gpu", False, True, False, True, False),
    ("example.com/dongle", False, True, False, True, False),
    ("kubernetes.io/something", True, False, False, False, True),
    ("node.kubernetes.io/x", True, False, False, False, True),
    ("hugepages-2Mi", True, False, True, False, False),
    ("requests.example.com/x", False, False, False, False, False),  # requests.* is never extended
    ("pods", True, False, False, True, True),
    ("Example.com/x", False, False, False, False, False),  # requests.Example.com/x is not a qualified name
])
def test_resource_name_kinds(name, native, extended, hugepages, integer, overcommit):
    assert (is_native_resource(name), is_extended_resource(name), is_hugepages_resource(name),
            is_integer_resource(name), overcommit_allowed(name)) == (native, extended, hugepages, integer, overcommit)


@pytest.mark.parametrize("name, messages", [
    ("cpu", []), ("memory", []), ("ephemeral-storage", []), ("hugepages-1Gi", []), ("nvidia.com/gpu", []),
    ("pods", ["must be a standard resource for containers"]),
    ("gpu", ["must be a standard resource type or fully qualified", "must be a standard resource for containers"]),
    ("kubernetes.io/x", []),
    ("a/b/c", ["a valid label key must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
               "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
               "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix "
               "and '/' (e.g. 'example.com/MyName')", "doesn't follow extended resource name standard"]),
])
def test_container_resource_name_messages(name, messages):
    assert container_resource_name_errors(name) == messages
