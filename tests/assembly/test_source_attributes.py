"""Every attribute a source declares reaches its loader (issue 12): for each registry entry and
each attribute with a default, loading real data with a non-default value gives another table
(or another diagnostic) than the default. The data: the 15-per-hour-seattle votes as one
long-format file with a second, altered copy of each column, and the below-100-ptpts API JSON
conversation; polis_api through the fake Polis server."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import ccaic.assembly.sources.polis_api as polis_api
from ccaic.assembly.sources import LoadedSource, SourceOptions, load_source, sync_source
from ccaic.diagnostics import DiagnosticError
from ccaic.registry.sources import SOURCES
from tests.assembly.fake_polis import (
    CSV_CONVERSATION,
    FakePolis,
    Faults,
    conversation,
    serving,
)

#: In ../shared, as tests/conftest.py's polis_math fixture finds it (the json cases skip without).
JSON_FIXTURE = (Path(__file__).resolve().parents[2].parent / "shared" / "data" / "polis"
                / "polis-math" / "below-100-ptpts")


@dataclass(frozen=True)
class Case:
    """A non-default `value` for `attr`, against the baseline block `base` on `data` (a name
    the `data` fixture makes), with the fake server's `faults` for polis_api."""

    value: str
    base: dict[str, str] = field(default_factory=dict)
    data: str = "long.csv"
    faults: Faults = field(default_factory=Faults)


LONG = {
    "statements": Case("stmts.csv"),
    "participant_column": Case("p2"),
    "statement_column": Case("s2"),
    "vote_column": Case("v2"),
    "timestamp_column": Case("t2"),
    "statement_id_column": Case("id2", {"statements": "stmts.csv"}),
    "statement_text_column": Case("text2", {"statements": "stmts.csv"}),
    "vote_sign": Case("api"),
    "unknown_statements": Case("drop", {"statements": "some.csv"}),
}
API = {"base_url": "http://SERVER", "report_id": "r1", "retries": "0", "timeout": "5"}
CASES: dict[tuple[str, str], Case] = {
    **{("polis", a): c for a, c in LONG.items()},
    **{("votes_csv", a): c for a, c in LONG.items()},
    ("polis_json", "vote_sign"): Case("api", data="json"),
    ("polis_json", "unknown_statements"): Case("drop", data="json-unknown"),
    ("polis_api", "timeout"): Case("0.5", {**API, "timeout": "30"}, "api",
                                   Faults(stall=1.0)),
    ("polis_api", "retries"): Case("1", {**API, "retries": "3"}, "api", Faults(status=503)),
    ("polis_api", "max_bytes"): Case("1000", API, "api"),
    ("polis_api", "vote_sign"): Case("api", API, "api"),
    ("polis_api", "unknown_statements"): Case("drop", API, "api-unknown"),
}
#: Attributes without a default: required ones (`path`) and polis_api's server and ids, whose
#: absence is CCAI460 (tests/assembly/test_polis_api.py); token_env is tested there too.
NO_DEFAULT = {"path", "base_url", "conversation_id", "report_id", "token_env"}


def _long_file(folder: Path) -> None:
    """long.csv: the votes, plus p2 (participants renumbered), s2 (statements shifted by one),
    v2 (every vote flipped) and t2 (time reversed: another revote wins); stmts.csv: the texts
    with id2 (ids shifted) and text2 (other texts); some.csv: all but the first statement."""
    source = conversation(CSV_CONVERSATION)
    with (source / "votes.csv").open(encoding="utf-8") as f:
        votes = list(csv.DictReader(f))
    with (source / "comments.csv").open(encoding="utf-8") as f:
        comments = list(csv.DictReader(f))
    ids = sorted({int(c["comment-id"]) for c in comments})
    shifted = {str(a): str(b) for a, b in zip(ids, ids[1:] + ids[:1], strict=True)}
    last = max(int(v["timestamp"]) for v in votes)
    with (folder / "long.csv").open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(["timestamp", "comment-id", "voter-id", "vote", "p2", "s2", "v2", "t2"])
        for v in votes:
            out.writerow([v["timestamp"], v["comment-id"], v["voter-id"], v["vote"],
                          f"x{v['voter-id']}", shifted.get(v["comment-id"], v["comment-id"]),
                          -int(v["vote"]), last + 1 - int(v["timestamp"])])
    for name, rows in (("stmts.csv", comments), ("some.csv", comments[1:])):
        with (folder / name).open("w", encoding="utf-8", newline="") as f:
            out = csv.writer(f)
            out.writerow(["comment-id", "comment-body", "id2", "text2"])
            for c in rows:
                out.writerow([c["comment-id"], c["comment-body"], shifted[c["comment-id"]],
                              c["comment-body"][::-1]])


