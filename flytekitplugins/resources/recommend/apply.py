"""The source editor behind ``flyte-resources recommend --apply`` and ``--diff``.

``plan(recommendations, root=...)`` finds each task's source file from its module name (under ``root``
and any extra ``paths``; nothing of the user's is imported), reads it with libcst and computes the edits
of its ``@task(...)`` decorator (``@dynamic``, ``@eager`` too) or, for a node, of the ``.with_overrides(...)``
on the task's call in the workflow; formatting and comments are kept. Only literal values are edited:
anything computed is listed in ``EditPlan.skipped`` and left alone. ``EditPlan.diff()`` is the unified
diff; ``EditPlan.apply()`` writes every file, or none.

The rules (the README's "Applying recommendations" says the same):

- ``resources=Resources(mem="4Gi")`` (request = limit) stays in that form: a field whose new request and
  limit are equal stays one value, otherwise it becomes a ``(request, limit)`` pair; a pair stays a pair.
- ``requests=`` and ``limits=`` are edited separately; a field they lack is added to the literal
  ``Resources(...)``; a missing ``requests=``/``limits=`` is added (``@task`` bare becomes ``@task(...)``).
- ``Resources`` is written under the name the file imports it as (``R``, ``flytekit.Resources``), else it is
  added to the file's ``from flytekit import ...``, else ``from flytekit import Resources`` is added.
- a number stays a number where the new value is one (``cpu=2``), a string keeps its quotes.
- the edited values must pass the plugin's own checks (a request not above its limit, for a node the
  override against the task's values); a recommendation that would not is skipped with the reason.
- a node is the task's call in the workflow function: the one with ``node_name=`` giving that id, the
  task's only call, or, in a ``@workflow`` whose every call is a known task or workflow, the call whose
  position gives the id (``n0``, ``n1``, ...). A call without ``.with_overrides`` gets one.
- a recommendation is applied whole or skipped whole (with the reason naming what stopped it).
"""

from __future__ import annotations

import ast
import difflib
import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Mapping, NamedTuple, Optional, Sequence, Set, Tuple, Union

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from ..errors import ResourceValidationError
from ..k8s.resourcenames import FIELDS  # flytekit's Resources fields, in its order
from ..resources import compare_request_limit, gpu_spec, parse_field_value
from .cstedit import insert_arg, insert_import_name, value_node
from .model import Recommendation

__all__ = ["Change", "EditPlan", "FileEdit", "Skip", "SourceEditError", "dnsify", "plan"]

_TASK_DECORATORS = frozenset({"task", "dynamic", "eager"})
_ENTITY_DECORATORS = _TASK_DECORATORS | {"workflow"}
_GROUPS = ("requests", "limits", "resources")
_LOOPS = (cst.For, cst.While, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp, cst.Lambda,
          cst.FunctionDef, cst.ClassDef)

Scalar = Union[str, int, float]
Pair = Tuple[Optional[Scalar], Optional[Scalar]]  # (request, limit)


class SourceEditError(ValueError):
    """A source file that cannot be read, parsed or written; the message is one line naming the file."""


class Skip(NamedTuple):
    """A recommendation left alone, and why."""

    task: str
    node: Optional[str]
    reason: str


class Change(NamedTuple):
    """One recommendation applied: where, and what changed (``"requests.mem '4Gi' -> '3Gi'"``, ...)."""

    task: str
    node: Optional[str]
    path: Path
    line: int
    changes: Tuple[str, ...]


@dataclass
class FileEdit:
    path: Path
    before: bytes
    after: bytes


