"""Vote sources and groupings plug in through ccaic.registry: one entry is all the checker, the
assembly stage and `ccaic analyze` need to find a loader or a grouping (issue 12)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import ccaic.assembly.analysis as analysis
import ccaic.assembly.sources as sources
import ccaic.registry.sources as source_registry
from ccaic.assembly.groupings import GroupingRequest
from ccaic.assembly.groups import Grouping, polis_mod_out
from ccaic.assembly.sources import LoadedSource, SourceOptions, load_source
from ccaic.check.schema import SCHEMA
from ccaic.diagnostics import DiagnosticError
from ccaic.registry import Attr, Entry, Registry
from ccaic.registry.groupings import GROUPINGS
from ccaic.registry.sources import SOURCES, kinds, language_names
from tests.cli_runner import run_cli

CSV_FOLDER = "data/polis/opendata/15-per-hour-seattle"
JSON_FOLDER = "data/polis/polis-math/25ptpt-3gp-no-strict-with-meta"


def _codes(exc: pytest.ExceptionInfo[DiagnosticError]) -> list[str]:
    return [d.code for d in exc.value.diagnostics]


def _same_table(a: LoadedSource, b: LoadedSource) -> None:
    assert a.table.participants == b.table.participants
    assert [s.id for s in a.table.statements] == [s.id for s in b.table.statements]
    assert (a.table.codes != b.table.codes).nnz == 0


@pytest.mark.parametrize(("folder", "kind"), [(CSV_FOLDER, "polis-csv"),
                                              (JSON_FOLDER, "polis-json")])
def test_auto_loads_what_the_detected_entry_loads(shared: Path, folder: str, kind: str) -> None:
    path = shared / folder
    assert sources.detect_kind(path) == kind
    detected = load_source("auto", path)
    _same_table(detected, load_source(kind, path))
    assert detected.kind == load_source(kind, path).kind


def test_an_unknown_kind_names_every_registered_kind(tmp_path: Path) -> None:
    with pytest.raises(DiagnosticError) as exc:
        load_source("votes-parquet", tmp_path)
    assert _codes(exc) == ["CCAI410"]
    assert exc.value.diagnostics[0].help == ("use one of auto, polis-csv, polis-json, long-csv, "
                                             "polis-api")


def test_the_language_and_analyze_names_come_from_the_registry() -> None:
    source = SCHEMA["assembly"].blocks["source"]
    # polis_csv has a --kind only: `source polis` detects it
    assert source.label_choices == ("polis", "polis_json", "votes_csv", "polis_api")
    assert kinds() == ("auto", "polis-csv", "polis-json", "long-csv", "polis-api")
    assert set(language_names()) | {"polis_csv"} == set(SOURCES.names())
    assert SCHEMA["assembly"].blocks["groups"].label_choices == GROUPINGS.names()
    # every attribute any entry takes is one the checker accepts, with the entry's own spec
    for registry, block in ((SOURCES, source), (GROUPINGS, SCHEMA["assembly"].blocks["groups"])):
        for entry in registry:
            for name, attr in entry.attrs.items():
                assert block.attrs[name] == attr, (entry.name, name)
    # `path` is what every source reads, but polis_api, whose snapshot is in the build folder
    assert [e.name for e in SOURCES if not any(
        names == ("path",) for names, _ in e.meta.get("needs", ()))] == ["polis_api"]


def test_source_options_come_from_block_attributes_with_registry_defaults() -> None:
    opts = SourceOptions.from_attrs({"statements": "/abs/comments.csv", "vote_column": "v",
                                     "base_url": "http://polis.example"})
    assert opts.statements_file == "/abs/comments.csv"
    assert opts.vote_column == "v"
    assert opts.vote_sign == SOURCES.entry("votes_csv").defaults()["vote_sign"] == "auto"
    assert opts.unknown_statements == "error"
    assert opts.attrs["base_url"] == "http://polis.example"  # a source's own option
    assert hash(opts) == hash(SourceOptions.from_attrs({"statements": "/abs/comments.csv",
                                                        "vote_column": "v"}))


def test_a_new_source_is_one_entry(shared: Path, monkeypatch: pytest.MonkeyPatch,
                                   tmp_path: Path) -> None:
    """A registry with one more entry is all load_source and analyze's dispatch need."""
    registry: Registry[object] = Registry("source", [*SOURCES, Entry(
        "votes_copy", "tests.assembly.test_source_registry:_copy_loader", "test",
        attrs={"path": Attr("path", "a Polis folder", required=True)},
        meta={"kind": "copy"})])
    monkeypatch.setattr(source_registry, "SOURCES", registry)
    monkeypatch.setattr(sources, "SOURCES", registry)
    loaded = load_source("copy", shared / CSV_FOLDER)
    assert loaded.kind == "copy"
    _same_table(loaded, load_source("polis-csv", shared / CSV_FOLDER))


