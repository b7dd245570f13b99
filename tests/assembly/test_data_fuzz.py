"""Seeded fuzzing of data sources (issue 11), in the style of the .ccai mutation tests.

Real small exports (a Polis CSV folder, a Polis API JSON folder, a long-format CSV made from
the CSV export, a groups file and an id list) are mutated, as bytes and as structure, and run
through `ccaic analyze` or `ccaic build --until assemblies` in-process. Every case must end in
exit 0 or exit 1 with a coded diagnostic: never exit 3 or a traceback, never past a time box,
and never with peak traced memory out of proportion to the input. Each case is one seed
(reproduce one with `-k 'seed-17'`); the default run takes a few per kind, `-m slow` many.
"""

from __future__ import annotations

import csv
import json
import random
import re
import shutil
import signal
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cli_runner import run_cli

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "polis"
CSV_EXPORT = SHARED / "opendata" / "london.youth.policing"
JSON_EXPORT = SHARED / "polis-math" / "below-100-ptpts"

#: wall-clock box per case (the real inputs take ~0.05 s; a hang is caught, not waited out)
TIME_BOX_S = 20
#: peak traced memory allowed: this many times the input bytes, plus a fixed allowance
MEMORY_FACTOR, MEMORY_BASE = 60, 48 * 2 ** 20

FAST, SLOW = 6, 150

HOSTILE_CELLS = ["", " ", "inf", "-inf", "1e400", "nan", "-0", "²", "٣", "9" * 5000,
                 "0.5", "1.0", "true", "null", '"', '""', "\x00", "x" * 300, "-1", "2",
                 "1,2", "\r", "643.0", " 7 ", "+1", "0x10", "é", "\u00a0"]
HOSTILE_JSON = ["1e400", "-1e400", "0.5", "true", "false", "null", '"x"', '""', "[]", "{}",
                "[1]", '{"a": 1}', "1" * 5000, f'"{"9" * 5000}"', "-1", "2", "1.0",
                "[" * 2000 + "]" * 2000, '"\\u0000"']
JUNK = [*',"\n\r\t;{}[]:-.0159', "\ufeff", "é", "😀", "\x00", "\u2028"]


# ---------------------------------------------------------------- mutations


def mutate_bytes(rng: random.Random, raw: bytes) -> bytes:
    """1-3 byte-level edits: delete, insert junk, duplicate or swap lines, truncate, or a
    byte that is not UTF-8."""
    for _ in range(rng.randint(1, 3)):
        kind = rng.choice(["delete", "insert", "dup_line", "swap_lines", "truncate", "bad_byte"])
        n = len(raw)
        if kind == "delete" and n:
            i = rng.randrange(n)
            raw = raw[:i] + raw[i + rng.randint(1, 40):]
        elif kind == "insert":
            i = rng.randint(0, n)
            junk = "".join(rng.choice(JUNK) for _ in range(rng.randint(1, 6))).encode()
            raw = raw[:i] + junk + raw[i:]
        elif kind in ("dup_line", "swap_lines"):
            lines = raw.split(b"\n")
            a, b = rng.randrange(len(lines)), rng.randrange(len(lines))
            if kind == "dup_line":
                lines.insert(a, lines[a])
            else:
                lines[a], lines[b] = lines[b], lines[a]
            raw = b"\n".join(lines)
        elif kind == "truncate" and n:
            raw = raw[:rng.randrange(n)]
        elif kind == "bad_byte":
            i = rng.randint(0, n)
            raw = raw[:i] + rng.choice([b"\xff", b"\xe9", b"\xc3", b"\x80"]) + raw[i:]
    return raw


