"""Statement scores by name: the registry, every GAC variant against hand-computed values, the
bridging fit against a brute-force optimisation of the same loss, and the method that selects
driving stability and templates (issue 12's gac_disagree bugs)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import scipy.optimize as so
import scipy.sparse as sp

from ccaic.assembly.groups import Grouping
from ccaic.assembly.scores import ScoreInputs, compute, method_options
from ccaic.assembly.scores import bridging as B
from ccaic.assembly.scores.gac import group_aware
from ccaic.assembly.selection import SelectionRule
from ccaic.assembly.stability import bootstrap_selection
from ccaic.assembly.stats import statement_stats
from ccaic.assembly.votes import Statement, VoteTable
from ccaic.build import build
from ccaic.registry.scores import SCORES

# ---------------------------------------------------------------- a two-camp table

AGREE, PASS, DISAGREE = 3, 2, 1


def camps(n: int = 6) -> tuple[VoteTable, Grouping]:
    """2n participants in two camps: statement 0 all agree, 1 all disagree, 2 camp A agrees
    and camp B disagrees, 3 camp A agrees and camp B passes."""
    rows = [[AGREE, DISAGREE, AGREE, AGREE]] * n + [[AGREE, DISAGREE, DISAGREE, PASS]] * n
    codes = sp.csr_matrix(np.array(rows, dtype=np.int8))
    table = VoteTable(tuple(f"p{i}" for i in range(2 * n)),
                      tuple(Statement(str(j), f"statement {j}") for j in range(4)), codes)
    return table, Grouping("t", np.array([0] * n + [1] * n), ("0", "1"))


def test_every_entry_is_a_score_that_runs_with_its_defaults() -> None:
    table, g = camps()
    for entry in SCORES:
        scored = compute(ScoreInputs(table, g), [entry.name], {})[entry.name]
        assert scored.values.shape == (4,), entry.name
        assert set(entry.meta["extras"]) == set(scored.extras), entry.name
        assert set(method_options(entry.name, {})) == set(entry.attrs)
        # what the checker and the report read from each entry, naming its own attributes
        assert {"title", "range", "bounds", "extras"} <= set(entry.meta), entry.name
        unless = entry.meta.get("unless", {})
        named = {*unless, *unless.values(), *entry.meta.get("selects_only", ())}
        assert named <= set(entry.attrs), entry.name


# ---------------------------------------------------------------- GAC variants, by hand


def test_gac_variants_against_hand_computed_values() -> None:
    """Two groups of 10: group 0 has A=8 D=1 P=1, group 1 A=6 D=3 P=1."""
    a, d = np.array([[8], [6]]), np.array([[1], [3]])
    s = np.array([[10], [10]])
    laplace = (9 / 12) * (7 / 12)
    jeffreys = (8.5 / 11) * (6.5 / 11)
    assert group_aware(a, d, s, "laplace")[0] == pytest.approx(laplace, abs=1e-15)
    assert group_aware(a, d, s, "jeffreys")[0] == pytest.approx(jeffreys, abs=1e-15)
    assert group_aware(a, d, s, "none")[0] == pytest.approx(0.8 * 0.6, abs=1e-15)
    eff = (9 / 12) * (1 - 2 / 12) * (7 / 12) * (1 - 4 / 12)
    assert group_aware(a, d, s, "laplace", "effective")[0] == pytest.approx(eff, abs=1e-15)
    assert group_aware(a, d, s, "laplace", "agree", "geometric")[0] == pytest.approx(
        laplace ** 0.5, abs=1e-15)
    std = ((8.5 / 11) * (1 - 1.5 / 11) * (6.5 / 11) * (1 - 3.5 / 11)) ** 0.5
    assert group_aware(a, d, s, "jeffreys", "effective", "geometric")[0] == pytest.approx(
        std, abs=1e-15)
    # the disagree side swaps A and D
    assert group_aware(d, a, s, "none", "effective")[0] == pytest.approx(
        0.1 * 0.2 * 0.3 * 0.4, abs=1e-15)


def test_six_groups_product_shrinks_and_the_geometric_mean_does_not() -> None:
    """red-dwarf's case: 93% agreement in each of six groups of 100 (A=93, D=5, P=2)."""
    a, d, s = np.full((6, 1), 93), np.full((6, 1), 5), np.full((6, 1), 100)
    p = 94 / 102
    assert group_aware(a, d, s)[0] == pytest.approx(p ** 6, abs=1e-15)
    assert group_aware(a, d, s)[0] < 0.62
    assert group_aware(a, d, s, combine="geometric")[0] == pytest.approx(p, abs=1e-15)
    pj = 93.5 / 101 * (1 - 5.5 / 101)
    assert group_aware(a, d, s, "jeffreys", "effective", "geometric")[0] == pytest.approx(
        pj, abs=1e-15)


def test_unseen_group_gives_no_evidence_without_a_prior() -> None:
    a, d, s = np.array([[3], [0]]), np.array([[1], [0]]), np.array([[4], [0]])
    assert group_aware(a, d, s, "none")[0] == 0.0
    assert group_aware(a, d, s, "none", "effective", "geometric")[0] == 0.0
    assert group_aware(a, d, s, "laplace")[0] == pytest.approx(4 / 6 * 0.5)


def test_smoothing_is_the_prior_spelt_the_old_way_and_an_explicit_prior_wins() -> None:
    table, g = camps()
    st = statement_stats(table, g, {"smoothing": "none"})
    assert st.scores["gac"].tolist() == [1.0, 0.0, 0.0, 0.0]
    st = statement_stats(table, g, {"smoothing": "none", "prior": "jeffreys"})
    assert st.scores["gac"][0] == pytest.approx((6.5 / 7) ** 2)


# ---------------------------------------------------------------- the selecting method drives
#                                                                  stability and templates


