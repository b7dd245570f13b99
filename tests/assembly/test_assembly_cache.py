"""The assembly stage's cache (issue 15): a hit is byte-identical to a fresh build, any changed
input is a miss, `ccaic diff` reuses it, a broken entry costs only time."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from cli_runner import run_cli

import ccaic.assembly.stage
from ccaic.assembly.cache import user_cache_dir
from ccaic.build import build

QUICKSTART = Path(__file__).resolve().parents[2] / "examples" / "quickstart"


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(QUICKSTART / "quickstart.ccai", work / "main.ccai")
    shutil.copytree(QUICKSTART / "data", work / "data")
    shutil.copytree(QUICKSTART / "prompts", work / "prompts")
    return work / "main.ccai"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CCAIC_CACHE_DIR", str(tmp_path / "user-cache"))
    return tmp_path / "user-cache"


def _files(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and ".cache" not in p.relative_to(out).parts}


def _count_runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    runs: list[str] = []
    real = ccaic.assembly.stage.run_assembly

    def counted(spec: ccaic.assembly.stage.AssemblySpec) -> ccaic.assembly.stage.AssemblyResult:
        runs.append(spec.name)
        return real(spec)

    monkeypatch.setattr(ccaic.assembly.stage, "run_assembly", counted)
    return runs


def _build(spec: Path, out: Path, until: str = "constitution") -> tuple[bool, list[str]]:
    r = build(str(spec), str(out), [], until=until)
    return r.ok, [*r.notes, *(d.code for d in r.diagnostics)]


def test_hit_is_byte_identical(spec: Path, cache: Path, tmp_path: Path,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    runs = _count_runs(monkeypatch)
    fresh = _build(spec, tmp_path / "a")
    again = _build(spec, tmp_path / "b")  # another folder: the user cache serves it
    assert runs == ["quickstart"] and fresh == again and fresh[0]
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    assert "report.html" in _files(tmp_path / "a")  # the opinion map came from the cache too
    monkeypatch.setenv("CCAIC_CACHE_DIR", "off")
    assert _build(spec, tmp_path / "a") == fresh and runs == ["quickstart"]  # build folder's


def test_changed_inputs_miss(spec: Path, cache: Path, tmp_path: Path,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    runs = _count_runs(monkeypatch)
    _build(spec, tmp_path / "a")
    votes = spec.parent / "data" / "votes.csv"
    lines = votes.read_text(encoding="utf-8").splitlines(keepends=True)
    votes.write_text("".join(lines[:-40]), encoding="utf-8")  # one byte would do
    _build(spec, tmp_path / "a")
    (spec.parent / "data" / "participants-votes.csv").write_text("x\n", encoding="utf-8")
    _build(spec, tmp_path / "a")  # a new file in the source folder may change what is read
    spec.write_text(spec.read_text(encoding="utf-8").replace("top_k     = 20", "top_k     = 5"),
                    encoding="utf-8")
    _build(spec, tmp_path / "a", until="assemblies")
    assert runs == ["quickstart"] * 4


def test_cached_equals_fresh_after_change(spec: Path, cache: Path, tmp_path: Path) -> None:
    """What a miss computes is what a build without any cache computes."""
    _build(spec, tmp_path / "a")
    spec.write_text(spec.read_text(encoding="utf-8").replace("0.6", "0.55"), encoding="utf-8")
    _build(spec, tmp_path / "a")
    shutil.rmtree(cache)
    _build(spec, tmp_path / "b")
    assert _files(tmp_path / "a") == _files(tmp_path / "b")


def test_broken_entries_are_misses(spec: Path, cache: Path, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    runs = _count_runs(monkeypatch)
    first = _build(spec, tmp_path / "a")
    for entry in (cache / "assemblies").glob("*.json"):
        entry.write_text("{not json" if entry.name.endswith(".inputs.json") else '{"format":"1"}',
                         encoding="utf-8")
    shutil.rmtree(tmp_path / "a" / ".cache")
    assert _build(spec, tmp_path / "b") == first
    for entry in (cache / "assemblies").glob("*.json"):
        if not entry.name.endswith(".inputs.json"):
            entry.write_text('{"format":"1","artifact":3}', encoding="utf-8")
    shutil.rmtree(tmp_path / "b" / ".cache")
    assert _build(spec, tmp_path / "c") == first
    assert runs == ["quickstart"] * 3 and _files(tmp_path / "a") == _files(tmp_path / "c")


def test_second_diff_reuses_the_assembly(spec: Path, cache: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    other = spec.with_name("other.ccai")
    other.write_text(spec.read_text(encoding="utf-8").replace(
        "Choose the response that", "Pick the response that"), encoding="utf-8")
    runs = _count_runs(monkeypatch)
    first = run_cli(["diff", str(spec), str(other), "--matcher", "tfidf"])
    assert runs == ["quickstart"] * 2  # each side declares its own (spans differ)
    second = run_cli(["diff", str(spec), str(other), "--matcher", "tfidf"])
    assert first == second and first[0] == 0, first
    assert runs == ["quickstart"] * 2  # the second diff analyzes nothing


def test_user_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("CCAIC_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert user_cache_dir() == tmp_path / "ccaic"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert user_cache_dir() == tmp_path / ".cache" / "ccaic"
    monkeypatch.setenv("CCAIC_CACHE_DIR", "off")
    assert user_cache_dir() is None
