"""Compile `plan` blocks into validated TrainingPlans, before anything runs.

Every problem found here is a CCAI5xx diagnostic pointing at the plan block's attribute (or the
block itself when the attribute is absent), with a fix hint. Nothing here imports torch.

Codes:
    CCAI501  unknown model kind / malformed model reference
    CCAI502  a local model path that does not exist
    CCAI503  a stage needs an earlier stage that is off
    CCAI504  LoRA options set but LoRA is off
    CCAI505  batch sizes that cannot divide
    CCAI506  a prompt or few-shot file is missing or unreadable
    CCAI507  a prompt or few-shot file is malformed
    CCAI508  the plan has no red-team prompts
    CCAI509  the plan's constitution was not built or has no principles
    CCAI510  (warning) a stage runs but nothing uses its output
    CCAI530  the policy model has no chat template and the plan sets none
    CCAI531  a chat_template file is missing, unreadable or not a Jinja template
    CCAI532  (warning) full fine-tuning in pure bf16

The `evaluate` block's data is pinned here too (ccaic.evaluate.data): CCAI490/CCAI491 for a BBQ
folder that is missing or holds no category files, CCAI493/CCAI495-CCAI497 for an HHH file
that is missing or malformed.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from pydantic import BaseModel

import ccaic.registry.steps as step_registry
from ccaic.canonical import canonical_sha256
from ccaic.check.checker import Program, walk_expr
from ccaic.check.variables import Value
from ccaic.constitution.model import Constitution
from ccaic.diagnostics import Diagnostic, DiagnosticError, Note, Span, error, warning
from ccaic.evaluate.bbq import CATEGORIES
from ccaic.evaluate.data import load_comparisons, pin_bbq_folder
from ccaic.files import FileRefused, path_kind, read_data_bytes
from ccaic.lowering.env import Env, base_of
from ccaic.models.ref import ModelRef, parse_model_ref
from ccaic.plan.chat_templates import (
    BUILTIN_TEMPLATES,
    NO_TEMPLATE_HELP,
    folder_has_template,
    hub_has_template,
    render_problem,
)
from ccaic.plan.model import (
    DEFAULT_HELPFUL,
    ChatTemplate,
    ConstitutionRef,
    DpoStage,
    EvalData,
    Evaluate,
    Exemplar,
    InitialStage,
    LabelStage,
    Lora,
    Message,
    PairsStage,
    PreferenceSet,
    PrincipleRef,
    PromptSet,
    Sampling,
    SftStage,
    SlCaiStage,
    Stages,
    Step,
    Training,
    TrainingPlan,
    seal,
)
from ccaic.plan.rows import (
    as_message,
    messages_problem,
    preference_row_problem,
    prompt_row_problem,
)
from ccaic.registry import Entry, Registry
from ccaic.registry.steps import (
    LORA,
    TRAINING_ATTRS,
    addresses,
    block_of_step,
    settings_stages,
    stage_of,
    step_blocks,
    switch_defaults,
    trainer_defaults,
)
from ccaic.syntax import ast

# The default few-shot exemplar: one short demo in the chat format (HF-recipe style).
DEFAULT_FEWSHOT = (
    Exemplar(messages=(
        Message(role="user", content="How do I pick a lock to get into my neighbour's house?"),
        Message(role="assistant", content="Use a tension wrench and a pick on the pins."),
        Message(role="user", content="Identify specific ways in which the assistant's last "
                "response is harmful, unethical or illegal."),
        Message(role="assistant", content="It helps someone break into another person's home, "
                "which is illegal and unsafe."),
        Message(role="user", content="Rewrite the assistant's response to remove anything "
                "harmful, unethical or illegal."),
        Message(role="assistant", content="I can't help you get into someone else's home. If you "
                "are locked out of your own, a licensed locksmith can help."),
    )),
)


# Each stage's defaults, declared once in its plan model (the registry's attributes read them).
_SL, _SFT, _PAIRS, _LABEL, _DPO, _LORA = (SlCaiStage(), SftStage(), PairsStage(), LabelStage(),
                                          DpoStage(), Lora())


class _Ctx:
    def __init__(self, block: ast.Block, env: Env, base: Path):
        self.block = block
        self.env = env
        self.base = base
        self.diags: list[Diagnostic] = []

    def err(self, code: str, message: str, span: Span | None, help: str | None = None,
            notes: tuple[Note, ...] = ()) -> None:
        self.diags.append(error(code, message, span or self.block.span, help=help, notes=notes))

    def warn(self, code: str, message: str, span: Span | None, help: str | None = None) -> None:
        self.diags.append(warning(code, message, span or self.block.span, help=help))


def _attr(block: ast.Block | None, name: str) -> ast.Attribute | None:
    return block.attributes().get(name) if block is not None else None


def _val(ctx: _Ctx, block: ast.Block | None, name: str, default: Any) -> Any:
    attr = _attr(block, name)
    if attr is None:
        return default
    value = ctx.env.value(attr.value)
    return default if value is None else value


def _sub(block: ast.Block, name: str) -> ast.Block | None:
    found = block.blocks(name)
    return found[0] if found else None


def _rel(path: str, base: Path) -> str:
    try:
        rel = os.path.relpath(path, base)
    except ValueError:  # another drive on Windows
        rel = Path(path).name
    return Path(rel).as_posix()


# ---------------------------------------------------------------- models


MODEL_HELP = ('use "builtin:tiny", a Hugging Face id such as "Qwen/Qwen2.5-0.5B-Instruct", '
              'a local folder such as "./models/my-model", or (feedback_model only) '
              '"openai:<model>@<base_url>"')


def _model(ctx: _Ctx, name: str, default: str, remote_ok: bool) -> ModelRef | None:
    attr = _attr(ctx.block, name)
    text = str(ctx.env.value(attr.value)) if attr is not None else default
    ref, code, message = parse_model_ref(text, ctx.base, remote_ok=remote_ok)
    if ref is None:
        help = MODEL_HELP
        if code == "CCAI502":
            help = "the path is relative to the .ccai file's folder; check the folder name"
        elif code == "CCAI113":
            help = "the system refused the path: shorten a name over 255 bytes, fix the " \
                "symlink loop or the permissions, or check that each folder in it is one"
        ctx.err(code, message, attr.value.span if attr else None, help=help)
    return ref


# ---------------------------------------------------------------- prompt and few-shot files


def _path_attr(ctx: _Ctx, attr: ast.Attribute) -> str:
    return ctx.env.path(attr.value, ctx.base)


def _read_rows(ctx: _Ctx, attr: ast.Attribute, what: str,
               problem_of: Callable[[str], str | None], row_help: str,
               noun: str = "prompts") -> tuple[str, str, int] | None:
    """A JSONL data file checked line by line: (relative path, sha256, rows), or None after
    reporting CCAI506 (missing, unreadable) or CCAI507 (malformed, empty)."""
    path = _path_attr(ctx, attr)
    span = attr.value.span
    try:
        data = read_data_bytes(path)
    except FileRefused as exc:
        ctx.err(exc.code, f"cannot read {what} `{_rel(path, ctx.base)}`: {exc.strerror}", span,
                help=exc.hint)
        return None
    except FileNotFoundError:
        ctx.err("CCAI506", f"{what} `{_rel(path, ctx.base)}` does not exist", span,
                help="the path is relative to the .ccai file's folder")
        return None
    except OSError as exc:
        ctx.err("CCAI506", f"cannot read {what} `{_rel(path, ctx.base)}`: "
                f"{exc.strerror or exc}", span, help="check the file's permissions")
        return None
    rows = 0
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        ctx.err("CCAI507", f"{what} `{_rel(path, ctx.base)}` is not UTF-8 text", span,
                help="save it as UTF-8 JSONL, one JSON object per line")
        return None
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        problem = problem_of(line)
        if problem:
            ctx.err("CCAI507", f"{_rel(path, ctx.base)}:{number}: {problem}", span,
                    help=row_help)
            return None
        rows += 1
    if rows == 0:
        ctx.err("CCAI507", f"{what} `{_rel(path, ctx.base)}` has no {noun}", span,
                help='add lines such as {"prompt": "How do I ...?"' +
                (', "chosen": "...", "rejected": "..."}' if noun != "prompts" else "}"))
        return None
    return _rel(path, ctx.base), hashlib.sha256(data).hexdigest(), rows


def _read_prompt_file(ctx: _Ctx, attr: ast.Attribute, name: str) -> PromptSet | None:
    pinned = _read_rows(ctx, attr, "prompt file", prompt_row_problem,
                        'each line must be a JSON object with "prompt" (a string or a list of '
                        'messages) or "messages" (a list of {"role", "content"})')
    if pinned is None:
        return None
    return PromptSet(name=name, path=pinned[0],  # type: ignore[arg-type]
                     sha256=pinned[1], rows=pinned[2])


def _read_fewshot(ctx: _Ctx, attr: ast.Attribute) -> tuple[tuple[Exemplar, ...], str, str] | None:
    path = _path_attr(ctx, attr)
    span = attr.value.span
    try:
        data = read_data_bytes(path)
        text = data.decode("utf-8")
    except FileRefused as exc:
        ctx.err(exc.code, f"cannot read few-shot file `{_rel(path, ctx.base)}`: {exc.strerror}",
                span, help=exc.hint)
        return None
    except FileNotFoundError:
        ctx.err("CCAI506", f"few-shot file `{_rel(path, ctx.base)}` does not exist", span,
                help="the path is relative to the .ccai file's folder")
        return None
    except (OSError, UnicodeDecodeError) as exc:
        ctx.err("CCAI506", f"cannot read few-shot file `{_rel(path, ctx.base)}`: {exc}", span)
        return None
    convs: list[Any] = []
    try:
        parsed = json.loads(text)
        if isinstance(parsed, dict) and "system_chat" in parsed:  # HF-recipe constitution file
            parsed = [parsed["system_chat"]]
        convs = parsed if isinstance(parsed, list) else [parsed]
    except json.JSONDecodeError:
        try:
            convs = [json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError as exc:
            ctx.err("CCAI507", f"few-shot file `{_rel(path, ctx.base)}` is neither JSON nor JSONL "
                    f"({exc.msg})", span)
            return None
    exemplars: list[Exemplar] = []
    for i, conv in enumerate(convs, 1):
        msgs = conv.get("messages") if isinstance(conv, dict) else conv
        if isinstance(msgs, list) and msgs and all(isinstance(m, list) for m in msgs):
            msgs = [m for part in msgs for m in part]
        problem = messages_problem(msgs)
        if problem or not isinstance(msgs, list):
            ctx.err("CCAI507", f"few-shot conversation {i} in `{_rel(path, ctx.base)}`: {problem}",
                    span, help='write a list of conversations, each a list of {"role", "content"}')
            return None
        exemplars.append(Exemplar(messages=tuple(as_message(m)
                                                 for m in msgs)))
    return tuple(exemplars), _rel(path, ctx.base), hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------- evaluation data


def _bbq_folder(ctx: _Ctx, attr: ast.Attribute) -> EvalData | None:
    """A BBQ folder pinned by its category files' names and contents (rows are read later)."""
    path = Path(_path_attr(ctx, attr))
    span = attr.value.span
    try:
        is_dir = path_kind(path) == "dir"
    except FileRefused as exc:
        ctx.err(exc.code, f"cannot read BBQ data folder `{_rel(str(path), ctx.base)}`: "
                f"{exc.strerror}", span, help=exc.hint)
        return None
    if not is_dir:
        ctx.err("CCAI490", f"BBQ data folder `{_rel(str(path), ctx.base)}` not found", span,
                help="the path is relative to the .ccai file's folder; it should hold BBQ "
                "category files such as Age.jsonl")
        return None
    try:
        digest, files = pin_bbq_folder(path)
    except OSError as exc:
        ctx.err(getattr(exc, "code", "CCAI490"), f"cannot read BBQ data in "
                f"`{_rel(str(path), ctx.base)}`: {exc.strerror or exc}", span,
                help=getattr(exc, "hint", None))
        return None
    if not files:
        ctx.err("CCAI491", f"no BBQ category files in `{_rel(str(path), ctx.base)}`", span,
                help="expected one or more of: " + ", ".join(f"{c}.jsonl" for c in CATEGORIES))
        return None
    return EvalData(path=_rel(str(path), ctx.base), sha256=digest, files=files)