def test_bootstrap_scores_the_method_that_selects() -> None:
    """gac_disagree selects statement 1 (everyone disagrees) in every resample; the plain
    GAC the bootstrap used to score would select statement 0 instead."""
    table, g = camps()
    rule = SelectionRule(threshold=0.5)
    boot = bootstrap_selection(table, g, rule, n=20, seed=1, method="gac_disagree")
    assert boot.frequency.tolist() == [0.0, 1.0, 0.0, 0.0]
    plain = bootstrap_selection(table, g, rule, n=20, seed=1)
    assert plain.frequency.tolist() == [1.0, 0.0, 0.0, 0.0]
    lo, hi = boot.intervals["gac_disagree"][1]
    assert 0.5 < lo <= hi < 1


def _polis_folder(root: Path, n: int = 6) -> Path:
    """camps() as a Polis CSV export folder."""
    table, _ = camps(n)
    dense = table.codes.toarray()
    root.mkdir(parents=True, exist_ok=True)
    comments = ["timestamp,datetime,comment-id,author-id,agrees,disagrees,moderated,comment-body"]
    comments += [f"{1700000000000 + j},,{j},0,0,0,1,The AI should do thing {j}" for j in range(4)]
    votes = ["timestamp,datetime,comment-id,voter-id,vote"]
    t = 1700000010000
    for i in range(dense.shape[0]):
        for j in range(dense.shape[1]):
            t += 1
            votes.append(f"{t},,{j},{i},{int(dense[i, j]) - 2}")
    (root / "comments.csv").write_text("\n".join(comments) + "\n", encoding="utf-8")
    (root / "votes.csv").write_text("\n".join(votes) + "\n", encoding="utf-8")
    return root


SPEC = """assembly "town" {
  source polis { path = "data" }
  groups kmeans {
    k    = 2
    seed = 0
  }
  consensus KIND { threshold = 0.5 }
  stability { bootstrap = 10 }
}

constitution "town" {
  from     = assembly.town
  template = "TEMPLATE"
}
""".replace("TEMPLATE", "Choose the response that does thing {{ statement.id }} "
            "({{ statement.score }}, {{ statement.scores.gac }}).")


def test_gac_disagree_drives_stability_and_templates(tmp_path: Path) -> None:
    _polis_folder(tmp_path / "data")
    (tmp_path / "main.ccai").write_text(SPEC.replace("KIND", "gac_disagree"), encoding="utf-8")
    result = build(str(tmp_path / "main.ccai"), str(tmp_path / "out"), [])
    assert result.ok, [d.message for d in result.diagnostics]
    a = json.loads((tmp_path / "out/assemblies/town.json").read_text(encoding="utf-8"))
    assert a["selection"] == ["1"]
    assert a["stability"]["bootstrap"]["score"] == "gac_disagree"
    assert a["stability"]["bootstrap"]["frequency"] == {"0": 0.0, "1": 1.0, "2": 0.0, "3": 0.0}
    row = {s["id"]: s for s in a["statements"]}["1"]
    c = json.loads((tmp_path / "out/constitutions/town.json").read_text(encoding="utf-8"))
    (p,) = c["principles"]
    # statement.score is gac_disagree's (7/8 squared), not the GAC of the statement (1/8 squared)
    assert p["text"] == (f"Choose the response that does thing 1 ({row['gac_disagree']}, "
                         f"{row['gac']}).")
    assert row["gac_disagree"] == pytest.approx((7 / 8) ** 2)


# ---------------------------------------------------------------- bridging


def _small() -> sp.csr_matrix:
    """7 participants x 5 statements, some unseen, a pass or two: statement 0 bridges (both
    sides agree), 1 and 2 split the sides, 3 is disliked, 4 is statement 0's twin."""
    rows = [[AGREE, AGREE, DISAGREE, DISAGREE, AGREE],
            [AGREE, AGREE, DISAGREE, 0, AGREE],
            [AGREE, AGREE, 0, DISAGREE, AGREE],
            [AGREE, DISAGREE, AGREE, DISAGREE, AGREE],
            [AGREE, DISAGREE, AGREE, PASS, AGREE],
            [DISAGREE, DISAGREE, AGREE, AGREE, DISAGREE],
            [AGREE, PASS, AGREE, DISAGREE, AGREE]]
    return sp.csr_matrix(np.array(rows, dtype=np.int8))


def _brute_loss(theta: np.ndarray, codes: np.ndarray, lam_i: float, lam_f: float) -> float:
    """The Community Notes objective written out vote by vote, independently of the module."""
    n, m = codes.shape
    mu, iu, is_ = theta[0], theta[1:1 + n], theta[1 + n:1 + n + m]
    fu, fs = theta[1 + n + m:1 + 2 * n + m], theta[1 + 2 * n + m:]
    err = []
    for u in range(n):
        for s in range(m):
            if codes[u, s] in (AGREE, DISAGREE):
                y = 1.0 if codes[u, s] == AGREE else 0.0
                err.append((mu + iu[u] + is_[s] + fu[u] * fs[s] - y) ** 2)
    return float(sum(err) / len(err) + lam_i * (np.mean(iu ** 2) + np.mean(is_ ** 2) + mu ** 2)
                 + lam_f * (np.mean(fu ** 2) + np.mean(fs ** 2)))


def test_bridging_fit_is_the_optimum_of_the_community_notes_loss() -> None:
    codes = _small()
    dense = codes.toarray()
    d = B.ratings(codes, None, "exclude")
    f = B.fit(d)
    assert f.converged
    n, m = dense.shape
    best = None
    for seed in range(8):  # an independent optimiser (numerical gradients) from random starts
        rng = np.random.default_rng(seed)
        res = so.minimize(_brute_loss, rng.normal(0, 0.5, 1 + 2 * (n + m)),
                          args=(dense, 0.15, 0.03), method="BFGS", options={"gtol": 1e-10})
        if best is None or res.fun < best.fun:
            best = res
    assert best is not None
    ours = np.concatenate([[f.mu], f.user_intercepts, f.item_intercepts,
                           f.user_factors[:, 0], f.item_factors[:, 0]])
    assert _brute_loss(ours, dense, 0.15, 0.03) == pytest.approx(f.loss, abs=1e-12)
    assert f.loss <= best.fun + 1e-10
    assert f.item_intercepts == pytest.approx(best.x[1 + n:1 + n + m], abs=1e-4)
    assert f.mu == pytest.approx(best.x[0], abs=1e-4)
    # the statement both sides agree with bridges; the divisive ones do not
    assert f.item_intercepts[0] > max(f.item_intercepts[1], f.item_intercepts[2])


