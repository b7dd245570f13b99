"""Diagnostics: the one error model every stage reports through.

A user mistake is never an exception that escapes to the user: stages collect `Diagnostic`s
(or raise `DiagnosticError` carrying them) and the CLI renders them as text, JSON or GitHub
annotations. Spans are 1-based line/column in Unicode characters plus 0-based character
offsets, the convention Terraform uses in its JSON diagnostics.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from ccaic.files import FileRefused, read_source_bytes

DIAGNOSTICS_FORMAT_VERSION = "1.0"


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class Span(BaseModel):
    """A region of a file: where a diagnostic points and where an AST node came from."""

    model_config = ConfigDict(frozen=True)

    file: str
    line: int
    column: int
    end_line: int
    end_column: int
    offset: int = 0
    end_offset: int = 0

    @classmethod
    def point(cls, file: str, line: int, column: int, offset: int = 0) -> Span:
        return cls(
            file=file, line=line, column=column, end_line=line, end_column=column + 1,
            offset=offset, end_offset=offset + 1,
        )

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class Note(BaseModel):
    """A related location ("first defined here") shown under the main message."""

    model_config = ConfigDict(frozen=True)

    message: str
    span: Span | None = None


class Diagnostic(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    severity: Severity
    message: str
    span: Span | None = None
    help: str | None = None
    notes: tuple[Note, ...] = ()

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


def error(code: str, message: str, span: Span | None = None, help: str | None = None,
          notes: Iterable[Note] = ()) -> Diagnostic:
    return Diagnostic(code=code, severity=Severity.ERROR, message=message, span=span,
                      help=help, notes=tuple(notes))


def warning(code: str, message: str, span: Span | None = None, help: str | None = None,
            notes: Iterable[Note] = ()) -> Diagnostic:
    return Diagnostic(code=code, severity=Severity.WARNING, message=message, span=span,
                      help=help, notes=tuple(notes))


def refused(exc: FileRefused, what: str) -> Diagnostic:
    """The one diagnostic for a file the reader refused (special, over its cap, unusable):
    its code and hint come with the refusal; `what` names the file as the caller says it."""
    return error(exc.code, f"cannot read {what}: {exc.strerror}", help=exc.hint)


class DiagnosticError(Exception):
    """Raised by a stage that cannot go on; carries everything it found so far."""

    def __init__(self, diagnostics: Sequence[Diagnostic]):
        self.diagnostics = list(diagnostics)
        super().__init__("; ".join(d.message for d in self.diagnostics))


def capped(problems: list[Diagnostic], limit: int, code: str, what: str,
           help: str) -> list[Diagnostic]:
    """The first `limit` row problems and one line counting the rest: a broken file can have
    thousands, and the first few say what is wrong."""
    if len(problems) <= limit:
        return problems
    rest = len(problems) - limit
    return [*problems[:limit], error(code, f"... and {rest} more {what}", help=help)]


#: Diagnostics shown per file by default (docs/limits.md); $CCAIC_MAX_DIAGNOSTICS changes it,
#: 0 shows all. A generated file gone wrong can have hundreds of thousands.
MAX_DIAGNOSTICS_PER_FILE = 100
MAX_DIAGNOSTICS_ENV = "CCAIC_MAX_DIAGNOSTICS"


def diagnostics_limit() -> int:
    """The per-file cap: $CCAIC_MAX_DIAGNOSTICS when it is a whole number, else the default."""
    raw = os.environ.get(MAX_DIAGNOSTICS_ENV, "").strip()
    # isascii: str.isdigit() accepts '²', which int() refuses
    return int(raw) if raw.isascii() and raw.isdigit() else MAX_DIAGNOSTICS_PER_FILE


def cap_per_file(diagnostics: Sequence[Diagnostic], limit: int) -> list[Diagnostic]:
    """The first `limit` diagnostics of each file (in the order given), then one CCAI112 per
    file saying how many errors and warnings were left out; `limit` 0 keeps all."""
    if limit <= 0:
        return list(diagnostics)
    shown: dict[str, int] = {}
    left_out: dict[str, tuple[Span | None, list[int]]] = {}
    out: list[Diagnostic] = []
    for d in diagnostics:
        name = d.span.file if d.span is not None else ""
        if shown.get(name, 0) < limit:
            shown[name] = shown.get(name, 0) + 1
            out.append(d)
        else:
            counts = left_out.setdefault(name, (d.span, [0, 0]))[1]
            counts[0 if d.is_error else 1] += 1
    for name, (first, (errors, warnings)) in left_out.items():
        what = " and ".join(f"{n:,} more {word}{'s' if n != 1 else ''}" for n, word in
                            ((errors, "error"), (warnings, "warning")) if n)
        make = error if errors else warning
        out.append(make("CCAI112", f"{what} in {name or 'this run'} not shown, from here on",
                        first, help=f"only the first {limit} diagnostics of a file are shown; fix "
                        f"these first, or set {MAX_DIAGNOSTICS_ENV}=0 to see all"))
    return out


def sort_key(d: Diagnostic) -> tuple[str, int, int, str]:
    if d.span is None:
        return ("", 0, 0, d.code)
    return (d.span.file, d.span.line, d.span.column, d.code)


def count(diagnostics: Iterable[Diagnostic]) -> tuple[int, int]:
    errors = warnings = 0
    for d in diagnostics:
        if d.is_error:
            errors += 1
        else:
            warnings += 1
    return errors, warnings


def summary_line(diagnostics: Sequence[Diagnostic]) -> str:
    errors, warnings = count(diagnostics)
    return (f"{errors} error{'s' if errors != 1 else ''}, "
            f"{warnings} warning{'s' if warnings != 1 else ''}")


def _lines(text: str) -> list[str]:
    """Lines as the parser counts them: only \\n ends a line; a BOM is not shown."""
    return [line.rstrip("\r") for line in text.removeprefix("\ufeff").split("\n")]


def shows_snippet(name: str) -> bool:
    """Only .ccai text (and stdin) is quoted in a diagnostic: a data file, or a file such as
    /proc/self/environ named by `import`, may hold secrets a CI log must not print. The name
    must end in .ccai once symlinks are resolved too: a shared repository's `env.ccai` can be
    a link to /proc/self/environ."""
    if name.startswith("<") and name.endswith(">"):
        return True
    try:
        real = os.path.realpath(name)
    except (OSError, ValueError):
        return False
    return name.endswith(".ccai") and real.endswith(".ccai")


class SourceCache:
    """Text of .ccai files that diagnostics point into: registered sources first, then disk."""

    def __init__(self, sources: Mapping[str, str] | None = None):
        self._lines: dict[str, list[str]] = {}
        for name, text in (sources or {}).items():
            self.add(name, text)

    def add(self, name: str, text: str) -> None:
        self._lines[name] = _lines(text) if shows_snippet(name) else []

    def line(self, name: str, number: int) -> str | None:
        if name not in self._lines:
            self._lines[name] = _read_lines(name)
        lines = self._lines[name]
        if 1 <= number <= len(lines):
            return lines[number - 1]
        return None


def _read_lines(name: str) -> list[str]:
    """A .ccai file's lines from disk; nothing for other, unreadable or non-UTF-8 files."""
    if not shows_snippet(name):
        return []
    try:
        return _lines(read_source_bytes(name).decode("utf-8"))
    except (OSError, ValueError):
        return []


