"""Every attribute a grouping declares reaches it (issue 12): for each registry entry and each
of its attributes, a build of a real conversation with a non-default value groups differently
from the build with the default. `seed` and `min_votes` were accepted and never read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ccaic.assembly.groupings import GroupingRequest
from ccaic.assembly.groups import Grouping
from ccaic.assembly.stage import assembly_outcome
from ccaic.lowering.env import Env
from ccaic.lowering.lower_assembly import lower_assembly
from ccaic.registry import Attr, Entry
from ccaic.registry.groupings import GROUPINGS
from ccaic.syntax.parser import parse
from tests.assembly.fake_polis import CSV_CONVERSATION, conversation, export_copy
from tests.cli_runner import run_cli

SPEC = """assembly "seattle" {
  source polis { path = "export" }
  groups KIND {
ATTRS  }
  consensus gac { top_k = 5 }
}
"""
#: The moment the folder's previous build is made at (a warm start starts from it).
EARLY = "1403100000000"

#: Each entry's block as the baseline writes it (kmeans needs `k`: its default range, spelled).
BASE: dict[str, dict[str, str]] = {"polis": {}, "kmeans": {"k": "2..5"},
                                   "export": {"file": '"groups.csv"'}}
#: (grouping, attribute) -> the non-default value; every declared attribute must have one.
CASES: dict[tuple[str, str], str] = {
    ("polis", "k"): "3",
    ("polis", "seed"): "11",
    ("polis", "min_votes"): "40",
    ("polis", "warm_start"): "true",
    ("kmeans", "k"): "3",
    ("kmeans", "seed"): "11",
    ("export", "file"): '"other.csv"',
    ("export", "column"): '"alt"',
    ("export", "participant_column"): '"shifted"',
}


def _groups_files(folder: Path) -> None:
    """Two group files over the conversation's participants: groups.csv (the default columns
    plus `alt`, another split, and `shifted`, the ids moved by one) and other.csv."""
    with (conversation(CSV_CONVERSATION) / "participants-votes.csv").open(encoding="utf-8") as f:
        ids = [line.split(",", 1)[0] for line in f.read().splitlines()[1:]]
    rows = ["participant,group-id,alt,shifted"]
    rows += [f"{p},{i % 2},{i % 3},{ids[(i + 1) % len(ids)]}" for i, p in enumerate(ids)]
    (folder / "groups.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    other = ["participant,group-id"] + [f"{p},{int(i < len(ids) // 3)}"
                                        for i, p in enumerate(ids)]
    (folder / "other.csv").write_text("\n".join(other) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("attrs")
    export_copy(root)
    _groups_files(root)
    return root


def _grouped(folder: Path, kind: str, attrs: dict[str, str], name: str) -> dict[str, Any]:
    """The groups and the Polis blocks of a build into a folder whose last build was at EARLY
    (what a warm start reads), less what only records the state (base centers, their hash)."""
    body = "".join(f"    {k} = {v}\n" for k, v in attrs.items())
    spec = folder / f"{name}.ccai"
    spec.write_text(SPEC.replace("KIND", kind).replace("ATTRS", body), encoding="utf-8")
    out = folder / name
    for moment in (("--as-of", EARLY), ()):
        code, _, err = run_cli(["build", str(spec), "-o", str(out), "--until", "assemblies",
                                *moment])
        assert code == 0, err
    artifact = json.loads((out / "assemblies" / "seattle.json").read_text(encoding="utf-8"))
    groups = {k: v for k, v in artifact["groups"].items() if k not in ("base_centers",
                                                                      "warm_from")}
    return {"groups": groups, "polis": artifact["polis"]}


def test_every_declared_attribute_has_a_case() -> None:
    declared = {(e.name, a) for e in GROUPINGS for a in e.attrs}
    assert declared == set(CASES)


@pytest.mark.parametrize(("kind", "attr"), sorted(CASES))
def test_a_non_default_value_groups_differently(folder: Path, kind: str, attr: str) -> None:
    default = GROUPINGS.entry(kind).attrs[attr].default
    assert CASES[kind, attr] != json.dumps(default)
    base = BASE[kind]
    before = _grouped(folder, kind, base, f"{kind}-default-{attr}")
    after = _grouped(folder, kind, {**base, attr: CASES[kind, attr]}, f"{kind}-{attr}")
    assert after != before


def _check(tmp_path: Path, body: str) -> str:
    spec = tmp_path / "a.ccai"
    spec.write_text(f'assembly "a" {{\n{body}\n  consensus gac {{ threshold = 0.5 }}\n}}\n',
                    encoding="utf-8")
    return run_cli(["check", str(spec)])[2]


@pytest.mark.parametrize(("body", "said"), [
    ('  source polis { path = "." }\n  groups export { seed = 3 }',
     "warning[CCAI217]: `seed` is ignored for export groups"),
    ('  source polis { path = "." }\n  groups kmeans {\n    k = 2\n    warm_start = true\n  }',
     "warning[CCAI217]: `warm_start` is ignored for kmeans groups"),
    ('  source votes_csv {\n    path = "v.csv"\n    base_url = "https://pol.is"\n  }',
     "warning[CCAI217]: `base_url` is ignored for source votes_csv"),
    ('  source polis_json {\n    path = "."\n    vote_column = "v"\n  }',
     "warning[CCAI217]: `vote_column` is ignored for source polis_json"),
    ('  source polis { path = "." }\n  groups export { column = "g" }',
     "warning[CCAI217]: `column` is ignored without `file`"),
    ('  source votes_csv {\n    path = "v.csv"\n    statement_text_column = "t"\n  }',
     "warning[CCAI217]: `statement_text_column` is ignored without `statements`"),
    ('  source polis_api {\n    path = "s"\n    base_url = "https://pol.is"\n'
     '    conversation_id = "c1"\n    report_id = "r1"\n  }',
     "warning[CCAI217]: `conversation_id` is ignored beside `report_id`"),
])
def test_an_attribute_the_kind_does_not_take_is_a_warning(tmp_path: Path, body: str,
                                                          said: str) -> None:
    """The groups and source blocks take every entry's attributes; one that the labelled
    kind does not read was silently ignored."""
    assert said in _check(tmp_path, body)


def test_stability_groupings_come_from_the_registry(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A new grouping is its function and one entry: the stability list accepts its name (and
    `<name>:K` when its entry forces k) with no checker change."""
    stability = ('  source polis { path = "." }\n'
                 '  stability {\n    groupings = ["toy", "forced:3", "forced"]\n  }')
    said = _check(tmp_path, stability)
    assert 'unknown grouping "toy"' in said and 'unknown grouping "forced:3"' in said
    entries = dict(GROUPINGS._entries)
    entries["toy"] = Entry("toy", "ccaic.assembly.groupings:polis", "toy")
    entries["forced"] = Entry("forced", "ccaic.assembly.groupings:kmeans", "forced",
                              meta={"forced_k": True})
    monkeypatch.setattr(GROUPINGS, "_entries", entries)
    said = _check(tmp_path, stability)
    assert 'unknown grouping "toy"' not in said and 'unknown grouping "forced:3"' not in said
    assert 'unknown grouping "forced"' in said  # a forced-k grouping is never bare