def test_bridging_intercepts_do_not_depend_on_the_factor_sign() -> None:
    d = B.ratings(_small(), None, "exclude")
    x0 = B.initial(d, 1)
    n, m = len(d.users), len(d.items)
    flipped = x0.copy()
    flipped[1 + n + m:] *= -1
    a, b = B.fit(d), B.fit(d, start=flipped)
    assert a.item_intercepts == pytest.approx(b.item_intercepts, abs=1e-9)
    assert a.user_intercepts == pytest.approx(b.user_intercepts, abs=1e-9)
    # identified the Community Notes way: most participants' factors are negative
    assert a.item_factors == pytest.approx(b.item_factors, abs=1e-7)
    assert (a.user_factors < 0).sum() * 2 >= (a.user_factors != 0).sum()


def test_bridging_gives_duplicated_statements_equal_scores_and_is_deterministic() -> None:
    table = VoteTable(tuple(f"p{i}" for i in range(7)),
                      tuple(Statement(str(j)) for j in range(5)), _small())
    g = Grouping("t", np.zeros(7, dtype=int), ("0",))
    one = compute(ScoreInputs(table, g), ["bridging"], {})["bridging"]
    two = compute(ScoreInputs(table, g), ["bridging"], {})["bridging"]
    assert one.values.tobytes() == two.values.tobytes()  # identical inputs, identical bytes
    assert one.values[4] == pytest.approx(one.values[0], abs=1e-8)
    assert one.extras["factor"][4] == pytest.approx(one.extras["factor"][0], abs=1e-7)


def test_bridging_weights_are_the_loss_of_the_resample() -> None:
    """A participant weighed 2 fits exactly as the same participant listed twice."""
    codes = _small()
    dense = codes.toarray()
    w = np.array([2.0, 1, 1, 1, 1, 1, 0])
    twice = sp.csr_matrix(np.vstack([dense[:6], dense[:1]]))
    a = B.fit(B.ratings(codes, w, "exclude"))
    b = B.fit(B.ratings(twice, None, "exclude"))
    assert a.item_intercepts == pytest.approx(b.item_intercepts, abs=1e-6)
    assert a.loss == pytest.approx(b.loss, abs=1e-10)


def test_bridging_max_factor_bars_and_passes_can_count_half() -> None:
    table = VoteTable(tuple(f"p{i}" for i in range(7)),
                      tuple(Statement(str(j)) for j in range(5)), _small())
    g = Grouping("t", np.zeros(7, dtype=int), ("0",))
    scored = compute(ScoreInputs(table, g), ["bridging"], {"max_factor": 0.05})["bridging"]
    assert scored.barred is not None
    assert scored.barred.tolist() == (np.abs(scored.extras["factor"]) >= 0.05).tolist()
    assert scored.barred_reason == "factor |f| >= 0.05"
    half = compute(ScoreInputs(table, g), ["bridging"], {"pass": 0.5})["bridging"]
    assert not np.allclose(half.values, scored.values)


def test_a_pass_is_fitted_as_the_rating_pass_gives() -> None:
    """`pass = 0.5` is the issue's spelling (a number, not the string "0.5"); any rating in
    [0, 1] is fitted as given, and "exclude" leaves passes out."""
    codes = _small()
    passes = int((codes.toarray() == PASS).sum())
    out = B.ratings(codes, None, "exclude")
    for rating in (0.5, 0.25, 1):
        d = B.ratings(codes, None, rating)
        assert len(d.values) == len(out.values) + passes
        assert sorted(set(d.values.tolist())) == sorted({0.0, 1.0, float(rating)})
    assert PASS not in out.values and set(out.values.tolist()) == {0.0, 1.0}
    table = VoteTable(tuple(f"p{i}" for i in range(7)),
                      tuple(Statement(str(j)) for j in range(5)), codes)
    g = Grouping("t", np.zeros(7, dtype=int), ("0",))
    quarter, half = (compute(ScoreInputs(table, g), ["bridging"], {"pass": r})["bridging"]
                     for r in (0.25, 0.5))
    assert not np.allclose(quarter.values, half.values)
    assert B.BRIDGING.describe(**{"pass": 0.25}) == "1 factor, passes as 0.25"


def test_a_bridging_build_selects_by_bridging_and_reports_every_score(tmp_path: Path) -> None:
    _polis_folder(tmp_path / "data")
    spec = SPEC.replace("KIND { threshold = 0.5 }",
                        'gac {\n    threshold = 0.3\n    scores = ["bridging"]\n  }')
    spec = spec.replace("{{ statement.scores.gac }}", "{{ statement.scores.bridging }}")
    (tmp_path / "main.ccai").write_text(spec, encoding="utf-8")
    result = build(str(tmp_path / "main.ccai"), str(tmp_path / "out"), [])
    assert result.ok, [d.message for d in result.diagnostics]
    a = json.loads((tmp_path / "out/assemblies/town.json").read_text(encoding="utf-8"))
    assert a["consensus"]["scores"] == ["bridging"]
    rows = {s["id"]: s for s in a["statements"]}
    assert {"bridging", "bridging_factor", "gac", "gac_disagree"} <= set(rows["0"])
    boot = a["stability"]["bootstrap"]
    assert set(boot["interval"]) == {"gac", "gac_disagree", "bridging"}
    # bridging's stability, at the size of the real selection, beside the selecting method's
    assert set(boot["by_method"]) == {"bridging"}
    assert sum(boot["by_method"]["bridging"].values()) == pytest.approx(len(a["selection"]))
    c = json.loads((tmp_path / "out/constitutions/town.json").read_text(encoding="utf-8"))
    src = c["principles"][0]["sources"][0]
    assert src["scores"]["bridging"] == rows[src["id"]]["bridging"]
    assert str(rows[src["id"]]["bridging"]) in c["principles"][0]["text"]