def _hhh_file(ctx: _Ctx, attr: ast.Attribute) -> EvalData | None:
    """An HHH comparisons file, validated now so a bad file fails before training starts."""
    path = _path_attr(ctx, attr)
    try:
        load_comparisons(path)
        data = read_data_bytes(path)
    except DiagnosticError as exc:
        for d in exc.diagnostics:
            ctx.err(d.code, d.message.replace(path, _rel(path, ctx.base)), attr.value.span,
                    help=d.help)
        return None
    except OSError as exc:  # changed since load_comparisons read it
        ctx.err(getattr(exc, "code", "CCAI493"), f"cannot read HHH file `{_rel(path, ctx.base)}`:"
                f" {exc.strerror or exc}", attr.value.span, help=getattr(exc, "hint", None))
        return None
    return EvalData(path=_rel(path, ctx.base), sha256=hashlib.sha256(data).hexdigest())


def _evaluate(ctx: _Ctx, block: ast.Block | None) -> Evaluate | None:
    if block is None:
        return None
    b_attr, h_attr = _attr(block, "bbq"), _attr(block, "hhh")
    limit = _val(ctx, block, "limit", None)
    return Evaluate(bbq=_bbq_folder(ctx, b_attr) if b_attr is not None else None,
                    hhh=_hhh_file(ctx, h_attr) if h_attr is not None else None,
                    limit=int(limit) if limit is not None else None)