# ---------------------------------------------------------------- text rendering


#: Longest source line shown in a snippet; a longer one is cut around the span.
MAX_SNIPPET_CHARS = 120
#: Escaped everywhere: C0 controls but tab and line feed, DEL, C1, bidi marks and overrides.
_UNSAFE = "\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069"
_CONTROL = re.compile(f"[\n{_UNSAFE}]")  # one-line text: a line feed is escaped too


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


#: Longest message, hint or note printed as text; longer ones (a name a megabyte long) are cut.
MAX_MESSAGE_CHARS = 500


def _shown_text(text: str) -> str:
    """Escaped, and cut to MAX_MESSAGE_CHARS."""
    if len(text) > MAX_MESSAGE_CHARS:
        text = text[:MAX_MESSAGE_CHARS] + f"... ({len(text) - MAX_MESSAGE_CHARS:,} more characters)"
    return escape_control(text)


_TERMINAL = re.compile(f"[{_UNSAFE}]")


def escape_terminal(text: str) -> str:
    """escape_control for multi-line text: line breaks (and tabs) are kept."""
    return _TERMINAL.sub(_escape_char, text)


def escape_control(text: str) -> str:
    """`text` with control characters (ESC, CR, NUL, C1, bidi overrides) written as \\xNN /
    \\uNNNN, so a file or message cannot move the cursor, recolour or reorder a terminal."""
    return _CONTROL.sub(_escape_char, text)


