"""The trained model as a deliverable: portable adapter configs and a model card (no torch).

final/ is what a user ships: it loads with `AutoModelForCausalLM.from_pretrained(final)`, holds
nothing specific to the machine that trained it (no absolute paths), and says in its README.md
what it is: base model and revision, constitution, plan, data, evaluation results, licence.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ccaic.atomic import write_text_atomic
from ccaic.canonical import canonical_json
from ccaic.models.ref import ModelRef
from ccaic.plan.model import TrainingPlan, settings_text

ADAPTER_CONFIG = "adapter_config.json"


def portable_adapter_config(adapter_dir: Path, hub_id: str | None,
                            revision: str | None) -> None:
    """Rewrite adapter_config.json's base model: the Hub id (and revision) when the adapters
    were trained on a Hub model, else null. PEFT writes the path the base was loaded from,
    an absolute path of the training machine (a cache or stage folder) that means nothing
    elsewhere."""
    path = adapter_dir / ADAPTER_CONFIG
    if not path.is_file():
        return
    (adapter_dir / "README.md").unlink(missing_ok=True)  # PEFT's stub card, naming that path
    config: dict[str, Any] = json.loads(path.read_text("utf-8"))
    config["base_model_name_or_path"] = hub_id
    config["revision"] = revision if hub_id else None
    write_text_atomic(path, canonical_json(config, ascii=True))


CARD = "README.md"
BUILTIN_LICENSE = "apache-2.0"  # builtin:tiny: random weights built by ccaic (Apache-2.0)


def _front_matter_license(card: Path) -> str | None:
    """The `license:` of a model card's YAML front matter, if it has one."""
    try:
        text = card.read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if not text.startswith("---"):
        return None
    for line in text.split("\n---", 1)[0].splitlines()[1:]:
        key, _, value = line.partition(":")
        if key.strip() == "license" and value.strip():
            return value.strip().strip("'\"")
    return None


def base_license(ref: ModelRef, base_dir: Path) -> str | None:
    """The base model's licence as its own card states it (a local folder's README.md, or
    the cached Hub card); None when it does not say."""
    if ref.kind == "builtin":
        return BUILTIN_LICENSE
    if ref.kind == "local":
        return _front_matter_license(ref.folder(base_dir) / CARD)
    if ref.kind == "hf":
        from ccaic.models.identity import cached_file

        found = cached_file(ref.name, CARD, ref.revision)
        return _front_matter_license(found) if found is not None else None
    return None


def _evaluation_lines(run_dir: Path) -> list[str]:
    """Headline numbers from eval/bbq.json and eval/hhh.json, when the build evaluated."""
    lines: list[str] = []
    bbq, hhh = run_dir / "eval" / "bbq.json", run_dir / "eval" / "hhh.json"
    if bbq.is_file():
        models = json.loads(bbq.read_text("utf-8")).get("models", {})
        lines += ["| BBQ | model | accuracy (ambiguous) | accuracy (disambiguated) | "
                  "bias (ambiguous) | bias (disambiguated) |", "|---|---|---|---|---|---|"]
        for name, body in sorted(models.items()):
            o = body.get("overall", {})
            lines.append(f"| | {name} | " + " | ".join(
                _num(o.get(k)) for k in ("accuracy_ambiguous", "accuracy_disambiguated",
                                         "bias_ambiguous", "bias_disambiguated")) + " |")
        lines.append("")
    if hhh.is_file():
        h = json.loads(hhh.read_text("utf-8"))
        lines.append(f"HHH judge accuracy of the feedback model `{h.get('model')}` "
                     f"(n = {h.get('n')}): {_num(h.get('accuracy_debiased'))} debiased, "
                     f"{_num(h.get('accuracy_given_order'))} in the given order.")
        lines.append("")
    return lines or ["Not evaluated in this build (the plan has no `evaluate` block).", ""]


