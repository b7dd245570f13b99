"""`groups polis { warm_start = true }` (issue 18): each build's base clusters start from the
last build's, as Polis's math does; the centers are recorded, so a rebuild from a recorded
state is byte-identical and a cold build is unchanged."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from ccaic.assembly.groups import base_clusters
from ccaic.canonical import canonical_sha256
from tests.assembly.fake_polis import export_copy
from tests.cli_runner import run_cli

SPEC = """assembly "seattle" {
  source polis { path = "export" }
  groups polis { warm_start = true }
  consensus gac { top_k = 5 }
}
"""
EARLY, LATER = "1403100000000", "1403400000000"


def _build(spec: Path, out: Path, as_of: str) -> dict[str, object]:
    code, _, err = run_cli(["build", str(spec), "-o", str(out), "--until", "assemblies",
                            "--as-of", as_of])
    assert code == 0, err
    body: dict[str, object] = json.loads((out / "assemblies" / "seattle.json").read_text())
    return body


def test_warm_start_follows_the_last_build_and_replays_exactly(tmp_path: Path) -> None:
    export_copy(tmp_path)
    spec = tmp_path / "a.ccai"
    spec.write_text(SPEC)
    out = tmp_path / "out"
    first = _build(spec, out, EARLY)
    groups = first["groups"]
    assert isinstance(groups, dict)
    assert groups["warm_from"] is None and groups["base_centers"]  # a cold start, recorded
    kept = tmp_path / "kept.json"
    shutil.copy(out / "assemblies" / "seattle.json", kept)
    second = _build(spec, out, LATER)
    assert isinstance(second["groups"], dict)
    assert second["groups"]["warm_from"] == canonical_sha256(groups["base_centers"])
    # replay: a fresh folder holding the recorded state gives the same artifact, byte for byte
    replay = tmp_path / "replay"
    (replay / "assemblies").mkdir(parents=True)
    shutil.copy(kept, replay / "assemblies" / "seattle.json")
    _build(spec, replay, LATER)
    assert (replay / "assemblies" / "seattle.json").read_bytes() == \
        (out / "assemblies" / "seattle.json").read_bytes()
    # without warm_start nothing is recorded: the artifact is the one it always was
    (tmp_path / "b.ccai").write_text(SPEC.replace("groups polis { warm_start = true }\n", ""))
    cold = _build(tmp_path / "b.ccai", tmp_path / "cold", LATER)
    assert isinstance(cold["groups"], dict)
    assert "base_centers" not in cold["groups"] and "warm_from" not in cold["groups"]


def test_base_clusters_start_from_the_warm_centers() -> None:
    rng = np.random.default_rng(0)
    points = np.concatenate([rng.normal(-2, 0.3, (40, 2)), rng.normal(2, 0.3, (40, 2))])
    warm = np.array([[-2.0, -2.0], [2.0, 2.0]])
    got = base_clusters(points, warm=warm)
    assert len(got.centers) == 2
    assert np.allclose(np.sort(got.centers[:, 0]), [-2, 2], atol=0.2)
    assert set(got.labels[:40].tolist()) != set(got.labels[40:].tolist())
    cold = base_clusters(points)
    assert len(cold.centers) == len(np.unique(points, axis=0)[:100])  # 100 base clusters
