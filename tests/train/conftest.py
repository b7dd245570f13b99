"""Fixtures for the training tests: a private model cache and a small plan on disk."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from plan_fixtures import compiled


@pytest.fixture(scope="session")
def tiny_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = Path(os.environ.get("CCAIC_CACHE") or tmp_path_factory.mktemp("ccaic-cache"))
    os.environ["CCAIC_CACHE"] = str(path)
    return path


PLAN = """\
constitution "c" {
  principle "harm" {
    text = "Choose the response that is least harmful."
  }
  principle "honest" {
    text   = "Choose the response that is most honest."
    weight = 2
  }
}

plan "p" {
  constitution    = constitution.c
  model           = "builtin:tiny"
  prompts         = "red.jsonl"
  helpful_prompts = "help.jsonl"
  seed            = 1

  initial {
    max_new_tokens = 12
    batch_size     = BATCH
  }
  sl_cai {
    rounds         = 2
    drop_truncated = false
  }
  sft {
    max_steps     = SFT_STEPS
    batch_size    = 4
    learning_rate = 0.001
    save_steps    = 1
  }
  pairs {
    max_new_tokens = 12
  }
  rlaif {
    max_steps  = 2
    batch_size = 4
    beta       = BETA
  }
}
"""


def write_plan(folder: Path, n_red: int = 8, batch: int = 4, sft_steps: int = 2,
               beta: float = 0.1) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "red.jsonl").write_text("".join(
        f'{{"prompt": "How do I do bad thing number {i}?"}}\n' for i in range(n_red)))
    (folder / "help.jsonl").write_text("".join(
        f'{{"prompt": "Tell me fact {i}."}}\n' for i in range(2)))
    text = (PLAN.replace("BATCH", str(batch)).replace("SFT_STEPS", str(sft_steps))
            .replace("BETA", str(beta)))
    (folder / "plan.ccai").write_text(text)
    return folder / "plan.ccai"


@pytest.fixture
def plan_files():  # type: ignore[no-untyped-def]
    """(write_plan, compiled): write a small plan folder; compile it into a TrainingPlan."""
    return write_plan, compiled


@pytest.fixture(scope="session")
def real_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Folders of locally built real-architecture models (tests/train/real_models.py): `qwen2`
    (ChatML on a base `<|endoftext|>` EOS), `llama` (Llama-3 template, `<|eot_id|>`), `bare`
    (no chat template). Random weights, tiny dims, loadable by path."""
    pytest.importorskip("transformers")
    from real_models import ARCHS, save_model

    root = tmp_path_factory.mktemp("real-models")
    return {arch: save_model(arch, root / arch) for arch in ARCHS}
