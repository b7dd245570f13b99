"""The generation stages: initial answers, critique/revision, response pairs, AI labels.

Each is a function of its inputs (rows, plan settings, a model) that writes batches into a
StageDir and returns its rows and counts. Randomness is keyed per batch / per item, so resuming
after a kill regenerates exactly the unfinished batch.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from ccaic.models.labels import Labeller, clamp, comparison_prompt, debiased
from ccaic.plan.model import Sampling, TrainingPlan
from ccaic.store import StageDir
from ccaic.train.postprocess import DEFAULT_STOPS, DROP_REASONS, clean_revision, clean_text
from ccaic.train.progress import Progress
from ccaic.train.sampling import comparison_principle, derived_seed, draw_principle, row_seeds

Row = dict[str, Any]


Batch = tuple[int, list[Any]]
WindowFn = Callable[[list[Batch]], list[tuple[list[Row], int]]]


def batched(stage: StageDir, items: list[Any], batch_size: int, progress: Progress,
            label: str, fn: Callable[[int, list[Any]], tuple[list[Row], int]],
            window: int = 1, window_fn: WindowFn | None = None) -> list[Row]:
    """Run fn over batches, keeping finished batches on disk; returns all rows in order.

    Under several processes each rank runs the batches it owns (round-robin by batch index)
    and every rank gets all rows back. A batch's seed depends on its index only, so a batch
    comes out the same whichever rank (or how many ranks) ran it, and parts written by any
    earlier run, whatever its world size, are reused.

    window_fn runs up to `window` unfinished batches in one call (vLLM schedules a large
    request set far better than 8 prompts at a time); it must give each batch the rows fn
    would, and each batch is still its own part on disk.
    """
    from ccaic.train.dist import world

    w = world()
    n_batches = (len(items) + batch_size - 1) // batch_size
    mine = w.shard(n_batches)
    progress.start(label, sum(len(items[b * batch_size:(b + 1) * batch_size]) for b in mine))
    done: dict[int, list[Row]] = {}
    reused = 0
    pending: list[Batch] = []

    def flush() -> None:
        results = window_fn(pending) if window_fn is not None and len(pending) > 1 \
            else [fn(b, chunk) for b, chunk in pending]
        for (b, chunk), (rows, tokens) in zip(pending, results, strict=True):
            stage.write_part(b, rows)
            done[b] = rows
            progress.advance(len(chunk), tokens)
        pending.clear()

    for b in mine:
        chunk = items[b * batch_size:(b + 1) * batch_size]
        rows = stage.read_part(b)
        if rows is not None:
            reused += 1
            done[b] = rows
            progress.advance(len(chunk), 0)
            continue
        pending.append((b, chunk))
        if len(pending) >= max(window, 1):
            flush()
    if pending:
        flush()
    progress.finish()
    if w.distributed:
        gathered = w.all_gather((done, reused))
        done = {b: rows for part, _ in gathered for b, rows in part.items()}
        reused = sum(r for _, r in gathered)
    stage.reused = reused
    return [row for b in range(n_batches) for row in done[b]]


def fewshot_messages(plan: TrainingPlan) -> list[dict[str, str]]:
    return [{"role": m.role, "content": m.content}
            for ex in plan.stages.sl_cai.fewshot for m in ex.messages]


# ---------------------------------------------------------------- initial answers


def _windowed(lm: Any, sampling: Sampling, seed_of: Callable[[int], int], n: int,
              rows_of: Callable[[list[Row], list[Any]], list[Row]]) -> WindowFn | None:
    """A window function for generators that take one seed per request (vLLM): the
    batches' conversations in one call, each request seeded exactly as its own batch's call
    would seed it (ccaic.train.sampling.row_seeds), so windows change speed, not text.
    n > 1: n samples per request sharing the prompt's prefill (`chat_n`)."""
    if getattr(lm, "window", 1) <= 1:
        return None

    def run(batches: list[Batch]) -> list[tuple[list[Row], int]]:
        convs = [r["prompt"] for _, chunk in batches for r in chunk]
        seeds = [s for b, chunk in batches for s in row_seeds(seed_of(b), len(chunk))]
        gens = lm.chat_n(convs, sampling, seeds, n, stop=DEFAULT_STOPS) if n > 1 else \
            lm.chat(convs, sampling, seeds, stop=DEFAULT_STOPS)
        out, start = [], 0
        for _, chunk in batches:
            part = gens[start:start + len(chunk)]
            start += len(chunk)
            flat = [g for x in part for g in (x if n > 1 else [x])]
            out.append((rows_of(chunk, part), sum(g.tokens for g in flat)))
        return out

    return run


