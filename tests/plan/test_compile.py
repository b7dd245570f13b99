"""Plan compilation: canonical plan.json, the DAG, and CCAI5xx diagnostics (no torch)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from cli_runner import run_cli
from plan_fixtures import compile_source

from ccaic.plan.model import TrainingPlan, load_plan, plan_json, plan_json_schema

CONSTITUTION = """\
constitution "c" {
  principle "harm" {
    text = "Choose the response that is least harmful."
  }
  principle "honest" {
    text   = "Choose the response that is most honest."
    weight = 2
  }
}
"""


def write(tmp: Path, plan_body: str, prompts: str | None = '{"prompt": "How do I pick a lock?"}\n'
          ) -> Path:
    if prompts is not None:
        (tmp / "red.jsonl").write_text(prompts, encoding="utf-8")
    path = tmp / "t.ccai"
    path.write_text(CONSTITUTION + 'plan "p" {\n' + plan_body + "}\n", encoding="utf-8")
    return path


BASE = '  constitution = constitution.c\n  model = "builtin:tiny"\n  prompts = "red.jsonl"\n'


def errors(diags):  # type: ignore[no-untyped-def]
    return [d for d in diags if d.is_error]


def only_error(diags, code):  # type: ignore[no-untyped-def]
    errs = errors(diags)
    assert [d.code for d in errs] == [code], [(d.code, d.message) for d in errs]
    return errs[0]


def line_col(path: Path, needle: str) -> tuple[int, int]:
    for i, line in enumerate(path.read_text().splitlines(), 1):
        if needle in line:
            return i, line.index(needle) + 1
    raise AssertionError(needle)


def test_minimal_plan_compiles_to_canonical_json(tmp_path: Path) -> None:
    path = write(tmp_path, BASE)
    plans, diags, _ = compile_source(path)
    assert not errors(diags)
    (plan,) = plans
    text = plan_json(plan)
    data = json.loads(text)
    assert data["format_version"] == "1.0"
    assert data["address"] == "plan.p"
    assert [s["address"] for s in data["steps"]] == [
        "step.initial", "step.sl_cai.critique", "step.sl_cai.revision", "step.sft_data",
        "step.sft", "step.pairs", "step.label", "step.dpo", "step.final"]
    assert data["prompts"] == [{"name": "red_team", "path": "red.jsonl", "rows": 1,
                                "sha256": plan.prompts[0].sha256}]
    assert [p["id"] for p in data["constitution"]["principles"]] == ["harm", "honest"]
    assert data["constitution"]["principles"][1]["weight"] == 2
    # no absolute paths, no timestamps; sealed
    assert str(tmp_path) not in text
    assert load_plan(text).model_dump() == plan.model_dump()
    assert plan.plan_sha256 and len(plan.plan_sha256) == 64


def test_same_source_gives_byte_identical_plan(tmp_path: Path) -> None:
    a = tmp_path / "a"
    b = tmp_path / "b"
    a.mkdir()
    b.mkdir()
    pa, _, _ = compile_source(write(a, BASE + "  seed = 3\n"))
    pb, _, _ = compile_source(write(b, BASE + "  seed = 3\n"))
    assert plan_json(pa[0]) == plan_json(pb[0])
    pc, _, _ = compile_source(write(b, BASE + "  seed = 4\n"))
    assert pc[0].plan_sha256 != pa[0].plan_sha256


def test_tampered_plan_is_rejected(tmp_path: Path) -> None:
    plans, _, _ = compile_source(write(tmp_path, BASE))
    data = json.loads(plan_json(plans[0]))
    data["seed"] = 99
    with pytest.raises(ValueError, match="plan_sha256"):
        load_plan(json.dumps(data))


@pytest.mark.parametrize("ref, code, message", [
    ("builtin:huge", "CCAI501", "unknown built-in model `builtin:huge`"),
    ("ftp:thing", "CCAI501", "unknown model kind `ftp:`"),
    ("not a model", "CCAI501", "unknown model kind `not a model`"),
    ("./models/missing", "CCAI502", "model folder `./models/missing` does not exist"),
    ("openai:gpt-4o@https://api.example.com/v1", "CCAI501",
     "`openai:gpt-4o@https://api.example.com/v1` is a remote model: it can label preferences "
     "but cannot be trained"),
])
def test_bad_policy_model(tmp_path: Path, ref: str, code: str, message: str) -> None:
    body = BASE.replace('"builtin:tiny"', json.dumps(ref))
    path = write(tmp_path, body)
    _, diags, _ = compile_source(path)
    d = only_error(diags, code)
    assert d.message == message
    assert (d.span.line, d.span.column) == line_col(path, json.dumps(ref))
    assert d.help


def test_model_kinds(tmp_path: Path) -> None:
    (tmp_path / "mymodel").mkdir()
    body = BASE.replace('"builtin:tiny"', '"./mymodel"') + \
        '  feedback_model = "openai:judge-1@http://localhost:8000/v1"\n'
    plans, diags, _ = compile_source(write(tmp_path, body))
    assert not errors(diags)
    assert plans[0].policy.kind == "local" and plans[0].policy.name == "mymodel"
    assert plans[0].feedback.kind == "openai"
    assert plans[0].feedback.base_url == "http://localhost:8000/v1"
    body = BASE.replace('"builtin:tiny"', '"Qwen/Qwen2.5-0.5B-Instruct"')
    plans, diags, _ = compile_source(write(tmp_path, body))
    assert plans[0].policy.kind == "hf" and plans[0].policy.name == "Qwen/Qwen2.5-0.5B-Instruct"


def test_stage_that_needs_a_disabled_stage(tmp_path: Path) -> None:
    path = write(tmp_path, BASE + "  sft {\n    enabled = false\n  }\n")
    _, diags, _ = compile_source(path)
    d = only_error(diags, "CCAI503")
    assert d.message == "`pairs` (step.pairs) needs `sft` (step.sft), which is off"
    assert (d.span.line, d.span.column) == line_col(path, "enabled = false")
    assert "`pairs`, `label`, `rlaif`" in (d.help or "")


def test_dpo_without_labels_points_at_rlaif(tmp_path: Path) -> None:
    path = write(tmp_path, BASE + "  label {\n    enabled = false\n  }\n"
                 "  rlaif {\n    beta = 0.1\n  }\n")
    _, diags, _ = compile_source(path)
    d = only_error(diags, "CCAI503")
    assert d.message == "`rlaif` (step.dpo) needs `label` (step.label), which is off"
    assert (d.span.line, d.span.column) == line_col(path, "rlaif {")
    assert "revision_pairs" in (d.help or "")
    assert d.notes and d.notes[0].span.line == line_col(path, "enabled = false")[0]


def test_revision_pairs_needs_no_judge(tmp_path: Path) -> None:
    path = write(tmp_path, BASE + '  sft {\n    enabled = false\n  }\n'
                 '  rlaif {\n    method = "revision_pairs"\n  }\n')
    plans, diags, _ = compile_source(path)
    assert not errors(diags), diags
    plan = plans[0]
    assert not plan.enabled("step.pairs") and not plan.enabled("step.label")
    assert plan.step("step.dpo").needs == ("step.sl_cai.revision",)
    assert plan.step("step.dpo").model == "policy"


def test_lora_options_without_lora(tmp_path: Path) -> None:
    path = write(tmp_path, BASE + "  sft {\n    lora {\n      enabled = false\n      r = 16\n"
                 "    }\n  }\n")
    _, diags, _ = compile_source(path)
    d = only_error(diags, "CCAI504")
    assert d.message == "LoRA options `r` are set but LoRA is off in `sft`"
    assert (d.span.line, d.span.column) == line_col(path, "r = 16")


def test_lora_compiles(tmp_path: Path) -> None:
    path = write(tmp_path, BASE + "  sft {\n    lora {\n      r = 8\n      alpha = 16\n"
                 "    }\n  }\n")
    plans, diags, _ = compile_source(path)
    assert not errors(diags)
    assert plans[0].stages.sft.training.lora.r == 8


def test_batch_sizes_that_cannot_divide(tmp_path: Path) -> None:
    path = write(tmp_path, BASE + "  sft {\n    batch_size = 4\n    total_batch_size = 10\n  }\n")
    _, diags, _ = compile_source(path)
    d = only_error(diags, "CCAI505")
    assert d.message == ("`sft`: total_batch_size 10 is not a multiple of the per-device "
                         "batch_size 4")
    assert (d.span.line, d.span.column) == line_col(path, "total_batch_size = 10")
    path = write(tmp_path, BASE + "  rlaif {\n    batch_size = 4\n    gradient_accumulation = 3\n"
                 "    total_batch_size = 8\n  }\n")
    _, diags, _ = compile_source(path)
    d = only_error(diags, "CCAI505")
    assert "4 x gradient_accumulation 3 = 12" in d.message
    path = write(tmp_path, BASE + "  sft {\n    batch_size = 4\n    total_batch_size = 16\n  }\n")
    plans, diags, _ = compile_source(path)
    assert plans[0].stages.sft.training.gradient_accumulation == 4


def test_missing_prompt_file(tmp_path: Path) -> None:
    path = write(tmp_path, BASE.replace("red.jsonl", "nope.jsonl"))
    _, diags, _ = compile_source(path)
    d = only_error(diags, "CCAI506")
    assert d.message == "prompt file `nope.jsonl` does not exist"
    assert (d.span.line, d.span.column) == line_col(path, '"nope.jsonl"')


@pytest.mark.parametrize("content, message", [
    ('{"prompt": "ok"}\n{"prompt": \n', "red.jsonl:2: not valid JSON"),
    ('{"text": "no prompt"}\n', 'red.jsonl:1: no "prompt" or "messages" field'),
    ('{"messages": [{"role": "robot", "content": "x"}]}\n', "red.jsonl:1: each message needs"),
    ("\n\n", "prompt file `red.jsonl` has no prompts"),
])
def test_malformed_prompt_file(tmp_path: Path, content: str, message: str) -> None:
    path = write(tmp_path, BASE, prompts=content)
    _, diags, _ = compile_source(path)
    d = only_error(diags, "CCAI507")
    assert d.message.startswith(message), d.message


def test_messages_prompts_and_helpful(tmp_path: Path) -> None:
    (tmp_path / "help.jsonl").write_text(
        '{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}'
        "\n", encoding="utf-8")
    plans, diags, _ = compile_source(write(tmp_path, BASE + '  helpful_prompts = "help.jsonl"\n'))
    assert not errors(diags)
    assert [p.name for p in plans[0].prompts] == ["red_team", "helpful"]


def test_no_prompts(tmp_path: Path) -> None:
    path = write(tmp_path, '  constitution = constitution.c\n')
    _, diags, _ = compile_source(path)
    d = only_error(diags, "CCAI508")
    assert d.span.line == line_col(path, 'plan "p"')[0]


def test_fewshot_file(tmp_path: Path) -> None:
    (tmp_path / "shots.json").write_text(json.dumps([[
        {"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]]))
    plans, diags, _ = compile_source(write(tmp_path, BASE + '  sl_cai {\n'
                                           '    fewshot = "shots.json"\n  }\n'))
    assert not errors(diags)
    assert plans[0].stages.sl_cai.fewshot_source == "shots.json"
    assert plans[0].stages.sl_cai.fewshot[0].messages[1].content == "a"
    (tmp_path / "shots.json").write_text("{nope")
    _, diags, _ = compile_source(write(tmp_path, BASE + '  sl_cai {\n'
                                       '    fewshot = "shots.json"\n  }\n'))
    only_error(diags, "CCAI507")


def test_fewshot_sha256_is_the_canonical_hash_of_the_exemplars(tmp_path: Path) -> None:
    """One canonical JSON (issue 12): the few-shot hash is canonical_sha256, UTF-8 and indented,
    not the ASCII-escaped `json.dumps` it was (which hashed "é" as "\\u00e9")."""
    from ccaic.canonical import canonical_sha256

    (tmp_path / "shots.json").write_text(json.dumps([[
        {"role": "user", "content": "café?"}, {"role": "assistant", "content": "oui"}]]))
    plans, diags, _ = compile_source(write(tmp_path, BASE + '  sl_cai {\n'
                                           '    fewshot = "shots.json"\n  }\n'))
    assert not errors(diags)
    sl = plans[0].stages.sl_cai
    dumped = [e.model_dump(mode="json") for e in sl.fewshot]
    assert sl.fewshot_sha256 == canonical_sha256(dumped)
    old = hashlib.sha256(json.dumps(dumped, sort_keys=True).encode()).hexdigest()
    assert sl.fewshot_sha256 != old


def test_json_schema_validates_plan(tmp_path: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    plans, _, _ = compile_source(write(tmp_path, BASE))
    schema = plan_json_schema()
    jsonschema.validate(json.loads(plan_json(plans[0])), schema)
    assert schema["title"] == "ccaic TrainingPlan"
    bad = json.loads(plan_json(plans[0]))
    bad["stages"]["dpo"]["method"] = "ppo"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
    assert TrainingPlan.model_json_schema()


def test_show_formats(tmp_path: Path) -> None:
    plans, _, _ = compile_source(write(tmp_path, BASE))
    (tmp_path / "plan.json").write_text(plan_json(plans[0]), encoding="utf-8")
    for fmt, needle in (("text", "step.sl_cai.critique"), ("markdown", "| `step.dpo` |"),
                        ("json", '"format_version": "1.0"')):
        code, out, _ = run_cli(["show", str(tmp_path / "plan.json"), "--format", fmt])
        assert code == 0 and needle in out
    (tmp_path / "bad.json").write_text("[]")
    code, out, err = run_cli(["show", str(tmp_path / "bad.json")])
    assert (code, out) == (1, "") and "CCAI514" in err


def test_plan_package_does_not_import_torch() -> None:
    code = ("import sys; import ccaic.plan, ccaic.lowering.plan, ccaic.plan.model, "
            "ccaic.commands.show, ccaic.train, ccaic.models, ccaic.train.sampling, "
            "ccaic.models.labels, ccaic.train.postprocess; "
            "bad = [m for m in ('torch', 'transformers', 'trl') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True,
                   cwd=Path(__file__).resolve().parents[2])
