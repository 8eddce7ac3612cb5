"""Kubernetes resource quantities, parsed and printed exactly as apimachinery does.

The authority is ``k8s.io/apimachinery/pkg/api/resource`` (``ParseQuantity`` and
``Quantity.String()``). Its grammar::

    <quantity>        ::= <signedNumber><suffix>
    <digit>           ::= 0 | 1 | ... | 9
    <digits>          ::= <digit> | <digit><digits>
    <number>          ::= <digits> | <digits>.<digits> | <digits>. | .<digits>
    <sign>            ::= "+" | "-"
    <signedNumber>    ::= <number> | <sign><number>
    <suffix>          ::= <binarySI> | <decimalExponent> | <decimalSI>
    <binarySI>        ::= Ki | Mi | Gi | Ti | Pi | Ei
    <decimalSI>       ::= n | u | m | "" | k | M | G | T | P | E
    <decimalExponent> ::= "e" <signedNumber> | "E" <signedNumber>

and the rules ParseQuantity applies on top of it, all reproduced here:

- the scanner is more lenient than the grammar: a bare sign or a bare ``.``
  (``"+"``, ``"-."``) is zero when it takes the fast path;
- a value is rounded up (away from zero) to a whole number of nano units
  (``"0.1n"`` is ``1n``);
- a binary-SI value is capped at 2^63-1 in magnitude;
- the exponent after ``e`` is read as an int64 and then truncated to int32, and
  scales are int32 arithmetic, so absurd exponents wrap exactly as in Go;
- ``String()`` returns the input unchanged when the fast path judged it already
  canonical (so ``"1e3"`` stays ``"1e3"`` and ``"+1"`` stays ``"+1"``), and the
  canonical form otherwise: no fractional digits, the largest exponent that loses
  nothing (``"1.5"`` -> ``"1500m"``, ``"1024Mi"`` -> ``"1Gi"``).

No floats are used anywhere: values are Python integers and an exponent, and
:meth:`Quantity.as_decimal` returns an exact :class:`decimal.Decimal`.

This module knows nothing of flytekit.
"""

from __future__ import annotations

import functools
import re
from decimal import Decimal
from typing import Any, Optional, Tuple

from .errors import ResourceValidationError, digits_of

__all__ = [
    "BINARY_SI",
    "DECIMAL_EXPONENT",
    "DECIMAL_SI",
    "Quantity",
    "ResourceValidationError",
]

DECIMAL_EXPONENT = "DecimalExponent"  #: e.g. ``12e6``
BINARY_SI = "BinarySI"  #: e.g. ``12Mi`` (12 * 2^20)
DECIMAL_SI = "DecimalSI"  #: e.g. ``12M`` (12 * 10^6)

_NANO = -9
_MAX_INT64_FACTORS = 18
_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1

_DIGITS = frozenset("0123456789")
_DECIMAL_SUFFIXES = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_BINARY_SUFFIXES = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL_SUFFIX_FOR = {e: s for s, e in _DECIMAL_SUFFIXES.items()}
_BINARY_SUFFIX_FOR = {e: s for s, e in _BINARY_SUFFIXES.items()}
_GO_INT = re.compile(r"[+-]?[0-9]+\Z")

def _int_of(digits: str) -> int:
    """``int(digits)`` for any number of digits (Python refuses strings of more than 4,300 by default)."""
    return int(digits) if len(digits) <= 4000 else int(Decimal(digits))


