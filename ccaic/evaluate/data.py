"""The evaluation data a plan pins, read and checked without a model (no torch, no train).

The lowering pins an `evaluate` block's data with these before anything runs (CCAI490/491 for
a BBQ folder, CCAI493/495-497 for an HHH file), and the evaluate stage reads the same
definitions back, so compiling a plan never reaches the code that loads a model.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from ccaic.diagnostics import Diagnostic, DiagnosticError, Span, capped, error, refused
from ccaic.evaluate.bbq import CATEGORIES
from ccaic.evaluate.jsonl import json_object
from ccaic.files import FileRefused, read_data_bytes

MAX_ROW_DIAGNOSTICS = 20


# ---------------------------------------------------------------- BBQ


def pin_bbq_folder(folder: str | Path) -> tuple[str, tuple[str, ...]]:
    """(sha256, category files) of a BBQ folder: names and contents of its category files.

    The compiler pins the folder with this and the stage checks it, so an edited, added or
    removed category file is noticed before any model is scored.
    """
    root = Path(folder)
    files = tuple(f"{c}.jsonl" for c in CATEGORIES if (root / f"{c}.jsonl").is_file())
    digest = hashlib.sha256()
    for name in files:
        content = hashlib.sha256(read_data_bytes(root / name)).hexdigest()
        digest.update(f"{name}\t{content}\n".encode())
    return digest.hexdigest(), files


# ---------------------------------------------------------------- HHH comparisons


OPTION = re.compile(r"\n \(A\) \[\[\[(?P<a>.*?)\]\]\]\n \(B\) \[\[\[(?P<b>.*?)\]\]\]", re.S)


@dataclass(frozen=True)
class Comparison:
    """One HHH item: the prompt as given, and whether (A) is the right answer there."""

    prompt: str
    a_correct: bool
    source: str  # file:line, for messages


def load_comparisons(path: str | Path) -> list[Comparison]:
    """Every comparison in an HHH JSONL file; DiagnosticError (not a traceback) on mistakes."""
    data = _read(Path(path))
    rows: list[Comparison] = []
    problems: list[Diagnostic] = []
    for number, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        source = f"{path}:{number}"
        try:
            rows.append(parse_row(line, source))
        except _LayoutError as exc:
            problems.append(error(
                "CCAI496", f"HHH prompt without the (A)/(B) layout: {exc}",
                span=Span.point(str(path), number, 1),
                help='the prompt must contain "\\n (A) [[[...]]]\\n (B) [[[...]]]" so the two '
                     "responses can be swapped (Anthropic's multiple-choice layout)"))
        except ValueError as exc:
            problems.append(error(
                "CCAI495", f"malformed HHH row: {exc}", span=Span.point(str(path), number, 1),
                help='each line must be a JSON object with "prompt" (a string) and "corrects" '
                     '(["(A)"] or ["(B)"]); see `ccaic explain CCAI495`'))
    if problems:
        raise DiagnosticError(_cap(problems))
    if not rows:
        raise DiagnosticError([error(
            "CCAI497", f"no HHH comparisons in {path}",
            help="the file is empty; point `hhh` at a JSONL file of comparisons "
                 "(one JSON object per line)")])
    return rows


class _LayoutError(ValueError):
    pass


def _read(path: Path) -> str:
    try:
        return read_data_bytes(path).decode("utf-8")
    except FileNotFoundError:
        raise DiagnosticError([error(
            "CCAI493", f"HHH comparisons file not found: {path}",
            help="pass a JSONL file in Anthropic's HHH layout (438HHHEvaluations.jsonl, or "
                 "examples/quickstart/eval/hhh.jsonl)")]) from None
    except IsADirectoryError:
        raise DiagnosticError([error(
            "CCAI493", f"HHH comparisons path is a folder, not a file: {path}",
            help="name the JSONL file itself")]) from None
    except UnicodeDecodeError:
        raise DiagnosticError([error(
            "CCAI493", f"HHH comparisons file is not UTF-8 text: {path}",
            help="save it as UTF-8 JSONL, one JSON object per line")]) from None
    except FileRefused as exc:
        raise DiagnosticError([refused(exc, f"HHH comparisons file {path}")]) from None
    except OSError as exc:
        raise DiagnosticError([error(
            "CCAI493", f"cannot read HHH comparisons file {path}: {exc.strerror or exc}",
            help="check the file's permissions")]) from None


def parse_row(line: str, source: str) -> Comparison:
    """One JSONL line to a Comparison; ValueError names the first thing wrong with it."""
    row = json_object(line)
    text = row.get("prompt")
    if not isinstance(text, str) or not text.strip():
        raise ValueError("missing or empty `prompt` (a string)")
    corrects = row.get("corrects")
    if not isinstance(corrects, list) or len(corrects) != 1 or not isinstance(corrects[0], str) \
            or corrects[0].strip() not in ("(A)", "(B)"):
        raise ValueError('`corrects` must be ["(A)"] or ["(B)"]')
    if not OPTION.search(text):
        raise _LayoutError("no ` (A) [[[...]]]` / ` (B) [[[...]]]` options")
    return Comparison(prompt=text, a_correct=corrects[0].strip() == "(A)", source=source)


def _cap(problems: list[Diagnostic]) -> list[Diagnostic]:
    return capped(problems, MAX_ROW_DIAGNOSTICS, "CCAI495", "malformed rows",
                  "fix the rows above first; the file may be truncated or not HHH")