def snippet_window(line: str, start: int, end: int) -> tuple[int, int]:
    """The [lo, hi) character range of `line` to show: all of it, or MAX_SNIPPET_CHARS
    around the span's start [start, end)."""
    if len(line) <= MAX_SNIPPET_CHARS:
        return 0, len(line)
    lo = max(0, min(start - MAX_SNIPPET_CHARS // 3, len(line) - MAX_SNIPPET_CHARS))
    return lo, lo + MAX_SNIPPET_CHARS


def _span_columns(source_line: str, span: Span) -> tuple[int, int]:
    """The span's [start, end) in characters of this line (at least one wide)."""
    start = max(span.column - 1, 0)
    if span.end_line == span.line:
        return start, max(span.end_column - 1, start + 1)
    return start, max(len(source_line), start + 1)


def _underline(source_line: str, span: Span) -> tuple[str, str]:
    """The source line, cut to a window and escaped, and a ^~~ marker under the span."""
    start, end = _span_columns(source_line, span)
    lo, hi = snippet_window(source_line, start, end)
    pieces = [" " if ch == "\t" else escape_control(ch) for ch in source_line[lo:hi]]
    head = "..." if lo > 0 else ""
    shown = head + "".join(pieces) + ("..." if hi < len(source_line) else "")
    a, b = min(max(start, lo), hi) - lo, min(end, hi) - lo
    before = len(head) + sum(len(p) for p in pieces[:a]) + max(start - hi, 0)
    width = max(sum(len(p) for p in pieces[a:b]), 1)
    return shown, " " * before + "^" + "~" * (width - 1)


def render_text(diagnostics: Sequence[Diagnostic], sources: SourceCache | None = None,
                color: bool = False) -> str:
    """rustc-style text: header, source line, underline, notes, help; a closing count line."""
    sources = sources or SourceCache()
    out: list[str] = []

    def paint(text: str, style: str) -> str:
        if not color:
            return text
        codes = {"error": "1;31", "warning": "1;33", "bold": "1", "blue": "1;34",
                 "note": "1;36", "help": "1;32"}
        return f"\x1b[{codes[style]}m{text}\x1b[0m"

    for d in diagnostics:
        where = f"{d.span}: " if d.span else ""
        sev = d.severity.value
        out.append(f"{paint(escape_control(where), 'bold')}{paint(f'{sev}[{d.code}]', sev)}: "
                   f"{_shown_text(d.message)}")
        if d.span is not None:
            src = sources.line(d.span.file, d.span.line)
            if src is not None:
                gutter = str(d.span.line)
                pad = " " * len(gutter)
                shown, marker = _underline(src, d.span)
                out.append(paint(f"{pad} |", "blue"))
                out.append(paint(f"{gutter} | ", "blue") + shown)
                out.append(paint(f"{pad} | ", "blue") + paint(marker, sev))
        for note in d.notes:
            loc = f"{note.span}: " if note.span else ""
            out.append(f"  {paint('note', 'note')}: {_shown_text(loc + note.message)}")
        if d.help:
            out.append(f"  {paint('help', 'help')}: {_shown_text(d.help)}")
        out.append("")
    out.append(summary_line(diagnostics))
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- JSON rendering


def _span_json(span: Span) -> dict[str, object]:
    return {
        "filename": span.file,
        "start": {"line": span.line, "column": span.column, "offset": span.offset},
        "end": {"line": span.end_line, "column": span.end_column, "offset": span.end_offset},
    }


def diagnostic_json(d: Diagnostic, sources: SourceCache | None = None) -> dict[str, object]:
    item: dict[str, object] = {
        "severity": d.severity.value,
        "code": d.code,
        "summary": d.message,
        "detail": d.help or "",
        "doc": f"ccaic explain {d.code}",
    }
    if d.span is not None:
        item["range"] = _span_json(d.span)
        src = (sources or SourceCache()).line(d.span.file, d.span.line)
        if src is not None:
            start, end = _span_columns(src, d.span)
            lo, hi = snippet_window(src, start, end)
            item["snippet"] = {
                "code": src[lo:hi],
                "start_line": d.span.line,
                "highlight_start_offset": max(start - lo, 0),
                "highlight_end_offset": min(end, hi) - lo if d.span.end_line == d.span.line
                else hi - lo,
            }
    item["related"] = [
        {"message": n.message, **({"range": _span_json(n.span)} if n.span else {})}
        for n in d.notes
    ]
    return item


def render_json(diagnostics: Sequence[Diagnostic], sources: SourceCache | None = None) -> str:
    """A versioned, Terraform-validate-like object: valid, counts, diagnostics[]."""
    errors, warnings = count(diagnostics)
    body = {
        "format_version": DIAGNOSTICS_FORMAT_VERSION,
        "valid": errors == 0,
        "error_count": errors,
        "warning_count": warnings,
        "diagnostics": [diagnostic_json(d, sources) for d in diagnostics],
    }
    from ccaic.artifacts import checked

    return checked("diagnostics", json.dumps(body, indent=2, ensure_ascii=False) + "\n")


def _gh_escape(text: str) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return escape_control(text)


def render_github(diagnostics: Sequence[Diagnostic]) -> str:
    """GitHub Actions workflow commands, one annotation per diagnostic."""
    lines = []
    for d in diagnostics:
        kind = "error" if d.is_error else "warning"
        props = [f"title={d.code}"]
        if d.span is not None:
            props = [
                f"file={d.span.file}", f"line={d.span.line}", f"col={d.span.column}",
                f"endLine={d.span.end_line}", f"endColumn={d.span.end_column}", *props,
            ]
        message = d.message + (f" (help: {d.help})" if d.help else "")
        lines.append(f"::{kind} {','.join(props)}::{_gh_escape(message)}")
    return "\n".join(lines) + ("\n" if lines else "")
