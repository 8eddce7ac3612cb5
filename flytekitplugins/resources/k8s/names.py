"""Kubernetes' name rules, by scanning characters (no regular expression on user text).

From apimachinery ``pkg/util/validation`` (``IsDNS1123Label``, ``IsDNS1123Subdomain``, ``IsQualifiedName``,
a.k.a. ``content.IsLabelKey``) and kubernetes ``pkg/apis/core/helper/helpers.go`` (standard, native,
extended, hugepages and integer resource names). Each ``*_errors`` function returns Kubernetes' messages
([] when valid), the texts the API server prints; each ``is_*`` yes/no is derived from them.
"""

from __future__ import annotations

import functools
from typing import FrozenSet, List

__all__ = [
    "HUGEPAGES_PREFIX",
    "INTEGER_RESOURCES",
    "STANDARD_CONTAINER_RESOURCES",
    "STANDARD_RESOURCES",
    "container_resource_name_errors",
    "dns1123_label_errors",
    "dns1123_subdomain_errors",
    "is_dns1123_label",
    "is_dns1123_subdomain",
    "is_extended_resource",
    "is_hugepages_resource",
    "is_integer_resource",
    "is_label_value",
    "is_native_resource",
    "is_qualified_name",
    "is_standard_resource",
    "overcommit_allowed",
    "qualified_name_errors",
]

HUGEPAGES_PREFIX = "hugepages-"
#: ``standardContainerResources``: what a container may name without a domain (besides ``hugepages-*``).
STANDARD_CONTAINER_RESOURCES = ("cpu", "memory", "ephemeral-storage")
#: ``standardResources`` (``IsStandardResourceName``, with the hugepages prefixes).
STANDARD_RESOURCES: FrozenSet[str] = frozenset({
    "cpu", "memory", "ephemeral-storage", "requests.cpu", "requests.memory", "requests.ephemeral-storage",
    "limits.cpu", "limits.memory", "limits.ephemeral-storage", "pods", "resourcequotas", "services",
    "replicationcontrollers", "secrets", "configmaps", "persistentvolumeclaims", "storage", "requests.storage",
    "services.nodeports", "services.loadbalancers",
})
#: ``integerResources`` (``IsIntegerResourceName`` adds the extended resources).
INTEGER_RESOURCES: FrozenSet[str] = frozenset({
    "pods", "resourcequotas", "services", "replicationcontrollers", "secrets", "configmaps",
    "persistentvolumeclaims", "services.nodeports", "services.loadbalancers",
})

_LOWER_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_ALNUM = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
_LABEL_KEY_INNER = _ALNUM | frozenset("-_.")

_DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character"
)
_DNS1123_SUBDOMAIN_FMT = _DNS1123_LABEL_FMT + "(\\." + _DNS1123_LABEL_FMT + ")*"
_DNS1123_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character"
)
_LABEL_KEY_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_LABEL_KEY_MSG = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
)


def _regex_error(msg: str, fmt: str, *examples: str) -> str:
    """apimachinery ``RegexError``: the message, examples, and the regular expression Kubernetes uses."""
    if not examples:
        return f"{msg} (regex used for validation is '{fmt}')"
    shown = " or ".join(f"'{e}', " for e in examples)
    return f"{msg} (e.g. {shown}regex used for validation is '{fmt}')"


def _byte_len(s: str) -> int:
    return len(s.encode("utf-8", "surrogatepass"))  # Go's len() counts bytes


def _is_label_shape(s: str) -> bool:
    """``^[a-z0-9]([-a-z0-9]*[a-z0-9])?$``, by scanning."""
    if not s or s[0] not in _LOWER_ALNUM or s[-1] not in _LOWER_ALNUM:
        return False
    return all(c in _LOWER_ALNUM or c == "-" for c in s)


def _is_subdomain_shape(s: str) -> bool:
    """``^label(\\.label)*$``: dot-separated labels (no empty label), by scanning."""
    return all(_is_label_shape(part) for part in s.split("."))


def _is_label_key_name_shape(s: str) -> bool:
    """``^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$``, by scanning."""
    if not s or s[0] not in _ALNUM or s[-1] not in _ALNUM:
        return False
    return all(c in _LABEL_KEY_INNER for c in s)


