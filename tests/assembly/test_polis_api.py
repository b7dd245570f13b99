"""`source polis_api` against a fake Polis server replaying real shared conversations (issue
18): the snapshot is the conversation, conditional requests, --offline, and every failure a
coded diagnostic that leaves the last good snapshot untouched."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import ccaic.assembly.sources.polis_api as polis_api
from ccaic.assembly.sources import SourceOptions, load_source, sync_source
from ccaic.diagnostics import DiagnosticError
from tests.assembly.fake_polis import (
    CSV_CONVERSATION,
    JSON_CONVERSATION,
    LIVE_ASSEMBLY,
    FakePolis,
    Faults,
    assert_same_table,
    conversation,
    export_copy,
    serving,
)
from tests.cli_runner import run_cli

SPEC = LIVE_ASSEMBLY


@pytest.fixture(autouse=True)
def _no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(polis_api, "BACKOFF", 0.0)


@pytest.fixture
def server() -> Iterator[FakePolis]:
    with serving(FakePolis(conversation(CSV_CONVERSATION))) as fake:
        yield fake


def _options(fake: FakePolis, **attrs: str) -> SourceOptions:
    return SourceOptions.from_attrs({"base_url": fake.url, "report_id": "r1", "retries": "1",
                                     "timeout": "2", **attrs})


def _codes(exc: pytest.ExceptionInfo[DiagnosticError]) -> list[str]:
    return [d.code for d in exc.value.diagnostics]


def _snapshot_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_report_export_snapshot_is_the_conversation(server: FakePolis, tmp_path: Path) -> None:
    snap = tmp_path / "snap"
    sync_source("polis_api", snap, _options(server))
    manifest = json.loads((snap / "snapshot.json").read_text())
    assert manifest["format"] == "polis-csv"
    for name in ("comments.csv", "votes.csv"):
        entry = manifest["files"][name]
        assert entry["sha256"] == hashlib.sha256((CSV_CONVERSATION / name).read_bytes()).hexdigest()
        assert entry["url"] == f"{server.url}/api/v3/reportExport/r1/{name}"
    want = load_source("polis-csv", export_copy(tmp_path))
    assert_same_table(load_source("polis-api", snap), want)


def test_analyze_names_the_kind_asked_for(server: FakePolis, tmp_path: Path) -> None:
    """`--kind polis-api` printed "(polis-csv)", the loader the snapshot is read with."""
    snap = tmp_path / "snap"
    sync_source("polis_api", snap, _options(server))
    code, out, err = run_cli(["analyze", "--kind", "polis-api", str(snap)])
    assert code == 0 and out.splitlines()[0] == f"source: {snap} (polis-api)", err
    code, out, err = run_cli(["analyze", "--kind", "polis-api", "--format", "json", str(snap)])
    assert code == 0 and json.loads(out)["summary"]["kind"] == "polis-api", err


def test_conversation_api_reads_like_the_json_export(tmp_path: Path) -> None:
    with serving(FakePolis(conversation(JSON_CONVERSATION))) as fake:
        snap = tmp_path / "snap"
        sync_source("polis_api", snap, SourceOptions.from_attrs(
            {"base_url": fake.url, "conversation_id": "c1"}))
        n = json.loads((JSON_CONVERSATION / "math-pca2.json").read_text())["n"]
        assert sum("/api/v3/votes?" in path for path, _ in fake.requests) == n + 1
    assert_same_table(load_source("polis-api", snap), load_source("polis-json", JSON_CONVERSATION))


def test_an_unchanged_conversation_is_a_304_and_rewrites_nothing(server: FakePolis,
                                                                  tmp_path: Path) -> None:
    snap = tmp_path / "snap"
    sync_source("polis_api", snap, _options(server))
    before = {p.name: p.stat().st_mtime_ns for p in snap.iterdir()}
    server.requests.clear()
    sync_source("polis_api", snap, _options(server))
    assert all("If-None-Match" in headers for _, headers in server.requests)
    assert {p.name: p.stat().st_mtime_ns for p in snap.iterdir()} == before


def test_new_votes_replace_the_snapshot(server: FakePolis, tmp_path: Path) -> None:
    snap = tmp_path / "snap"
    server.cutoff = 1403100000000
    sync_source("polis_api", snap, _options(server))
    early = load_source("polis-api", snap).table.provenance.rows_read
    server.cutoff = None
    sync_source("polis_api", snap, _options(server))
    assert load_source("polis-api", snap).table.provenance.rows_read > early


@pytest.mark.parametrize(("faults", "code", "requests"), [
    (Faults(status=503), "CCAI461", 2),  # busy: retried once, then given up
    (Faults(status=404), "CCAI461", 1),  # not there: no retry
    (Faults(stall=1.5), "CCAI462", 2),  # timeout = 1 below
    (Faults(truncate=True), "CCAI463", 2),
    (Faults(garbage=True), "CCAI465", 1),  # a good answer of bad data: no retry
])
def test_server_failures_are_coded_and_keep_the_last_snapshot(
        server: FakePolis, tmp_path: Path, faults: Faults, code: str, requests: int) -> None:
    snap = tmp_path / "snap"
    sync_source("polis_api", snap, _options(server))
    before = _snapshot_bytes(snap)
    server.faults, server.cutoff = faults, 1403100000000  # what a good answer would change
    server.requests.clear()
    with pytest.raises(DiagnosticError) as exc:
        sync_source("polis_api", snap, _options(server, timeout="1"))
    assert _codes(exc)[0] == code
    assert len([p for p, _ in server.requests if p.endswith("comments.csv")]) == requests
    assert _snapshot_bytes(snap) == before


def test_a_download_over_max_bytes_is_refused(server: FakePolis, tmp_path: Path) -> None:
    with pytest.raises(DiagnosticError) as exc:
        sync_source("polis_api", tmp_path / "snap", _options(server, max_bytes="1000"))
    assert _codes(exc) == ["CCAI464"]
    assert not (tmp_path / "snap" / "snapshot.json").exists()


def test_the_token_comes_from_the_named_variable(server: FakePolis, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    server.faults.token = "s3cret"
    monkeypatch.delenv("POLIS_TOKEN", raising=False)
    with pytest.raises(DiagnosticError) as exc:
        sync_source("polis_api", tmp_path / "snap", _options(server, token_env="POLIS_TOKEN"))
    assert _codes(exc) == ["CCAI460"]
    with pytest.raises(DiagnosticError) as exc:
        sync_source("polis_api", tmp_path / "snap", _options(server))
    assert _codes(exc) == ["CCAI461"]
    assert "token_env" in (exc.value.diagnostics[0].help or "")
    monkeypatch.setenv("POLIS_TOKEN", "s3cret")
    sync_source("polis_api", tmp_path / "snap", _options(server, token_env="POLIS_TOKEN"))
    assert (tmp_path / "snap" / "votes.csv").exists()


@pytest.mark.parametrize(("attrs", "words"), [
    ({"base_url": "ftp://polis"}, "not an http"),
    ({"report_id": ""}, "needs a conversation_id or a report_id"),
    ({"report_id": "r1/../x"}, "is not a Polis id"),
])
def test_bad_settings_are_ccai460(server: FakePolis, tmp_path: Path, attrs: dict[str, str],
                                  words: str) -> None:
    with pytest.raises(DiagnosticError) as exc:
        sync_source("polis_api", tmp_path / "snap", _options(server, **attrs))
    assert _codes(exc) == ["CCAI460"]
    assert words in exc.value.diagnostics[0].message


def test_offline_reads_the_snapshot_and_refuses_a_damaged_one(server: FakePolis,
                                                              tmp_path: Path) -> None:
    snap = tmp_path / "snap"
    with polis_api.offline(), pytest.raises(DiagnosticError) as exc:
        sync_source("polis_api", snap, _options(server))
    assert _codes(exc) == ["CCAI466"]
    sync_source("polis_api", snap, _options(server))
    server.requests.clear()
    with polis_api.offline():
        sync_source("polis_api", snap, _options(server))
    assert server.requests == []
    (snap / "votes.csv").write_text("timestamp,datetime,comment-id,voter-id,vote\n")
    with pytest.raises(DiagnosticError) as exc:
        load_source("polis-api", snap)
    assert _codes(exc) == ["CCAI466"]
    assert "votes.csv is not the file snapshot.json records" in exc.value.diagnostics[0].message
    sync_source("polis_api", snap, _options(server))  # online: repaired
    want = load_source("polis-csv", export_copy(tmp_path))
    assert_same_table(load_source("polis-api", snap), want)


def test_the_build_folder_holds_the_snapshot_and_offline_rebuilds_from_it(
        server: FakePolis, tmp_path: Path) -> None:
    """Issue 18: every download is snapshotted into the build folder, and `--offline` reuses
    that snapshot (it went in the block's `path`, shared by every build folder)."""
    spec = tmp_path / "live.ccai"
    spec.write_text(SPEC)
    args = ["build", str(spec), "--until", "assemblies", "--var", f"server={server.url}"]
    online = tmp_path / "online"
    code, _, err = run_cli([*args, "-o", str(online)])
    assert code == 0, err
    snapshot = online / "sources" / "live" / "polis_api"
    manifest = json.loads((snapshot / "snapshot.json").read_text())
    assert sorted(manifest["files"]) == ["comments.csv", "votes.csv"]
    assert not (tmp_path / "snap").exists()  # a build writes nothing at `path`
    artifact = (online / "assemblies" / "live.json").read_bytes()
    server.faults.status = 500  # any request now fails
    code, _, err = run_cli([*args, "-o", str(online), "--offline"])
    assert code == 0, err
    assert (online / "assemblies" / "live.json").read_bytes() == artifact
    code, _, err = run_cli([*args, "-o", str(tmp_path / "fresh"), "--offline"])
    assert code == 1
    assert "error[CCAI466]" in err and "nor in the source's path" in err
    spec.write_text(SPEC.replace('report_id = "r1"', 'report_id = "r2"'))  # another report
    code, _, err = run_cli([*args, "-o", str(online), "--offline"])
    assert code == 1 and "error[CCAI466]" in err and "report_id r1, not the server" in err
    spec.write_text(SPEC)
    code, _, err = run_cli([*args, "-o", str(online)])
    assert code == 1
    assert "error[CCAI461]" in err and "the source is declared here" in err
    assert (online / "assemblies" / "live.json").read_bytes() == artifact


def test_a_snapshot_at_path_seeds_a_fresh_build_folder(server: FakePolis,
                                                       tmp_path: Path) -> None:
    """The block's `path` is a snapshot to start from: a build folder without one copies it,
    so a snapshot committed beside the .ccai file builds offline anywhere, byte for byte; the
    build never writes there."""
    spec = tmp_path / "live.ccai"
    spec.write_text(SPEC)
    args = ["build", str(spec), "--until", "assemblies", "--var", f"server={server.url}"]
    assert run_cli([*args, "-o", str(tmp_path / "online")])[0] == 0
    shutil.copytree(tmp_path / "online" / "sources" / "live" / "polis_api", tmp_path / "snap")
    seed = _snapshot_bytes(tmp_path / "snap")
    server.faults.status = 500
    code, _, err = run_cli([*args, "-o", str(tmp_path / "offline"), "--offline"])
    assert code == 0, err
    assert (tmp_path / "offline" / "assemblies" / "live.json").read_bytes() == \
        (tmp_path / "online" / "assemblies" / "live.json").read_bytes()
    assert _snapshot_bytes(tmp_path / "offline" / "sources" / "live" / "polis_api") == seed
    assert _snapshot_bytes(tmp_path / "snap") == seed
    (tmp_path / "snap" / "votes.csv").write_text("voter-id\n")  # a damaged seed is refused
    code, _, err = run_cli([*args, "-o", str(tmp_path / "other"), "--offline"])
    assert code == 1 and "error[CCAI466]" in err and "snapshot is damaged" in err


def test_check_finds_a_polis_api_source_without_server_or_id(tmp_path: Path) -> None:
    spec = tmp_path / "bad.ccai"
    spec.write_text(SPEC.replace("    base_url  = var.server\n", "")
                    .replace('    report_id = "r1"\n', ""))
    code, _, err = run_cli(["check", str(spec)])
    assert code == 1
    assert "error[CCAI209]: source polis_api needs `base_url`" in err
    assert "error[CCAI209]: source polis_api needs `conversation_id` or `report_id`" in err
    spec.write_text(SPEC)
    assert run_cli(["check", str(spec)])[0] == 0


def test_path_is_optional_the_build_folder_holds_the_snapshot(server: FakePolis,
                                                              tmp_path: Path) -> None:
    """Issue 18 specifies `base_url` and a conversation or report id: `path` (a snapshot to
    start from) is optional. A build folder holds the snapshot; a run with none (`ccaic
    diff`, `suggest`) and no `path` has nowhere to keep it: CCAI469, at the source block."""
    from ccaic.build import run_until

    spec = tmp_path / "live.ccai"
    spec.write_text(SPEC.replace('    path      = "snap"\n', ""))
    assert run_cli(["check", str(spec)])[0] == 0
    code, _, err = run_cli(["build", str(spec), "--until", "assemblies", "--var",
                            f"server={server.url}", "-o", str(tmp_path / "out")])
    assert code == 0, err
    artifact = json.loads((tmp_path / "out" / "assemblies" / "live.json").read_text())
    assert artifact["source"] == {"kind": "polis_api"}  # no snapshot to start from to name
    assert (tmp_path / "out" / "sources" / "live" / "polis_api" / "snapshot.json").is_file()
    result = run_until("assemblies", str(spec), None, [f"server={server.url}"], report=False)
    assert [d.code for d in result.diagnostics if d.is_error] == ["CCAI469"]
    problem = next(d for d in result.diagnostics if d.code == "CCAI469")
    assert problem.span is not None and problem.span.line == 4
    assert "no build folder and the block no `path`" in problem.message