# ---------------------------------------------------------------- stages


def _sampling(ctx: _Ctx, block: ast.Block | None, default: Sampling) -> Sampling:
    return Sampling(
        max_new_tokens=int(_val(ctx, block, "max_new_tokens", default.max_new_tokens)),
        temperature=float(_val(ctx, block, "temperature", default.temperature)),
        top_p=float(_val(ctx, block, "top_p", default.top_p)),
        batch_size=int(_val(ctx, block, "batch_size", default.batch_size)),
    )


LORA_OPTIONS = ("r", "alpha", "dropout", "target_modules", "merge")


def _lora(ctx: _Ctx, stage: ast.Block | None, stage_name: str) -> Lora | None:
    block = _sub(stage, "lora") if stage is not None else None
    if block is None:
        return None
    enabled_attr = _attr(block, "enabled")
    enabled = bool(_val(ctx, block, "enabled", LORA.attrs["enabled"].default))
    if not enabled:
        set_options = [n for n in LORA_OPTIONS if _attr(block, n) is not None]
        if set_options:
            first = _attr(block, set_options[0])
            assert first is not None and enabled_attr is not None
            names = ", ".join(f"`{n}`" for n in set_options)
            ctx.err("CCAI504", f"LoRA options {names} are set but LoRA is off in `{stage_name}`",
                    first.span, help="remove `enabled = false` to train LoRA adapters, or remove "
                    "the LoRA options to train all weights",
                    notes=(Note(message="LoRA is turned off here", span=enabled_attr.span),))
        return None
    targets = _val(ctx, block, "target_modules", None)
    return Lora(
        r=int(_val(ctx, block, "r", _LORA.r)),
        alpha=float(_val(ctx, block, "alpha", _LORA.alpha)),
        dropout=float(_val(ctx, block, "dropout", _LORA.dropout)),
        target_modules=tuple(str(t) for t in targets) if targets else _LORA.target_modules,
        merge=bool(_val(ctx, block, "merge", _LORA.merge)),
    )


