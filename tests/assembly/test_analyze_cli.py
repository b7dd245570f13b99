"""`ccaic analyze` end to end."""

from __future__ import annotations

import io
import json

from ccaic.cli import main
from ccaic.output import Output


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), Output(out, err))
    return code, out.getvalue(), err.getvalue()


def test_analyze_json_every_voted_statement(shared):
    folder = shared / "data/polis/polis-math/25ptpt-3gp-no-strict-with-meta"
    code, out, _ = run("analyze", str(folder), "--groups", "export", "--format", "json")
    assert code == 0
    body = json.loads(out)
    rows = body["statements"]
    math = json.loads((folder / "math-pca2.json").read_text())
    assert {r["id"] for r in rows} == set(math["tids"])
    by_id = {str(r["id"]): r for r in rows}
    for tid, value in math["group-aware-consensus"].items():
        assert abs(by_id[tid]["gac"] - value) < 1e-12
    assert {str(t) for t in math["mod-out"]} == {str(r["id"]) for r in rows if r["moderated_out"]}
    gacs = [r["gac"] for r in rows]
    assert gacs == sorted(gacs, reverse=True)
    assert set(rows[0]["groups"]) == {"0", "1", "2"}
    assert body["summary"]["groups"]["k"] == 3


def test_analyze_text_and_csv(shared):
    folder = shared / "data/polis/opendata/brexit-consensus"
    code, out, _ = run("analyze", str(folder))
    assert code == 0 and "groups: polis" in out
    code, out, _ = run("analyze", str(folder), "--groups", "kmeans:2", "--smoothing", "none",
                       "--format", "csv")
    assert code == 0 and out.splitlines()[0].startswith("id,gac,")
    assert len(out.splitlines()) == 1 + 50


def test_analyze_deterministic(shared):
    folder = str(shared / "data/polis/opendata/15-per-hour-seattle")
    assert run("analyze", folder, "--format", "json") == run("analyze", folder, "--format", "json")


def test_analyze_bad_input(tmp_path):
    f = tmp_path / "v.csv"
    f.write_text("participant_id,statement_id,vote_value\n1,2,lol\n")
    code, out, err = run("analyze", str(f))
    assert code == 1 and "CCAI405" in err
    code, out, _ = run("analyze", str(f), "--format", "json")
    assert code == 1 and json.loads(out)["diagnostics"][0]["code"] == "CCAI405"
    code, _, err = run("analyze", str(tmp_path / "missing"))
    assert code == 1 and "CCAI401" in err
    f.write_text("participant_id,statement_id,vote_value\n1,2,1\n")
    code, _, err = run("analyze", str(f), "--groups", "export")
    assert code == 1 and "CCAI414" in err
