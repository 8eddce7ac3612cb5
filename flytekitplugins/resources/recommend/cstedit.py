"""Layout-keeping edits of libcst nodes: insert an argument into a call or a name into an import.

A new element takes the layout the list already has: one per line (with the list's indentation and
trailing comma) or inline after ``", "``. Comments stay on the line of the element they follow.
"""

from __future__ import annotations

from typing import List, Optional, Sequence, Tuple, TypeVar, Union

import libcst as cst

__all__ = ["insert_arg", "insert_import_name", "string_node", "value_node"]

_E = TypeVar("_E", cst.Arg, cst.ImportAlias)
_Whitespace = Union[cst.SimpleWhitespace, cst.ParenthesizedWhitespace]


def _bare(ws: cst.ParenthesizedWhitespace, last_line: Optional[cst.SimpleWhitespace] = None) -> _Whitespace:
    """A line break with ``ws``'s indentation and no comment or blank lines."""
    return cst.ParenthesizedWhitespace(
        first_line=cst.TrailingWhitespace(), empty_lines=[], indent=ws.indent,
        last_line=ws.last_line if last_line is None else last_line,
    )


def _separator(elements: Sequence[_E], opening: Optional[cst.BaseParenthesizableWhitespace]) -> cst.Comma:
    """The comma between two elements, as this list writes it (without any comment it carries)."""
    ref: Optional[cst.BaseParenthesizableWhitespace] = None
    for element in elements[:-1]:
        if isinstance(element.comma, cst.Comma):
            ref = element.comma.whitespace_after
            break
    if ref is None:
        ref = opening
    if isinstance(ref, cst.ParenthesizedWhitespace):
        return cst.Comma(whitespace_after=_bare(ref))
    return cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))


def _insert(
    elements: Sequence[_E], index: int, new: _E, opening: Optional[cst.BaseParenthesizableWhitespace],
    closing: _Whitespace,
) -> Tuple[List[_E], _Whitespace]:
    """``elements`` with ``new`` at ``index``, and the whitespace before the closing bracket (``closing``:
    what the last element carries when it has no comma)."""
    out = list(elements)
    sep = _separator(out, opening)
    if index < len(out):
        out.insert(index, new.with_changes(comma=sep))
        return out, closing
    last = out[-1]
    multiline = isinstance(sep.whitespace_after, cst.ParenthesizedWhitespace)
    item_indent = sep.whitespace_after.last_line if multiline else None  # type: ignore[union-attr]
    if isinstance(last.comma, cst.Comma):
        after = last.comma.whitespace_after
        if multiline and isinstance(after, cst.ParenthesizedWhitespace):
            # the last element keeps its comment; the line break before the bracket moves to the new one
            last = last.with_changes(comma=last.comma.with_changes(whitespace_after=after.with_changes(
                last_line=item_indent)))
            new = new.with_changes(comma=cst.Comma(whitespace_after=_bare(after)))
        else:
            new = new.with_changes(comma=last.comma)
            last = last.with_changes(comma=sep)
    elif multiline and isinstance(closing, cst.ParenthesizedWhitespace):
        last = last.with_changes(comma=cst.Comma(whitespace_after=closing.with_changes(last_line=item_indent)))
        closing = _bare(closing)
    else:
        last = last.with_changes(comma=sep)
    out[-1] = last
    out.append(new)
    return out, closing


def insert_arg(call: cst.Call, index: int, arg: cst.Arg) -> cst.Call:
    """``call`` with ``arg`` inserted at ``index`` (``len(call.args)`` appends)."""
    args = list(call.args)
    if not args:
        return call.with_changes(args=[arg])
    closing = args[-1].whitespace_after_arg
    args[-1] = args[-1].with_changes(whitespace_after_arg=cst.SimpleWhitespace(""))
    args, closing = _insert(args, index, arg, call.whitespace_before_args, closing)
    args[-1] = args[-1].with_changes(whitespace_after_arg=closing)
    return call.with_changes(args=args)


def insert_import_name(node: cst.ImportFrom, name: str) -> cst.ImportFrom:
    """``from m import a, b`` with ``name`` added: in sorted place when the names are sorted (the
    order isort and ruff use: constants, classes, then the rest, each case-insensitively), else last."""
    assert not isinstance(node.names, cst.ImportStar)
    names = list(node.names)

    def key(n: str) -> Tuple[int, str]:
        return (0 if n.isupper() and len(n) > 1 else 1 if n[:1].isupper() else 2, n.lower())

    keys = [key(cst.Module([]).code_for_node(a.name)) for a in names]
    index = len(names)
    if keys == sorted(keys):
        index = next((i for i, k in enumerate(keys) if k > key(name)), len(names))
    opening = node.lpar.whitespace_after if node.lpar else None
    closing = node.rpar.whitespace_before if node.rpar else cst.SimpleWhitespace("")
    new_names, closing = _insert(names, index, cst.ImportAlias(name=cst.Name(name)), opening, closing)
    changes = {"names": new_names}
    if node.rpar:
        changes["rpar"] = node.rpar.with_changes(whitespace_before=closing)
    return node.with_changes(**changes)


def string_node(value: str, quote: str) -> cst.SimpleString:
    return cst.SimpleString(f"{quote}{value}{quote}")


def value_node(value: str, old: Optional[cst.BaseExpression], quote: str) -> cst.BaseExpression:
    """``value`` (a quantity string) written the way ``old`` was: a number stays a number where the value
    is one, a string keeps its quotes, parentheses stay."""
    if isinstance(old, cst.Integer) and value.isascii() and value.isdigit():
        return old.with_changes(value=value)
    if isinstance(old, cst.Float) and value.isascii() and value.count(".") == 1 \
            and value.replace(".", "").isdigit():
        return old.with_changes(value=value)
    if isinstance(old, cst.SimpleString) and old.prefix == "" and len(old.quote) == 1:
        return old.with_changes(value=f"{old.quote}{value}{old.quote}")
    if old is not None and (old.lpar or old.rpar):
        return string_node(value, quote).with_changes(lpar=old.lpar, rpar=old.rpar)
    return string_node(value, quote)