def _check(tmp_path: Path, block: str, *argv: str) -> tuple[int, str]:
    """`ccaic check` of SPEC with `consensus KIND { threshold = 0.5 }` replaced by `block`."""
    from cli_runner import run_cli

    _polis_folder(tmp_path / "data")
    spec = SPEC.replace("consensus KIND { threshold = 0.5 }", block)
    (tmp_path / "main.ccai").write_text(spec, encoding="utf-8")
    code, _, err = run_cli(["check", str(tmp_path / "main.ccai"), *argv])
    return code, err


def _checked(tmp_path: Path, block: str, expected: str | None) -> str:
    """`ccaic check` passes cleanly (expected None), or fails with `expected` in its output."""
    code, err = _check(tmp_path, block)
    if expected is None:
        assert code == 0 and "0 errors, 0 warnings" in err, err
    else:
        assert code == 1 and expected in err, err
    return err


@pytest.mark.parametrize("block,expected", [
    ('consensus bridging {\n    top_k = 2\n    pass = 0.5\n  }', None),
    ('consensus bridging {\n    top_k = 2\n    pass = "exclude"\n  }', None),
    ('consensus bridging {\n    top_k = 2\n    pass = 0\n  }', None),
    ('consensus bridging {\n    top_k = 2\n    pass = "0.5"\n  }',
     ':9:12: error[CCAI215]: `pass` cannot be "0.5"\n'),
    ('consensus bridging {\n    top_k = 2\n    pass = 1.5\n  }',
     ":9:12: error[CCAI207]: `pass` = 1.5 is out of range: it must be in [0, 1]\n"),
    ('consensus bridging {\n    top_k = 2\n    pass = true\n  }',
     ':9:12: error[CCAI206]: `pass` must be "exclude" or a number, not a boolean\n'),
    ('consensus bridging {\n    top_k = 2\n    pass = "half"\n  }',
     ':9:12: error[CCAI215]: `pass` cannot be "half"\n'),
])
def test_pass_is_exclude_or_a_number_in_0_1(tmp_path: Path, block: str,
                                            expected: str | None) -> None:
    err = _checked(tmp_path, block, expected)
    if '"0.5"' in block:
        assert "help: a number is written without quotes: `pass = 0.5`" in err


def test_a_build_fits_passes_as_the_number_pass_gives(tmp_path: Path) -> None:
    _polis_folder(tmp_path / "data")
    rows = {}
    for name, given in (("excluded", ""), ("half", "\n    pass = 0.5")):
        spec = SPEC.replace("KIND { threshold = 0.5 }", "bridging {\n    top_k = 2" + given +
                            "\n  }").replace("{{ statement.scores.gac }}", "x")
        (tmp_path / f"{name}.ccai").write_text(spec, encoding="utf-8")
        result = build(str(tmp_path / f"{name}.ccai"), str(tmp_path / name), [])
        assert result.ok, [d.message for d in result.diagnostics]
        a = json.loads((tmp_path / name / "assemblies/town.json").read_text(encoding="utf-8"))
        rows[name] = {s["id"]: s["bridging"] for s in a["statements"]}
        assert a["consensus"].get("pass") == (0.5 if name == "half" else None)
        c = json.loads((tmp_path / name / "constitutions/town.json").read_text(encoding="utf-8"))
        method = c["selection"]["method"]
        assert ("passes as 0.5" if name == "half" else "passes excluded") in method, method
    assert rows["excluded"]["3"] != rows["half"]["3"]  # statement 3: camp B passes


@pytest.mark.parametrize("block,expected", [
    # gac's scores are probabilities; a bridging intercept may be negative
    ("consensus bridging { threshold = -0.2 }", None),
    ("consensus bridging { threshold = 1.5 }", None),
    ("consensus gac { threshold = -0.2 }",
     ":7:31: error[CCAI207]: `threshold` = -0.2 is out of range: it must be in [0, 1]\n"),
    ("consensus gac_disagree { threshold = 1.2 }",
     ":7:40: error[CCAI207]: `threshold` = 1.2 is out of range: it must be in [0, 1]\n"),
])
def test_the_threshold_range_is_the_selecting_methods(tmp_path: Path, block: str,
                                                      expected: str | None) -> None:
    _checked(tmp_path, block, expected)


def test_a_threshold_from_a_variable_takes_the_methods_range(tmp_path: Path) -> None:
    from cli_runner import run_cli

    _polis_folder(tmp_path / "data")
    for kind, ok in (("bridging", True), ("gac", False)):
        spec = 'variable "t" { type = number }\n' + SPEC.replace(
            "KIND { threshold = 0.5 }", kind + " { threshold = var.t }")
        (tmp_path / "main.ccai").write_text(spec, encoding="utf-8")
        code, _, err = run_cli(["check", str(tmp_path / "main.ccai"), "--var", "t=-0.2"])
        assert (code == 0) is ok, err
        assert ("CCAI207" in err) is not ok, err
    # the bridging build runs with it: every statement scores above -0.2 but the disliked one
    spec = 'variable "t" { type = number }\n' + SPEC.replace(
        "KIND { threshold = 0.5 }", "bridging { threshold = var.t }").replace(
        "{{ statement.scores.gac }}", "x")
    (tmp_path / "main.ccai").write_text(spec, encoding="utf-8")
    result = build(str(tmp_path / "main.ccai"), str(tmp_path / "out"), ["t=-0.2"])
    assert result.ok, [d.message for d in result.diagnostics]
    a = json.loads((tmp_path / "out/assemblies/town.json").read_text(encoding="utf-8"))
    assert a["selection"] and all(s["bridging"] >= -0.2 for s in a["statements"]
                                  if s["id"] in a["selection"])


