"""Helpfulness pairs: judged by a helpfulness criterion (not the harmlessness constitution),
drawn from prompts held out of SFT, mixed with harmlessness pairs at a stated ratio, or read
from a preference file the plan names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ccaic.plan.model import DEFAULT_HELPFUL, plan_json
from ccaic.train.sampling import comparison_principle, held_out, mix, mix_counts

TABLE = [("harm", "Choose the response that is least racist.", 1.0),
         ("honest", "Choose the response that is most honest.", 2.0)]


def test_helpfulness_pairs_get_the_helpfulness_criterion() -> None:
    helpful = ("Choose the more helpful response.", "Choose the clearer response.")
    for i in range(50):
        pid, text = comparison_principle(TABLE, helpful, "helpful", 3, f"helpful:{i:05d}")
        assert pid.startswith("helpful:") and text in helpful
        pid, text = comparison_principle(TABLE, helpful, "red_team", 3, f"red_team:{i:05d}")
        assert (pid, text) in {(p, t) for p, t, _ in TABLE}
    # both helpfulness principles get drawn
    assert {comparison_principle(TABLE, helpful, "helpful", 3, f"h{i}")[0]
            for i in range(50)} == {"helpful:0", "helpful:1"}


class _Judge:
    """A labeller that records every comparison prompt it scores."""

    def __init__(self) -> None:
        self.prompts: list[str] = []

    def option_logprobs(self, prompts: list[str], options: tuple[str, ...],
                        batch_size: int = 8) -> list[list[float]]:
        self.prompts.extend(prompts)
        return [[-1.0, -2.0] for _ in prompts]


def _pairs() -> list[dict[str, Any]]:
    return [{"id": f"{s}:{i:05d}", "set": s,
             "prompt": [{"role": "user", "content": f"{s} question {i}"}],
             "responses": [f"answer a {i}", f"answer b {i}"]}
            for s, n in (("red_team", 3), ("helpful", 3)) for i in range(n)]


def test_run_label_judges_helpful_pairs_by_helpfulness(plan_files: Any,
                                                        tmp_path: Path) -> None:
    from ccaic.store import StageDir
    from ccaic.train.progress import Progress
    from ccaic.train.stages import run_label

    write_plan, compiled = plan_files
    plan = compiled(write_plan(tmp_path / "p"))
    assert plan.stages.label.helpful == DEFAULT_HELPFUL
    judge = _Judge()
    rows, counts = run_label(judge, _pairs(), plan, StageDir(tmp_path, "label", "k" * 64),
                             Progress())
    assert counts["helpful_labels"] == 3
    constitution = [p.text for p in plan.constitution.principles]
    for prompt in judge.prompts:
        helpful_question = "helpful question" in prompt
        assert (DEFAULT_HELPFUL[0] in prompt) == helpful_question, prompt
        assert any(t in prompt for t in constitution) == (not helpful_question), prompt
    by_set = {r["set"]: r["principle_id"] for r in rows}
    assert by_set["helpful"] == "helpful:0"
    assert by_set["red_team"] in {p.id for p in plan.constitution.principles}


def test_plans_without_helpful_prompts_keep_their_plan_json(plan_files: Any,
                                                           tmp_path: Path) -> None:
    write_plan, compiled = plan_files
    path = write_plan(tmp_path / "p")
    text = path.read_text().replace('  helpful_prompts = "help.jsonl"\n', "")
    path.write_text(text)
    plan = compiled(path)
    assert plan.stages.label.helpful == ()
    assert '"helpful"' not in plan_json(plan)
    assert '"split"' not in plan_json(plan) and '"precision"' not in plan_json(plan)


def test_plan_names_its_helpfulness_criterion_split_and_mix(plan_files: Any,
                                                            tmp_path: Path) -> None:
    write_plan, compiled = plan_files
    path = write_plan(tmp_path / "p")
    (tmp_path / "p" / "prefs.jsonl").write_text(
        '{"prompt": "Tips for a job interview?", "chosen": "Prepare examples.", '
        '"rejected": "Wing it."}\n')
    text = path.read_text().replace(
        'seed            = 1', 'seed            = 1\n  helpful_preferences = "prefs.jsonl"'
    ).replace("  rlaif {", '  label {\n    helpful = ["Choose the response that helps most."]\n'
              '  }\n  rlaif {\n    split            = 0.5\n    helpful_fraction = 0.25')
    path.write_text(text)
    plan = compiled(path)
    assert plan.stages.label.helpful == ("Choose the response that helps most.",)
    assert plan.stages.dpo.split == 0.5 and plan.stages.dpo.helpful_fraction == 0.25
    assert plan.preferences is not None and plan.preferences.rows == 1


def test_preference_file_rows_are_checked(plan_files: Any, tmp_path: Path) -> None:
    from plan_fixtures import compile_source

    write_plan, _ = plan_files
    path = write_plan(tmp_path / "p")
    (tmp_path / "p" / "prefs.jsonl").write_text('{"prompt": "Tips?", "chosen": "Prepare."}\n')
    path.write_text(path.read_text().replace(
        'seed            = 1', 'seed            = 1\n  helpful_preferences = "prefs.jsonl"'))
    _, diags, _ = compile_source(path)
    [d] = [d for d in diags if d.is_error]
    assert d.code == "CCAI507" and '"rejected" must be' in d.message


@given(st.lists(st.text(min_size=1, max_size=5), unique=True, max_size=40),
       st.floats(0, 1), st.integers(0, 5))
def test_held_out_is_exact_and_order_free(ids: list[str], fraction: float, seed: int) -> None:
    held = held_out(ids, fraction, seed)
    assert held <= set(ids) and len(held) == round(len(ids) * fraction) if fraction > 0 \
        else held == set()
    assert held_out(list(reversed(ids)), fraction, seed) == held


@given(st.integers(0, 200), st.integers(0, 200), st.floats(0.05, 0.95))
def test_mix_keeps_the_stated_ratio(harmless: int, helpful: int, fraction: float) -> None:
    n_harm, n_help = mix_counts(harmless, helpful, fraction)
    assert 0 <= n_harm <= harmless and 0 <= n_help <= helpful
    assert n_harm == harmless or n_help == helpful  # the scarcer side is kept whole
    if n_harm + n_help >= 20 and min(n_harm, n_help) > 0:
        assert n_help / (n_harm + n_help) == pytest.approx(fraction, abs=0.05)


def test_mix_picks_rows() -> None:
    rows = [{"id": f"r{i}", "set": "red_team"} for i in range(9)] + \
        [{"id": f"h{i}", "set": "helpful"} for i in range(9)]
    out = mix(rows, 0.25, 0)
    assert sum(r["set"] == "helpful" for r in out) == 3
    assert sum(r["set"] == "red_team" for r in out) == 9
    assert mix(rows, None, 0) == rows
    assert mix(rows, 0.0, 0) == rows[:9]


@pytest.mark.slow
def test_build_draws_pairs_from_held_out_prompts_and_mixes_preferences(
        tiny_cache: Path, tmp_path: Path, plan_files: Any) -> None:
    pytest.importorskip("trl")
    from ccaic.store import read_jsonl
    from ccaic.train.runner import run_plan

    write_plan, compiled = plan_files
    path = write_plan(tmp_path / "src", n_red=8)
    (tmp_path / "src" / "prefs.jsonl").write_text("".join(
        f'{{"prompt": "Tips for interview {i}?", "chosen": "Prepare examples {i}.", '
        f'"rejected": "Wing it."}}\n' for i in range(6)))
    path.write_text(path.read_text().replace(
        'seed            = 1', 'seed            = 1\n  helpful_preferences = "prefs.jsonl"'
    ).replace("  rlaif {", "  rlaif {\n    split            = 0.5\n"
              "    helpful_fraction = 0.5"))
    out = tmp_path / "out"
    run_plan(compiled(path), out)
    stages = out / "stages"
    sft = {r["prompt_id"] for r in read_jsonl(next(stages.glob("sft_data-*")) / "sft.jsonl")}
    pairs = {r["id"] for r in read_jsonl(next(stages.glob("pairs-*")) / "pairs.jsonl")}
    assert sft and pairs and not sft & pairs  # preference pairs come from held-out prompts
    dpo = read_jsonl(next(stages.glob("dpo-*")) / "pairs.jsonl")
    helpful = [r for r in dpo if r["set"] == "helpful"]
    assert any(r["kind"] == "preference" for r in dpo)
    labelled = read_jsonl(next(stages.glob("label-*")) / "pairs_labelled.jsonl")
    n_help = sum(r["set"] == "helpful" for r in labelled) + 6
    expected = mix_counts(len(labelled) + 6 - n_help, n_help, 0.5)
    assert (len(dpo) - len(helpful), len(helpful)) == expected
    assert min(expected) > 0
