"""One canonical JSON: its exact bytes, its properties, and no second copy in ccaic."""

from __future__ import annotations

import json
import re
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

import ccaic
from ccaic.canonical import canonical_json, canonical_jsonl, canonical_sha256, compact_json
from ccaic.constitution.model import Origin

# the few sorted dumps that are not canonical JSON, each for a reason
NOT_CANONICAL = {
    "canonical.py": "the one definition",
    "train/steps/base.py": "a log line (counts=...), not an artifact",
    "assembly/cache.py": "the cache's inputs manifest (indent 1): a cache file nobody diffs",
}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12)


def test_exact_bytes_of_every_form() -> None:
    """The bytes every artifact and hash already has: these pin plan.json and stage keys."""
    data = {"b": [1, 2.5], "a": "é→"}
    assert canonical_json(data) == '{\n  "a": "é→",\n  "b": [\n    1,\n    2.5\n  ]\n}\n'
    assert canonical_json(data, ascii=True) == \
        '{\n  "a": "\\u00e9\\u2192",\n  "b": [\n    1,\n    2.5\n  ]\n}\n'
    assert canonical_jsonl([data, {}]) == '{"a": "é→", "b": [1, 2.5]}\n{}\n'
    assert compact_json(data) == '{"a":"\\u00e9\\u2192","b":[1,2.5]}'
    assert compact_json({"p": Path("x")}, default=str) == '{"p":"x"}'
    assert canonical_sha256({}) == \
        "ca3d163bab055381827226140568f3bef7eaac187cebd76878e0b63e9e442356"  # sha256("{}\n")


def test_pydantic_models_dump_in_json_mode() -> None:
    origin = Origin(kind="hand-written")
    assert canonical_json(origin) == canonical_json(origin.model_dump(mode="json"))


@given(json_values)
def test_round_trip_and_fixed_point(value: object) -> None:
    text = canonical_json(value)
    assert json.loads(text) == value
    assert canonical_json(json.loads(text)) == text


@given(st.dictionaries(st.text(), st.integers(), max_size=6))
def test_key_order_does_not_matter(d: dict[str, int]) -> None:
    reversed_ = dict(reversed(list(d.items())))
    assert canonical_json(reversed_) == canonical_json(d)
    assert canonical_sha256(reversed_) == canonical_sha256(d)
    assert compact_json(reversed_) == compact_json(d)


def test_no_other_module_serialises_sorted_json() -> None:
    """Five copies of canonical JSON had grown; a new one must use ccaic.canonical instead."""
    root = Path(ccaic.__file__).parent
    found = {str(p.relative_to(root)) for p in root.rglob("*.py")
             if re.search(r"sort_keys\s*=\s*True", p.read_text(encoding="utf-8"))}
    assert found <= set(NOT_CANONICAL), sorted(found - set(NOT_CANONICAL))