def mutate_csv(rng: random.Random, raw: bytes) -> bytes:
    """1-4 structural edits of a CSV: hostile cells (header included), dropped or extra
    cells, duplicated rows or columns; now and then a byte-level edit on top."""
    rows = list(csv.reader(raw.decode("utf-8").splitlines()))
    for _ in range(rng.randint(1, 4)):
        r = rng.randrange(len(rows))
        row = rows[r]
        kind = rng.choice(["cell", "cell", "cell", "drop_cell", "add_cell", "dup_row",
                           "dup_column", "header"])
        if kind == "cell" and row:
            row[rng.randrange(len(row))] = rng.choice(HOSTILE_CELLS)
        elif kind == "drop_cell" and row:
            del row[rng.randrange(len(row))]
        elif kind == "add_cell":
            row.insert(rng.randint(0, len(row)), rng.choice(HOSTILE_CELLS))
        elif kind == "dup_row":
            rows.insert(r, list(row))
        elif kind == "dup_column" and rows[0]:
            c = rng.randrange(len(rows[0]))
            for each in rows:
                if c < len(each):
                    each.insert(c, each[c])
        elif kind == "header" and rows[0]:
            rows[0][rng.randrange(len(rows[0]))] = rng.choice([*HOSTILE_CELLS, "vote", "0"])
    out = "".join(",".join(_quote(c) for c in row) + "\n" for row in rows).encode()
    return mutate_bytes(rng, out) if rng.random() < 0.2 else out


def _quote(cell: str) -> str:
    return f'"{cell.replace(chr(34), chr(34) * 2)}"' if any(c in cell for c in ',"\n\r') else cell


def mutate_json(rng: random.Random, raw: bytes) -> bytes:
    """1-3 structural edits of a JSON document: a random value (at any depth) replaced by a
    hostile literal, a key deleted, or a container replaced by a scalar; now and then a
    byte-level edit on top."""
    data = json.loads(raw)
    marker = "\u2603MARK\u2603"
    literals: list[str] = []
    for _ in range(rng.randint(1, 3)):
        parent, key = _random_slot(rng, data)
        if parent is None:
            continue
        kind = rng.choice(["literal", "literal", "delete", "scalar"])
        if kind == "delete" and isinstance(parent, dict):
            del parent[key]
        elif kind == "scalar":
            parent[key] = rng.choice([5, "x", None, True])
        else:
            parent[key] = f"{marker}{len(literals)}"
            literals.append(rng.choice(HOSTILE_JSON))
    text = json.dumps(data, indent=1, ensure_ascii=False)
    for i, lit in enumerate(literals):
        text = text.replace(json.dumps(f"{marker}{i}", ensure_ascii=False), lit)
    out = text.encode()
    return mutate_bytes(rng, out) if rng.random() < 0.2 else out


def _random_slot(rng: random.Random, data: object) -> tuple[object, object]:
    """A (container, key) somewhere in `data`, walking down a random path."""
    parent, key = None, None
    node = data
    for _ in range(rng.randint(1, 4)):
        if isinstance(node, dict) and node:
            parent, key = node, rng.choice(list(node))
        elif isinstance(node, list) and node:
            parent, key = node, rng.randrange(len(node))
        else:
            break
        node = parent[key]  # type: ignore[index]
    return parent, key


# ---------------------------------------------------------------- running one case


@contextmanager
def time_box(seconds: int) -> Iterator[None]:
    """Fail the case (not the whole run) when it runs past `seconds`."""
    def expired(*_: object) -> None:
        raise TimeoutError(f"case ran past its {seconds} s time box")

    old = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def run_bounded(argv: list[str], input_bytes: int) -> tuple[int, str]:
    """Run the CLI in-process: (exit code, stderr), checking time and traced memory."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with time_box(TIME_BOX_S):
            code, out, err = run_cli(argv)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    elapsed = time.perf_counter() - start
    assert elapsed < TIME_BOX_S
    limit = MEMORY_FACTOR * input_bytes + MEMORY_BASE
    assert peak < limit, f"peak traced memory {peak:,} B for {input_bytes:,} B of input"
    return code, out + err


def check_outcome(code: int, output: str, what: str) -> None:
    assert code in (0, 1), f"exit {code} on {what}:\n{output[-3000:]}"
    assert "Traceback" not in output and "internal error" not in output, output[-3000:]
    if code == 1:
        assert re.search(r"error\[CCAI\d{3}\]", output), output[-3000:]


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


# ---------------------------------------------------------------- the cases


def _long_csv(raw: bytes) -> bytes:
    """The CSV export's votes.csv as a long-format CSV (participant, statement, vote)."""
    rows = list(csv.DictReader(raw.decode("utf-8").splitlines()))
    body = "".join(f"{r['voter-id']},{r['comment-id']},{r['vote']},{r['timestamp']}\n"
                   for r in rows)
    return ("participant_id,statement_id,vote_value,timestamp\n" + body).encode()


Mutator = Callable[[random.Random, bytes], bytes]


