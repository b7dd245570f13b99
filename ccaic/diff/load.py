"""What `ccaic diff` compares: a constitution from a .ccai file, a built JSON or an import.

`FILE#name` picks one constitution in a file that has several. Constitutions rendered from an
assembly need the build pipeline; when it is not available the user is told to build first.
"""

from __future__ import annotations

from collections.abc import Sequence

from ccaic.constitution.model import Constitution
from ccaic.diagnostics import Diagnostic, DiagnosticError, Span, error


def _unreadable(path: str) -> str | None:
    """Why a diff argument cannot be read as a file (missing, a folder, a FIFO or device, a
    name too long), else None: each said as it is, not as "no such file" or a crash."""
    from ccaic.files import FileRefused, path_kind

    try:
        kind = path_kind(path)
    except FileRefused as exc:
        return exc.strerror or str(exc)
    return {"missing": "no such file", "dir": "it is a folder",
            "other": "it is not a regular file (a device, FIFO or socket)"}.get(kind)


def split_spec(spec: str) -> tuple[str, str | None]:
    """`FILE#name` -> (FILE, name); a path that exists as given is never split."""
    if "#" not in spec or _unreadable(spec) != "no such file":
        return spec, None
    path, _, name = spec.rpartition("#")
    return path, name or None


def load_side(spec: str, variables: Sequence[str] = ()) -> Constitution:
    """The constitution named by one diff argument; DiagnosticError for any problem."""
    from ccaic.constitution.interchange import load_constitution_file

    path, name = split_spec(spec)
    if path.endswith(".ccai"):
        return constitution_from_ccai(path, name, variables)
    reason = _unreadable(path)
    if reason is not None and reason != "it is a folder":  # a folder of Anthropic's prompts
        raise DiagnosticError([error("CCAI470", f"cannot read {path}: {reason}",
                                     help="diff takes .ccai files, built constitution JSON or "
                                     "an importable JSON (HF recipe, Anthropic CAI prompts)")])
    c = load_constitution_file(path, name)
    if name is not None and c.origin.kind != "import" and c.name != name:
        raise DiagnosticError([error(
            "CCAI476", f"{path} holds constitution `{c.name}`, not `{name}`",
            Span.point(path, 1, 1), help=f"write {path}#{c.name} or just {path}")])
    return c


def _choose(blocks: Sequence[object], name: str | None, path: str) -> object:
    from ccaic.check.checker import did_you_mean
    from ccaic.syntax import ast

    named = {b.labels[0].value: b for b in blocks if isinstance(b, ast.Block)}
    if not named:
        raise DiagnosticError([error("CCAI474", f"{path} has no constitution block",
                                     Span.point(path, 1, 1),
                                     help='add `constitution "name" { ... }` or diff another '
                                     'file')])
    if name is not None:
        if name not in named:
            guess = did_you_mean(name, named)
            raise DiagnosticError([error(
                "CCAI476", f"{path} has no constitution `{name}`", Span.point(path, 1, 1),
                help=f"did you mean `{guess}`?" if guess else
                f"its constitutions: {', '.join(sorted(named))}")])
        return named[name]
    if len(named) > 1:
        choices = ", ".join(f"{path}#{n}" for n in sorted(named))
        raise DiagnosticError([error(
            "CCAI475", f"{path} has {len(named)} constitutions; say which one to diff",
            Span.point(path, 1, 1), help=f"write one of: {choices}")])
    return next(iter(named.values()))


def _needs_pipeline(program: object, block: object) -> bool:
    """True when the constitution (or one it extends) is rendered from an assembly."""
    from ccaic.syntax import ast

    seen: set[str] = set()
    current = block
    while isinstance(current, ast.Block) and current.labels[0].value not in seen:
        seen.add(current.labels[0].value)
        attrs = current.attributes()
        if "from" in attrs:
            return True
        parent = attrs.get("extends")
        if parent is None or not isinstance(parent.value, ast.Reference):
            return False
        symbols = getattr(program, "symbols", {})
        current = symbols.get(("constitution", parent.value.parts[-1].name))
    return False


def constitution_from_ccai(path: str, name: str | None = None,
                           variables: Sequence[str] = ()) -> Constitution:
    """Check the file, pick the constitution, render it through the build driver (a
    hand-written one reads no assembly data)."""
    from ccaic.build import run_until
    from ccaic.check.checker import check_paths

    reason = _unreadable(path)
    if reason is not None:
        raise DiagnosticError([error("CCAI470", f"cannot read {path}: {reason}",
                                     help="check the path; diff reads regular files")])
    programs, diags = check_paths([path])
    _raise_errors(diags)
    program = programs[0]
    roots = [b for b in program.blocks("constitution") if b.span.file == program.root]
    block = _choose(roots or program.blocks("constitution"), name, path)
    chosen = block.labels[0].value  # type: ignore[attr-defined]
    result = run_until("constitution", path, None, declared_only(program, variables),
                       data=_needs_pipeline(program, block))
    _raise_errors(result.diagnostics)  # a constitution that failed to render left an error
    return next(c for c in result.constitutions if c.name == chosen)


def declared_variables(spec: str) -> set[str]:
    """Variable names a side declares (none for JSON sides)."""
    from ccaic.check.checker import load_program

    path, _ = split_spec(spec)
    if not path.endswith(".ccai") or _unreadable(path) is not None:
        return set()
    program, _ = load_program(path)
    from ccaic.check.checker import Checker

    Checker(program).collect_symbols()
    return {name for kind, name in program.symbols if kind == "variable"}


def declared_only(program: object, variables: Sequence[str]) -> list[str]:
    """The --var settings this side declares: `diff A B --var data=...` may feed only one side
    (the command itself reports names that neither side declares)."""
    symbols = getattr(program, "symbols", {})
    return [v for v in variables if ("variable", v.partition("=")[0].strip()) in symbols]


def _raise_errors(diags: Sequence[Diagnostic]) -> None:
    if any(d.is_error for d in diags):
        raise DiagnosticError(list(diags))