@pytest.mark.parametrize("block,expected", [
    ('consensus gac {\n    threshold = 0.5\n    smoothing = "none"\n    prior = "jeffreys"\n  }',
     ":9:5: warning[CCAI217]: `smoothing` is ignored: `prior` is given, and it decides\n"),
    ('consensus gac_disagree {\n    threshold = 0.5\n    prior = "none"\n    smoothing = "none"'
     "\n  }", ":10:5: warning[CCAI217]: `smoothing` is ignored: `prior` is given, and it "
     "decides\n"),
    ('consensus gac {\n    threshold = 0.5\n    max_factor = 0.5\n    scores = ["bridging"]\n  }',
     ":9:5: warning[CCAI217]: `max_factor` is ignored: this block selects by gac, and "
     "`max_factor` acts only on bridging's own selection\n"),
    ('consensus gac {\n    threshold = 0.5\n    scores = ["gac"]\n  }',
     ':9:15: warning[CCAI217]: `scores` lists "gac", the method that selects\n'),
    ('consensus bridging {\n    top_k = 2\n    scores = ["gac", "gac"]\n  }',
     ':9:22: warning[CCAI217]: `scores` lists "gac" twice\n'),
])
def test_consensus_options_that_change_nothing_are_ccai217_at_check(
        tmp_path: Path, block: str, expected: str) -> None:
    code, err = _check(tmp_path, block)
    assert code == 0 and err.count("warning[CCAI217]") == 1 and expected in err, err
    assert "help: " in err


@pytest.mark.parametrize("block", [
    'consensus gac {\n    threshold = 0.5\n    smoothing = "none"\n  }',
    'consensus gac {\n    threshold = 0.5\n    prior = "jeffreys"\n  }',
    'consensus bridging {\n    top_k = 2\n    max_factor = 0.5\n    scores = ["gac"]\n  }',
    'consensus gac {\n    threshold = 0.5\n    factors = 2\n    scores = ["bridging"]\n  }',
])
def test_consensus_options_that_take_effect_are_not_warned(tmp_path: Path, block: str) -> None:
    code, err = _check(tmp_path, block)
    assert code == 0 and "0 errors, 0 warnings" in err, err


def test_an_explicit_prior_decides_and_the_smoothing_beside_it_changes_nothing(
        tmp_path: Path) -> None:
    """What the CCAI217 says: the build with both equals the build with the prior alone."""
    _polis_folder(tmp_path / "data")
    built = {}
    for name, given in (("both", '\n    smoothing = "none"'), ("prior", "")):
        spec = SPEC.replace("KIND { threshold = 0.5 }", 'gac {\n    threshold = 0.5\n    '
                            'prior = "jeffreys"' + given + "\n  }")
        (tmp_path / f"{name}.ccai").write_text(spec, encoding="utf-8")
        result = build(str(tmp_path / f"{name}.ccai"), str(tmp_path / name), [])
        assert result.ok and [d.code for d in result.diagnostics] == (
            ["CCAI217"] if name == "both" else [])
        a = json.loads((tmp_path / name / "assemblies/town.json").read_text(encoding="utf-8"))
        built[name] = [s["gac"] for s in a["statements"]]
    assert built["both"] == built["prior"]


@pytest.mark.parametrize("max_factor,threshold,message", [
    # every statement's |factor| is at least 0.05: CCAI423 used to say "the best bridging is
    # 0.626, below the threshold 0", which the threshold contradicts
    (0.05, 0.0, "no statement was selected: bridging bars every scored statement "
     "(factor |f| >= 0.05)"),
    (0.2, 0.7, "no statement was selected: the best bridging not barred by factor |f| >= 0.2 "
     "is 0.626, below the threshold 0.7"),
])
def test_an_empty_selection_counts_the_methods_own_bar(
        tmp_path: Path, max_factor: float, threshold: float, message: str) -> None:
    _polis_folder(tmp_path / "data")
    spec = SPEC.replace("KIND { threshold = 0.5 }", f"bridging {{\n    threshold = {threshold}"
                        f"\n    max_factor = {max_factor}\n  }}")
    (tmp_path / "main.ccai").write_text(spec.replace("{{ statement.scores.gac }}", "x"),
                                        encoding="utf-8")
    result = build(str(tmp_path / "main.ccai"), str(tmp_path / "out"), [])
    assert not result.ok and [d.code for d in result.diagnostics] == ["CCAI423"]
    assert message in result.diagnostics[0].message, result.diagnostics[0].message


@pytest.mark.parametrize("block,needle", [
    ("gac {\n    threshold = 0.5\n    factors = 2\n  }", "`factors` is an attribute of bridging"),
    ('gac {\n    threshold = 0.5\n    scores = ["bridgin"]\n  }', "no method is named 'bridgin'"),
])
def test_consensus_attributes_no_computed_method_takes_are_ccai458(
        tmp_path: Path, block: str, needle: str) -> None:
    _polis_folder(tmp_path / "data")
    (tmp_path / "main.ccai").write_text(SPEC.replace("KIND { threshold = 0.5 }", block),
                                        encoding="utf-8")
    result = build(str(tmp_path / "main.ccai"), str(tmp_path / "out"), [])
    assert not result.ok
    assert [d.code for d in result.diagnostics] == ["CCAI458"]
    assert needle in result.diagnostics[0].message and result.diagnostics[0].span is not None
    code, err = _check(tmp_path, "consensus " + block)  # `ccaic check` finds it, no data read
    assert code == 1 and "error[CCAI458]" in err and needle in err, err


