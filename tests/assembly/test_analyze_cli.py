"""`ccaic analyze` end to end."""

from __future__ import annotations

import json

from cli_runner import run_cli


def test_analyze_json_every_voted_statement(shared):
    folder = shared / "data/polis/polis-math/25ptpt-3gp-no-strict-with-meta"
    code, out, _ = run_cli(["analyze", str(folder), "--groups", "export", "--format", "json"])
    assert code == 0
    body = json.loads(out)
    rows = body["statements"]
    math = json.loads((folder / "math-pca2.json").read_text())
    assert {r["id"] for r in rows} == {str(t) for t in math["tids"]}
    by_id = {r["id"]: r for r in rows}
    for tid, value in math["group-aware-consensus"].items():
        assert abs(by_id[tid]["gac"] - value) < 1e-12
    assert {str(t) for t in math["mod-out"]} == {str(r["id"]) for r in rows if r["moderated_out"]}
    ranked = [r for r in rows if not r["moderated_out"]]
    gacs = [r["gac"] for r in ranked]
    assert gacs == sorted(gacs, reverse=True)
    assert [r["rank"] for r in ranked] == list(range(1, len(ranked) + 1))
    # moderated-out statements keep their GAC but never rank: listed last, rank null
    out = rows[len(ranked):]
    assert out and all(r["moderated_out"] and r["rank"] is None for r in out)
    assert max(r["gac"] for r in out) > min(gacs)  # would have ranked among the rest
    assert set(rows[0]["groups"]) == {"0", "1", "2"}
    assert body["summary"]["groups"]["k"] == 3


def test_analyze_text_and_csv(shared):
    folder = shared / "data/polis/opendata/brexit-consensus"
    code, out, _ = run_cli(["analyze", str(folder)])
    assert code == 0 and "groups: polis" in out
    code, out, _ = run_cli(["analyze", str(folder), "--groups", "kmeans:2", "--smoothing", "none",
                       "--format", "csv"])
    assert code == 0 and out.splitlines()[0].startswith("id,gac,")
    assert len(out.splitlines()) == 1 + 50


def test_analyze_deterministic(shared):
    folder = str(shared / "data/polis/opendata/15-per-hour-seattle")
    argv = ["analyze", folder, "--format", "json"]
    assert run_cli(argv) == run_cli(argv)


def test_analyze_bad_input(tmp_path):
    f = tmp_path / "v.csv"
    f.write_text("participant_id,statement_id,vote_value\n1,2,lol\n")
    code, out, err = run_cli(["analyze", str(f)])
    assert code == 1 and "CCAI405" in err
    code, out, _ = run_cli(["analyze", str(f), "--format", "json"])
    assert code == 1 and json.loads(out)["diagnostics"][0]["code"] == "CCAI405"
    code, _, err = run_cli(["analyze", str(tmp_path / "missing")])
    assert code == 1 and "CCAI401" in err
    f.write_text("participant_id,statement_id,vote_value\n1,2,1\n")
    code, _, err = run_cli(["analyze", str(f), "--groups", "export"])
    assert code == 1 and "CCAI414" in err


def test_analyze_groups_k_is_the_spec_range(shared, tmp_path):
    """kmeans:K takes the k a groups block takes, [2, 50]; outside it is CCAI414, exit 1."""
    from ccaic.assembly.analysis import K_MAX, K_MIN
    from ccaic.check.schema import SCHEMA

    k = SCHEMA["assembly"].blocks["groups"].attrs["k"]
    assert (k.minimum, k.maximum) == (K_MIN, K_MAX)
    folder = str(shared / "data/polis/opendata/brexit-consensus")
    for bad in ("kmeans:1", "kmeans:51", "kmeans:60", "kmeans:0", "kmeans:x"):
        code, out, err = run_cli(["analyze", folder, "--groups", bad])
        assert code == 1 and "error[CCAI414]" in err and "from 2 to 50" in err, (bad, err)
    code, out, _ = run_cli(["analyze", folder, "--groups", "kmeans:2", "--format", "json"])
    assert code == 0 and json.loads(out)["summary"]["groups"]["k"] == 2


def test_analyze_json_speaks_the_build_artifact(shared, tmp_path):
    """Ids are strings and fields are named as in assemblies/NAME.json, for every source."""
    folder = shared / "data/polis/opendata/brexit-consensus"
    long = tmp_path / "long.csv"
    lines = (folder / "votes.csv").read_text(encoding="utf-8").splitlines()[1:]
    long.write_text("participant_id,statement_id,vote_value,timestamp\n" + "".join(
        f"{v[3]},{v[2]},{v[4]},{v[0]}\n" for v in (line.split(",") for line in lines)))
    artifact_fields = {"id", "rank", "text", "moderated", "meta", "moderated_out", "agrees",
                       "disagrees", "passes", "gac", "gac_disagree", "polarization",
                       "adjusted_polarization", "groups"}
    bodies = []
    for source in (folder, long):
        code, out, _ = run_cli(["analyze", str(source), "--groups", "kmeans:2", "--format", "json"])
        assert code == 0
        rows = json.loads(out)["statements"]
        assert rows and all(isinstance(r["id"], str) for r in rows)
        assert set(rows[0]) == artifact_fields | {"scores"}  # analyze adds the asked-for ones
        bodies.append({r["id"]: r["agrees"] for r in rows})
    assert bodies[0] == bodies[1]
    code, out, _ = run_cli(["analyze", str(folder), "--format", "csv"])
    assert out.splitlines()[0].startswith(
        "id,gac,gac_disagree,agrees,disagrees,passes,polarization,adjusted_polarization,")


def test_analyze_counts_rejected_statements(shared):
    """Polis's rejected statements are reported under the implicit rule, in text and JSON."""
    import csv

    folder = shared / "data/ccai-2023"
    with (folder / "comments.csv").open(encoding="utf-8") as fh:
        rejected = sum(r["moderated"] == "-1" for r in csv.DictReader(fh))
    code, out, _ = run_cli(["analyze", str(folder)])
    assert code == 0
    assert (f"moderation: drop statements where moderated == -1 or meta: removed {rejected} "
            "statements") in out.splitlines()
    code, out, _ = run_cli(["analyze", str(folder), "--format", "json"])
    moderation = json.loads(out)["summary"]["moderation"]
    assert [(m["rule"], m["count"]) for m in moderation] == [
        ("drop statements where moderated == -1 or meta", rejected)]
