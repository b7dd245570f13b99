"""Golden diagnostics: every malformed .ccai file under tests/golden/diagnostics gives exactly
the text in its .expected file (first line `exit: N`, then the stderr of `ccaic check FILE`).

Regenerate with `CCAIC_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_diagnostics.py`,
then read every changed .expected file before committing it (see tests/golden/README.md).
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from cli_runner import run_cli
from golden_files import arg_lines, check_golden

REPO = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).resolve().parent / "golden" / "diagnostics"


def cases() -> list[Path]:
    """Every NNN-name.ccai in the golden folder; `_`-prefixed files and _imports/ are helpers."""
    return sorted(p for p in GOLDEN.glob("*.ccai") if not p.name.startswith("_"))


def extra_args(case: Path) -> list[str]:
    """Optional NNN-name.args: extra command-line arguments, one per line (e.g. --var x=y)."""
    return arg_lines(case.with_suffix(".args"))


def extra_env(case: Path) -> dict[str, str]:
    """Optional NNN-name.env: environment variables, NAME=VALUE one per line (e.g. a lowered
    size limit, so a case can show CCAI109 without a 16 MiB file)."""
    env_file = case.with_suffix(".env")
    if not env_file.is_file():
        return {}
    pairs = (line.split("=", 1) for line in env_file.read_text(encoding="utf-8").splitlines()
             if line.strip())
    return {name.strip(): value.strip() for name, value in pairs}


def run_check(case: Path, monkeypatch: pytest.MonkeyPatch, fmt: str = "text"
              ) -> tuple[int, str, str]:
    monkeypatch.chdir(GOLDEN)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    argv = ["check", *(["--format", fmt] if fmt != "text" else []), *extra_args(case), case.name]
    with monkeypatch.context() as env:  # undone after this case, even in a loop over cases
        for name, value in extra_env(case).items():
            env.setenv(name, value)
        return run_cli(argv)


@pytest.fixture(autouse=True)
def _no_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))


def test_corpus_is_large_enough() -> None:
    assert len(cases()) >= 45


@pytest.mark.parametrize("case", cases(), ids=lambda p: p.stem)
def test_golden(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, stderr = run_check(case, monkeypatch)
    actual = f"exit: {code}\n{stderr}"
    expected_file = case.with_suffix(".expected")
    assert "Traceback" not in stderr and "internal error" not in stderr
    assert code in (0, 1), f"exit code {code}: an internal error\n{stderr}"
    check_golden(expected_file, actual, expected_file.name, case.name, "diagnostics differ")


@pytest.mark.parametrize("case", cases(), ids=lambda p: p.stem)
def test_golden_json(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text_code, _, text_err = run_check(case, monkeypatch)
    code, stdout, stderr = run_check(case, monkeypatch, fmt="json")
    assert code == text_code
    assert stderr == ""
    body = json.loads(stdout)
    assert body["format_version"] == "1.0"
    summary = re.search(r"^(\d+) errors?, (\d+) warnings?$", text_err, re.MULTILINE)
    assert summary, text_err
    errors, warnings = int(summary.group(1)), int(summary.group(2))
    assert body["error_count"] == errors
    assert body["warning_count"] == warnings
    assert body["valid"] is (errors == 0)
    assert len(body["diagnostics"]) == errors + warnings
    for d in body["diagnostics"]:
        assert re.fullmatch(r"CCAI\d{3}", d["code"])
        assert d["severity"] in ("error", "warning")


def test_every_case_has_a_diagnostic(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each case is malformed (or warns): none may pass silently."""
    for case in cases():
        _, _, stderr = run_check(case, monkeypatch)
        assert re.search(r"(error|warning)\[CCAI\d{3}\]", stderr), case.name


FRONT_END = ("ccaic/syntax", "ccaic/check", "ccaic/diagnostics.py", "ccaic/commands/check.py")


def emitted_codes() -> set[str]:
    """CCAI1xx/2xx/3xx codes the front end (parse, check) can emit.

    Codes raised at build time only (e.g. CCAI306, a template failing on real data, in
    ccaic/constitution/render.py) cannot be reached by `ccaic check` and are not counted.
    """
    found: set[str] = set()
    for root in FRONT_END:
        base = REPO / root
        for path in ([base] if base.is_file() else sorted(base.rglob("*.py"))):
            found.update(re.findall(r"CCAI[123]\d\d", path.read_text(encoding="utf-8")))
    return found


def test_front_end_codes_found() -> None:
    assert {"CCAI101", "CCAI201", "CCAI301"} <= emitted_codes()


def test_every_code_is_covered() -> None:
    covered: set[str] = set()
    for case in cases():
        expected = case.with_suffix(".expected")
        if expected.is_file():
            covered.update(re.findall(r"(?:error|warning)\[(CCAI\d{3})\]",
                                      expected.read_text(encoding="utf-8")))
    missing = sorted(emitted_codes() - covered)
    assert not missing, f"no golden case covers {', '.join(missing)}"
