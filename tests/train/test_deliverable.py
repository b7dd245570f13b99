"""final/ is a deliverable: it loads with AutoModelForCausalLM, ships a model card, and names no
path of the machine that trained it; TRL stays in the series the soft-DPO trainer copies."""

from __future__ import annotations

import contextlib
import json
import re
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LORA = "    lora {\n      r = 4\n      alpha = 8\n    }\n"


def _trl_spec(lines: list[str]) -> str:
    (spec,) = [x.strip().strip('",') for x in lines if re.match(r'\s*"?trl\b', x)]
    return spec


def test_trl_is_pinned_to_one_series_in_pyproject_and_the_setup_constraints() -> None:
    extra = tomllib.loads((REPO / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]["train"]
    constraints = (REPO / "scripts" / "constraints-train.txt").read_text().splitlines()
    assert _trl_spec(extra) == _trl_spec(constraints) == "trl>=1.16,<1.17"
    assert "-c scripts/constraints-train.txt" in (REPO / "scripts" / "setup").read_text()
    from importlib.metadata import PackageNotFoundError, version

    from packaging.requirements import Requirement

    for line in constraints:  # what is installed satisfies them (the train extra may not be)
        if line.strip() and not line.startswith("#"):
            req = Requirement(line)
            with contextlib.suppress(PackageNotFoundError):
                assert req.specifier.contains(version(req.name)), line


def test_adapter_config_names_a_hub_base_or_none(tmp_path: Path) -> None:
    from ccaic.models.card import portable_adapter_config

    for hub, rev in (("org/base", "abc123"), (None, "ignored")):
        folder = tmp_path / str(hub).replace("/", "_")
        folder.mkdir()
        (folder / "adapter_config.json").write_text(json.dumps(
            {"base_model_name_or_path": "/home/someone/.cache/ccaic/tiny-1", "r": 4}))
        (folder / "README.md").write_text("---\nbase_model: /home/someone/.cache\n---\n")
        portable_adapter_config(folder, hub, rev)
        config = json.loads((folder / "adapter_config.json").read_text())
        assert config["base_model_name_or_path"] == hub and config["r"] == 4
        assert config["revision"] == (rev if hub else None)
        assert not (folder / "README.md").exists()


def _strings(data: object) -> list[str]:
    if isinstance(data, dict):
        return [s for v in data.values() for s in _strings(v)]
    if isinstance(data, list):
        return [s for v in data for s in _strings(v)]
    return [data] if isinstance(data, str) else []


def test_lora_final_model_loads_and_carries_a_card_and_no_paths(tiny_cache: Path,
                                                                tmp_path: Path,
                                                                plan_files) -> None:
    pytest.importorskip("trl")
    pytest.importorskip("peft")
    write_plan, compiled = plan_files
    from transformers import AutoModelForCausalLM

    from ccaic.train.runner import run_plan

    src = write_plan(tmp_path / "src", n_red=4)
    text = src.read_text()
    text = text.replace("    save_steps    = 1\n  }", "    save_steps    = 1\n" + LORA + "  }")
    text = text.replace("    beta       = 0.1\n  }", "    beta       = 0.1\n" + LORA + "  }")
    src.write_text(text)
    plan = compiled(src)
    final = run_plan(plan, tmp_path / "out").final
    assert final is not None
    model = AutoModelForCausalLM.from_pretrained(str(final))
    assert model.num_parameters() > 0
    # nothing in final/ names a path of this machine
    for path in final.rglob("*"):
        if path.suffix in (".json", ".md"):
            body = path.read_text("utf-8")
            assert str(tmp_path) not in body and str(tiny_cache) not in body, path
            if path.suffix == ".json":
                assert not [s for s in _strings(json.loads(body)) if s.startswith("/")], path
    adapter = json.loads((final / "adapter" / "adapter_config.json").read_text())
    assert adapter["base_model_name_or_path"] is None  # trained on the SFT stage's model
    card = (final / "README.md").read_text()
    assert card.startswith("---\nlibrary_name: transformers\nlicense: apache-2.0\n")
    c = plan.constitution
    for needed in (f"plan_sha256 `{plan.plan_sha256}`", f"sha256 `{c.sha256}`",
                   "[constitution.json](constitution.json)", "[plan.json](plan.json)",
                   "`builtin:tiny` (builtin)", "Not evaluated in this build",
                   *(ps.sha256 for ps in plan.prompts), *(p.text for p in c.principles)):
        assert needed in card, needed
    before = card
    run_plan(plan, tmp_path / "out")  # cached: the same card, byte for byte
    assert (final / "README.md").read_text() == before


UNMERGED = "    lora {\n      r = 4\n      alpha = 8\n      merge = false\n    }\n"


def _unmerged_dpo(src: Path, model: str, sft: bool) -> Path:
    text = src.read_text().replace('"builtin:tiny"', f'"{model}"')
    text = text.replace("    beta       = 0.1\n  }",
                        '    beta       = 0.1\n    method     = "revision_pairs"\n' + UNMERGED
                        + "  }")
    if not sft:
        text = text.replace("  sft {\n", "  sft {\n    enabled = false\n")
    src.write_text(text)
    return src


@pytest.mark.parametrize("sft", [True, False])
def test_unmerged_adapters_need_a_hub_base(sft: bool, tiny_cache: Path, tmp_path: Path,
                                           plan_files) -> None:
    write_plan, compiled = plan_files
    from ccaic.diagnostics import DiagnosticError
    from ccaic.train.runner import run_plan

    plan = compiled(_unmerged_dpo(write_plan(tmp_path / "src", n_red=2), "builtin:tiny", sft))
    assert plan.stages.dpo.training.lora.merge is False
    with pytest.raises(DiagnosticError) as caught:
        run_plan(plan, tmp_path / "out")
    (d,) = caught.value.diagnostics
    assert d.code == "CCAI522"
    assert ("SFT stage's model" if sft else "`builtin:tiny` is not a Hugging Face Hub") \
        in d.message
    assert not (tmp_path / "out" / "stages").exists()  # refused before anything ran


UNMERGED_SCRIPT = """
import sys
from transformers import AutoModelForCausalLM
from ccaic.build import run_until
from ccaic.train.runner import run_plan
final = run_plan(run_until("plan", sys.argv[1], None, data=False).plans[0], sys.argv[2]).final
model = AutoModelForCausalLM.from_pretrained(str(final))
print("loaded", type(model).__name__, sum(p.numel() for p in model.parameters()))
"""


@pytest.mark.slow
def test_unmerged_adapters_on_a_hub_base_load_with_automodel(tiny_cache: Path, tmp_path: Path,
                                                             plan_files) -> None:
    """`merge = false` on DPO straight from a Hub model: final/ is the adapters (and the
    tokenizer), naming the Hub id and revision; AutoModelForCausalLM loads them onto it."""
    pytest.importorskip("trl")
    pytest.importorskip("peft")
    import os
    import shutil
    import subprocess
    import sys

    from ccaic.models.tiny import tiny_path

    write_plan, _ = plan_files
    commit = "c" * 40
    snap = tmp_path / "hub" / "models--org--tiny" / "snapshots" / commit
    shutil.copytree(tiny_path(1), snap)
    (snap.parents[1] / "refs").mkdir()
    (snap.parents[1] / "refs" / "main").write_text(commit)
    src = _unmerged_dpo(write_plan(tmp_path / "src", n_red=4), f"org/tiny@{commit}", sft=False)
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_CACHE": str(tmp_path / "hub"),
           "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run([sys.executable, "-c", UNMERGED_SCRIPT, str(src), str(tmp_path / "out")],
                          env=env, capture_output=True, text=True, timeout=300, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "loaded" in proc.stdout
    final = tmp_path / "out" / "final"
    assert not (final / "model.safetensors").exists() and (final / "tokenizer.json").is_file()
    config = json.loads((final / "adapter_config.json").read_text())
    assert (config["base_model_name_or_path"], config["revision"]) == ("org/tiny", commit)
    card = (final / "README.md").read_text()
    assert "the LoRA adapters alone (not merged)" in card and "base_model: org/tiny" in card
