"""The `polis` block (groups, consensus, participants, pca) through `ccaic analyze --format
json`, against Polis's own server output (math-pca2.json) on every polis-math fixture."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.cli_runner import run_cli

FIXTURES = ["below-100-ptpts", "25ptpt-3gp-no-strict-with-meta",
            "150ptpt-3gp-no-strict-no-meta"]
REPNESS_KEYS = {"tid": "statement", "repful-for": "repful", "n-success": "n_success",
                "n-trials": "n_trials", "p-success": "p_success", "p-test": "p_test",
                "repness": "repness", "repness-test": "repness_test"}


@pytest.fixture(params=FIXTURES)
def folder(request, polis_math):
    return polis_math(request.param)


def _analyze(folder, *extra):
    code, out, err = run_cli(["analyze", str(folder), "--format", "json", *extra])
    assert code == 0, err
    return json.loads(out)


def _same(mine: dict, theirs: dict, keys: dict) -> None:
    assert set(theirs) - {"best-agree", "n-agree"} <= set(keys)  # every statistic compared
    for key, name in keys.items():
        if key not in theirs:
            continue
        a, b = mine[name], theirs[key]
        if key == "tid":
            assert a == str(b)
        elif key == "repness-test":
            assert np.float32(a) == np.float32(b)
        elif isinstance(b, float):
            assert abs(a - b) <= 1e-12, (key, a, b)
        else:
            assert a == b, (key, a, b)


def test_repness_and_consensus_equal_the_server(folder):
    body = _analyze(folder, "--groups", "export")
    math = json.loads((folder / "math-pca2.json").read_text())
    polis = body  # analyze JSON: the blocks at the top level, under the names
    assert polis["format_version"] == "1.1"
    assert "polis" not in polis
    groups = {g["id"]: g for g in polis["groups"]}
    assert set(groups) == set(math["repness"])
    for gid, theirs in math["repness"].items():
        mine = groups[gid]["repness"]
        assert [e["statement"] for e in mine] == [str(e["tid"]) for e in theirs]
        for a, b in zip(mine, theirs, strict=True):
            _same(a, b, REPNESS_KEYS)
            assert a["best_agree"] == bool(b.get("best-agree", False))
    for g in math["group-clusters"]:
        assert groups[str(g["id"])]["size"] == math["group-votes"][str(g["id"])]["n-members"]
    for side in ("agree", "disagree"):
        mine, theirs = polis["consensus"][side], math["consensus"][side]
        assert [e["statement"] for e in mine] == [str(e["tid"]) for e in theirs]
        for a, b in zip(mine, theirs, strict=True):
            _same(a, b, REPNESS_KEYS)
            assert set(a) == {"statement", "n_success", "n_trials", "p_success", "p_test"}


def test_pca_and_projections_equal_the_server(folder):
    """Center and components (up to sign) over `statements` order; base-cluster means of the
    participants' projections, to 1e-12 (math-pca2.json has no per-participant projection)."""
    body = _analyze(folder, "--groups", "export")
    math = json.loads((folder / "math-pca2.json").read_text())
    ids = [r["id"] for r in body["statements"]]
    pos = {str(t): i for i, t in enumerate(math["tids"])}
    assert sorted(ids, key=pos.__getitem__) == [str(t) for t in math["tids"]]
    cols = [pos[i] for i in ids]
    pca = body["pca"]
    np.testing.assert_allclose(pca["center"], -np.asarray(math["pca"]["center"])[cols],
                               atol=1e-12)
    signs = []
    for mine, theirs in zip(pca["components"], math["pca"]["comps"], strict=True):
        theirs = np.asarray(theirs)[cols]
        sign = np.sign(np.dot(mine, theirs))
        signs.append(sign)
        np.testing.assert_allclose(np.asarray(mine) * sign, theirs, atol=1e-12)
    xy = {p["id"]: (p["x"], p["y"]) for p in body["participants"]}
    bc = math["base-clusters"]
    for members, x, y in zip(bc["members"], bc["x"], bc["y"], strict=True):
        mean = np.mean([xy[str(m)] for m in members], axis=0) * np.array(signs)
        np.testing.assert_allclose(mean, [-x, -y], atol=1e-12)


def test_participants_block(folder):
    body = _analyze(folder, "--groups", "export")
    math = json.loads((folder / "math-pca2.json").read_text())
    parts = {p["id"]: p for p in body["participants"]}
    assert set(parts) == {str(p) for p in math["user-vote-counts"]}
    for pid, n in math["user-vote-counts"].items():
        assert parts[str(pid)]["votes"] == n
    members = {str(p): str(g["id"]) for g in math["group-clusters"] for b in g["members"]
               for p in math["base-clusters"]["members"][math["base-clusters"]["id"].index(b)]}
    assert {pid: p["group"] for pid, p in parts.items() if p["group"] is not None} == members
    assert {pid for pid, p in parts.items() if p["in_conv"]} == {str(p) for p in math["in-conv"]}


def _copy(src, dst):
    import shutil

    shutil.copytree(src, dst)
    return dst


