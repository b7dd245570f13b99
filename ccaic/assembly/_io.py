"""Reading input files so that every problem becomes a located CCAI4xx diagnostic."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ccaic.diagnostics import Diagnostic, DiagnosticError, Span, error, refused
from ccaic.files import FileRefused, read_data_bytes

#: Longest id (participant, statement, author, group label) in characters: real ids are
#: numbers, UUIDs or e-mail addresses; a longer one is a broken file (docs/limits.md).
MAX_ID_CHARS = 256
#: Longest CSV field (a statement text) in characters (docs/limits.md).
MAX_FIELD_CHARS = 100_000

csv.field_size_limit(MAX_FIELD_CHARS)

#: Stop collecting after this many diagnostics of one kind in one file: enough to act on.
MAX_REPORTS = 10

def normalize_id(raw: str) -> str:
    """The canonical form of an id, so every source and id file agrees on it.

    Surrounding blanks go; an integer-like id ("643", "643.0", "+643", "0643") becomes its
    integer text "643" (string work only: no int(), so a 5,000-digit id costs nothing), "-0"
    becomes "0". Anything else is kept as written (after the strip)."""
    text = raw.strip()
    sign, body = (text[0], text[1:]) if text[:1] in ("+", "-") else ("", text)
    whole, dot, frac = body.partition(".")
    if not (whole.isascii() and whole.isdigit()) or (dot and frac.strip("0")):
        return text
    digits = whole.lstrip("0") or "0"
    return "-" + digits if sign == "-" and digits != "0" else digits


def id_problem(value: str, what: str) -> str | None:
    """Why a normalised id cannot be used (empty or too long), else None."""
    if value == "":
        return f"empty {what}"
    if len(value) > MAX_ID_CHARS:
        return f"{what} is {len(value):,} characters long (the limit is {MAX_ID_CHARS})"
    return None


def normalize_ids(raw: Iterable[str], what: str, span_of: Callable[[int], Span | None],
                  name: str, allow_empty: bool = False) -> list[str]:
    """`normalize_id` over a column (once per distinct value); empty (unless `allow_empty`)
    or over-long ids are CCAI408 / CCAI430 at `span_of(row)`."""
    cache: dict[str, str] = {}
    out: list[str] = []
    diags: list[Diagnostic] = []
    for i, value in enumerate(raw):
        norm = cache.get(value)
        if norm is None:
            norm = cache[value] = normalize_id(value)
        problem = (id_problem(norm, what) if len(diags) < MAX_REPORTS
                   and (norm or not allow_empty) else None)
        if problem is not None:
            diags.append(id_error(f"{name}: {problem}", span_of(i), norm == ""))
        out.append(norm)
    if diags:
        raise DiagnosticError(diags)
    return out


def group_labels(raw: Iterable[str], span_of: Callable[[int], Span | None], name: str
                 ) -> list[str]:
    """Group labels normalised like ids (" 0", "0" and "0.0" are one group); "" = none."""
    return normalize_ids(raw, "group label", span_of, name, allow_empty=True)


def id_error(message: str, span: Span | None, empty: bool) -> Diagnostic:
    """CCAI408 for an empty id, CCAI430 for one over MAX_ID_CHARS."""
    if empty:
        return error("CCAI408", message, span, help="every row needs an id here; fill it in or "
                     "remove the row")
    return error("CCAI430", message, span, help=f"ids are at most {MAX_ID_CHARS} characters; "
                 "check that the right column is named and that the file is not corrupt")


def span_at(file: str, line: int, column: int, width: int = 1) -> Span:
    return Span(file=file, line=line, column=column, end_line=line,
                end_column=column + max(width, 1))


def read_bytes(path: Path, display: str | None = None) -> bytes:
    """The file's bytes under the data cap; missing, unreadable, special or over-large
    files are diagnostics (CCAI401, CCAI108, CCAI109), not exceptions."""
    name = display or str(path)
    try:
        return read_data_bytes(path)
    except FileRefused as exc:
        raise DiagnosticError([refused(exc, name)]) from None  # no line to point at
    except FileNotFoundError:
        raise DiagnosticError([error("CCAI401", f"file not found: {name}", span_at(name, 1, 1),
                                     help="check the path: in a .ccai file it is relative to "
                                     "that file's folder, on the command line to the current "
                                     "folder")]) from None
    except OSError as exc:
        raise DiagnosticError([error("CCAI401", f"cannot read {name}: {exc.strerror}",
                                     span_at(name, 1, 1),
                                     help="check that the path is a readable file")]) from None


def read_text(path: Path, display: str | None = None) -> str:
    """The file's text as UTF-8 (BOM stripped).

    Missing, unreadable, non-UTF-8 or empty files are diagnostics, not exceptions."""
    name = display or str(path)
    data = read_bytes(path, name)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        start = data.rfind(b"\n", 0, exc.start) + 1
        line = data.count(b"\n", 0, exc.start) + 1
        column = len(data[start:exc.start].decode("utf-8", errors="replace")) + 1
        raise DiagnosticError([error(
            "CCAI403", f"{name} is not valid UTF-8 (byte 0x{data[exc.start]:02x})",
            span_at(name, line, column),
            help="re-save the file as UTF-8 (for example `iconv -f latin1 -t utf-8`)")]) from None
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise DiagnosticError([error("CCAI402", f"{name} is empty", span_at(name, 1, 1),
                                     help="export the data again; an empty file has no "
                                     "header and no rows")])
    return text


def field_column(line: str, index: int) -> int:
    """1-based character column where field `index` starts in one CSV line (quotes respected)."""
    col, k, quoted = 0, 0, False
    for pos, ch in enumerate(line):
        if k == index:
            return pos + 1
        if ch == '"':
            quoted = not quoted
        elif ch == "," and not quoted:
            k += 1
            col = pos + 1
    return col + 1 if k == index else len(line) + 1


@dataclass
class CsvFile:
    """A parsed CSV: header, rows of strings and each row's first physical line (1-based)."""

    name: str
    header: list[str]
    rows: list[list[str]]
    lines: list[int]
    raw_lines: list[str] = field(repr=False)

    def span(self, row: int | None, index: int) -> Span:
        """Span of cell `index` of data row `row` (None = the header)."""
        line = 1 if row is None else self.lines[row]
        raw = self.raw_lines[line - 1] if line - 1 < len(self.raw_lines) else ""
        column = field_column(raw, index)
        value = self.header[index] if row is None else (
            self.rows[row][index] if index < len(self.rows[row]) else "")
        return span_at(self.name, line, column, len(value))

    def column(self, name: str) -> int | None:
        return self.header.index(name) if name in self.header else None