# ------------------------------------------------------------------------------------------------ names
def dns1123_label_errors(value: str) -> List[str]:
    """apimachinery ``validation.IsDNS1123Label``: [] when valid, else Kubernetes' messages."""
    errs = []
    if _byte_len(value) > 63:
        errs.append("must be no more than 63 characters")
    if not _is_label_shape(value):
        if _is_subdomain_shape(value):
            errs.append("must not contain dots")
        else:
            errs.append(_regex_error(_DNS1123_LABEL_MSG, _DNS1123_LABEL_FMT, "my-name", "123-abc"))
    return errs


def dns1123_subdomain_errors(value: str) -> List[str]:
    """apimachinery ``content.IsDNS1123Subdomain``: [] when valid, else Kubernetes' messages."""
    errs = []
    if _byte_len(value) > 253:
        errs.append("must be no more than 253 bytes")
    if not _is_subdomain_shape(value):
        errs.append(_regex_error(_DNS1123_SUBDOMAIN_MSG, _DNS1123_SUBDOMAIN_FMT, "example.com"))
    return errs


def _name_part_errors(name: str) -> List[str]:
    errs = []
    if not name:
        errs.append("name part must be non-empty")
    elif _byte_len(name) > 63:
        errs.append("name part must be no more than 63 bytes")
    if not _is_label_key_name_shape(name):
        errs.append("name part " + _regex_error(_LABEL_KEY_MSG, _LABEL_KEY_FMT, "MyName", "my.name", "123-abc"))
    return errs


def qualified_name_errors(value: str) -> List[str]:
    """apimachinery ``IsQualifiedName`` (``content.IsLabelKey``): ``[prefix/]name``; [] when valid."""
    errs: List[str] = []
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            errs.extend("prefix part " + m for m in dns1123_subdomain_errors(prefix))
    else:
        return [
            "a valid label key " + _regex_error(_LABEL_KEY_MSG, _LABEL_KEY_FMT, "MyName", "my.name", "123-abc")
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    errs.extend(_name_part_errors(name))
    return errs


def is_dns1123_label(value: str) -> bool:
    """True when :func:`dns1123_label_errors` finds nothing."""
    return not dns1123_label_errors(value)


def is_dns1123_subdomain(value: str) -> bool:
    """True when :func:`dns1123_subdomain_errors` finds nothing."""
    return not dns1123_subdomain_errors(value)


def is_qualified_name(value: str) -> bool:
    """True when :func:`qualified_name_errors` finds nothing."""
    return not qualified_name_errors(value)


def is_label_value(value: str) -> bool:
    """apimachinery ``IsValidLabelValue``: empty, or a qualified name's name part (at most 63 characters)."""
    return value == "" or not _name_part_errors(value)


# ------------------------------------------------------------------------------------------------ resource names
def is_hugepages_resource(name: str) -> bool:
    """``IsHugePageResourceName``: ``hugepages-<size>``."""
    return name.startswith(HUGEPAGES_PREFIX)


def is_native_resource(name: str) -> bool:
    """``IsNativeResource``: unprefixed, or anywhere in the ``kubernetes.io/`` namespace."""
    return "/" not in name or "kubernetes.io/" in name


@functools.lru_cache(maxsize=1024)
def is_extended_resource(name: str) -> bool:
    """``IsExtendedResourceName``: ``example.com/dongle``: not native, not ``requests.*``, and valid as
    ``requests.<name>``."""
    if is_native_resource(name) or name.startswith("requests."):
        return False
    return is_qualified_name("requests." + name)


def is_integer_resource(name: str) -> bool:
    """``IsIntegerResourceName``: object counts and extended resources take whole numbers only."""
    return name in INTEGER_RESOURCES or is_extended_resource(name)


def overcommit_allowed(name: str) -> bool:
    """``IsOvercommitAllowed``: native and not hugepages (an extended resource's request equals its limit)."""
    return is_native_resource(name) and not is_hugepages_resource(name)


def is_standard_resource(name: str) -> bool:
    """``IsStandardResourceName``."""
    return name in STANDARD_RESOURCES or is_hugepages_resource(name) or name.startswith("requests.hugepages-")


def container_resource_name_errors(name: str) -> List[str]:
    """``validateContainerResourceName`` (with ``validateResourceName``): Kubernetes' messages, in its order."""
    errs = qualified_name_errors(name)
    if not errs and "/" not in name and not is_standard_resource(name):
        errs.append("must be a standard resource type or fully qualified")
    if "/" not in name:
        if name not in STANDARD_CONTAINER_RESOURCES and not is_hugepages_resource(name):
            errs.append("must be a standard resource for containers")
    elif not is_native_resource(name) and not is_extended_resource(name):
        errs.append("doesn't follow extended resource name standard")
    return errs