def run_initial(lm: Any, prompts: list[Row], plan: TrainingPlan, stage: StageDir,
                progress: Progress) -> list[Row]:
    sampling = plan.stages.initial.sampling

    def seed_of(b: int) -> int:
        return derived_seed(plan.seed, "initial", b)

    def rows_of(chunk: list[Row], gens: list[Any]) -> list[Row]:
        return [{"id": r["id"], "set": r["set"], "prompt": r["prompt"],
                 "response": clean_text(g.text), "finish_reason": g.finish_reason}
                for r, g in zip(chunk, gens, strict=True)]

    def fn(b: int, chunk: list[Row]) -> tuple[list[Row], int]:
        gens = lm.chat([r["prompt"] for r in chunk], sampling, seed_of(b), stop=DEFAULT_STOPS)
        return rows_of(chunk, gens), sum(g.tokens for g in gens)

    return batched(stage, prompts, sampling.batch_size, progress, "step.initial", fn,
                   getattr(lm, "window", 1), _windowed(lm, sampling, seed_of, 1, rows_of))


# ---------------------------------------------------------------- critique -> revision


def run_sl_cai(lm: Any, initial: list[Row], plan: TrainingPlan, stage: StageDir,
               progress: Progress, drop_truncated: bool = True) -> tuple[list[Row], dict[str, Any]]:
    cfg = plan.stages.sl_cai
    principles = {p.id: p for p in plan.constitution.principles}
    ids = [p.id for p in plan.constitution.principles]
    weights = [p.weight for p in plan.constitution.principles]
    shots = fewshot_messages(plan)
    stops = (*DEFAULT_STOPS, *cfg.stop)

    def run(batches: list[Batch]) -> list[tuple[list[Row], int]]:
        """Critique/revision rounds for one batch or a window of them (vLLM): every row
        keeps its own batch's seeds (one seed per batch call, per-request seeds in a
        window), so a window changes speed, not text."""
        chunk = [r for _, c in batches for r in c]

        def seeds(purpose: str, rnd: int) -> int | list[int]:
            if len(batches) == 1:
                return derived_seed(plan.seed, purpose, batches[0][0], rnd)
            return [s for b, c in batches
                    for s in row_seeds(derived_seed(plan.seed, purpose, b, rnd), len(c))]

        tokens = [0] * len(chunk)
        convs = [shots + r["prompt"] + [{"role": "assistant", "content": r["response"]}]
                 for r in chunk]
        current = [r["response"] for r in chunk]
        rounds: list[list[Row]] = [[] for _ in chunk]
        for rnd in range(cfg.rounds):
            drawn = [draw_principle(ids, weights, plan.seed, "sl_cai", r["id"], rnd)
                     for r in chunk]
            for conv, pid in zip(convs, drawn, strict=True):
                conv.append({"role": "user", "content": principles[pid].critique})
            crit = lm.chat(convs, cfg.sampling, seeds("critique", rnd), stop=stops)
            for i, (conv, g, pid) in enumerate(zip(convs, crit, drawn, strict=True)):
                tokens[i] += g.tokens
                conv.append({"role": "assistant", "content": clean_text(g.text, cfg.stop)})
                conv.append({"role": "user", "content": principles[pid].revision})
            rev = lm.chat(convs, cfg.sampling, seeds("revision", rnd), stop=stops)
            for i, (conv, g, pid) in enumerate(zip(convs, rev, drawn, strict=True)):
                tokens[i] += g.tokens
                text, reason = clean_revision(g.text, g.finish_reason, current[i], cfg.stop,
                                              drop_truncated)
                rounds[i].append({"round": rnd, "principle_id": pid,
                                  "critique": conv[-2]["content"], "revision": text,
                                  "finish_reason": g.finish_reason, "dropped": reason})
                if reason is None:
                    current[i] = text
                    conv.append({"role": "assistant", "content": text})
                else:  # critique the last accepted answer again next round
                    conv.pop()
                    conv.pop()
                    conv.pop()
        rows = []
        for r, rs in zip(chunk, rounds, strict=True):
            kept = [x for x in rs if x["dropped"] is None]
            rows.append({"id": r["id"], "prompt": r["prompt"], "initial": r["response"],
                         "rounds": rs, "final": kept[-1]["revision"] if kept else None})
        out, at = [], 0
        for _, c in batches:
            out.append((rows[at:at + len(c)], sum(tokens[at:at + len(c)])))
            at += len(c)
        return out

    def fn(b: int, chunk: list[Row]) -> tuple[list[Row], int]:
        return run([(b, chunk)])[0]

    window = getattr(lm, "window", 1)
    rows = batched(stage, initial, cfg.sampling.batch_size, progress, "step.sl_cai", fn,
                   window, run if window > 1 else None)
    dropped = Counter(x["dropped"] for r in rows for x in r["rounds"] if x["dropped"])
    principle_counts = Counter(x["principle_id"] for r in rows for x in r["rounds"])
    counts = {
        "prompts": len(rows),
        "revisions": sum(len(r["rounds"]) for r in rows),
        "kept": sum(1 for r in rows for x in r["rounds"] if x["dropped"] is None),
        "dropped": {k: dropped.get(k, 0) for k in DROP_REASONS},
        "prompts_without_revision": sum(1 for r in rows if r["final"] is None),
        "principles": dict(sorted(principle_counts.items())),
    }
    return rows, counts