@dataclass
class EditPlan:
    """The edits of every file, what they change and what was left alone. Nothing is written until ``apply``."""

    root: Path
    files: List[FileEdit] = field(default_factory=list)
    changes: List[Change] = field(default_factory=list)
    skipped: List[Skip] = field(default_factory=list)

    def _name(self, path: Path) -> str:
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return path.as_posix()

    def diff(self) -> str:
        """A unified diff of every edited file (``a/``, ``b/`` paths relative to ``root``); empty when none."""
        out: List[str] = []
        for edit in self.files:
            name = self._name(edit.path)
            before = edit.before.decode(_encoding(edit.before), errors="replace").splitlines(keepends=True)
            after = edit.after.decode(_encoding(edit.after), errors="replace").splitlines(keepends=True)
            for line in difflib.unified_diff(before, after, f"a/{name}", f"b/{name}"):
                out.append(line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n")
        return "".join(out)

    def apply(self) -> List[Path]:
        """Write every edited file, or none: each is first written beside itself to a temporary file, then
        all are renamed over the originals (restored if a rename fails). Refuses (``SourceEditError``) when a
        file changed since the plan was made or cannot be written. Returns the paths written."""
        staged: List[Tuple[FileEdit, str]] = []
        try:
            for edit in self.files:
                try:
                    current = edit.path.read_bytes()
                except OSError as e:
                    raise SourceEditError(f"{edit.path}: cannot be read: {e.strerror or e}") from None
                if current != edit.before:
                    raise SourceEditError(f"{edit.path}: changed since the edits were planned; run again")
                if not os.access(edit.path, os.W_OK):
                    raise SourceEditError(f"{edit.path}: is not writable; nothing was written")
                staged.append((edit, _write_temp(edit.path, edit.after)))
        except BaseException:
            for _, tmp in staged:
                _remove(tmp)
            raise
        done: List[FileEdit] = []
        for i, (edit, tmp) in enumerate(staged):
            try:
                os.replace(tmp, edit.path)
            except OSError as e:
                for _, later in staged[i:]:
                    _remove(later)
                for written in done:  # put back what was already replaced
                    os.replace(_write_temp(written.path, written.before), written.path)
                raise SourceEditError(f"{edit.path}: cannot be written: {e.strerror or e}; nothing was changed") \
                    from None
            done.append(edit)
        return [edit.path for edit in self.files]


def _write_temp(path: Path, data: bytes) -> str:
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as e:
        raise SourceEditError(f"{path}: cannot be written: {e.strerror or e}; nothing was written") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        try:
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        except OSError:
            pass
    except OSError as e:
        _remove(tmp)
        raise SourceEditError(f"{path}: cannot be written: {e.strerror or e}; nothing was written") from None
    return tmp


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _encoding(data: bytes) -> str:
    try:
        return cst.parse_module(data).encoding
    except Exception:  # noqa: BLE001 - only for showing a diff
        return "utf-8"


def dnsify(value: str) -> str:
    """A node name as flytekit turns it into a node id (``with_overrides(node_name=...)``)."""
    res = ""
    if len(value) >= 63:
        value = f"{hashlib.sha224(value.encode('utf-8')).hexdigest()[:10]}-{value[-(63 - 10 - 1):]}"
    for ch in value:
        if ch in "_-.":
            if res != "" and len(res) < 62:
                res += "-"
        elif not ch.isalnum():
            pass
        elif ch.islower() or ch.isdigit():
            res += ch
        else:
            if res != "" and res[-1] != "-" and len(res) < 62:
                res += "-"
            res += ch.lower()
    return res[:-1] if res.endswith("-") else res


# ---------------------------------------------------------------------------------------------------- source


class _Refused(Exception):
    """A recommendation that cannot be applied: the message is the reason."""


def _code(node: cst.CSTNode, limit: int = 60) -> str:
    text = " ".join(cst.Module([]).code_for_node(node).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _Source:
    """One parsed file: its imports, top-level functions, and the replacements planned in it."""

    def __init__(self, name: str, path: Path, data: bytes) -> None:
        self.name, self.path, self.data = name, path, data
        self.is_package = path.name == "__init__.py"
        try:
            module = cst.parse_module(data)
        except cst.ParserSyntaxError as e:
            raise SourceEditError(
                f"{path}: cannot be parsed: line {e.raw_line}, column {e.raw_column + 1}: "
                f"{' '.join(e.message.split())}; nothing was written") from None
        except (UnicodeDecodeError, LookupError, SyntaxError, ValueError) as e:
            raise SourceEditError(f"{path}: cannot be parsed: {' '.join(str(e).split())}; nothing was written") \
                from None
        wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        self.module = module
        self.positions = wrapper.resolve(PositionProvider)
        self.imports: Dict[str, str] = {}  # local name -> qualified name
        self.star_imports: Set[str] = set()
        self.flytekit_from: Optional[cst.ImportFrom] = None  # `from flytekit import ...` to add Resources to
        self.last_import: Optional[cst.CSTNode] = None
        self.defs: Dict[str, List[cst.FunctionDef]] = {}
        self.bound: Set[str] = set()  # other top-level names: classes, assignments
        #: node -> function of the node as updated (children already replaced) -> its replacement
        self.replacements: Dict[cst.CSTNode, Callable[[cst.CSTNode], cst.CSTNode]] = {}
        self._resources_name: Optional[str] = None
        self._new_import = False
        self.quote = '"'
        for statement in module.body:
            if isinstance(statement, cst.FunctionDef):
                self.defs.setdefault(statement.name.value, []).append(statement)
            elif isinstance(statement, cst.ClassDef):
                self.bound.add(statement.name.value)
            elif isinstance(statement, cst.SimpleStatementLine):
                for small in statement.body:
                    targets = small.targets if isinstance(small, cst.Assign) else (
                        [small] if isinstance(small, cst.AnnAssign) else [])
                    for target in targets:
                        if isinstance(target.target, cst.Name):
                            self.bound.add(target.target.value)
            if isinstance(statement, cst.SimpleStatementLine):
                for small in statement.body:
                    if isinstance(small, (cst.Import, cst.ImportFrom)):
                        self._read_import(small)
                        self.last_import = statement
        for node in _walk(module):
            if isinstance(node, cst.SimpleString) and node.prefix == "" and len(node.quote) == 1:
                self.quote = node.quote
                break

    def _read_import(self, node: Union[cst.Import, cst.ImportFrom]) -> None:
        if isinstance(node, cst.Import):
            for alias in node.names:
                dotted = _dotted(alias.name)
                if alias.asname is not None:
                    self.imports[_dotted(alias.asname.name)] = dotted
                else:
                    self.imports[dotted.split(".")[0]] = dotted.split(".")[0]
            return
        module = _dotted(node.module) if node.module is not None else ""
        if node.relative:
            package = self.name.split(".") if self.is_package else self.name.split(".")[:-1]
            up = len(node.relative) - 1
            package = package[: len(package) - up] if up else package
            module = ".".join([*package, module] if module else package)
        if isinstance(node.names, cst.ImportStar):
            self.star_imports.add(module)
            return
        for alias in node.names:
            name = _dotted(alias.name)
            local = _dotted(alias.asname.name) if alias.asname is not None else name
            self.imports[local] = f"{module}.{name}"
        if module == "flytekit" and not node.relative:
            self.flytekit_from = self.flytekit_from or node

    def qualified(self, expr: cst.BaseExpression) -> Optional[str]:
        """The dotted name an expression refers to through this file's imports and functions."""
        if isinstance(expr, cst.Name):
            if expr.value in self.imports:
                return self.imports[expr.value]
            if expr.value in self.defs:
                return f"{self.name}.{expr.value}"
            if "flytekit" in self.star_imports:
                return f"flytekit.{expr.value}"
            return None
        if isinstance(expr, cst.Attribute):
            base = self.qualified(expr.value)
            return f"{base}.{expr.attr.value}" if base else None
        return None

    def flyte_kind(self, expr: cst.BaseExpression) -> Optional[str]:
        """``task``/``dynamic``/``eager``/``workflow`` when ``expr`` (a decorator) is flytekit's."""
        if isinstance(expr, cst.Call):
            expr = expr.func
        q = self.qualified(expr)
        if q and q.split(".")[0] == "flytekit" and q.rsplit(".", 1)[-1] in _ENTITY_DECORATORS:
            return q.rsplit(".", 1)[-1]
        return None

    def is_resources(self, expr: cst.BaseExpression) -> bool:
        q = self.qualified(expr)
        return bool(q) and q.split(".")[0] in ("flytekit", "flytekitplugins") and q.endswith(".Resources")

    def line(self, node: cst.CSTNode) -> int:
        return self.positions[node].start.line

    def resources_name(self) -> str:
        """How this file can write ``Resources``; adds the import when it has none (once)."""
        if self._resources_name is None:
            self._resources_name = self._find_resources_name()
        return self._resources_name

    def _find_resources_name(self) -> str:
        for local, q in self.imports.items():
            if q.split(".")[0] in ("flytekit", "flytekitplugins") and q.endswith(".Resources") and "." not in local:
                return local
        for local, q in self.imports.items():
            if q == "flytekit" and "." not in local:
                return f"{local}.Resources"
        if "flytekit" in self.star_imports:
            return "Resources"
        if "Resources" in self.imports or "Resources" in self.defs or "Resources" in self.bound:
            raise _Refused("the file's name `Resources` is not flytekit's; import flytekit's Resources and run again")
        if self.flytekit_from is not None:
            self.replacements[self.flytekit_from] = lambda updated: insert_import_name(updated, "Resources")
        else:
            self._new_import = True
        return "Resources"

    def edited(self) -> bytes:
        if not self.replacements and not self._new_import:
            return self.data
        module = self.module.visit(_Replace(self.replacements))
        if self._new_import:
            body = list(module.body)
            at = 0
            if self.last_import is not None:
                at = next(i for i, s in enumerate(self.module.body) if s is self.last_import) + 1
            elif body and _is_docstring(body[0]):
                at = 1
            body.insert(at, cst.parse_statement("from flytekit import Resources\n", self.module.config_for_parsing))
            module = module.with_changes(body=body)
        return module.bytes


def _is_docstring(statement: cst.CSTNode) -> bool:
    return (isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1
            and isinstance(statement.body[0], cst.Expr) and isinstance(statement.body[0].value, cst.SimpleString))


def _dotted(node: cst.BaseExpression) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_dotted(node.value)}.{node.attr.value}"
    return cst.Module([]).code_for_node(node)


def _walk(node: cst.CSTNode) -> Iterable[cst.CSTNode]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


class _Replace(cst.CSTTransformer):
    def __init__(self, replacements: Mapping[cst.CSTNode, Callable[[cst.CSTNode], cst.CSTNode]]) -> None:
        super().__init__()
        self.replacements = replacements

    def on_leave(self, original_node, updated_node):  # type: ignore[override]
        replace = self.replacements.get(original_node)
        return replace(updated_node) if replace is not None else updated_node


class _Tree(cst.CSTVisitor):
    """Parents of every node under a function, and its calls in the order Python evaluates them."""

    def __init__(self) -> None:
        super().__init__()
        self.parents: Dict[cst.CSTNode, cst.CSTNode] = {}
        self.calls: List[cst.Call] = []
        self.compound = False  # holds an if/for/while/with/try: node positions are not known statically
        self._stack: List[cst.CSTNode] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if self._stack:
            self.parents[node] = self._stack[-1]
        self._stack.append(node)
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self._stack.pop()
        if isinstance(original_node, cst.Call):
            self.calls.append(original_node)


# ----------------------------------------------------------------------------------------------- literals


@dataclass
class _Literal:
    """A field's literal value in a ``Resources(...)`` call: one value or a (request, limit) pair."""

    arg: cst.Arg
    value: Union[Scalar, Pair, None]
    pair: bool


def _scalar(node: cst.BaseExpression) -> Tuple[bool, Optional[Scalar]]:
    """(is a literal, its value) for a string, int or float literal (``None`` too)."""
    if isinstance(node, cst.Name) and node.value == "None":
        return True, None
    if isinstance(node, cst.SimpleString):
        value = ast.literal_eval(node.value)
        return (True, value) if isinstance(value, str) else (False, None)
    if isinstance(node, (cst.Integer, cst.Float)):
        return True, ast.literal_eval(node.value)
    return False, None


@dataclass
class _ResourcesCall:
    call: cst.Call
    fields: Dict[str, _Literal]


def _read_resources(src: _Source, group: str, node: cst.BaseExpression) -> _ResourcesCall:
    if isinstance(node, cst.Call) and not src.is_resources(node.func) and _dotted(node.func).endswith("Resources"):
        raise _Refused(f"{group}={_code(node)}: this {_dotted(node.func)} is not flytekit's Resources "
                       "(not imported from flytekit)")
    if not (isinstance(node, cst.Call) and src.is_resources(node.func)):
        raise _Refused(f"{group}={_code(node)} is computed, not a literal Resources(...)")
    fields: Dict[str, _Literal] = {}
    for arg in node.args:
        if arg.star or arg.keyword is None:
            raise _Refused(f"{group}={_code(node)} passes {arg.star or 'a positional argument'}; "
                           "only keyword literals are edited")
        name = arg.keyword.value
        if name not in FIELDS:
            raise _Refused(f"{group}={_code(node)}: {name}= is not a Resources field")
        ok, value = _scalar(arg.value)
        if ok:
            fields[name] = _Literal(arg, value, False)
            continue
        if isinstance(arg.value, (cst.Tuple, cst.List)) and len(arg.value.elements) == 2 \
                and not any(isinstance(e, cst.StarredElement) for e in arg.value.elements):
            parts = [_scalar(e.value) for e in arg.value.elements]
            if all(ok for ok, _ in parts):
                fields[name] = _Literal(arg, (parts[0][1], parts[1][1]), True)
                continue
        raise _Refused(f"{group}: {name}={_code(arg.value)} is computed, not a literal")
    return _ResourcesCall(node, fields)


@dataclass
class _Site:
    """A decorator or ``.with_overrides(...)`` with its literal resources."""

    src: _Source
    node: cst.BaseExpression  # the Call, or the bare decorator expression, or the task call (``wrap``)
    call: Optional[cst.Call]
    args: Dict[str, cst.Arg]  # requests / limits / resources present (value maybe None)
    groups: Dict[str, _ResourcesCall]  # those whose value is a literal Resources(...)
    wrap: bool = False  # a task call without .with_overrides: the edit adds one

    @property
    def combined(self) -> bool:
        return "resources" in self.groups

    def state(self) -> Dict[str, Pair]:
        """field -> (request, limit) as written."""
        out: Dict[str, Pair] = {}
        if self.combined:
            for f, lit in self.groups["resources"].fields.items():
                out[f] = lit.value if lit.pair else (lit.value, lit.value)  # type: ignore[assignment]
            return out
        for i, group in enumerate(("requests", "limits")):
            if group in self.groups:
                for f, lit in self.groups[group].fields.items():
                    pair = list(out.get(f, (None, None)))
                    pair[i] = lit.value  # type: ignore[assignment]
                    out[f] = (pair[0], pair[1])
        return out


def _read_site(src: _Source, node: cst.BaseExpression, what: str) -> _Site:
    call = node if isinstance(node, cst.Call) else None
    args: Dict[str, cst.Arg] = {}
    groups: Dict[str, _ResourcesCall] = {}
    for arg in call.args if call else ():
        if arg.star:
            raise _Refused(f"{what} passes {arg.star}{_code(arg.value)}; only literal arguments are edited")
        if arg.keyword is None:
            raise _Refused(f"{what} has a positional argument; only keyword arguments are edited")
        group = arg.keyword.value
        if group in _GROUPS:
            args[group] = arg
            if not (isinstance(arg.value, cst.Name) and arg.value.value == "None"):
                groups[group] = _read_resources(src, group, arg.value)
    if "resources" in groups and ("requests" in groups or "limits" in groups):
        raise _Refused(f"{what} sets resources= together with requests=/limits=, which flytekit refuses")
    for rc in groups.values():
        for f, lit in rc.fields.items():
            if lit.pair and not isinstance(lit.value, tuple) or lit.pair and "resources" not in groups:
                raise _Refused(f"{what}: a (request, limit) pair for {f} belongs in resources=, not requests=/limits=")
    return _Site(src, node, call, args, groups)


# -------------------------------------------------------------------------------------------------- editing


def _same(f: str, a: Optional[Scalar], b: Optional[Scalar]) -> bool:
    if a is None or b is None:
        return a is b
    try:
        return parse_field_value(f, a) == parse_field_value(f, b)
    except ResourceValidationError:
        return a == b


def _show(value: Union[Scalar, Pair, None]) -> str:
    return repr(value)


def _field_index(call: cst.Call, f: str) -> int:
    """Where a new field goes: in FIELDS order among the call's keywords, else last."""
    names = [a.keyword.value for a in call.args if a.keyword is not None]
    order = [FIELDS.index(n) for n in names if n in FIELDS]
    if order != sorted(order):
        return len(call.args)
    for i, a in enumerate(call.args):
        if a.keyword is not None and a.keyword.value in FIELDS and FIELDS.index(a.keyword.value) > FIELDS.index(f):
            return i
    return len(call.args)


def _pair_node(old: Optional[cst.BaseExpression], values: Tuple[str, str], src: _Source) -> cst.BaseExpression:
    if isinstance(old, (cst.Tuple, cst.List)):
        elements = [e.with_changes(value=value_node(v, e.value, src.quote)) for e, v in zip(old.elements, values)]
        return old.with_changes(elements=elements)
    return cst.parse_expression(f"({src.quote}{values[0]}{src.quote}, {src.quote}{values[1]}{src.quote})")


def _set_fields(call: cst.Call, rc: Optional[_ResourcesCall], new: Dict[str, Union[str, Tuple[str, str]]],
                src: _Source) -> cst.Call:
    """The ``Resources(...)`` call with ``new`` values (a str, or a (request, limit) pair)."""
    args = list(call.args)
    by_arg = {lit.arg: f for f, lit in (rc.fields.items() if rc else ())}
    for i, arg in enumerate(args):
        f = by_arg.get(arg)
        if f in new:
            value = new[f]
            old = arg.value
            node = _pair_node(old, value, src) if isinstance(value, tuple) else value_node(
                value, None if isinstance(old, cst.Name) else old, src.quote)
            args[i] = arg.with_changes(value=node)
    call = call.with_changes(args=args)
    present = set(rc.fields) if rc else set()
    for f in FIELDS:
        if f in new and f not in present:
            value = new[f]
            node = _pair_node(None, value, src) if isinstance(value, tuple) else value_node(value, None, src.quote)
            call = insert_arg(call, _field_index(call, f), cst.Arg(
                value=node, keyword=cst.Name(f),
                equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""),
                                      whitespace_after=cst.SimpleWhitespace(""))))
    return call


