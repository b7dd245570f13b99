"""Golden builds: every case folder under tests/golden/builds builds to exactly its expected.txt
(exit code, normalised stderr and stdout, key figures of the artifacts).

Regenerate with `CCAIC_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_builds.py`, then read
every changed expected.txt before committing it (see tests/golden/builds/README.md).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_runner import run_cli
from golden_files import arg_lines, check_golden

from ccaic.artifacts import validate_tree

BUILDS = Path(__file__).resolve().parent / "golden" / "builds"


def cases() -> list[Path]:
    """Every folder holding a main.ccai; folders starting with `_` are helpers."""
    return sorted(p.parent for p in BUILDS.glob("*/main.ccai") if not p.parent.name.startswith("_"))


def extra_args(case: Path) -> list[str]:
    """Optional args.txt: extra command-line arguments, one per line (blank lines skipped)."""
    return arg_lines(case / "args.txt")


def figures(out: Path) -> list[str]:
    """The key figures of what the build wrote: per assembly and per constitution."""
    lines = []
    for path in sorted((out / "assemblies").glob("*.json")):
        a = json.loads(path.read_text(encoding="utf-8"))
        lines.append(f"assembly {a['name']}: participants {a['participants']}, statements kept "
                     f"{a['statements_in']}, groups {a['groups']['k']}, selected "
                     f"{len(a['selection'])}")
        lines += [f"  {m['location']}: {m['rule']}: removed {m['removed']}"
                  for m in a["moderation"]]
        prov = a["provenance"]
        lines.append(f"  votes: read {prov['rows_read']}, used {prov['rows_used']}, dropped "
                     + (", ".join(f"{n} ({why})" for why, n in prov["dropped"].items()) or "0"))
    for path in sorted((out / "constitutions").glob("*.json")):
        c = json.loads(path.read_text(encoding="utf-8"))
        lines.append(f"constitution {c['name']}: principles {len(c['principles'])}")
    return lines


def run_case(case: Path, out: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The build's whole observable outcome as text, temp paths replaced by <out>."""
    monkeypatch.chdir(case)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    code, stdout, stderr = run_cli(["build", "main.ccai", "-o", str(out), *extra_args(case)])

    def norm(text: str) -> str:
        return text.replace(str(out), "<out>").replace(str(case), "<case>")

    parts = [f"exit: {code}", "--- stderr", norm(stderr).rstrip("\n"), "--- stdout",
             norm(stdout).rstrip("\n")]
    if code in (0, 2):
        parts += ["--- figures", *figures(out)]
    return "\n".join(parts) + "\n"


def test_cases_found() -> None:
    assert cases(), "no golden build cases"


@pytest.mark.parametrize("case", cases(), ids=lambda p: p.name)
def test_golden_build(case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    actual = run_case(case, tmp_path / "out", monkeypatch)
    assert "Traceback" not in actual and "internal error" not in actual
    if (tmp_path / "out").is_dir():  # every artifact the case wrote matches its model
        validate_tree(tmp_path / "out")
    assert not actual.startswith("exit: 3"), actual
    check_golden(case / "expected.txt", actual, f"{case.name}/expected.txt", case.name,
                 "build outcome differs")