@pytest.mark.parametrize("name,hint", [
    ("bridgin", "did you mean `bridging`?"),  # the hint listed the methods, no guess
    ("zzz", "use one of gac, "),
])
def test_an_unknown_scores_name_suggests_the_closest_method(
        tmp_path: Path, name: str, hint: str) -> None:
    block = f'consensus gac {{\n    threshold = 0.5\n    scores = ["{name}"]\n  }}'
    code, err = _check(tmp_path, block)
    assert code == 1 and "error[CCAI458]" in err and f"help: {hint}" in err, err


def test_ccai458_for_scores_a_variable_gives_is_found_at_build(tmp_path: Path) -> None:
    """`ccaic check` cannot know the methods a variable's `scores` names; the lowering can."""
    from cli_runner import run_cli

    _polis_folder(tmp_path / "data")
    spec = 'variable "s" {\n  type    = list\n  default = ["gac"]\n}\n' + SPEC.replace(
        "KIND { threshold = 0.5 }", "gac {\n    threshold = 0.5\n    factors = 2\n"
        "    scores = var.s\n  }")
    (tmp_path / "main.ccai").write_text(spec, encoding="utf-8")
    code, _, err = run_cli(["check", str(tmp_path / "main.ccai")])
    assert code == 0 and "CCAI458" not in err, err
    result = build(str(tmp_path / "main.ccai"), str(tmp_path / "out"), [])
    assert [d.code for d in result.diagnostics] == ["CCAI458"]
    assert "`factors` is an attribute of bridging" in result.diagnostics[0].message
    ok = build(str(tmp_path / "main.ccai"), str(tmp_path / "ok"), ['s=["bridging"]'])
    assert ok.ok, [d.message for d in ok.diagnostics]


def test_the_report_titles_axes_and_scatter_follow_the_methods(tmp_path: Path) -> None:
    from ccaic.report import figures
    from ccaic.report.model import assembly_section

    _polis_folder(tmp_path / "data")
    spec = SPEC.replace("KIND { threshold = 0.5 }", "bridging { top_k = 2 }")
    (tmp_path / "main.ccai").write_text(spec.replace("{{ statement.scores.gac }}", "x"),
                                        encoding="utf-8")
    result = build(str(tmp_path / "main.ccai"), str(tmp_path / "out"), [])
    assert result.ok, [d.message for d in result.diagnostics]
    a = json.loads((tmp_path / "out/assemblies/town.json").read_text(encoding="utf-8"))
    section = assembly_section(a)
    assert section["histogram"]["edges"][0] == -1.0 and section["threshold_curve"][0][0] == -1.0
    comp = section["comparison"]
    assert (comp["x"], comp["y"]) == ("bridging", "gac")
    by_id = {s["id"]: s for s in a["statements"]}
    assert sorted(p[0] for p in comp["points"]) == sorted(
        round(s["bridging"], 6) for s in by_id.values())
    assert sum(p[2] for p in comp["points"]) == 2
    hist = figures.gac_histogram("town", section)
    assert hist is not None and "Bridging intercept: town" in hist
    assert "bridging (bridging intercept)" in hist
    scatter = figures.score_scatter("town", section)
    assert scatter is not None and 'id="fig-score-scatter-town"' in scatter
    gac_only = assembly_section({**a, "consensus": {**a["consensus"], "score": "gac"}})
    assert "comparison" not in gac_only  # a GAC build's report keeps its bytes
    # `scores` naming the selecting method first (CCAI217) still plots the other one
    listed = {**a["consensus"], "score": "gac", "scores": ["gac", "bridging"]}
    both = assembly_section({**a, "consensus": listed})["comparison"]
    assert (both["x"], both["y"]) == ("gac", "bridging")


def test_diff_of_two_builds_lists_what_a_change_of_method_adds_and_removes(
        tmp_path: Path) -> None:
    from ccaic.constitution.model import Constitution
    from ccaic.diff.report import diff_constitutions, to_json, to_markdown, to_text

    _polis_folder(tmp_path / "data")
    built = {}
    for name, block in (("gac", "gac { threshold = 0.5 }"), ("bridging", "bridging { top_k = 2 }")):
        (tmp_path / f"{name}.ccai").write_text(SPEC.replace("KIND { threshold = 0.5 }", block),
                                               encoding="utf-8")
        result = build(str(tmp_path / f"{name}.ccai"), str(tmp_path / name), [])
        assert result.ok, [d.message for d in result.diagnostics]
        built[name] = Constitution.model_validate_json(
            (tmp_path / name / "constitutions/town.json").read_text(encoding="utf-8"))
    a, b = built["gac"], built["bridging"]
    assert a.selection is not None and b.selection is not None
    ids_a = [s.id for s in a.selection.statements]
    ids_b = [s.id for s in b.selection.statements]
    assert ids_a == ["0"] and len(ids_b) == 2 and ids_a != ids_b
    change = json.loads(to_json(diff_constitutions(a, b)))["selection"]
    assert change["a"].startswith("gac >= 0.5") and change["b"].startswith("top 2")
    assert [s["id"] for s in change["removed"]] == [i for i in ids_a if i not in ids_b]
    assert [s["id"] for s in change["added"]] == [i for i in ids_b if i not in ids_a]
    text = to_text(diff_constitutions(a, b))
    assert f"{len(change['added'])} added" in text.splitlines()[-1 - len(change["added"])
                                                                 - len(change["removed"])]
    assert "Statements newly selected" in to_markdown(diff_constitutions(a, b))
    assert "selection" not in json.loads(to_json(diff_constitutions(a, a)))