def _copy_loader(path: Path, display: str, opts: SourceOptions) -> LoadedSource:
    loaded = load_source("polis-csv", path, opts)
    loaded.kind = "copy"
    return loaded


def test_analyze_kind_choices_are_the_registry_kinds(shared: Path) -> None:
    code, _, err = run_cli(["analyze", str(shared / CSV_FOLDER), "--kind", "votes-parquet"])
    assert code == 1
    assert "(choose from 'auto', 'polis-csv', 'polis-json', 'long-csv', 'polis-api')" in err


# ---------------------------------------------------------------- groupings


@pytest.fixture
def seattle(shared: Path) -> LoadedSource:
    return load_source("auto", shared / CSV_FOLDER)


def test_kmeans_k_is_polis_with_k_forced(seattle: LoadedSource) -> None:
    table, out = seattle.table, polis_mod_out(seattle.table)
    forced = analysis.make_grouping(table, "kmeans:3", out, seattle)
    declared = GROUPINGS.load("kmeans")(GroupingRequest(table, out, seattle, k=(2, 3)))
    single = GROUPINGS.load("polis")(GroupingRequest(table, out, seattle, k=(3, 3)))
    for g in (declared, single):
        assert g.method == "kmeans:3"
        assert np.array_equal(g.labels, forced.labels)
    ranged = analysis.make_grouping(table, "polis", out, seattle, k_range=(2, 5))
    assert ranged.method == "polis"


@pytest.mark.parametrize(("method", "message"), [
    ("polis:3", "unknown group method 'polis:3'"),
    ("kmeans", "unknown group method 'kmeans'"),
    ("kmeans:", "bad group method 'kmeans:'"),
    ("kmeans:51", "bad group method 'kmeans:51'"),
])
def test_bad_group_methods_are_ccai414(seattle: LoadedSource, method: str, message: str) -> None:
    with pytest.raises(DiagnosticError) as exc:
        analysis.make_grouping(seattle.table, method, polis_mod_out(seattle.table), seattle)
    assert _codes(exc) == ["CCAI414"]
    assert exc.value.diagnostics[0].message == message


def test_export_groups_from_a_file_warn_about_participants_without_one(
        seattle: LoadedSource, tmp_path: Path) -> None:
    table = seattle.table
    half = table.participants[: len(table.participants) // 2]
    groups = tmp_path / "groups.csv"
    groups.write_text("participant,group-id\n" + "".join(f"{p},{int(p) % 2}\n" for p in half))
    grouping = GROUPINGS.load("export")(GroupingRequest(
        table, polis_mod_out(table), seattle, file=str(groups)))
    assert grouping.names == ("0", "1")
    assert int((grouping.labels >= 0).sum()) == len(half)
    assert [w.code for w in seattle.warnings] == ["CCAI433"]


def test_a_new_grouping_is_one_entry(seattle: LoadedSource,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    registry: Registry[object] = Registry("grouping", [*GROUPINGS, Entry(
        "everyone", "tests.assembly.test_source_registry:_one_group", "test")])
    monkeypatch.setattr(analysis, "GROUPINGS", registry)
    grouping = analysis.make_grouping(seattle.table, "everyone", polis_mod_out(seattle.table),
                                      seattle)
    assert grouping.names == ("all",)
    assert set(grouping.labels.tolist()) == {0}


def _one_group(req: GroupingRequest) -> Grouping:
    return Grouping("everyone", np.zeros(req.table.shape[0], dtype=np.int64), ("all",), None,
                    None)