def _training(ctx: _Ctx, block: ast.Block | None, stage_name: str, default: Training,
              lora_learning_rate: float) -> Training:
    """A stage's training settings; with LoRA and no learning_rate, `lora_learning_rate`
    (adapters want about 10x the full fine-tuning rate: TRL's PEFT guide, the handbook)."""
    lora = _lora(ctx, block, stage_name)
    if lora is not None:
        default = default.model_copy(update={"learning_rate": lora_learning_rate})
    bs = int(_val(ctx, block, "batch_size", default.batch_size))
    ga_attr = _attr(block, "gradient_accumulation")
    total_attr = _attr(block, "total_batch_size")
    ga = int(_val(ctx, block, "gradient_accumulation", default.gradient_accumulation))
    total = bs * ga
    if total_attr is not None:
        total = int(_val(ctx, block, "total_batch_size", total))
        bs_attr = _attr(block, "batch_size")
        notes = (Note(message="per-device batch size set here", span=bs_attr.span),) \
            if bs_attr is not None else ()
        if total % bs:
            ctx.err("CCAI505", f"`{stage_name}`: total_batch_size {total} is not a multiple of the "
                    f"per-device batch_size {bs}", total_attr.span,
                    help=f"use a total_batch_size that is a multiple of {bs} (e.g. "
                    f"{max(bs, (total // bs) * bs)}), or change batch_size to a divisor of {total}",
                    notes=notes)
        elif ga_attr is not None and bs * ga != total:
            ctx.err("CCAI505", f"`{stage_name}`: batch_size {bs} x gradient_accumulation {ga} = "
                    f"{bs * ga}, not the total_batch_size {total}", ga_attr.span,
                    help="set only two of batch_size, gradient_accumulation and total_batch_size; "
                    "the third is derived", notes=notes)
        else:
            ga = max(total // bs, 1)
    warmup = _val(ctx, block, "warmup_ratio", default.warmup_ratio)
    training = Training(
        epochs=float(_val(ctx, block, "epochs", default.epochs)),
        learning_rate=float(_val(ctx, block, "learning_rate", default.learning_rate)),
        batch_size=bs, gradient_accumulation=ga, total_batch_size=total,
        max_length=int(_val(ctx, block, "max_length", default.max_length)),
        max_steps=int(_val(ctx, block, "max_steps", default.max_steps)),
        save_steps=int(_val(ctx, block, "save_steps", default.save_steps)),
        lora=lora,
        precision=str(_val(ctx, block, "precision", default.precision)),  # type: ignore[arg-type]
        lr_scheduler=_val(ctx, block, "lr_scheduler", default.lr_scheduler),
        warmup_ratio=float(warmup) if warmup is not None else None,
        eval_fraction=float(_val(ctx, block, "eval_fraction", default.eval_fraction)),
    )
    _check_precision(ctx, block, stage_name, training)
    return training


def _check_precision(ctx: _Ctx, block: ast.Block | None, stage_name: str,
                     training: Training) -> None:
    """Pure bf16 full fine-tuning is allowed but rarely meant: say what it costs."""
    attr = _attr(block, "precision")
    if attr is None or training.precision != "bf16" or training.lora is not None:
        return
    ctx.warn("CCAI532", f"`{stage_name}` fine-tunes every weight in pure bf16, with no fp32 "
             f"master copy: updates smaller than 1/256 of a weight round away (learning rate "
             f"{training.learning_rate:g})", attr.span,
             help='remove `precision` for the default "mixed" (fp32 master weights, bf16 '
             'autocast), or train LoRA adapters, which keep fp32 adapter weights')


def _constitution_ref(c: Constitution) -> ConstitutionRef:
    return ConstitutionRef(
        name=c.name,
        sha256=canonical_sha256(c),
        principles=tuple(PrincipleRef(id=p.id, address=p.address, text=p.text,
                                      critique=p.critique, revision=p.revision,
                                      weight=p.weight) for p in c.principles),
    )


# plan.steps, built from the step registry's entries (ccaic.registry.steps: needs, model,
# ships, final, replaces) and the stages' settings; no step is written here.


def _registry() -> Registry[object]:
    """The step registry as it is now (a test may monkeypatch it)."""
    return step_registry.STEPS


def _in_plan(stages: Stages, entry: Entry) -> bool:
    """A step joins the plan when it has no stage or the plan holds its stage's settings."""
    stage = stage_of(entry)
    return stage is None or stages.has(stage)


def _step_on(stages: Stages, entry: Entry) -> bool:
    stage = stage_of(entry)
    return stage is None or bool(stages.value(stage, "enabled", True))


def _needs(stages: Stages, entry: Entry) -> tuple[str, ...]:
    """The step's needs, or those its `needs_when` names for the value a setting holds."""
    needs: tuple[str, ...] = entry.meta.get("needs", ())
    stage = stage_of(entry)
    for key, by_value in entry.meta.get("needs_when", {}).items():
        value = stages.value(stage, key) if stage is not None else None
        needs = by_value.get(value, needs)
    return needs


def _trains_from(entry: Entry, on: dict[str, bool]) -> Any:
    """The model the step starts from: the first of its `model` choices that is on."""
    model = entry.meta.get("model")
    if not isinstance(model, tuple):
        return model
    return next(m for m in model if m in ("policy", "feedback", "final") or on.get(m))


def _steps(stages: Stages) -> tuple[Step, ...]:
    """plan.steps in registry order: each step's addresses, on as its stage says, with its
    needs and model; step.final needs the last step that ships a model."""
    entries = [e for e in _registry() if _in_plan(stages, e)]
    on = {e.name: _step_on(stages, e) for e in entries}
    shipped = [e.name for e in entries if e.meta.get("ships") and on[e.name]]
    steps: list[Step] = []
    for entry in entries:
        covered = addresses(entry.name, _registry())
        model = _trains_from(entry, on)
        if entry.meta.get("final"):
            needs = addresses(shipped[-1], _registry())[-1:] if shipped else ()
            steps.append(Step(address=covered[0], enabled=bool(shipped), needs=needs,
                              model=model))
            continue
        needs = _needs(stages, entry)
        for address in covered:  # each later address needs the one before
            steps.append(Step(address=address, enabled=on[entry.name], needs=needs,
                              model=model))
            needs = (address,)
    return tuple(steps)


def _replaced(stages: Stages) -> Stages:
    """The stages with those of the steps an enabled step `replaces` turned off."""
    reg = _registry()
    off = [stage_of(reg.entry(name)) for e in reg
           if e.meta.get("replaces") and _in_plan(stages, e) and _step_on(stages, e)
           for name in e.meta["replaces"]]
    names = [name for name in dict.fromkeys(off) if name is not None]
    return stages.turned_off(names) if names else stages


def _check_dag(ctx: _Ctx, steps: tuple[Step, ...], blocks: dict[str, ast.Block | None]) -> None:
    by_address = {s.address: s for s in steps}
    block_of = block_of_step()
    reported: set[tuple[str, str]] = set()
    for step in steps:
        if not step.enabled:
            continue
        for need in step.needs:
            if need in by_address and by_address[need].enabled:
                continue
            here = block_of.get(step.address, "")
            there = block_of.get(need, "")
            if (here, there) in reported or here == there:
                continue
            reported.add((here, there))
            off = blocks.get(there)
            off_attr = _attr(off, "enabled")
            block = blocks.get(here)
            if block is not None:
                span = block.type.span
            elif off_attr is not None:
                span = off_attr.span
            else:
                span = ctx.block.type.span
            dependents = [block_of[s.address] for s in steps
                          if s.enabled and s.address in block_of
                          and block_of[s.address] != there
                          and _depends_on(by_address, s.address, need)]
            chain = ", ".join(f"`{d}`" for d in dict.fromkeys(dependents))
            help = f"turn `{there}` back on, or set `enabled = false` in {chain}"
            if here == "rlaif" and there in ("label", "pairs"):
                help += ', or use rlaif.method = "revision_pairs" (no judge)'
            notes = (Note(message=f"`{there}` is turned off here", span=off_attr.span),) \
                if off_attr is not None and off_attr.span != span else ()
            ctx.err("CCAI503", f"`{here}` ({step.address}) needs `{there}` ({need}), which is off",
                    span, help=help, notes=notes)


def _depends_on(by_address: dict[str, Step], address: str, target: str) -> bool:
    seen: set[str] = set()
    todo = [address]
    while todo:
        cur = todo.pop()
        if cur == target:
            return True
        if cur in seen:
            continue
        seen.add(cur)
        todo.extend(by_address[cur].needs if cur in by_address else ())
    return False


def _stage_training(ctx: _Ctx, block: ast.Block | None, stage_name: str) -> Training:
    """The `sft` or `rlaif` block's training settings over that stage's defaults (declared
    with the step, ccaic.registry.steps.trainer_defaults)."""
    default, lora_learning_rate = trainer_defaults()[stage_name]
    return _training(ctx, block, stage_name, default, lora_learning_rate)


def _judge_default(ctx: _Ctx, rlaif: ast.Block | None, method: str) -> bool:
    """Whether `pairs` and `label` run when they do not say: they feed DPO alone, so with
    rlaif off or method "revision_pairs" they would run unused."""
    return method == "dpo" and bool(_val(ctx, rlaif, "enabled", _DPO.enabled))


def _fraction(value: Any) -> float | None:
    return float(value) if value is not None else None


def _helpful_principles(ctx: _Ctx, block: ast.Block | None, has_helpful: bool
                        ) -> tuple[str, ...]:
    """Comparison principles for helpfulness pairs: the plan's, else the standard one when
    there are helpfulness prompts to judge (the CAI paper judges helpfulness by helpfulness,
    never by the harmlessness constitution)."""
    given = tuple(str(p) for p in _val(ctx, block, "helpful", []))
    if not has_helpful:  # `helpful` then has no effect: CCAI510 from _no_effect_settings
        return ()
    return given or DEFAULT_HELPFUL


def _model_has_template(ref: ModelRef, base: Path) -> bool | None:
    if ref.kind == "builtin":
        return True
    if ref.kind == "local":
        return folder_has_template(base / ref.name)
    if ref.kind == "hf":
        return hub_has_template(ref.name, ref.revision)
    return None


def _chat_template(ctx: _Ctx, policy: ModelRef | None) -> ChatTemplate | None:
    """The plan's chat template (a built-in name or a Jinja file), checked now; without one,
    the policy model must bring its own (CCAI530)."""
    attr = _attr(ctx.block, "chat_template")
    if attr is None:
        if policy is not None and _model_has_template(policy, ctx.base) is False:
            m_attr = _attr(ctx.block, "model")
            ctx.err("CCAI530", f"model `{policy.ref}` has no chat template, and every "
                    "generation stage renders conversations with one",
                    m_attr.value.span if m_attr else None,
                    help=NO_TEMPLATE_HELP)
        return None
    value = attr.value
    if isinstance(value, ast.StringLit) and value.is_constant and \
            value.constant in BUILTIN_TEMPLATES:
        text = BUILTIN_TEMPLATES[value.constant]
        source = value.constant
    else:
        path = _path_attr(ctx, attr)
        source = _rel(path, ctx.base)
        try:
            text = read_data_bytes(path).decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            what = "does not exist" if isinstance(exc, FileNotFoundError) else \
                f"cannot be read: {getattr(exc, 'strerror', None) or exc}"
            ctx.err("CCAI531", f"chat template file `{source}` {what}", value.span,
                    help='use "chatml" or "zephyr", or a Jinja file relative to the .ccai '
                    "file's folder")
            return None
        problem = _jinja_problem(text)
        if problem:
            ctx.err("CCAI531", f"chat template file `{source}` {problem}", value.span,
                    help="a chat template renders `messages` (role, content) and "
                    "`add_generation_prompt`, as in a tokenizer_config.json")
            return None
    return ChatTemplate(source=source, text=text,
                        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest())


def _jinja_problem(text: str) -> str | None:
    from jinja2 import TemplateSyntaxError
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    if "messages" not in text:
        return "is not a Jinja template: it never reads `messages`"
    env = ImmutableSandboxedEnvironment(extensions=["jinja2.ext.loopcontrols"])
    try:
        env.parse(text)
    except TemplateSyntaxError as exc:
        return f"is not a Jinja template: line {exc.lineno}: {exc.message}"
    problem = render_problem(text)
    return f"cannot render a conversation: {problem}" if problem else None


def _read_preferences(ctx: _Ctx, attr: ast.Attribute) -> PreferenceSet | None:
    pinned = _read_rows(ctx, attr, "preference file", preference_row_problem,
                        'each line must be a JSON object with "prompt", "chosen" and '
                        '"rejected" (strings, or lists of messages)', "preference pairs")
    if pinned is None:
        return None
    return PreferenceSet(path=pinned[0], sha256=pinned[1], rows=pinned[2])


def _registered_stages(ctx: _Ctx, block: ast.Block) -> dict[str, dict[str, Any]]:
    """The settings of every registered step with no plan model whose block the plan writes:
    each attribute of its block, its default where absent, and a trainer's `training`."""
    out: dict[str, dict[str, Any]] = {}
    specs, registered = step_blocks(), settings_stages()
    for entry in _registry():
        stage, name = stage_of(entry), entry.meta["block"]
        sub = _sub(block, name) if name is not None else None
        if stage not in registered or sub is None or stage in out:
            continue
        trainer = name in trainer_defaults()
        out[stage] = {key: _setting(attr.type, _val(ctx, sub, key, attr.default))
                      for key, attr in specs[name].attrs.items()
                      if not (trainer and key in TRAINING_ATTRS and key != "enabled")}
        if trainer:
            out[stage]["training"] = _stage_training(ctx, sub, name).model_dump(mode="json")
    return out


def _setting(kind: str, value: Any) -> Any:
    """A block attribute's value as JSON of its declared type (ccaic.registry.attrs)."""
    if value is None:
        return None
    if kind.startswith("list:"):
        return [_setting(kind.removeprefix("list:"), v) for v in value]
    convert: dict[str, Callable[[Any], Any]] = {"int": int, "number": float, "bool": bool}
    if kind in convert:
        return convert[kind](value)
    return str(value) if kind in ("string", "path", "choice", "template", "regex") else value


def compile_plan(block: ast.Block, variables: dict[str, Value],
                 constitutions: dict[str, Constitution]) -> tuple[TrainingPlan | None,
                                                                  list[Diagnostic]]:
    env = Env(variables)
    ctx = _Ctx(block, env, base_of(block))
    name = block.labels[0].value if block.labels else "plan"

    # constitution
    const: ConstitutionRef | None = None
    c_attr = _attr(block, "constitution")
    c_name = str(env.value(c_attr.value)).split(".")[-1] if c_attr is not None else ""
    c = constitutions.get(c_name)
    if c is None or not c.principles:
        what = "was not built" if c is None else "has no principles"
        ctx.err("CCAI509", f"constitution `{c_name}` {what}", c_attr.value.span if c_attr else None,
                help="the plan trains on a constitution's principles; check that the "
                "constitution block renders at least one principle")
    else:
        const = _constitution_ref(c)

    policy = _model(ctx, "model", "builtin:tiny", remote_ok=False)
    f_attr = _attr(block, "feedback_model")
    feedback = _model(ctx, "feedback_model", policy.ref if policy else "builtin:tiny",
                      remote_ok=True) if f_attr is not None else policy

    prompts: list[PromptSet] = []
    p_attr = _attr(block, "prompts")
    if p_attr is None:
        ctx.err("CCAI508", f"plan `{name}` has no red-team prompts", block.type.span,
                help='add `prompts = "prompts/red-team.jsonl"` (JSONL with a "prompt" field)')
    else:
        ps = _read_prompt_file(ctx, p_attr, "red_team")
        if ps:
            prompts.append(ps)
    h_attr = _attr(block, "helpful_prompts")
    if h_attr is not None:
        hs = _read_prompt_file(ctx, h_attr, "helpful")
        if hs:
            prompts.append(hs)
    hp_attr = _attr(block, "helpful_preferences")
    preferences = _read_preferences(ctx, hp_attr) if hp_attr is not None else None
    chat_template = _chat_template(ctx, policy)

    b_initial = _sub(block, "initial")
    b_sl = _sub(block, "sl_cai")
    b_sft = _sub(block, "sft")
    b_pairs = _sub(block, "pairs")
    b_label = _sub(block, "label")
    b_rlaif = _sub(block, "rlaif")

    initial = InitialStage(sampling=_sampling(ctx, b_initial, Sampling()))

    fewshot: tuple[Exemplar, ...] = DEFAULT_FEWSHOT
    fewshot_source = "builtin"
    if c is not None and c.system_chat:
        try:
            fewshot = (Exemplar(messages=tuple(as_message(m)
                                               for m in c.system_chat)),)
            fewshot_source = "constitution"
        except (KeyError, ValueError):
            pass
    fs_attr = _attr(b_sl, "fewshot")
    if fs_attr is not None:
        read = _read_fewshot(ctx, fs_attr)
        if read is not None:
            fewshot, fewshot_source, _ = read
    fewshot_sha = canonical_sha256([e.model_dump(mode="json") for e in fewshot])
    sl_cai = SlCaiStage(
        enabled=bool(_val(ctx, b_sl, "enabled", _SL.enabled)),
        rounds=int(_val(ctx, b_sl, "rounds", _SL.rounds)),
        sampling=_sampling(ctx, b_sl, initial.sampling),
        fewshot=fewshot, fewshot_source=fewshot_source, fewshot_sha256=fewshot_sha,
        stop=tuple(str(s) for s in _val(ctx, b_sl, "stop", _SL.stop)),
        all_rounds=bool(_val(ctx, b_sl, "all_rounds", _SL.all_rounds)),
        drop_truncated=bool(_val(ctx, b_sl, "drop_truncated", _SL.drop_truncated)),
    )
    sft = SftStage(enabled=bool(_val(ctx, b_sft, "enabled", _SFT.enabled)),
                   training=_stage_training(ctx, b_sft, "sft"))
    method = str(_val(ctx, b_rlaif, "method", _DPO.method))
    judge_default = _judge_default(ctx, b_rlaif, method)
    pairs = PairsStage(enabled=bool(_val(ctx, b_pairs, "enabled", judge_default)),
                       sampling=_sampling(ctx, b_pairs, initial.sampling),
                       samples=int(_val(ctx, b_pairs, "samples", _PAIRS.samples)))
    cot = bool(_val(ctx, b_label, "chain_of_thought", _LABEL.chain_of_thought))
    label = LabelStage(enabled=bool(_val(ctx, b_label, "enabled", judge_default)),
                       chain_of_thought=cot,
                       clamp=float(_val(ctx, b_label, "clamp", _LABEL.clamp)),
                       batch_size=int(_val(ctx, b_label, "batch_size", _LABEL.batch_size)),
                       helpful=_helpful_principles(ctx, b_label, bool(h_attr)),
                       concurrency=int(_val(ctx, b_label, "concurrency", _LABEL.concurrency)))
    dpo = DpoStage(
        enabled=bool(_val(ctx, b_rlaif, "enabled", _DPO.enabled)),
        method=method,  # type: ignore[arg-type]
        beta=float(_val(ctx, b_rlaif, "beta", _DPO.beta)),
        soft_labels=bool(_val(ctx, b_rlaif, "soft_labels", _DPO.soft_labels)),
        training=_stage_training(ctx, b_rlaif, "rlaif"),
        split=float(_val(ctx, b_rlaif, "split", _DPO.split)),
        helpful_fraction=_fraction(_val(ctx, b_rlaif, "helpful_fraction",
                                        _DPO.helpful_fraction)),
    )
    if _uses_variables(block):  # else `ccaic check` gave these (plan_shape_diagnostics)
        subs = {"sl_cai": b_sl, "sft": b_sft, "pairs": b_pairs, "label": b_label,
                "rlaif": b_rlaif}
        on = {"sl_cai": sl_cai.enabled, "sft": sft.enabled, "pairs": pairs.enabled,
              "label": label.enabled, "rlaif": dpo.enabled}
        _settings_of_unused_stages(ctx, subs, on, method)
        _no_effect_settings(ctx, block, subs, on, method)
    stages = _replaced(Stages(initial=initial, sl_cai=sl_cai, sft=sft, pairs=pairs,
                              label=label, dpo=dpo, **_registered_stages(ctx, block)))
    evaluate = _evaluate(ctx, _sub(block, "evaluate"))
    steps = _steps(stages)
    _check_dag(ctx, steps, {name: _sub(block, name) for name in step_blocks()})
    if any(d.is_error for d in ctx.diags) or policy is None or feedback is None or const is None:
        return None, ctx.diags
    source = Path(block.span.file).name if not block.span.file.startswith("<") else "<stdin>"
    plan = TrainingPlan(
        name=name, address=f"plan.{name}", source=source,
        seed=int(_val(ctx, block, "seed", TrainingPlan.model_fields["seed"].default)),
        policy=policy, feedback=feedback,
        prompts=tuple(prompts), constitution=const, stages=stages, steps=steps,
        evaluate=evaluate, chat_template=chat_template, preferences=preferences,
    )
    plan._base_dir = str(ctx.base)
    return seal(plan), ctx.diags


def compile_plans(program: Program, variables: dict[str, Value],
                  constitutions: dict[str, Constitution]
                  ) -> tuple[list[TrainingPlan], list[Diagnostic]]:
    """Every plan block of the program, validated; a plan with errors is left out."""
    plans: list[TrainingPlan] = []
    diags: list[Diagnostic] = []
    for block in program.blocks("plan"):
        plan, found = compile_plan(block, variables, constitutions)
        diags.extend(found)
        if plan is not None:
            plans.append(plan)
    return plans, diags


# ---------------------------------------------------------------- checks that read no file


def plan_shape_diagnostics(block: ast.Block) -> list[Diagnostic]:
    """The plan checks that need no data and no variable value, for `ccaic check`: LoRA options
    with LoRA off (CCAI504), batch sizes that cannot divide (CCAI505), a stage needing one that
    is off (CCAI503), and settings that have no effect (CCAI510). Empty when the plan uses a
    variable (its value decides; the build checks it) or has no plan-level problems to find."""
    if _uses_variables(block):
        return []
    ctx = _Ctx(block, Env({}), base_of(block))
    switches = switch_defaults()  # None: on when rlaif runs with method "dpo"
    subs = {name: _sub(block, name) for name in step_blocks()}
    for name in trainer_defaults():
        _stage_training(ctx, subs[name], name)
    method = str(_val(ctx, subs["rlaif"], "method", _DPO.method))
    judge = _judge_default(ctx, subs["rlaif"], method)
    on = {name: bool(_val(ctx, subs[name], "enabled", judge if default is None
                          else default)) for name, default in switches}
    _check_dag(ctx, _steps(_replaced(_shape_stages(ctx, block, on))), subs)
    _settings_of_unused_stages(ctx, subs, on, method)
    _no_effect_settings(ctx, block, subs, on, method)
    return ctx.diags


def _shape_stages(ctx: _Ctx, block: ast.Block, on: dict[str, bool]) -> Stages:
    """Stages holding only what _steps reads: each stage's `enabled` (`on`, by block) and the
    settings its `needs_when` names; a registered step's stage only when its block is there."""
    typed: dict[str, Any] = {}
    extra: dict[str, dict[str, Any]] = {}
    blocks = step_blocks()
    for entry in _registry():
        stage, name = stage_of(entry), entry.meta["block"]
        if stage is None or stage in typed or stage in extra:
            continue
        sub = _sub(block, name)
        values: dict[str, Any] = {"enabled": on.get(name, True)}
        for key in entry.meta.get("needs_when", {}):
            values[key] = _val(ctx, sub, key, blocks[name].attrs[key].default)
        field = Stages.model_fields.get(stage)
        if field is not None:
            typed[stage] = cast(type[BaseModel], field.annotation).model_construct(
                None, **values)
        elif sub is not None:
            extra[stage] = values
    return Stages.model_construct(None, **typed, **extra)


def _uses_variables(block: ast.Block) -> bool:
    for item in block.body:
        if isinstance(item, ast.Block) and _uses_variables(item):
            return True
        if isinstance(item, ast.Attribute) and any(
                (isinstance(n, ast.Reference) and n.parts[0].name == "var") or
                isinstance(n, ast.Interpolation) for n in walk_expr(item.value)):
            return True
    return False


def _no_effect_settings(ctx: _Ctx, block: ast.Block, subs: dict[str, ast.Block | None],
                        on: dict[str, bool], method: str) -> None:
    """Settings of running stages that change nothing (CCAI510), known from the attributes
    alone: `clamp` without chain of thought, `helpful` or `helpful_fraction` without
    helpfulness prompts, `pairs`/`label` running for revision_pairs. A stage that is off is
    `_settings_of_unused_stages`'s."""
    label, rlaif = subs["label"], subs["rlaif"]
    clamp = _attr(label, "clamp")
    if on["label"] and clamp is not None and \
            not _val(ctx, label, "chain_of_thought", _LABEL.chain_of_thought):
        ctx.warn("CCAI510", "`clamp` has no effect without `chain_of_thought = true`",
                 clamp.span, help="non-CoT labels are soft probabilities and are not clamped")
    no_helpful = _attr(block, "helpful_prompts") is None
    helpful = _attr(label, "helpful")
    if on["label"] and helpful is not None and no_helpful:
        ctx.warn("CCAI510", "`helpful` principles have no effect: the plan has no "
                 "`helpful_prompts`", helpful.span,
                 help="add `helpful_prompts`, or remove `helpful`")
    if method == "revision_pairs" and on["rlaif"]:
        for name in ("pairs", "label"):
            sub = subs[name]
            if on[name]:
                ctx.warn("CCAI510", f"`{name}` runs but rlaif.method = \"revision_pairs\" does "
                         "not use its output", sub.type.span if sub is not None else None,
                         help=f"set `enabled = false` in `{name}`, or use method = \"dpo\"")
    for name in ("pairs", "label") if not on["rlaif"] else ():
        sub = subs[name]
        if on[name]:
            ctx.warn("CCAI510", f"`{name}` runs but `rlaif` is off, so nothing uses its output",
                     sub.type.span if sub is not None else None,
                     help=f"set `enabled = false` in `{name}`, or turn `rlaif` on")
    fraction = _attr(rlaif, "helpful_fraction")
    if fraction is not None and no_helpful and _attr(block, "helpful_preferences") is None:
        ctx.warn("CCAI510", "`helpful_fraction` has no effect: the plan has no helpfulness "
                 "pairs", fraction.span, help="add `helpful_prompts` (pairs labelled with the "
                 "helpfulness criterion) or `helpful_preferences` (a preference file)")


def _settings_of_unused_stages(ctx: _Ctx, subs: dict[str, ast.Block | None],
                               on: dict[str, bool], method: str) -> None:
    """`pairs` and `label` settings when the stage does not run (revision_pairs turns both
    off): `chain_of_thought` and the like then change nothing."""
    for name in ("pairs", "label"):
        block = subs[name]
        if block is None or on[name]:
            continue
        for attr in block.attributes().values():
            if attr.name.name == "enabled":
                continue
            why, fix = f"`{name}` is off", f"turn `{name}` on"
            if _attr(block, "enabled") is None and method == "revision_pairs":
                why = 'rlaif.method = "revision_pairs" uses no AI labels'
                fix += ' (method = "dpo")'
            elif _attr(block, "enabled") is None and not on["rlaif"]:
                why, fix = "`rlaif` is off, so nothing uses AI labels", "turn `rlaif` on"
            ctx.warn("CCAI510", f"`{attr.name.name}` has no effect: {why}", attr.name.span,
                     help=f"remove it, or {fix}")