def test_cold_polis_uses_the_server_in_conv_list(shared, tmp_path):
    """Polis keeps members in-conv ("sticky") under 7 votes: below-100-ptpts has four with 1-2
    votes. Cold `polis` clusters exactly the server's in-conv set; without the list, the rule
    alone leaves those four out."""
    folder = shared / "data/polis/polis-math/below-100-ptpts"
    math = json.loads((folder / "math-pca2.json").read_text())
    server = {str(p) for p in math["in-conv"]}
    parts = _analyze(folder)["participants"]
    assert {p["id"] for p in parts if p["in_conv"]} == server
    assert {p["id"] for p in parts if p["group"] is not None} == server
    sticky = {p["id"] for p in parts if p["in_conv"] and p["votes"] < 7}
    assert sticky == {"5", "10", "11", "14"}
    bare = _copy(folder, tmp_path / "conv")
    del math["in-conv"]
    (bare / "math-pca2.json").write_text(json.dumps(math))
    parts = _analyze(bare)["participants"]
    assert {p["id"] for p in parts if p["in_conv"]} == server - sticky
    assert all(p["group"] is None for p in parts if p["id"] in sticky)


def test_dropped_participant_is_a_warning_with_a_count(shared, tmp_path):
    folder = _copy(shared / "data/polis/polis-math/25ptpt-3gp-no-strict-with-meta",
                   tmp_path / "conv")
    votes = json.loads((folder / "votes.json").read_text())
    key = "pid" if "pid" in votes[0] else "participant_id"
    kept = [v for v in votes if str(v[key]) not in ("3", "7")]
    assert len(kept) < len(votes)
    (folder / "votes.json").write_text(json.dumps(kept))
    code, _, err = run_cli(["analyze", str(folder), "--groups", "export"])
    assert code == 0
    assert "warning[CCAI455]" in err and "counts 2 participants with no vote in" in err
    assert "('3', '7')" in err
    code, _, err = run_cli(["analyze", str(shared / "data/polis/polis-math"
                                            / "25ptpt-3gp-no-strict-with-meta")])
    assert code == 0 and "CCAI455" not in err


def test_csv_export_grouped_without_votes_is_a_warning_with_a_count(shared, tmp_path):
    """A CSV export's participants-votes.csv groups participants (the server clustered them)
    that votes.csv has no vote for: CCAI455 with the count, as for math-pca2.json."""
    import csv

    folder = _copy(shared / "data/polis/opendata/bg2050-volunteers", tmp_path / "conv")
    with (folder / "votes.csv").open(newline="") as f:
        rows = list(csv.reader(f))
    voter = rows[0].index("voter-id")
    with (folder / "votes.csv").open("w", newline="") as f:
        csv.writer(f).writerows([rows[0], *(r for r in rows[1:] if r[voter] not in ("0", "1"))])
    code, _, err = run_cli(["analyze", str(folder), "--groups", "export"])
    assert code == 0
    assert "warning[CCAI455]" in err and "groups 2 participants with no vote" in err
    assert "('0', '1')" in err
    code, _, err = run_cli(["analyze", str(shared / "data/polis/opendata/bg2050-volunteers")])
    assert code == 0 and "CCAI455" not in err


@pytest.mark.parametrize("groups", ["export", "polis"])
def test_build_artifact_carries_the_same_polis_block(folder, tmp_path, groups):
    """analyze and build agree (server groups, and cold polis with the server's in-conv
    list): the artifact's `polis` block (rounded to 12 decimals) is analyze's, and
    moderated-out statements have no rank in either."""
    spec = tmp_path / "main.ccai"
    spec.write_text(f'assembly "conv" {{\n  source polis_json {{ path = "{folder}" }}\n'
                    f'  groups {groups} {{}}\n  consensus gac {{ threshold = 0.0 }}\n}}\n')
    code, _, err = run_cli(["build", str(spec), "-o", str(tmp_path / "out"), "--until",
                            "assemblies"])
    assert code == 0, err
    art = json.loads((tmp_path / "out/assemblies/conv.json").read_text())
    body = _analyze(folder, "--groups", groups)
    mine, theirs = art["polis"], body
    assert mine["format_version"] == "1.0"
    assert mine["moderated_out"] == theirs["moderated_out"]
    for block in ("groups", "consensus", "participants"):
        assert mine[block] == _rounded(theirs[block])
    # pca over each output's own `statements` order
    order = [s["id"] for s in art["statements"]]
    pos = {r["id"]: i for i, r in enumerate(body["statements"])}
    np.testing.assert_allclose(mine["pca"]["center"],
                               [theirs["pca"]["center"][pos[i]] for i in order], atol=1e-11)
    for a in (art["statements"], body["statements"]):
        assert all((s["rank"] is None) == s["moderated_out"] for s in a)


def _rounded(value):
    from ccaic.assembly.polis_report import rounded

    return rounded(value)