def _num(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else ("n/a" if value is None
                                                            else str(value))


def model_card(plan: TrainingPlan, run_dir: Path, source: dict[str, Any], license_id: str | None,
               base_commit: str | None) -> str:
    """README.md for final/: Hugging Face card metadata, then what the model is and how it
    was made. Deterministic: no times, no absolute paths."""
    policy = plan.policy
    meta = ["---", "library_name: transformers",
            f"license: {license_id or 'other'}",
            "tags:", "- ccaic", "- constitutional-ai", "- collective-constitutional-ai"]
    if policy.kind == "hf":
        meta.append(f"base_model: {policy.name}")
    meta.append("---")
    c = plan.constitution
    revision = policy.revision or base_commit
    lines = [
        *meta, "", f"# {plan.name}", "",
        f"A causal language model trained by ccaic, the Collective Constitutional AI "
        f"compiler, from plan `{plan.address}` (plan_sha256 `{plan.plan_sha256}`). It loads "
        "with `AutoModelForCausalLM.from_pretrained` on this folder.", "",
        "## Base model", "",
        f"- `{policy.ref}` ({policy.kind})" + (f", revision `{revision}`" if revision else ""),
        f"- this folder holds the weights after step `{source.get('step')}` "
        f"(stage `{source.get('from')}`)" + _lora_note(run_dir / "final", policy),
        "", "## Constitution", "",
        f"`{c.name}`, sha256 `{c.sha256}`; its principles are in "
        "[constitution.json](constitution.json):", "",
        *[f"- `{p.id}` (weight {p.weight:g}): {p.text}" for p in c.principles], "",
        "## Plan", "",
        "The whole plan is [plan.json](plan.json). Training steps:", "",
        *_step_lines(plan), "",
        "## Data provenance", "",
        *[f"- {ps.name} prompts: `{ps.path}`, {ps.rows} rows, sha256 `{ps.sha256}`"
          for ps in plan.prompts],
        f"- preference labels: AI feedback from `{plan.feedback.ref}`"
        if plan.enabled("step.label") else "- no AI preference labels",
        "", "## Evaluation", "", *_evaluation_lines(run_dir),
        "## Licence", "",
        (f"`{license_id}`, as the base model's card states it." if license_id else
         "The base model's card states no licence (`other` above): check the base model's "
         "terms before you distribute this model."),
        "The prompts and the constitution are the plan author's; check their terms too.", "",
    ]
    return "\n".join(lines)


def _lora_note(final: Path, policy: ModelRef) -> str:
    if (final / "adapter").is_dir():
        return "; LoRA adapters merged in, the adapters themselves in `adapter/`"
    if (final / ADAPTER_CONFIG).is_file():
        return (f"; the LoRA adapters alone (not merged): loading this folder loads the base "
                f"`{policy.name}` from the Hub and applies them")
    return ""


def _step_lines(plan: TrainingPlan) -> list[str]:
    st = plan.stages
    out = [f"- `{s.address}`: " + ("on" if s.enabled else "off") for s in plan.steps]
    if st.sft.enabled:
        t = st.sft.training
        out.append(f"- SFT: learning rate {t.learning_rate:g}, total batch {t.total_batch_size}"
                   + (f", LoRA r={t.lora.r}" if t.lora else ""))
    if st.dpo.enabled:
        t = st.dpo.training
        out.append(f"- DPO ({st.dpo.method}): beta {st.dpo.beta:g}, learning rate "
                   f"{t.learning_rate:g}, total batch {t.total_batch_size}"
                   + (f", LoRA r={t.lora.r}" if t.lora else ""))
    for name, settings in (st.model_extra or {}).items():  # steps registered with a block
        if settings.get("enabled", True):
            out.append(f"- {name}: {settings_text(settings)}")
    return out


def write_model_card(plan: TrainingPlan, run_dir: Path, base_dir: Path) -> None:
    """(Re)write final/README.md: after training, and again once the build has evaluated."""
    from ccaic.models.identity import cached_commit

    final = run_dir / "final"
    source_path = final / "source.json"
    if not source_path.is_file():
        return
    source = json.loads(source_path.read_text("utf-8"))
    commit = cached_commit(plan.policy.name, None) if plan.policy.kind == "hf" \
        and not plan.policy.revision else None
    text = model_card(plan, run_dir, source, base_license(plan.policy, base_dir), commit)
    card = final / CARD
    if not card.is_file() or card.read_text("utf-8") != text:
        write_text_atomic(card, text)