def read_csv(path: Path, display: str | None = None) -> CsvFile:
    """Parse a CSV file; ragged rows (more fields than the header) are diagnostics."""
    name = display or str(path)
    text = read_text(path, name)
    reader = csv.reader(io.StringIO(text, newline="\n"))
    raw_lines = [ln.rstrip("\r") for ln in text.split("\n")]
    try:
        header = [h.strip() for h in next(reader)]
        rows: list[list[str]] = []
        lines: list[int] = []
        last = reader.line_num
        for row in reader:
            if row and any(c.strip() for c in row):
                rows.append(row)
                lines.append(last + 1)
            last = reader.line_num
    except csv.Error as exc:
        raise DiagnosticError([_csv_error(name, exc, reader.line_num or 1)]) from None
    table = CsvFile(name, header, rows, lines, raw_lines)
    diags: list[Diagnostic] = []
    seen: dict[str, int] = {}
    for i, h in enumerate(header):
        if h in seen:
            diags.append(error("CCAI415", f"{name}: column {h!r} appears twice in the header",
                               table.span(None, i), help="rename or remove one of the columns"))
        seen[h] = i
    for r, row in enumerate(rows):
        if len(row) > len(header) and len(diags) < MAX_REPORTS:
            diags.append(error(
                "CCAI411", f"{name}: row has {len(row)} fields but the header has {len(header)}",
                table.span(r, len(header)),
                help="quote fields that contain commas, or fix the header"))
    if diags:
        raise DiagnosticError(diags)
    return table


def _csv_error(name: str, exc: csv.Error, line: int) -> Diagnostic:
    """A csv module error as CCAI411, or CCAI431 when a field is over MAX_FIELD_CHARS."""
    if "field larger than field limit" in str(exc):
        return error("CCAI431", f"{name}: a field is longer than {MAX_FIELD_CHARS:,} characters",
                     span_at(name, line, 1),
                     help="a field this long is usually an unclosed quote that swallowed the "
                     "rest of the file; check the quotes before this line")
    return error("CCAI411", f"{name}: malformed CSV: {exc}", span_at(name, line, 1),
                 help="check quoting on this line")


def require_columns(table: CsvFile, wanted: dict[str, str | None], what: str) -> dict[str, int]:
    """Map role -> column index; `wanted` maps role -> column name (None = optional, skipped)."""
    found: dict[str, int] = {}
    missing = []
    for role, col in wanted.items():
        if col is None:
            continue
        idx = table.column(col)
        if idx is None:
            missing.append(col)
        else:
            found[role] = idx
    if missing:
        raise DiagnosticError([error(
            "CCAI404", f"{table.name}: missing column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(repr(m) for m in missing)} for {what}",
            table.span(None, 0),
            help=f"the header is: {','.join(table.header)[:200]}; name the columns in the "
            "source options if they are called something else")])
    return found