def _new_resources(src: _Source, new: Dict[str, Union[str, Tuple[str, str]]]) -> cst.Call:
    call = cst.parse_expression(f"{src.resources_name()}()")
    assert isinstance(call, cst.Call)
    return _set_fields(call, None, new, src)


def _kwarg(name: str, value: cst.BaseExpression) -> cst.Arg:
    return cst.Arg(value=value, keyword=cst.Name(name), equal=cst.AssignEqual(
        whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")))


def _check(f: str, request: Optional[Scalar], limit: Optional[Scalar], where: str,
           whose: Tuple[str, str] = ("the", "the")) -> None:
    if any(isinstance(v, str) and f == "gpu" and gpu_spec(v) is not None for v in (request, limit)):
        raise _Refused(f"{where}: gpu names an accelerator ({request!r}, {limit!r}); change the count by hand")
    try:
        q = [parse_field_value(f, v) if v is not None else None for v in (request, limit)]
        if q[0] is not None and q[1] is not None:
            compare_request_limit(f, request, limit, q[0], q[1], value=request, whose=whose)
    except ResourceValidationError as e:
        raise _Refused(f"the edited {where} would be refused: {e}") from None


def _edit(site: _Site, requests: Mapping[str, str], limits: Mapping[str, str], what: str,
          base: Optional[Mapping[str, Pair]] = None) -> Tuple[List[str], Dict[str, Pair]]:
    """Plan the edit of ``site`` to the recommended values (staged in its file only when every check passes);
    returns what changes and the new state. ``base`` is the task's state, which a node override replaces
    per resource, and against which it is checked."""
    src = site.src
    state = site.state()
    wanted = sorted(set(requests) | set(limits), key=FIELDS.index)
    summary: List[str] = []
    new_state = dict(state)
    staged: Dict[str, cst.Call] = {}
    if site.combined:
        rc = site.groups["resources"]
        new: Dict[str, Union[str, Tuple[str, str]]] = {}
        for f in wanted:
            old_req, old_lim = state.get(f, (None, None))
            req, lim = requests.get(f, old_req), limits.get(f, old_lim)
            if req is None or lim is None:
                missing = "limit" if lim is None else "request"
                raise _Refused(f"{what} sets each resource's request and limit together (resources=) and has no "
                               f"{f}; the recommendation gives no {missing} for it: add {f} by hand")
            if _same(f, req, old_req) and _same(f, lim, old_lim):
                continue
            req, lim = str(req), str(lim)
            was_pair = f in rc.fields and rc.fields[f].pair
            new[f] = (req, lim) if was_pair or not _same(f, req, lim) else req
            summary.append(f"resources.{f} {_show(rc.fields[f].value if f in rc.fields else None)} -> {_show(new[f])}")
            new_state[f] = (req, lim)
        if new:
            staged["resources"] = _set_fields(rc.call, rc, new, src)
    else:
        for i, (group, values) in enumerate((("requests", requests), ("limits", limits))):
            rc = site.groups.get(group)
            new = {}
            for f in wanted:
                if f not in values:
                    continue
                old = rc.fields[f].value if rc and f in rc.fields else None
                if old is not None and _same(f, values[f], old):  # type: ignore[arg-type]
                    continue
                new[f] = values[f]
                summary.append(f"{group}.{f} {_show(old)} -> {_show(values[f])}")
                pair = list(new_state.get(f, (None, None)))
                pair[i] = values[f]
                new_state[f] = (pair[0], pair[1])
            if new:
                staged[group] = _set_fields(rc.call, rc, new, src) if rc else _new_resources(src, new)
    for f in wanted:
        old = [v for pair in (state.get(f, (None, None)), (base or {}).get(f, (None, None))) for v in pair]
        if f == "gpu" and any(isinstance(v, str) and gpu_spec(v) is not None for v in old):
            raise _Refused(f"{what}: gpu names an accelerator ({', '.join(repr(v) for v in old if v)}); "
                           "change the count by hand")
        request, limit = new_state.get(f, (None, None))
        if base is None:
            _check(f, request, limit, what)
        else:
            task_req, task_lim = base.get(f, (None, None))
            _check(f, request if request is not None else task_req, limit if limit is not None else task_lim, what,
                   ("the override's" if request is not None else "the task's",
                    "the override's" if limit is not None else "the task's"))
    if staged:
        _stage(site, staged)
    return summary, new_state


def _stage(site: _Site, groups: Mapping[str, cst.Call]) -> None:
    """Record the replacement of the site with ``groups`` (requests/limits/resources -> new Resources call):
    those present get the new value, the others are added at the end."""
    present = set(site.args)

    def replace(updated: cst.CSTNode) -> cst.CSTNode:
        if site.wrap:
            call = cst.Call(func=cst.Attribute(value=updated, attr=cst.Name("with_overrides")))
        elif isinstance(updated, cst.Call):
            call = updated
        else:  # bare @task
            call = cst.Call(func=updated)
        args = [arg.with_changes(value=groups[arg.keyword.value])
                if arg.keyword is not None and arg.keyword.value in groups else arg for arg in call.args]
        call = call.with_changes(args=args)
        for group in _GROUPS:
            if group in groups and group not in present:
                call = insert_arg(call, len(call.args), _kwarg(group, groups[group]))
        return call

    site.src.replacements[site.node] = replace


# --------------------------------------------------------------------------------------------------- planning


class _Planner:
    def __init__(self, root: Path, paths: Sequence[Path], sources: Mapping[str, Path]) -> None:
        self.root = root
        self.paths = [root, *paths]
        self.sources = dict(sources)
        self.files: Dict[Path, _Source] = {}
        self.task_state: Dict[str, Optional[Dict[str, Pair]]] = {}
        self.task_sites: Dict[str, _Site] = {}

    def find(self, module: str) -> Optional[Path]:
        if module in self.sources:
            return Path(self.sources[module])
        parts = module.split(".")
        if not all(p.isidentifier() for p in parts):
            return None
        for base in self.paths:
            for candidate in (base.joinpath(*parts).with_suffix(".py"), base.joinpath(*parts, "__init__.py")):
                if candidate.is_file():
                    return candidate
        return None

    def source(self, module: str) -> _Source:
        path = self.find(module)
        if path is None:
            raise _Refused(f"module {module!r} not found under {', '.join(str(p) for p in self.paths)}")
        key = path.resolve()
        if key not in self.files:
            try:
                data = path.read_bytes()
            except OSError as e:
                raise SourceEditError(f"{path}: cannot be read: {e.strerror or e}; nothing was written") from None
            self.files[key] = _Source(module, path, data)
        return self.files[key]

    def function(self, qualified: str, what: str) -> Tuple[_Source, cst.FunctionDef]:
        module, _, name = qualified.rpartition(".")
        if not module:
            raise _Refused(f"{what} {qualified!r} is not a module.function name")
        src = self.source(module)
        defs = src.defs.get(name, [])
        if len(defs) != 1:
            raise _Refused(f"{src.path}: {'no' if not defs else len(defs)} top-level function {name!r}"
                           + ("" if not defs else " definitions; leave one"))
        return src, defs[0]

    def task_site(self, task: str) -> _Site:
        if task not in self.task_sites:
            src, fn = self.function(task, "task")
            decorators = [d for d in fn.decorators if src.flyte_kind(d.decorator) in _TASK_DECORATORS]
            if len(decorators) != 1:
                raise _Refused(f"{src.path}:{src.line(fn)}: {fn.name.value} has "
                               f"{'no flytekit @task/@dynamic/@eager' if not decorators else 'several task'} "
                               "decorator" + ("s" if decorators else ""))
            d = decorators[0].decorator
            self.task_sites[task] = _read_site(src, d, f"@{_code(d.func if isinstance(d, cst.Call) else d)}(...)")
        return self.task_sites[task]

    def task_values(self, task: str) -> Optional[Dict[str, Pair]]:
        if task not in self.task_state:
            try:
                self.task_state[task] = self.task_site(task).state()
            except _Refused:
                self.task_state[task] = None
        return self.task_state[task]

    def apply_task(self, rec: Recommendation) -> Change:
        site = self.task_site(rec.task)
        if site.node in site.src.replacements:
            raise _Refused("a second recommendation for the same task; give one")
        summary, state = _edit(site, rec.requests, rec.limits, f"@{rec.task.rpartition('.')[2]}'s decorator")
        self.task_state[rec.task] = state
        return Change(rec.task, None, site.src.path, site.src.line(site.node), tuple(summary))

    def apply_node(self, rec: Recommendation) -> Change:
        assert rec.workflow is not None and rec.node is not None
        src, fn = self.function(rec.workflow, "workflow")
        target = self.node_call(src, fn, rec)
        tree, call, overrides = target
        if overrides is None:  # no .with_overrides yet: the call gets one
            site = _Site(src, call, None, {}, {}, wrap=True)
        else:
            site = _read_site(src, overrides, ".with_overrides(...)")
        if site.node in src.replacements:
            raise _Refused("a second recommendation for the same node; give one")
        base = self.task_values(rec.task) or {}
        summary, _ = _edit(site, rec.requests, rec.limits, f"node {rec.node}'s .with_overrides(...)", base)
        return Change(rec.task, rec.node, src.path, src.line(call), tuple(summary))

    def node_call(self, src: _Source, fn: cst.FunctionDef, rec: Recommendation
                  ) -> Tuple[_Tree, cst.Call, Optional[cst.Call]]:
        tree = _Tree()
        fn.body.visit(tree)
        where = f"workflow {rec.workflow}"
        entity_calls: List[Tuple[cst.Call, Optional[str]]] = []  # every call that makes a node: (call, entity)
        countable = not any(isinstance(n, (cst.If, cst.For, cst.While, cst.With, cst.Try)) for n in _walk(fn.body)) \
            and any(src.flyte_kind(d.decorator) == "workflow" for d in fn.decorators)
        for call in tree.calls:
            func = call.func
            if isinstance(func, cst.Attribute) and func.attr.value == "with_overrides":
                continue
            if src.is_resources(func):
                continue
            q = src.qualified(func)
            if q is not None and self.is_entity(q):
                entity_calls.append((call, q))
            else:
                countable = False
        mine = [c for c, q in entity_calls if q == rec.task]
        if not mine:
            raise _Refused(f"{where} has no call of {rec.task} (looked for it by its imported name)")
        found = []
        for call in mine:
            chain = self.override_chain(tree, call)
            explicit = None
            for o in chain:
                for a in o.args:
                    if a.keyword is not None and a.keyword.value == "node_name":
                        ok, value = _scalar(a.value)
                        explicit = dnsify(value) if ok and isinstance(value, str) else "?"
            found.append((call, chain, explicit))
        named = [f for f in found if f[2] == rec.node]
        if len(named) > 1:
            raise _Refused(f"{where}: {len(named)} calls of {rec.task} are named {rec.node!r}")
        if not named:
            unnamed = [f for f in found if f[2] is None]
            if countable and _is_default_id(rec.node):
                index = int(rec.node[1:])
                if index < len(entity_calls) and entity_calls[index][1] == rec.task:
                    named = [f for f in found if f[0] is entity_calls[index][0] and f[2] is None]
            elif len(found) == 1 and len(unnamed) == 1 and _is_default_id(rec.node):
                named = unnamed
            if not named:
                raise _Refused(f"{where}: node {rec.node!r} is not identified unambiguously among the "
                               f"{len(found)} call(s) of {rec.task.rpartition('.')[2]}; give it "
                               f".with_overrides(node_name={rec.node!r})")
        call, chain, _ = named[0]
        if any(isinstance(a, _LOOPS) for a in self.ancestors(tree, call)):
            raise _Refused(f"{where}: the call of {rec.task} at line {src.line(call)} is in a loop or nested "
                           "function: it makes several nodes")
        with_resources = [o for o in chain if any(a.keyword is not None and a.keyword.value in _GROUPS or a.star
                                                  for a in o.args)]
        if len(with_resources) > 1:
            raise _Refused(f"{where}: {len(with_resources)} .with_overrides(...) of node {rec.node} set resources; "
                           "keep one")
        target = with_resources[0] if with_resources else (chain[-1] if chain else None)
        return tree, call, target

    @staticmethod
    def override_chain(tree: _Tree, call: cst.Call) -> List[cst.Call]:
        chain = []
        current: cst.CSTNode = call
        while True:
            attr = tree.parents.get(current)
            outer = tree.parents.get(attr) if attr is not None else None
            if isinstance(attr, cst.Attribute) and attr.value is current and attr.attr.value == "with_overrides" \
                    and isinstance(outer, cst.Call) and outer.func is attr:
                chain.append(outer)
                current = outer
            else:
                return chain

    @staticmethod
    def ancestors(tree: _Tree, node: cst.CSTNode) -> Iterable[cst.CSTNode]:
        while node in tree.parents:
            node = tree.parents[node]
            yield node

    def is_entity(self, qualified: str) -> bool:
        """A task or workflow (by its decorator in a file found under the roots)."""
        module, _, name = qualified.rpartition(".")
        if not module:
            return False
        try:
            src = self.source(module)
        except (_Refused, SourceEditError):
            return False
        defs = src.defs.get(name, [])
        return len(defs) == 1 and any(src.flyte_kind(d.decorator) for d in defs[0].decorators)


def _is_default_id(node: str) -> bool:
    """An id flytekit gives a node that was not named: ``n0``, ``n1``, ..."""
    return node.startswith("n") and node[1:].isascii() and node[1:].isdigit()


def plan(
    recommendations: Iterable[Recommendation],
    *,
    root: Path,
    paths: Sequence[Path] = (),
    sources: Optional[Mapping[str, Path]] = None,
) -> EditPlan:
    """The edits that would apply ``recommendations`` to the source under ``root``.

    A task ``pkg.mod.fn`` is looked up as ``pkg/mod.py`` or ``pkg/mod/__init__.py`` under ``root``, then under
    each of ``paths``; ``sources`` maps a module name to its file directly. Files are parsed, never imported.
    Raises ``SourceEditError`` (one line naming the file) for a file that cannot be read or parsed, and
    ``ResourceValidationError`` for a recommendation whose field or value is not valid.
    """
    root = Path(root)
    planner = _Planner(root, [Path(p) for p in paths], sources or {})
    result = EditPlan(root)
    recs = list(recommendations)
    for rec in recs:
        for group in (rec.requests, rec.limits):
            for f, value in group.items():
                if f not in FIELDS:
                    raise ResourceValidationError(f"is not a Resources field; use one of {', '.join(FIELDS)}",
                                                  field=f, value=value, task=rec.task)
                try:
                    parse_field_value(f, value)
                except ResourceValidationError as e:
                    raise e.with_context(task=rec.task, field=f) from None
                if not isinstance(value, str) or any(c in value for c in "'\"\\\n\r"):
                    raise ResourceValidationError("must be a quantity string", field=f, value=value, task=rec.task)
    # tasks first: a node override is checked against its task's edited values
    for rec in sorted(recs, key=lambda r: r.node is not None):
        if rec.node is not None and rec.workflow is None:
            result.skipped.append(Skip(rec.task, rec.node, "a node recommendation without its workflow's name"))
            continue
        if not rec.requests and not rec.limits:
            continue
        saved = {key: (dict(src.replacements), src._new_import, src._resources_name)
                 for key, src in planner.files.items()}
        try:
            change = planner.apply_node(rec) if rec.node is not None else planner.apply_task(rec)
        except _Refused as e:
            for key, src in planner.files.items():  # nothing of a skipped recommendation stays planned
                src.replacements, src._new_import, src._resources_name = saved.get(key, ({}, False, None))
            if rec.node is None:
                planner.task_state.pop(rec.task, None)
            result.skipped.append(Skip(rec.task, rec.node, str(e)))
            continue
        if change.changes:
            result.changes.append(change)
        if rec.accelerator:
            result.skipped.append(Skip(rec.task, rec.node, f"the accelerator suggestion {rec.accelerator!r} is "
                                       "advice: change gpu=/accelerator= by hand"))
    for src in sorted(planner.files.values(), key=lambda s: str(s.path)):
        after = src.edited()
        if after != src.data:
            result.files.append(FileEdit(src.path, src.data, after))
    return result
