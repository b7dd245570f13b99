"""builtin:tiny's cache folder is complete on every rank, and an incomplete one is never reused.

Under torch.distributed, transformers writes a model's weights and config on rank 0 only;
rank 1 then built a folder holding just the tokenizer, which could win the rename and become
the cached model ("Unrecognized model ... Should have a `model_type` key" on both ranks)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("transformers")

mixin = pytest.importorskip("transformers.distributed.mixin",
                            reason="the rank check lives here in transformers 5")

from ccaic.models.tiny import tiny_path  # noqa: E402

FILES = ("config.json", "model.safetensors", "tokenizer.json")


def test_a_rank_other_than_0_builds_a_complete_model(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mixin, "_is_torch_distributed_initialized", lambda: True)
    monkeypatch.setattr(mixin, "_get_torch_distributed_rank", lambda: 1)
    folder = tiny_path(0, tmp_path)
    assert all((folder / name).is_file() for name in FILES)


def test_an_incomplete_cached_folder_is_set_aside(tmp_path: Path) -> None:
    broken = tmp_path / "models" / "tiny-v1-seed0"
    broken.mkdir(parents=True)
    (broken / "tokenizer.json").write_text("{}")
    folder = tiny_path(0, tmp_path)
    assert folder == broken
    assert all((folder / name).is_file() for name in FILES)