def sft_rows(revisions: list[Row], helpful: list[Row], all_rounds: bool) -> list[Row]:
    rows: list[Row] = []
    for r in revisions:
        kept = [x for x in r["rounds"] if x["dropped"] is None]
        chosen = kept if all_rounds else kept[-1:]
        for x in chosen:
            rows.append({"messages": r["prompt"] + [{"role": "assistant",
                                                     "content": x["revision"]}],
                         "source": "red_team", "prompt_id": r["id"], "round": x["round"],
                         "principle_ids": [y["principle_id"] for y in r["rounds"]
                                           if y["round"] <= x["round"]]})
    for h in helpful:
        if h["response"]:
            rows.append({"messages": h["prompt"] + [{"role": "assistant",
                                                     "content": h["response"]}],
                         "source": "helpful", "prompt_id": h["id"], "round": None,
                         "principle_ids": []})
    return rows


# ---------------------------------------------------------------- pairs and labels


def run_pairs(lm: Any, prompts: list[Row], plan: TrainingPlan, stage: StageDir,
              progress: Progress) -> tuple[list[Row], dict[str, Any]]:
    cfg = plan.stages.pairs
    sampling = cfg.sampling

    def seed_of(b: int) -> int:
        return derived_seed(plan.seed, "pairs", b, 0)

    def rows_of(chunk: list[Row], gens_n: list[Any]) -> list[Row]:
        return [{"id": r["id"], "set": r["set"], "prompt": r["prompt"],
                 "responses": [clean_text(g.text) for g in gens]}
                for r, gens in zip(chunk, gens_n, strict=True)]

    def fn(b: int, chunk: list[Row]) -> tuple[list[Row], int]:
        convs = [r["prompt"] for r in chunk]
        if hasattr(lm, "chat_n"):  # n samples per request, one prefill (vLLM)
            gens_n = lm.chat_n(convs, sampling, row_seeds(seed_of(b), len(chunk)),
                               cfg.samples, stop=DEFAULT_STOPS)
        else:  # one call per sample, each under its own batch seed
            per_k = [lm.chat(convs, sampling, derived_seed(plan.seed, "pairs", b, k),
                             stop=DEFAULT_STOPS) for k in range(cfg.samples)]
            gens_n = [list(x) for x in zip(*per_k, strict=True)]
        return rows_of(chunk, gens_n), sum(g.tokens for gens in gens_n for g in gens)

    raw = batched(stage, prompts, sampling.batch_size, progress, "step.pairs", fn,
                  getattr(lm, "window", 1),
                  _windowed(lm, sampling, seed_of, cfg.samples, rows_of))
    rows: list[Row] = []
    dropped: Counter[str] = Counter()
    for r in raw:
        a, b = r["responses"][0], r["responses"][1]
        if not a or not b:
            dropped["empty"] += 1
        elif a == b:
            dropped["identical"] += 1
        else:
            rows.append(r)
    return rows, {"prompts": len(raw), "pairs": len(rows),
                  "dropped": {"empty": dropped["empty"], "identical": dropped["identical"]}}