def _json_folders(folder: Path) -> None:
    """json: the API conversation; json-unknown: the same with a vote for statement 9999."""
    if not JSON_FIXTURE.is_dir():
        return
    shutil.copytree(JSON_FIXTURE, folder / "json")
    shutil.copytree(JSON_FIXTURE, folder / "json-unknown")
    votes_file = folder / "json-unknown" / "votes.json"
    votes = json.loads(votes_file.read_text(encoding="utf-8"))
    votes.append({**votes[0], "tid": 9999})
    votes_file.write_text(json.dumps(votes), encoding="utf-8")


def _export_folders(folder: Path) -> None:
    """export: the report export the fake server serves; export-unknown: a vote for a
    statement comments.csv does not list."""
    for name in ("export", "export-unknown"):
        (folder / name).mkdir()
        for file in ("comments.csv", "votes.csv"):
            shutil.copy(conversation(CSV_CONVERSATION) / file, folder / name / file)
    with (folder / "export-unknown" / "votes.csv").open("a", encoding="utf-8") as f:
        f.write("1403054214196,Wed Jun 18 08:16:54 WIB 2014,9999,0,1\n")


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sources")
    _long_file(folder)
    _json_folders(folder)
    _export_folders(folder)
    return folder


@pytest.fixture(autouse=True)
def _no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(polis_api, "BACKOFF", 0.0)


def _digest(loaded: LoadedSource) -> str:
    """What a load gave: participants, statements (ids and texts) and every vote."""
    t = loaded.table
    h = hashlib.sha256(json.dumps([t.participants, [(s.id, s.text) for s in t.statements]])
                       .encode())
    codes = t.codes.tocsr()
    for part in (codes.indptr, codes.indices, codes.data):
        h.update(part.tobytes())
    return h.hexdigest()


def _failed(exc: DiagnosticError, *where: tuple[str, str]) -> str:
    """A failed load's diagnostics, code and message, with the server's URL and the snapshot
    folder (new in every call) spelled alike."""
    said = " | ".join(f"{d.code}: {d.message}" for d in exc.diagnostics)
    for place, name in where:
        said = said.replace(place, name)
    return said


def _outcome(name: str, attrs: dict[str, str], case: Case, data: Path) -> str:
    """The load's digest, or its diagnostics when it fails."""
    given = {k: str(data / v) if k == "statements" else v for k, v in attrs.items()}
    if name != "polis_api":
        kind = str(SOURCES.entry(name).meta["kind"])
        try:
            return _digest(load_source(kind, data / case.data, SourceOptions.from_attrs(given)))
        except DiagnosticError as exc:
            return _failed(exc)
    served = "export-unknown" if case.data == "api-unknown" else "export"
    with serving(FakePolis(data / served, faults=case.faults)) as fake, \
            tempfile.TemporaryDirectory() as snap:
        opts = SourceOptions.from_attrs(
            {k: v.replace("http://SERVER", fake.url) for k, v in given.items()})
        try:
            sync_source(name, snap, opts)
            return _digest(load_source("polis-api", snap, opts))
        except DiagnosticError as exc:
            return _failed(exc, (fake.url, "SERVER"), (snap, "SNAP"))


def test_every_attribute_with_a_default_has_a_case() -> None:
    declared = {(e.name, a) for e in SOURCES if e.meta.get("language", True)
                for a in e.attrs if a not in NO_DEFAULT}
    assert declared == set(CASES)


@pytest.mark.parametrize(("name", "attr"), sorted(CASES))
def test_a_non_default_value_loads_differently(data: Path, name: str, attr: str) -> None:
    case = CASES[name, attr]
    if case.data.startswith("json") and not JSON_FIXTURE.is_dir():
        pytest.skip(f"{JSON_FIXTURE} is absent: this case reads the reference data beside the repo")
    assert case.value != str(SOURCES.entry(name).attrs[attr].default)
    before = _outcome(name, case.base, case, data)
    after = _outcome(name, {**case.base, attr: case.value}, case, data)
    assert after != before