def test_analyze_gives_each_statement_a_scores_object_and_the_bridging_factor(
        tmp_path: Path) -> None:
    from cli_runner import run_cli

    folder = _polis_folder(tmp_path / "data")
    code, out, err = run_cli(["analyze", str(folder), "--groups", "kmeans:2", "--scores",
                              "gac,bridging", "--format", "json"])
    assert code == 0, err
    body = json.loads(out)
    assert body["summary"]["scores"] == ["gac", "bridging"]
    rows = {r["id"]: r for r in body["statements"]}
    for r in rows.values():
        assert set(r["scores"]) == {"gac", "bridging"}
        assert r["scores"]["gac"] == r["gac"] and r["scores"]["bridging"] == r["bridging"]
        assert isinstance(r["bridging_factor"], float)
    # the bridging statement (0: everyone agrees) outranks the divisive one (2)
    assert rows["0"]["scores"]["bridging"] > rows["2"]["scores"]["bridging"]
    code, out, _ = run_cli(["analyze", str(folder), "--scores", "bridging,gac", "--format",
                            "csv"])
    assert code == 0 and out.splitlines()[0].startswith(
        "id,gac,gac_disagree,bridging,bridging_factor,agrees,")
    code, _, err = run_cli(["analyze", str(folder), "--scores", "gac,bridgin"])
    assert code == 1 and "error[CCAI457]" in err and "'bridgin'" in err


def test_analyze_text_shows_every_method_asked_for(tmp_path: Path) -> None:
    """`--scores gac,bridging` in text: a column per method, in order, and the consensus line
    names both (it showed gac alone, as if bridging had not been asked for)."""
    from cli_runner import run_cli

    folder = _polis_folder(tmp_path / "data")
    code, out, err = run_cli(["analyze", str(folder), "--groups", "kmeans:2", "--scores",
                              "gac,bridging", "--format", "json"])
    assert code == 0, err
    body = json.loads(out)["statements"]
    bridging = {r["id"]: r["bridging"] for r in body}
    factor = {r["id"]: r["bridging_factor"] for r in body}
    code, text, err = run_cli(["analyze", str(folder), "--groups", "kmeans:2", "--scores",
                               "gac,bridging"])
    assert code == 0, err
    lines = text.splitlines()
    assert "consensus: gac (ranks, smoothing=polis), bridging" in lines
    head = next(i for i, line in enumerate(lines) if line.split()[:4] == [
        "id", "gac", "bridging", "bridging_factor"])  # the factor beside its intercept
    for line in lines[head + 1:head + 1 + len(bridging)]:
        sid, _, shown, f = line.split()[:4]
        assert (shown, f) == (f"{bridging[sid]:.3f}", f"{factor[sid]:.3f}")


def test_check_tries_templates_on_every_registered_score(tmp_path: Path) -> None:
    """`ccaic check` renders templates on a sample statement that has every method's score and
    extras, so a mistake on `statement.scores.bridging_factor` shows at check time (CCAI311),
    and a correct use passes."""
    from cli_runner import run_cli

    _polis_folder(tmp_path / "data")
    for use, warned in (("statement.scores.bridging_factor + 'x'", True),
                        ("statement.scores.bridging_factor | round(2)", False)):
        spec = SPEC.replace("KIND { threshold = 0.5 }", "bridging { top_k = 1 }").replace(
            "{{ statement.scores.gac }}", "{{ " + use + " }}")
        (tmp_path / "main.ccai").write_text(spec, encoding="utf-8")
        code, _, err = run_cli(["check", str(tmp_path / "main.ccai")])
        assert code == 0 and ("CCAI311" in err) is warned, (use, err)


@pytest.mark.slow
def test_the_consensus_methods_page_is_what_its_recorded_command_prints(
        repo: Path, shared: Path, tmp_path: Path) -> None:
    """docs/consensus-methods.md's tables and statement lists, line for line, from the two
    commands it records (the build of the example, then compare.py) on the CCAI 2023 export."""
    import importlib.util

    from cli_runner import run_cli

    example = repo / "examples" / "consensus-methods"
    code, _, err = run_cli(["build", str(example / "ccai-2023-methods.ccai"), "--var",
                            f"data={shared / 'data' / 'ccai-2023'}", "-o", str(tmp_path),
                            "--until", "assemblies"])
    assert code == 0, err
    assert ("the best bridging not barred by factor |f| >= 0.5 is 0.346, below the threshold "
            "0.4") in err
    loaded = importlib.util.spec_from_file_location("compare", example / "compare.py")
    assert loaded is not None and loaded.loader is not None
    compare = importlib.util.module_from_spec(loaded)
    loaded.loader.exec_module(compare)
    printed = compare.report(compare.load(tmp_path / "assemblies"))
    page = (repo / "docs" / "consensus-methods.md").read_text(encoding="utf-8").splitlines()
    shown = [line for line in page if (line.startswith("| ") and "---" not in line)
             or (line.startswith("- ") and line[2:].split(":")[0].isdigit())
             or (line.endswith("):") and " selects, " in line)]
    assert len(shown) > 80
    rest = iter(printed)
    missing = [line for line in shown if line not in rest]  # in printed, in the same order
    assert missing == []


@pytest.mark.parametrize(("block", "row"), [
    ('gac {\n    threshold = 0.5\n    prior = "jeffreys"\n    combine = "geometric"\n  }',
     "| consensus | gac >= 0.500 (jeffreys prior, geometric mean) |"),
    ("bridging {\n    threshold = 0.1\n    max_factor = 0.9\n  }",
     "| consensus | bridging >= 0.100 (1 factor, passes excluded, |factor| < 0.9) |"),
    ("gac { top_k = 2 }", "| consensus | top 2 by gac (polis smoothing) |"),
])
def test_the_report_states_the_consensus_rule_the_build_used(tmp_path: Path, block: str,
                                                            row: str) -> None:
    """report.md's consensus row said "(polis smoothing)" for every GAC variant, "gac >= —" under
    top_k alone, and nothing of bridging's factor bar; it now has the method's own words, as the
    constitution's selection line."""
    _polis_folder(tmp_path / "data")
    spec = SPEC.replace("KIND { threshold = 0.5 }", block).replace(
        "{{ statement.scores.gac }}", "x")
    (tmp_path / "main.ccai").write_text(spec, encoding="utf-8")
    result = build(str(tmp_path / "main.ccai"), str(tmp_path / "out"), [])
    assert result.ok, [d.message for d in result.diagnostics]
    report = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert row.replace("|factor|", "\\|factor\\|") in report.splitlines()
    method = json.loads((tmp_path / "out/constitutions/town.json").read_text(
        encoding="utf-8"))["selection"]["method"]
    assert method.split(" (", 1)[1] in row