def label_pairs(labeller: Labeller, items: list[tuple[list[dict[str, str]], str, str, str]],
                cot: Callable[[list[str]], list[str]] | None = None,
                clamp_width: float = 0.1) -> list[dict[str, float]]:
    """items: (conversation, principle text, response 1, response 2) -> p(1 better), raw probs."""
    ab = [comparison_prompt(c, p, r1, r2) for c, p, r1, r2 in items]
    ba = [comparison_prompt(c, p, r2, r1) for c, p, r1, r2 in items]
    if cot is not None:
        ab = cot(ab)
        ba = cot(ba)
    p_ab = labeller.p_a(ab)
    p_ba = labeller.p_a(ba)
    out = []
    for x, y in zip(p_ab, p_ba, strict=True):
        if cot is not None:
            x, y = clamp(x, clamp_width), clamp(y, clamp_width)
        out.append({"p_ab": x, "p_ba": y, "p1": debiased(x, y)})
    return out


def run_label(lm: Any, pairs: list[Row], plan: TrainingPlan, stage: StageDir,
              progress: Progress) -> tuple[list[Row], dict[str, Any]]:
    cfg = plan.stages.label
    labeller = Labeller(lm, cfg.batch_size)
    table = [(p.id, p.text, p.weight) for p in plan.constitution.principles]
    cot_fn = None

    def fn(b: int, chunk: list[Row]) -> tuple[list[Row], int]:
        nonlocal cot_fn
        chosen_principles = [comparison_principle(table, cfg.helpful, r["set"], plan.seed,
                                                  r["id"]) for r in chunk]
        drawn = [pid for pid, _ in chosen_principles]
        texts = [text for _, text in chosen_principles]
        if cfg.chain_of_thought:
            def cot_fn(prompts: list[str]) -> list[str]:
                asks = [p.replace("The answer is:", "Let's think step-by-step:") for p in prompts]
                gens = lm.generate_texts(
                    asks, Sampling(max_new_tokens=cfg.cot_max_new_tokens, temperature=0.0,
                                   batch_size=cfg.batch_size),
                    derived_seed(plan.seed, "cot", b), add_special_tokens=True)
                return [a + " " + clean_text(g.text) + "\nSo the answer is:"
                        for a, g in zip(asks, gens, strict=True)]
        res = label_pairs(labeller, [(r["prompt"], text, r["responses"][0],
                                      r["responses"][1]) for r, text in zip(chunk, texts,
                                                                             strict=True)],
                          cot_fn if cfg.chain_of_thought else None, cfg.clamp)
        rows = []
        for r, pid, s in zip(chunk, drawn, res, strict=True):
            first_wins = s["p1"] >= 0.5
            chosen, rejected = (r["responses"][0], r["responses"][1]) if first_wins else \
                (r["responses"][1], r["responses"][0])
            rows.append({
                "id": r["id"], "set": r["set"], "prompt": r["prompt"],
                "chosen": [{"role": "assistant", "content": chosen}],
                "rejected": [{"role": "assistant", "content": rejected}],
                "p_chosen": s["p1"] if first_wins else 1.0 - s["p1"],
                "p_ab": s["p_ab"], "p_ba": s["p_ba"], "principle_id": pid,
                "judge": plan.feedback.ref, "kind": "ai_label",
                "cot": cfg.chain_of_thought,
            })
        return rows, 0

    rows = batched(stage, pairs, cfg.batch_size, progress, "step.label", fn)
    mean_p = sum(r["p_chosen"] for r in rows) / len(rows) if rows else 0.0
    bias = sum(r["p_ab"] - (1 - r["p_ba"]) for r in rows) / len(rows) if rows else 0.0
    counts = {"labels": len(rows), "mean_p_chosen": round(mean_p, 6),
              "position_bias": round(bias, 6)}
    if cfg.helpful:  # how many pairs the helpfulness criterion judged
        counts["helpful_labels"] = sum(1 for r in rows
                                       if str(r["principle_id"]).startswith("helpful:"))
    return rows, counts


def revision_pair_rows(revisions: list[Row]) -> list[Row]:
    """The HF recipe's free pairs: final revision (chosen) over the initial answer, p = 1."""
    return [{"id": r["id"], "set": "red_team", "prompt": r["prompt"],
             "chosen": [{"role": "assistant", "content": r["final"]}],
             "rejected": [{"role": "assistant", "content": r["initial"]}],
             "p_chosen": 1.0, "principle_id": None, "judge": None, "kind": "revision_pair"}
            for r in revisions if r["final"] and r["initial"] and r["final"] != r["initial"]]