def _source_case(tmp_path: Path, seed: int, export: Path, name: str, mutate: Mutator) -> None:
    rng = random.Random(seed)
    folder = tmp_path / "src"
    shutil.copytree(export, folder)
    target = folder / name
    target.write_bytes(mutate(rng, target.read_bytes()))
    code, output = run_bounded(["analyze", str(folder)], folder_bytes(folder))
    check_outcome(code, output, f"{name} seed {seed}")


def seeds(n: int, slow: int) -> list[object]:
    return [pytest.param(s, id=f"seed-{s}") for s in range(n)] + [
        pytest.param(s, id=f"seed-{s}", marks=pytest.mark.slow) for s in range(n, slow)]


@pytest.fixture
def exports() -> None:
    if not CSV_EXPORT.is_dir() or not JSON_EXPORT.is_dir():
        pytest.skip("../shared/data/polis is absent")


def pick_mutator(seed: int, structural: Mutator) -> Mutator:
    """Every third seed mutates bytes, the others structure."""
    return mutate_bytes if seed % 3 == 0 else structural


SOURCE_FILES = [(CSV_EXPORT, name, mutate_csv) for name in
                ("votes.csv", "comments.csv", "participants-votes.csv")] + [
    (JSON_EXPORT, name, mutate_json) for name in ("votes.json", "comments.json",
                                                  "math-pca2.json")]


@pytest.mark.usefixtures("exports")
@pytest.mark.parametrize("seed", seeds(FAST, SLOW))
@pytest.mark.parametrize(("export", "name", "structural"), SOURCE_FILES,
                         ids=[name for _, name, _ in SOURCE_FILES])
def test_polis_source_fuzz(tmp_path: Path, seed: int, export: Path, name: str,
                           structural: Mutator) -> None:
    _source_case(tmp_path, seed, export, name, pick_mutator(seed, structural))


@pytest.mark.usefixtures("exports")
@pytest.mark.parametrize("seed", seeds(FAST, SLOW))
def test_long_csv_fuzz(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    f = tmp_path / "votes.csv"
    raw = _long_csv((CSV_EXPORT / "votes.csv").read_bytes())
    f.write_bytes(pick_mutator(seed, mutate_csv)(rng, raw))
    code, output = run_bounded(["analyze", str(f)], f.stat().st_size)
    check_outcome(code, output, f"long csv seed {seed}")


SPEC = """assembly "a" {
  source polis { path = "src" }

  moderation {
    drop participants listed in file("toss.csv") because "listed"
  }

  groups export { file = "groups.csv" }

  consensus gac { threshold = 0.3 }
}
"""


@pytest.mark.usefixtures("exports")
@pytest.mark.parametrize("seed", seeds(FAST, SLOW))
@pytest.mark.parametrize("name", ["groups.csv", "toss.csv"])
def test_groups_and_id_files_fuzz(tmp_path: Path, seed: int, name: str,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(seed)
    shutil.copytree(CSV_EXPORT, tmp_path / "src")
    rows = list(csv.DictReader((CSV_EXPORT / "participants-votes.csv").read_text().splitlines()))
    files = {
        "groups.csv": "participant,group-id\n" + "".join(
            f"{r['participant']},{r['group-id']}\n" for r in rows),
        "toss.csv": "participant\n" + "".join(f"{r['participant']}\n" for r in rows[:5]),
    }
    for fname, text in files.items():
        raw = text.encode()
        if fname == name:
            raw = pick_mutator(seed, mutate_csv)(rng, raw)
        (tmp_path / fname).write_bytes(raw)
    (tmp_path / "main.ccai").write_text(SPEC)
    monkeypatch.chdir(tmp_path)
    code, output = run_bounded(["build", "main.ccai", "-o", str(tmp_path / "out"), "--until",
                                "assemblies"], folder_bytes(tmp_path))
    check_outcome(code, output, f"{name} seed {seed}")


def test_mutators_are_seeded() -> None:
    raw = b"a,b,c\n1,2,3\n4,5,6\n"
    assert mutate_csv(random.Random(5), raw) == mutate_csv(random.Random(5), raw)
    doc = json.dumps([{"pid": 1, "tid": 2, "vote": 1}]).encode()
    assert mutate_json(random.Random(5), doc) == mutate_json(random.Random(5), doc)
    assert any(mutate_json(random.Random(s), doc) != doc for s in range(5))