def _i32(x: int) -> int:
    """Wrap to a Go int32, as Go's int32 arithmetic and conversions do."""
    return ((x + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


def _go_mod(a: int, b: int) -> int:
    """Go's ``%``: the remainder takes the sign of the dividend."""
    r = abs(a) % b
    return -r if a < 0 else r


def _strip_factor(value: int, factor: int) -> Tuple[int, int]:
    """Remove every factor of ``factor`` from ``value``; returns (rest, times). Sign is kept."""
    times = 0
    negative = value < 0
    value = -value if negative else value
    while value >= factor and value % factor == 0:
        value //= factor
        times += 1
    return (-value if negative else value), times


def _ceil_to_nano(magnitude: int, exponent: int) -> Tuple[int, int]:
    """Round magnitude * 10^exponent (magnitude > 0) up to a whole number of 10^-9."""
    if exponent >= _NANO:
        return magnitude, exponent
    shift = _NANO - exponent
    if shift > len(digits_of(magnitude)):  # the value is below 1n: it rounds up to exactly 1n
        return 1, _NANO
    q, r = divmod(magnitude, 10**shift)
    return (q + 1 if r else q), _NANO


def _canonical_dec(unscaled: int, exponent: int) -> Tuple[str, int]:
    """infDecAmount.AsCanonicalBytes: mantissa digits and a base-10 exponent that is a multiple of 3."""
    amount, times = _strip_factor(unscaled, 10)
    exponent = _i32(exponent + times)
    while _go_mod(exponent, 3) != 0:
        amount *= 10
        exponent = _i32(exponent - 1)
    return digits_of(amount), exponent


def _canonical_int64(value: int, scale: int) -> Tuple[str, int]:
    """int64Amount.AsCanonicalBytes, falling back to the inf.Dec form on int64 overflow like Go does."""
    amount, times = _strip_factor(value, 10)
    exponent = _i32(scale + times)
    rem = _go_mod(exponent, 3)
    if rem in (1, -2):
        amount, exponent = amount * 10, _i32(exponent - 1)
    elif rem in (2, -1):
        amount, exponent = amount * 100, _i32(exponent - 2)
    if not _INT64_MIN <= amount <= _INT64_MAX:
        return _canonical_dec(value, scale)
    return digits_of(amount), exponent


@functools.total_ordering
class Quantity:
    """An exact Kubernetes resource quantity.

    >>> q = Quantity.parse("1.5Gi")
    >>> str(q), q.format, q.as_decimal()
    ('1536Mi', 'BinarySI', Decimal('1610612736'))

    ``==`` and ``<`` compare values (``Quantity.parse("1Gi") == Quantity.parse("1024Mi")``),
    ``str()`` is apimachinery's ``Quantity.String()``.
    """

    __slots__ = ("_coef", "_exp", "_int64", "_format", "_s", "_decimal")

    def __init__(self, coefficient: int, exponent: int, format: str, *, _int64: bool = True, _s: Optional[str] = None):
        """The value ``coefficient * 10**exponent`` printed in ``format``; prefer :meth:`parse`."""
        if format not in (DECIMAL_EXPONENT, BINARY_SI, DECIMAL_SI):
            raise ResourceValidationError(
                "is not a quantity format", field="format", value=format,
                hint=f"use {DECIMAL_SI!r}, {BINARY_SI!r} or {DECIMAL_EXPONENT!r}",
            )
        for name, v in (("coefficient", coefficient), ("exponent", exponent)):
            if isinstance(v, bool) or not isinstance(v, int):  # never truncate 0.5 to 0
                raise ResourceValidationError(
                    "must be an int", field=name, value=v, hint="use Quantity.parse('0.5') for a decimal value"
                )
        self._coef = int(coefficient)
        self._exp = int(exponent)
        self._int64 = _int64  # which of Go's two representations holds it (matters only for int32 wrap)
        self._format = format
        self._s = _s  # the input string when Go would print it back unchanged
        self._decimal: Optional[Decimal] = None

    @classmethod
    def _new(cls, coef: int, exp: int, fmt: str, int64: bool = True, s: Optional[str] = None) -> Quantity:
        """The constructor without its argument checks, for values this module computed itself."""
        q = object.__new__(cls)
        q._coef, q._exp, q._int64, q._format, q._s, q._decimal = coef, exp, int64, fmt, s, None
        return q

    # ---------------------------------------------------------------- parsing
    @classmethod
    def parse(cls, text: str) -> Quantity:
        """Parse ``text`` exactly as ``resource.ParseQuantity`` does.

        Raises :class:`ResourceValidationError` for anything ParseQuantity rejects.
        """
        if not isinstance(text, str):
            raise ResourceValidationError(
                f"a quantity is parsed from a string, not {type(text).__name__}", value=text
            )
        try:
            return _parse_cached(text)
        except _ParseError as e:
            raise ResourceValidationError(f"is not a valid Kubernetes quantity ({e})", value=text) from None

    @classmethod
    def _parse(cls, text: str) -> Quantity:
        if len(text) == 0:
            raise _ParseError("empty string")
        if text == "0":
            return cls._new(0, 0, DECIMAL_SI, True, text)
        m = _SIMPLE.match(text)
        if m is not None:  # the usual "500m", "2Gi", "16": what the general path below gives, sooner
            num, suf = m.groups()
            _, exponent, fmt = _SUFFIX_CACHE[suf]
            digits = int(num)
            if fmt != BINARY_SI:
                return cls._new(digits, exponent, fmt, True, None if num.endswith("000") else text)
            if 15 - len(num) - (exponent * 3 // 10) - 1 >= 0:
                return cls._new(digits << exponent, 0, fmt, True, text if exponent % 10 == 0 and digits & 7 else None)
        if not text.isascii():
            raise _ParseError("only ASCII digits, sign, '.' and a unit suffix are allowed")

        positive, value, num, denom, suf = _scan(text)
        interpreted = _SUFFIX_CACHE.get(suf) or _interpret(suf)
        if interpreted is None:
            raise _ParseError(f"unknown suffix {suf!r}")
        base, exponent, fmt = interpreted

        precision = 0
        scale = 0
        mantissa = 1
        if fmt == BINARY_SI:
            if exponent >= 0 and len(denom) == 0:
                mantissa = 1 << exponent
                precision = 15 - len(num) - (exponent * 3 // 10) - 1
            else:
                precision = -1
        else:
            scale = exponent
            precision = _i32(_MAX_INT64_FACTORS - (len(num) + len(denom)))

        if precision >= 0:
            # fast path: the value fits an int64 at a scale of at least nano
            scale = _i32(scale - len(denom))
            if scale >= _NANO:
                shifted = num + denom
                digits = int(shifted)
                result = digits * mantissa
                if result <= _INT64_MAX:
                    if not positive:
                        result = -result
                    cached = None
                    if fmt == BINARY_SI:
                        if exponent % 10 == 0 and (digits & 0x07) != 0:
                            cached = text
                    elif scale % 3 == 0 and not shifted.endswith("000") and shifted[0] != "0":
                        cached = text
                    return cls._new(result, scale, fmt, True, cached)

        # slow path: arbitrary precision, then round up to nano and cap
        unscaled, dec_scale = _inf_dec(value)
        if base == 10:
            exp10 = -_i32(dec_scale + _i32(-exponent))
        else:
            unscaled <<= exponent
            exp10 = -dec_scale
        negative = unscaled < 0
        magnitude = -unscaled if negative else unscaled
        if magnitude != 0:
            magnitude, exp10 = _ceil_to_nano(magnitude, exp10)
            if fmt == BINARY_SI:
                if _compare(magnitude, exp10, _INT64_MAX, 0) > 0:
                    magnitude, exp10 = _INT64_MAX, 0
                if _compare(magnitude, exp10, 1, 0) < 0:
                    fmt = DECIMAL_SI  # 0 < |value| < 1 is never printed with a binary suffix
        return cls._new(-magnitude if negative else magnitude, exp10, fmt, False)

    @classmethod
    def from_value(cls, value: Any) -> Quantity:
        """A quantity from a ``str``, an ``int`` (its decimal digits) or a ``float`` (its shortest repr).

        ``bool`` is refused: ``True`` is not a quantity.
        """
        if isinstance(value, Quantity):
            return value
        if isinstance(value, bool):
            raise ResourceValidationError(
                "a bool is not a quantity", value=value, hint="use a number such as 1 or '500m'"
            )
        if isinstance(value, int):  # by value: an int subclass's own __str__/__repr__ is not asked
            return cls._parse(digits_of(int(value)))
        if isinstance(value, float):
            if value != value or value in (float("inf"), float("-inf")):
                raise ResourceValidationError("is not a finite number", value=value, hint="use a number such as 0.5")
            return cls._parse(float.__repr__(float(value)))  # by value, as for int subclasses
        return cls.parse(value)

    # ---------------------------------------------------------------- values
    @property
    def format(self) -> str:
        """How the quantity prints: ``"DecimalSI"``, ``"BinarySI"`` or ``"DecimalExponent"``."""
        return self._format

    def as_decimal(self) -> Decimal:
        """The exact value as a :class:`decimal.Decimal` (no rounding, whatever the context)."""
        if self._decimal is None:
            sign = 1 if self._coef < 0 else 0
            digits = tuple(int(d) for d in digits_of(abs(self._coef)))
            self._decimal = Decimal((sign, digits, self._exp))
        return self._decimal

    def sign(self) -> int:
        """-1, 0 or 1."""
        return (self._coef > 0) - (self._coef < 0)

    def is_integer(self) -> bool:
        """True when the value is a whole number (``"2"``, ``"2000m"``, ``"1k"``)."""
        if self._coef == 0 or self._exp >= 0:
            return True
        return self._coef % (10 ** min(-self._exp, len(digits_of(abs(self._coef))) + 1)) == 0

    # ---------------------------------------------------------------- Go's integer views
    def scaled_decimal(self, scale: int) -> Decimal:
        """``ceil(q / 10**scale)``, rounded away from zero, exactly and with no bound, as an integral Decimal.

        What :meth:`scaled_value` computes before it saturates: for comparisons that must stay exact beyond
        int64 (LimitRange bounds, node fit), and cheap however large the exponent (``1e2000000000``).
        """
        if self._coef == 0:
            return Decimal(0)
        sign, digits, _ = self.as_decimal().as_tuple()  # the digits of the coefficient, kept on the quantity
        shift = self._exp - scale
        if shift >= 0:
            return Decimal((sign, digits, shift))
        if -shift > len(digits) + 1:  # 0 < |value| < 1 after scaling: one unit, away from zero
            return Decimal(-1 if sign else 1)
        whole, rest = divmod(abs(self._coef), 10**-shift)
        whole += 1 if rest else 0
        return Decimal(-whole if sign else whole)

    def scaled_value(self, scale: int) -> int:
        """apimachinery's ``Quantity.ScaledValue(scale)``: ``ceil(q / 10**scale)``, rounded away from zero.

        Go's result is an int64; beyond its range this saturates at ``-2**63`` / ``2**63-1`` (Go itself gives 0
        on its int64 path and wraps on its inf.Dec path there: an accident of representation, never a size).
        """
        d = self.scaled_decimal(scale)
        if d > _INT64_MAX:
            return _INT64_MAX
        if d < _INT64_MIN:
            return _INT64_MIN
        return int(d)

    def value(self) -> int:
        """apimachinery's ``Quantity.Value()``: :meth:`scaled_value` ``(0)``."""
        return self.scaled_value(0)

    def milli_value(self) -> int:
        """apimachinery's ``Quantity.MilliValue()``: :meth:`scaled_value` ``(-3)``, thousandths rounded up."""
        return self.scaled_value(-3)

    # Decimal comparison is exact whatever the context, and each Quantity keeps its Decimal.
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        return self.as_decimal() == other.as_decimal()

    def __lt__(self, other: Quantity) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        return self.as_decimal() < other.as_decimal()

    def __gt__(self, other: Quantity) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        return self.as_decimal() > other.as_decimal()

    def __hash__(self) -> int:
        return hash(self.as_decimal())

    # ---------------------------------------------------------------- arithmetic
    def __add__(self, other: Quantity) -> Quantity:
        """``Quantity.Add``: exact; printed in the left operand's format, or the right's when the left is zero."""
        if not isinstance(other, Quantity):
            return NotImplemented
        return self._combine(other, other._coef)

    def __sub__(self, other: Quantity) -> Quantity:
        """``Quantity.Sub``: exact; printed as :meth:`__add__` would."""
        if not isinstance(other, Quantity):
            return NotImplemented
        return self._combine(other, -other._coef)

    def _combine(self, other: Quantity, other_coef: int) -> Quantity:
        fmt = other._format if self._coef == 0 else self._format
        exp = min(self._exp, other._exp)
        coef = self._coef * 10 ** (self._exp - exp) + other_coef * 10 ** (other._exp - exp)
        # Go keeps the int64 form while the scaled sum fits in an int64, else it moves to inf.Dec
        int64 = self._int64 and other._int64 and _INT64_MIN <= coef <= _INT64_MAX
        return Quantity._new(coef, exp, fmt, int64)

    def __neg__(self) -> Quantity:
        return Quantity._new(-self._coef, self._exp, self._format, self._int64)

    # ---------------------------------------------------------------- printing
    def __str__(self) -> str:
        if self._s is not None:
            return self._s
        if self._coef == 0:
            return "0"
        fmt = self._format
        if fmt == BINARY_SI:
            if _compare(self._coef, self._exp, -1024, 0) > 0 and _compare(self._coef, self._exp, 1024, 0) < 0:
                fmt = DECIMAL_SI
            elif not self.is_integer():
                fmt = DECIMAL_SI  # a binary suffix would have to round: show every digit instead
        if fmt == BINARY_SI:
            # a whole number with |value| <= 2^63-1 (binary values are capped), so this is exact
            value = self._coef * 10**self._exp if self._exp >= 0 else self._coef // 10**-self._exp
            amount, times = _strip_factor(value, 1024)
            return f"{amount}{_BINARY_SUFFIX_FOR.get(times * 10, '')}"
        if self._int64:
            number, exponent = _canonical_int64(self._coef, self._exp)
        else:
            number, exponent = _canonical_dec(self._coef, self._exp)
        if fmt == DECIMAL_EXPONENT:
            return number + (f"e{exponent}" if exponent != 0 else "")
        # Go prints no suffix at all for exponents beyond E (10^18); so do we.
        return number + _DECIMAL_SUFFIX_FOR.get(exponent, "")

    def __repr__(self) -> str:
        return f"Quantity({str(self)!r})"


class _ParseError(Exception):
    pass


@functools.lru_cache(maxsize=4096)
def _parse_cached(text: str) -> Quantity:
    # Quantity is immutable, so a repeated string ("1", "500m", "2Gi") can share one parse
    return Quantity._parse(text)


def _compare(c1: int, e1: int, c2: int, e2: int) -> int:
    """Compare c1*10^e1 with c2*10^e2 exactly, without building huge powers of ten."""
    s1 = (c1 > 0) - (c1 < 0)
    s2 = (c2 > 0) - (c2 < 0)
    if s1 != s2 or s1 == 0:
        return (s1 > s2) - (s1 < s2)
    a1, a2 = abs(c1), abs(c2)
    # order of magnitude: digits + exponent
    m1, m2 = len(digits_of(a1)) + e1, len(digits_of(a2)) + e2
    if m1 != m2:
        return s1 if m1 > m2 else -s1
    if e1 > e2:
        a1 *= 10 ** (e1 - e2)
    else:
        a2 *= 10 ** (e2 - e1)
    return s1 * ((a1 > a2) - (a1 < a2))


# parseQuantityString as one anchored pattern. Each group is as greedy as Go's scanner, so the first
# match splits the string exactly where the scanner does, and a string the scanner rejects does not match.
# parseQuantityString as one regular expression that cannot backtrack more than a step: every part begins
# with a character that the part before it cannot hold (a digit run ends where '.', a suffix letter or a
# sign starts), so a failed match costs time linear in the input, never quadratic. Leading zeros are
# stripped afterwards, not by the pattern (`0*[0-9]*` is ambiguous, and took seconds on '0'*2000 + 'x').
_SUFFIX_CACHE: dict = {}  # filled below with the fixed suffixes: "", "m", "Mi", ...

# the common case: 1 to 15 digits without a leading zero, and a decimal or binary suffix
_SIMPLE = re.compile(r"([1-9][0-9]{0,14})([numkMGTPE]?|[KMGTPE]i)\Z")

_SCANNER = re.compile(r"([+-]?)([0-9]*)(?:\.([0-9]*))?((?:[eEinumkKMGTP]+[+-]?|[+-])[0-9]*)?\Z")


def _scan(text: str) -> Tuple[bool, str, str, str, str]:
    """parseQuantityString: (positive, numeric prefix, integer digits, fraction digits, suffix)."""
    m = _SCANNER.match(text)
    if m is None:
        raise _ParseError("expected <number><suffix>")
    sign, num, denom, suffix = m.groups()
    return sign != "-", text[: m.end(3) if denom is not None else m.end(2)], num.lstrip("0") or "0", \
        denom or "", suffix or ""


def _interpret(suffix: str) -> Optional[Tuple[int, int, str]]:
    """suffixer.interpret: (base, exponent, format) or None."""
    if suffix in _DECIMAL_SUFFIXES:
        return 10, _DECIMAL_SUFFIXES[suffix], DECIMAL_SI
    if suffix in _BINARY_SUFFIXES:
        return 2, _BINARY_SUFFIXES[suffix], BINARY_SI
    if len(suffix) > 1 and suffix[0] in "eE":
        digits = suffix[1:]
        if not _GO_INT.match(digits):
            return None
        if len(digits.lstrip("+-").lstrip("0")) > 19:  # beyond int64 whatever the digits
            return None
        parsed = int(digits)
        if not _INT64_MIN <= parsed <= _INT64_MAX:  # strconv.ParseInt(s, 10, 64) range error
            return None
        return 10, _i32(parsed), DECIMAL_EXPONENT  # then int32(parsed): truncation, as in Go
    return None


def _inf_dec(value: str) -> Tuple[int, int]:
    """inf.Dec.SetString on the numeric prefix: (unscaled integer, digits after the point)."""
    if not any(ch in _DIGITS for ch in value):
        raise _ParseError("no digits")
    sign = -1 if value[0] == "-" else 1
    body = value.lstrip("+-")
    whole, _, frac = body.partition(".")
    return sign * _int_of((whole + frac) or "0"), _i32(len(frac))


_SUFFIX_CACHE.update({suffix: _interpret(suffix) for suffix in (*_DECIMAL_SUFFIXES, *_BINARY_SUFFIXES)})
