"""A groups block's `k = a..b` bounds the cold Polis grouping (it was ignored: 2..3 gave 5)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ccaic.assembly.groups import group_clusters
from tests.cli_runner import run_cli


def _five_blobs() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    centres = np.array([[0, 0], [10, 0], [0, 10], [10, 10], [5, 20]], dtype=float)
    # interleaved, so that Polis's first-distinct seeding takes one point of each blob
    points = np.stack([c + rng.normal(0, 0.1, (12, 2)) for c in centres], axis=1).reshape(-1, 2)
    return points, np.ones(len(points))


def test_group_clusters_stays_inside_the_range() -> None:
    points, counts = _five_blobs()
    free, _ = group_clusters(points, counts)
    assert free.max() + 1 == 5  # Polis's own range (2..5) finds the five blobs
    capped, _ = group_clusters(points, counts, min_k=2, max_k=3)
    assert capped.max() + 1 <= 3
    floor, _ = group_clusters(points[:11], counts[:11], min_k=3, max_k=4)
    assert floor.max() + 1 == 3  # few base clusters cap Polis's range; the floor still holds


@pytest.mark.parametrize(("k", "most"), [("2..3", 3), ("2..2", 2), ("3..4", 4)])
def test_build_honours_the_declared_k_range(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            k: str, most: int) -> None:
    assert run_cli(["init", str(tmp_path / "p")])[0] == 0
    spec = tmp_path / "p" / "main.ccai"
    text = spec.read_text().replace("groups polis { k = 2 }", f"groups polis {{ k = {k} }}")
    spec.write_text(text)
    monkeypatch.chdir(tmp_path / "p")
    code, _, err = run_cli(["build", "main.ccai", "-o", "out", "--until", "assemblies"])
    assert code == 0, err
    built = json.loads((tmp_path / "p" / "out" / "assemblies" / "starter.json").read_text())
    low = int(k.split("..")[0])
    assert low <= built["groups"]["k"] <= most