def test_analyze_groups_names_come_from_the_registry(monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """`ccaic analyze --groups` names the registered groupings (they were written out by hand:
    a new grouping was missing from its help), `<name>:K` for one that forces k."""
    entries = dict(GROUPINGS._entries)
    entries["toy"] = Entry("toy", "ccaic.assembly.groupings:polis", "toy")
    entries["forced"] = Entry("forced", "ccaic.assembly.groupings:kmeans", "forced",
                              meta={"forced_k": True})
    monkeypatch.setattr(GROUPINGS, "_entries", entries)
    assert run_cli(["analyze", "--help"])[0] == 0  # argparse prints the help to sys.stdout
    said = " ".join(capsys.readouterr().out.split())
    assert "[--groups polis|export|kmeans:K|toy|forced:K]" in said
    assert "default polis; kmeans:K or forced:K with K from 2 to 50" in said


def test_a_long_format_column_on_an_export_folder_is_a_warning(folder: Path) -> None:
    """`source polis` takes the long-format columns for a path naming one votes file; on an
    export folder they were silently ignored."""
    spec = folder / "columns.ccai"
    spec.write_text('assembly "seattle" {\n  source polis {\n    path = "export"\n'
                    '    vote_column = "v"\n  }\n  consensus gac { top_k = 5 }\n}\n',
                    encoding="utf-8")
    code, _, err = run_cli(["build", str(spec), "-o", str(folder / "columns"), "--until",
                            "assemblies"])
    assert code == 0, err
    assert "warning[CCAI217]: `vote_column` is ignored: " in err
    assert "export is read as polis_csv" in err


def toy(req: GroupingRequest) -> Grouping:
    """A grouping only this test registers: the first `cut` participants against the rest."""
    cut = int(str(req.option("toy", "cut")))
    labels = (np.arange(req.table.shape[0]) >= cut).astype(np.int64)
    return Grouping("toy", labels, ("0", "1"))


def test_a_new_grouping_reads_its_own_attribute_with_no_other_change(
        folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A new grouping with an attribute of its own is its function and one entry: the
    lowering carries the attribute (GroupsSpec.options) and the request gives it, default
    from the entry, with no field added anywhere."""
    entries = dict(GROUPINGS._entries)
    entries["toy"] = Entry("toy", "tests.assembly.test_plugin_attributes:toy", "toy",
                           attrs={"cut": Attr("int", "toy: participants in group 0",
                                              default=100)})
    monkeypatch.setattr(GROUPINGS, "_entries", entries)
    sizes = []
    for block in ("groups toy { cut = 40 }", "groups toy {}"):
        path = folder / "toy.ccai"
        path.write_text(SPEC.replace("groups KIND {\nATTRS  }", block), encoding="utf-8")
        assembly = parse(path.read_text(encoding="utf-8"), str(path)).blocks("assembly")[0]
        outcome = assembly_outcome(lower_assembly(assembly, Env({})), folder)
        sizes.append(json.loads(outcome.artifact)["groups"]["sizes"])
    assert sizes == [{"0": 40, "1": 299}, {"0": 100, "1": 239}]


def echoed(req: GroupingRequest) -> Grouping:
    """A grouping only the stability test registers: as many groups as `seed + min_votes`, so
    the artifact's k says which settings it was given."""
    k = req.seed + req.min_votes
    return Grouping("echoed", np.arange(req.table.shape[0]) % k, tuple(map(str, range(k))))


def test_stability_groupings_take_the_groups_blocks_seed_and_min_votes(
        folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The across-groupings check varies the grouping method alone: each grouping of
    `stability { groupings }` is made with the groups block's seed and min_votes (it was made
    with Polis's 0 and 7, so it differed from the declared one in more than its method)."""
    entries = dict(GROUPINGS._entries)
    entries["echoed"] = Entry("echoed", "tests.assembly.test_plugin_attributes:echoed", "echoed")
    monkeypatch.setattr(GROUPINGS, "_entries", entries)
    block = ('groups polis {\n    seed = 3\n    min_votes = 5\n  }\n'
             '  stability { groupings = ["echoed"] }')
    path = folder / "stability.ccai"
    path.write_text(SPEC.replace("groups KIND {\nATTRS  }", block), encoding="utf-8")
    assembly = parse(path.read_text(encoding="utf-8"), str(path)).blocks("assembly")[0]
    outcome = assembly_outcome(lower_assembly(assembly, Env({})), folder)
    compared = json.loads(outcome.artifact)["stability"]["groupings"]
    assert compared["k"] == {"declared": 2, "echoed": 3 + 5}  # Polis's defaults: 0 + 7
