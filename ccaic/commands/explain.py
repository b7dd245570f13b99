"""`ccaic explain CODE`: the documentation page for a diagnostic code."""

from __future__ import annotations

import argparse
import re
from importlib import resources
from pathlib import Path

from ccaic.output import Output


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("explain", help="explain a diagnostic code, e.g. CCAI201",
                       description="Print the page for a diagnostic code: what it means, why, "
                       "how to fix it, and an example.")
    p.add_argument("code", help="a code such as CCAI201 (or just 201)")
    p.set_defaults(run=run)


def errors_dir() -> Path:
    """Error pages ship inside the wheel; in a source checkout they are docs/errors/."""
    packaged = resources.files("ccaic").joinpath("_data/errors")
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "docs" / "errors"


def known_codes() -> dict[str, Path]:
    return {p.stem: p for p in sorted(errors_dir().glob("CCAI[0-9][0-9][0-9].md"))}


def run(args: argparse.Namespace, out: Output) -> int:
    from ccaic.check.checker import did_you_mean

    raw = args.code.strip().upper()
    code = f"CCAI{raw}" if re.fullmatch(r"\d{3}", raw) else raw
    pages = known_codes()
    if code not in pages:
        guess = did_you_mean(code, pages)
        out.info(f"error: no such diagnostic code: {args.code}")
        out.info(f"  help: did you mean {guess}?" if guess else
                 "  help: codes look like CCAI201; see docs/errors/README.md for the list")
        return 1
    out.write(pages[code].read_text(encoding="utf-8"))
    return 0
