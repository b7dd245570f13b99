"""Diagnostics: the one error model every stage reports through.

A user mistake is never an exception that escapes to the user: stages collect `Diagnostic`s
(or raise `DiagnosticError` carrying them) and the CLI renders them as text, JSON or GitHub
annotations. Spans are 1-based line/column in Unicode characters plus 0-based character
offsets, the convention Terraform uses in its JSON diagnostics.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict

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


class SourceCache:
    """Text of files that diagnostics point into: registered sources first, then disk."""

    def __init__(self, sources: Mapping[str, str] | None = None):
        self._lines: dict[str, list[str]] = {}
        for name, text in (sources or {}).items():
            self.add(name, text)

    def add(self, name: str, text: str) -> None:
        self._lines[name] = _lines(text)

    def line(self, name: str, number: int) -> str | None:
        if name not in self._lines:
            try:
                text = Path(name).read_text(encoding="utf-8", errors="replace")
            except OSError:
                self._lines[name] = []
            else:
                self._lines[name] = _lines(text)
        lines = self._lines[name]
        if 1 <= number <= len(lines):
            return lines[number - 1]
        return None


# ---------------------------------------------------------------- text rendering


def _underline(source_line: str, span: Span) -> tuple[str, str]:
    """The source line (tabs expanded) and a ^~~ marker under the span's part of it."""
    start = max(span.column - 1, 0)
    if span.end_line == span.line:
        end = max(span.end_column - 1, start + 1)
    else:
        end = max(len(source_line), start + 1)
    shown = source_line.expandtabs(1)
    width = max(min(end, max(len(shown), start + 1)) - start, 1)
    marker = " " * start + "^" + "~" * (width - 1)
    return shown, marker


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
        out.append(f"{paint(where, 'bold')}{paint(f'{sev}[{d.code}]', sev)}: {d.message}")
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
            out.append(f"  {paint('note', 'note')}: {loc}{note.message}")
        if d.help:
            out.append(f"  {paint('help', 'help')}: {d.help}")
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
            item["snippet"] = {
                "code": src,
                "start_line": d.span.line,
                "highlight_start_offset": d.span.column - 1,
                "highlight_end_offset": (d.span.end_column - 1) if d.span.end_line == d.span.line
                else len(src),
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
    return json.dumps(body, indent=2, ensure_ascii=False) + "\n"


def _gh_escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


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
