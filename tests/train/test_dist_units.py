"""Sharded generation batches across 2 real gloo processes, without a model (fast).

The slow accelerate tests (test_distributed.py) run whole plans; this one checks the batching
contract itself: each rank runs only its own batches, every rank gets all rows in order, parts
from an earlier run (any world size) are reused and counted once.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from ccaic.train.dist import SINGLE, World

REPO = Path(__file__).resolve().parents[2]

WORKER = """
import json, sys
from pathlib import Path
from ccaic.train.dist import world
from ccaic.train.progress import Progress
from ccaic.train.stages import batched
from ccaic.store import StageDir

out = Path(sys.argv[1])
w = world()
stage = StageDir(out, "gen", "k" * 64)
ran = []

def fn(b, chunk):
    ran.append(b)
    return [{"item": i, "seeded_by": b} for i in chunk], len(chunk)

rows = batched(stage, list(range(11)), 3, Progress(), "gen", fn)
w.barrier()
(out / f"rank{w.rank}.json").write_text(json.dumps(
    {"rows": rows, "ran": ran, "reused": stage.reused, "world": [w.rank, w.size],
     "common": w.broadcast(w.rank * 10 + 7)}))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_world_defaults_and_shards() -> None:
    assert SINGLE.is_main and not SINGLE.distributed
    assert SINGLE.all_gather(3) == [3] and SINGLE.broadcast("x") == "x"
    assert World(1, 3).shard(8) == [1, 4, 7]
    assert sorted(b for r in range(3) for b in World(r, 3).shard(8)) == list(range(8))


def test_two_gloo_ranks_share_batches_and_gather_all_rows(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("accelerate")
    from ccaic.store import StageDir

    # batch 1 was finished by an earlier (say single-process) run that was killed
    StageDir(tmp_path, "gen", "k" * 64).write_part(1, [{"item": i, "seeded_by": 1}
                                                       for i in (3, 4, 5)])
    port = str(_free_port())
    procs = []
    for rank in (0, 1):
        env = {**os.environ, "PYTHONPATH": str(REPO), "WORLD_SIZE": "2", "RANK": str(rank),
               "LOCAL_RANK": str(rank), "LOCAL_WORLD_SIZE": "2", "MASTER_ADDR": "127.0.0.1",
               "MASTER_PORT": port, "OMP_NUM_THREADS": "1"}
        procs.append(subprocess.Popen([sys.executable, "-c", WORKER, str(tmp_path)], env=env,
                                      cwd=REPO, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True))
    for p in procs:
        _, err = p.communicate(timeout=180)
        assert p.returncode == 0, err[-4000:]
    r0, r1 = (json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1))
    want = [{"item": i, "seeded_by": i // 3} for i in range(11)]
    assert r0["rows"] == r1["rows"] == want
    assert (r0["world"], r1["world"]) == ([0, 2], [1, 2])
    assert r0["ran"] == [0, 2] and r1["ran"] == [3]  # batch 1 reused from disk
    assert r0["reused"] == r1["reused"] == 1
    assert r0["common"] == r1["common"] == 7
