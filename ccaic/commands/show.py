"""`ccaic show plan.json [--format text|json|markdown]`: a readable view of a training plan."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ccaic.artifacts import checked
from ccaic.canonical import canonical_json
from ccaic.output import Output


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("show", help="show a build artifact (a training plan)",
                       description="Show a training plan (plan.json) as text, JSON or Markdown.")
    p.add_argument("file", help="plan.json, its folder, or a build's output folder (-o) "
                   "holding one plan in plans/<name>/")
    p.add_argument("--format", choices=("text", "json", "markdown"), default="text",
                   help="output format (default text)")
    p.set_defaults(run=run)


def _fmt_training(t: dict[str, Any]) -> str:
    parts = [f"epochs {t['epochs']:g}", f"lr {t['learning_rate']:g}",
             f"batch {t['batch_size']} x accum {t['gradient_accumulation']} = "
             f"{t['total_batch_size']}", f"max_length {t['max_length']}"]
    if t["max_steps"] != -1:
        parts.append(f"max_steps {t['max_steps']}")
    lora = t.get("lora")
    parts.append(f"LoRA r={lora['r']} alpha={lora['alpha']:g}" if lora else "full fine-tune")
    return ", ".join(parts)


def _fmt_sampling(s: dict[str, Any]) -> str:
    return (f"max_new_tokens {s['max_new_tokens']}, temperature {s['temperature']:g}, "
            f"top_p {s['top_p']:g}, batch {s['batch_size']}")


def _registered_details(d: dict[str, Any]) -> dict[str, str]:
    """address -> settings of each step registered with a block of its own (plan.stages holds
    them under the block's name: ccaic.registry.steps)."""
    from ccaic.plan.model import Stages, settings_text
    from ccaic.registry.steps import STEPS, addresses, stage_of

    out: dict[str, str] = {}
    for entry in STEPS:
        stage = stage_of(entry)
        if stage is None or stage in Stages.model_fields or stage not in d["stages"]:
            continue
        settings = d["stages"][stage]
        text = settings_text(settings)
        if "training" in settings:
            text += ("; " if text else "") + _fmt_training(settings["training"])
        out.update(dict.fromkeys(addresses(entry.name), text))
    return out


def _lines(d: dict[str, Any], md: bool) -> list[str]:
    st = d["stages"]
    code = (lambda s: f"`{s}`") if md else (lambda s: s)
    model = d["policy"]["ref"]
    feedback = d["feedback"]["ref"]
    out = [f"# Plan {d['name']}" if md else f"plan {d['name']} ({d['address']})", ""]
    bullet = "- " if md else "  "
    out += [
        f"{bullet}source: {code(d['source'])}",
        f"{bullet}plan_sha256: {code(d['plan_sha256'])}",
        f"{bullet}seed: {d['seed']}",
        f"{bullet}policy model: {code(model)}",
        f"{bullet}feedback model: {code(feedback)}",
        f"{bullet}constitution: {code(d['constitution']['name'])} "
        f"({len(d['constitution']['principles'])} principles, sha256 "
        f"{d['constitution']['sha256'][:12]})",
    ]
    for ps in d["prompts"]:
        out.append(f"{bullet}prompts {ps['name']}: {code(ps['path'])} ({ps['rows']} rows, sha256 "
                   f"{ps['sha256'][:12]})")
    out += ["", "## Steps" if md else "steps:"]
    detail = {
        "step.initial": _fmt_sampling(st["initial"]["sampling"]),
        "step.sl_cai.critique": f"{st['sl_cai']['rounds']} round(s), "
        f"{len(st['sl_cai']['fewshot'])} few-shot exemplar(s) "
        f"({st['sl_cai']['fewshot_source']})",
        "step.sl_cai.revision": _fmt_sampling(st["sl_cai"]["sampling"]) +
        ("" if st["sl_cai"]["drop_truncated"] else "; truncated revisions kept"),
        "step.sft_data": "every round's revision" if st["sl_cai"]["all_rounds"]
        else "final revision per prompt, plus helpful answers",
        "step.sft": _fmt_training(st["sft"]["training"]),
        "step.pairs": f"{st['pairs']['samples']} samples per prompt; "
        + _fmt_sampling(st["pairs"]["sampling"]),
        "step.label": ("chain of thought, clamp ±" + f"{st['label']['clamp']:g}")
        if st["label"]["chain_of_thought"] else "soft labels, both A/B orders averaged",
        "step.dpo": f"method {st['dpo']['method']}, beta {st['dpo']['beta']:g}, "
        + _fmt_training(st["dpo"]["training"]),
        "step.final": "final model + plan.json + constitution.json",
        **_registered_details(d),
    }
    if md:
        out += ["", "| step | on | needs | settings |", "|---|---|---|---|"]
    for s in d["steps"]:
        needs = ", ".join(s["needs"]) or "-"
        on = "on" if s["enabled"] else "off"
        if md:
            out.append(f"| `{s['address']}` | {on} | {needs} | {detail.get(s['address'], '')} |")
        else:
            out.append(f"  {s['address']:<22} {on:<4} needs {needs:<24} "
                       f"{detail.get(s['address'], '') if s['enabled'] else ''}".rstrip())
    out += ["", "## Principles" if md else "principles:"]
    if md:
        out.append("")
    for p in d["constitution"]["principles"]:
        w = f" (weight {p['weight']:g})" if p["weight"] != 1 else ""
        out.append(f"{bullet}{code(p['id'])}{w}: {p['text']}")
    return out


def _plans_in(folder: Path) -> list[Path]:
    """A plan's own folder holds plan.json; a build's output folder, plans/<name>/plan.json."""
    own = folder / "plan.json"
    return [own] if own.is_file() else sorted(folder.glob("plans/*/plan.json"))


def run(args: argparse.Namespace, out: Output) -> int:
    from ccaic.commands.common import is_folder
    from ccaic.plan.model import load_plan

    path = Path(args.file)
    if is_folder(path):
        found = _plans_in(path)
        if len(found) > 1:
            out.info(f"error[CCAI514]: {path} holds {len(found)} training plans: "
                     + ", ".join(str(f) for f in found))
            out.info("  help: pass one of them")
            return 1
        path = found[0] if found else path / "plan.json"
    from ccaic.files import read_data_bytes

    try:
        text = read_data_bytes(path).decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
        out.info(f"error[CCAI514]: cannot read {path}: {reason}")
        out.info("  help: pass a plan.json written by `ccaic build`, or its output folder")
        return 1
    try:
        plan = load_plan(text)
    except (ValueError, json.JSONDecodeError) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        out.info(f"error[CCAI514]: {path} is not a valid training plan: {msg}")
        out.info("  help: rebuild it with `ccaic build`; `ccaic schema plan` prints its schema")
        return 1
    data = plan.model_dump(mode="json")
    if args.format == "json":
        out.write(checked("plan", canonical_json(data)))
    else:
        out.text("\n".join(_lines(data, args.format == "markdown")) + "\n")
    return 0