#: bench/seed_order.py, entry-time column (docs/polis-report.md): the default seeding order
COLD_ARI = {"150ptpt-3gp-no-strict-no-meta": 0.912, "25ptpt-3gp-no-strict-with-meta": 1.0,
            "below-100-ptpts": 1.0}


def test_cold_groups_through_the_cli_match_the_measured_default(folder):
    """`analyze` (cold polis, server in-conv) gives the ARI the docs table records for the
    default order, entry time."""
    from sklearn.metrics import adjusted_rand_score

    parts = _analyze(folder)["participants"]
    math = json.loads((folder / "math-pca2.json").read_text())
    bc = math["base-clusters"]
    server = {str(p): str(g["id"]) for g in math["group-clusters"] for b in g["members"]
              for p in bc["members"][bc["id"].index(b)]}
    both = [p for p in parts if p["id"] in server and p["group"] is not None]
    ari = adjusted_rand_score([server[p["id"]] for p in both], [p["group"] for p in both])
    assert round(ari, 3) == COLD_ARI[folder.name]


def test_participants_csv_is_the_json_table(shared):
    import csv
    import io

    folder = shared / "data/polis/polis-math/150ptpt-3gp-no-strict-no-meta"
    code, out, _ = run_cli(["analyze", str(folder), "--format", "csv", "--table",
                            "participants"])
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    parts = _analyze(folder)["participants"]
    assert [r["id"] for r in rows] == [p["id"] for p in parts]
    for r, p in zip(rows, parts, strict=True):
        assert r["group"] == ("" if p["group"] is None else p["group"])
        assert r["in_conv"] == str(p["in_conv"]).lower() and int(r["votes"]) == p["votes"]
        assert float(r["x"]) == p["x"] and float(r["y"]) == p["y"]
    assert any(r["group"] == "" for r in rows)


def test_table_without_csv_is_ccai456(shared):
    folder = str(shared / "data/polis/polis-math/below-100-ptpts")
    for fmt in ("text", "json"):
        code, out, err = run_cli(["analyze", folder, "--table", "participants", "--format", fmt])
        assert code == 1
        assert "CCAI456" in (out if fmt == "json" else err)


def test_text_shows_representative_and_consensus_statements(shared):
    folder = shared / "data/polis/polis-math/25ptpt-3gp-no-strict-with-meta"
    math = json.loads((folder / "math-pca2.json").read_text())
    code, out, _ = run_cli(["analyze", str(folder), "--groups", "export"])
    assert code == 0
    report = out.split("representative statements (Polis repness", 1)[1]
    for gid, entries in math["repness"].items():
        block = report.split(f"  group {gid} (", 1)[1].split("\n  group ", 1)[0]
        listed = [line.split()[0] for line in block.splitlines()[1:] if line.startswith("    ")]
        assert listed[:5] == [str(e["tid"]) for e in entries][:5]
    agree = report.split("consensus statements (agree", 1)[1].split("consensus statements", 1)[0]
    assert [line.split()[0] for line in agree.splitlines()[1:]] == [
        str(e["tid"]) for e in math["consensus"]["agree"]]
    assert "never ranked (listed last)" in out


@settings(max_examples=40, deadline=None)
@given(n_p=st.integers(3, 60), n_s=st.integers(2, 12), density=st.floats(0.2, 1.0),
       seed=st.integers(0, 10_000), out_bits=st.integers(0, 2 ** 12 - 1))
def test_moderated_out_never_in_repness_or_consensus(n_p, n_s, density, seed, out_bits):
    """Any table, any statements moderated out: the `polis` block's repness and consensus
    list only statements in, every group is listed with its size, and pca covers `order`."""
    from ccaic.assembly.groups import export_groups, pca
    from ccaic.assembly.polis_report import in_conv_mask, polis_blocks
    from ccaic.assembly.synthetic import synthetic_votes
    from ccaic.assembly.votes import Statement, build_table

    p, s, vote, _ = synthetic_votes(n_p, n_s, max(1, int(density * n_p * n_s)), seed)
    table = build_table(p, s, vote, [str(i) for i in range(n_p)],
                        [Statement(str(j)) for j in range(n_s)])
    out = np.array([bool(out_bits >> j & 1) for j in range(table.shape[1])])
    g = export_groups(table, {pid: str(int(pid) % 3) for pid in table.participants})
    order = list(np.flatnonzero(table.statement_vote_counts() > 0))
    block = polis_blocks(table, g, out, in_conv_mask(table, None), pca(table, out), order)
    ids_out = {table.statement_ids[j] for j in np.flatnonzero(out)}
    listed = {e["statement"] for grp in block["groups"] for e in grp["repness"]} | {
        e["statement"] for side in ("agree", "disagree") for e in block["consensus"][side]}
    assert not listed & ids_out
    assert [(x["id"], x["size"]) for x in block["groups"]] == list(zip(g.names, g.sizes,
                                                                       strict=True))
    assert all(len(c) == len(order) for c in [block["pca"]["center"],
                                              *block["pca"]["components"]])
    json.dumps(block, allow_nan=False)  # finite numbers only
