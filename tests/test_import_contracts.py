"""The import contracts of .importlinter (issue 12), checked by import-linter's own CLI.

The known violations are `ignore_imports` lines (docs/architecture.md names each chain), so
the contracts pass today and any NEW crossing import fails here.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / ".importlinter"
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
CONTRACTS = 5


def _lint(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--no-logo", str(config)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_contracts_are_kept() -> None:
    run = _lint(CONFIG)
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"Contracts: {CONTRACTS} kept, 0 broken." in run.stdout


def test_every_contract_has_teeth(tmp_path: Path) -> None:
    """Without the ignore lists each contract that has one is broken by the chains the docs
    list: the contracts name real modules, and an ignore line that no longer matches would fail
    above."""
    text = CONFIG.read_text(encoding="utf-8")
    ignoring = text.count("ignore_imports =")
    bare = re.sub(r"ignore_imports =\n(?:[ \t]+.*\n)+", "", text)
    assert not re.search(r"^ignore_imports", bare, re.MULTILINE)
    config = tmp_path / ".importlinter"
    config.write_text(bare, encoding="utf-8")
    run = _lint(config)
    assert run.returncode == (1 if ignoring else 0), run.stdout
    assert f"Contracts: {CONTRACTS - ignoring} kept, {ignoring} broken." in run.stdout
    for ignored in re.findall(r"^[ \t]+(ccaic\S+ -> \S+)$", text, re.MULTILINE):
        assert ignored in run.stdout