def test_the_report_constitution_table_shows_the_selecting_score(tmp_path: Path) -> None:
    """A bridging build's constitution table had one score column, GAC; it now shows each
    source's bridging score, then GAC. A GAC build's report keeps its bytes (no new key)."""
    _polis_folder(tmp_path / "data")
    spec = SPEC.replace("KIND { threshold = 0.5 }", "bridging { top_k = 2 }").replace(
        "{{ statement.scores.gac }}", "x")
    (tmp_path / "main.ccai").write_text(spec, encoding="utf-8")
    result = build(str(tmp_path / "main.ccai"), str(tmp_path / "out"), [])
    assert result.ok, [d.message for d in result.diagnostics]
    a = json.loads((tmp_path / "out/assemblies/town.json").read_text(encoding="utf-8"))
    rows = {str(r["id"]): r for r in a["statements"]}
    section = json.loads((tmp_path / "out/report.json").read_text(
        encoding="utf-8"))["constitutions"]["town"]
    assert section["score"] == "bridging"
    for row in section["table"]:
        (sid,) = row["statements"]
        assert row["score"] == [round(rows[sid]["bridging"], 6)]
    report = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert "| # | principle | statements | bridging | GAC | edits |" in report
    (tmp_path / "main.ccai").write_text(SPEC.replace("KIND", "gac").replace(
        "{{ statement.scores.gac }}", "x"), encoding="utf-8")
    result = build(str(tmp_path / "main.ccai"), str(tmp_path / "gac"), [])
    assert result.ok, [d.message for d in result.diagnostics]
    gac = json.loads((tmp_path / "gac/report.json").read_text(encoding="utf-8"))
    assert "score" not in gac["constitutions"]["town"]
    assert all("score" not in r for r in gac["constitutions"]["town"]["table"])


def test_a_score_the_assembly_does_not_compute_says_how_to_compute_it(tmp_path: Path) -> None:
    """`statement.scores.bridging` in a GAC build without `scores = ["bridging"]`: the build
    said "`bridging` is a method, not a value: call it, e.g. `bridging()`" (an undefined key
    is callable, and was taken for a method); now CCAI307 names the missing score and the fix,
    and `default` gives a fallback."""
    from cli_runner import run_cli

    _polis_folder(tmp_path / "data")
    spec = SPEC.replace("KIND", "gac")
    (tmp_path / "main.ccai").write_text(
        spec.replace("{{ statement.scores.gac }}", "{{ statement.scores.bridging }}"),
        encoding="utf-8")
    code, _, err = run_cli(["build", str(tmp_path / "main.ccai"), "-o", str(tmp_path / "out"),
                            "--until", "constitution"])
    assert code == 1 and "error[CCAI307]" in err and "is a method" not in err, err
    assert ("`statement.scores.bridging` has no value: the assembly computes gac, "
            "gac_disagree; to compute bridging, add it to its consensus block's `scores` "
            '(`scores = ["bridging"]`)') in err
    (tmp_path / "main.ccai").write_text(spec.replace(
        "{{ statement.scores.gac }}", "{{ statement.scores.bridging | default('none') }}"),
        encoding="utf-8")
    result = build(str(tmp_path / "main.ccai"), str(tmp_path / "ok"), [])
    assert result.ok, [d.message for d in result.diagnostics]
    (p,) = result.constitutions[0].principles
    assert p.text.endswith(", none).")


def test_check_refuses_a_score_no_method_computes(tmp_path: Path) -> None:
    """`statement.scores.bridgin` (a typo): no registered method computes it, so every build
    fails on it; the check said nothing (a missing key is left to the build), now CCAI302 with
    the likely name."""
    from cli_runner import run_cli

    _polis_folder(tmp_path / "data")
    for use, problem in (("statement.scores.bridgin", "did you mean `bridging`?"),
                         ("statement.scores.bridging_factor", None)):
        (tmp_path / "main.ccai").write_text(SPEC.replace("KIND", "gac").replace(
            "{{ statement.scores.gac }}", "{{ " + use + " }}"), encoding="utf-8")
        code, _, err = run_cli(["check", str(tmp_path / "main.ccai")])
        if problem is None:
            assert code == 0, err
        else:
            assert code == 1 and "error[CCAI302]" in err and problem in err, err
            assert "`statement.scores` has no score `bridgin`" in err


def test_a_top_k_selection_names_its_method(tmp_path: Path) -> None:
    """`top 2 (1 factor, passes excluded)` named no method: the diff of a change from top 2 by
    GAC to top 2 by bridging read "top 2 (polis smoothing) -> top 2 (1 factor, ...)"."""
    _polis_folder(tmp_path / "data")
    methods = {}
    for kind in ("gac", "bridging"):
        spec = SPEC.replace("KIND { threshold = 0.5 }", kind + " { top_k = 2 }")
        (tmp_path / "main.ccai").write_text(spec.replace("{{ statement.scores.gac }}", "x"),
                                            encoding="utf-8")
        result = build(str(tmp_path / "main.ccai"), str(tmp_path / kind), [])
        assert result.ok, [d.message for d in result.diagnostics]
        methods[kind] = json.loads((tmp_path / kind / "constitutions/town.json").read_text(
            encoding="utf-8"))["selection"]["method"]
    assert methods == {"gac": "top 2 by gac (polis smoothing)",
                       "bridging": "top 2 by bridging (1 factor, passes excluded)"}
