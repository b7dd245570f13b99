"""`where` conditions lowered to predicates give the rows, the diagnostics, the id files and
the fields that the AST evaluation of before issue 12 gave (tests/lowering/_old_conditions.py),
on random conditions, variable values and tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from _old_conditions import bind_condition, condition_id_files, evaluate
from hypothesis import given, settings
from hypothesis import strategies as st

from ccaic.assembly.moderation import read_id_file
from ccaic.check.checker import _walk_condition
from ccaic.check.variables import Value
from ccaic.diagnostics import DiagnosticError
from ccaic.lowering.conditions import (
    And,
    Compare,
    Const,
    InFile,
    InList,
    Mask,
    Not,
    Or,
    Predicate,
    Table,
    id_files,
)
from ccaic.lowering.env import Env
from ccaic.lowering.lower_conditions import lower_condition
from ccaic.syntax import ast
from ccaic.syntax.parser import parse

IDS = ["1", "2", "3", "10", "643", "p0", "x-1"]
TEXTS = ["The AI should help", "be kind", "spam http", "", "AI must", "a b c"]
#: Atoms no table can make fail (no ordering on ids, which may not be numbers).
SAFE = ["votes > 25", "votes <= 3", "agrees == 2", "agrees != 0", "moderated == -1",
        "moderated >= 0", "votes < 2.5", "id == 3", 'id == "3.0"', 'id != " 10 "',
        'id == "${var.s}"', 'author == 7', 'author != ""', 'text == "be kind"',
        'text != "${var.s}"', "text matches /a/i", "text matches /^b/", "text matches /kind$/m",
        'id in [2, "10", "3.0"]', 'author in ["7", 8]', "id in var.l", "text in var.l",
        'id in file("ids.csv")', 'author in file("ids.csv")', 'text in ["be kind", ""]',
        "meta", "moderated", "text", "votes"]
ATOMS = [*SAFE, "id > 2", 'id <= "643"']  # CCAI438 where an id is not a number


@st.composite
def conditions(draw: st.DrawFn, atoms: list[str] = ATOMS, depth: int = 0) -> str:
    if depth > 2 or draw(st.booleans()):
        return draw(st.sampled_from(atoms))
    op = draw(st.sampled_from(["and", "or", "not", "paren"]))
    if op == "not":
        return f"not {draw(conditions(atoms, depth + 1))}"
    if op == "paren":
        return f"({draw(conditions(atoms, depth + 1))})"
    return f"({draw(conditions(atoms, depth + 1))}) {op} ({draw(conditions(atoms, depth + 1))})"


@st.composite
def tables(draw: st.DrawFn) -> dict[str, np.ndarray]:
    n = draw(st.integers(1, 6))
    ids = draw(st.lists(st.sampled_from(IDS), min_size=n, max_size=n, unique=True))
    ints = st.lists(st.integers(0, 40), min_size=n, max_size=n)
    fixed_width = draw(st.booleans())  # the sources give object arrays; tests gave "<U"
    return {
        "id": np.array(ids, dtype=None if fixed_width else object),
        "text": np.array(draw(st.lists(st.sampled_from(TEXTS), min_size=n, max_size=n)),
                         dtype=object),
        "author": np.array(draw(st.lists(st.sampled_from(["", "7", "8"]), min_size=n,
                                         max_size=n)), dtype=object),
        "moderated": np.array(draw(st.lists(st.sampled_from([-1, 0, 1]), min_size=n,
                                            max_size=n)), dtype=np.int64),
        "meta": np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool),
        "votes": np.array(draw(ints), dtype=np.int64),
        "agrees": np.array(draw(ints), dtype=np.int64),
    }


VARIABLES = st.fixed_dictionaries({
    "s": st.sampled_from(["3", "p0", "be kind", "", "10.0"]),
    "l": st.sampled_from([[1, "2", 4.0], ["be kind", True], [], ["643.0", "p0"]]),
})


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ids")
    (folder / "ids.csv").write_text("id\n3\n643.0\n7\n", encoding="utf-8")
    return folder


def _condition(text: str) -> ast.Condition:
    block = parse(f"m {{ drop statements where {text} }}", "c.ccai").items[0]
    assert isinstance(block, ast.Block) and isinstance(block.body[0], ast.Rule)
    clause = block.body[0].clause
    assert isinstance(clause, ast.WhereClause)
    return clause.condition


def _mask(cond: ast.Condition, table: Table) -> Mask:
    """The rows of `table` for which `cond` (no variables) holds, through its predicate."""
    return lower_condition(cond, Env({}), Path.cwd()).mask(table)


def _outcome(run: object) -> object:
    """The rows, or the diagnostics (code, message, span) the evaluation stopped with."""
    try:
        return list(run())  # type: ignore[operator]
    except DiagnosticError as exc:
        return [(d.code, d.message, d.span) for d in exc.diagnostics]


@settings(max_examples=300, deadline=None)
@given(text=conditions(), table=tables(), variables=VARIABLES)
def test_a_lowered_condition_selects_what_the_ast_evaluation_did(
        base: Path, text: str, table: dict[str, np.ndarray], variables: dict[str, Value]
) -> None:
    env = Env(variables)
    cond = _condition(text)
    bound = bind_condition(cond, env)
    old = _outcome(lambda: evaluate(bound, table, lambda e: set(read_id_file(env.path(e,
                                                                                      base)))))
    predicate = lower_condition(cond, env, base)
    assert _outcome(lambda: predicate.mask(table)) == old, text
    assert id_files(predicate) == [env.path(e, base) for e in condition_id_files(bound)]
    assert [f.name for f in predicate.fields()] == [
        n.name for n in _walk_condition(cond) if isinstance(n, ast.FieldRef)]
    assert [f.span for f in predicate.fields()] == [
        n.span for n in _walk_condition(cond) if isinstance(n, ast.FieldRef)]


@settings(max_examples=60, deadline=None)
@given(a=conditions(SAFE), b=conditions(SAFE), table=tables(), variables=VARIABLES)
def test_boolean_laws(base: Path, a: str, b: str, table: dict[str, np.ndarray],
                      variables: dict[str, Value]) -> None:
    def m(text: str) -> np.ndarray:
        return lower_condition(_condition(text), Env(variables), base).mask(table)

    assert (m(f"not ({a})") == ~m(a)).all()
    assert (m(f"not (({a}) and ({b}))") == (~m(a) | ~m(b))).all()  # De Morgan
    assert (m(f"({a}) or ({b})") == (m(a) | m(b))).all()


def test_the_lowered_predicate_is_plain_data(base: Path) -> None:
    """Variables, list members and file paths are decided in the lowering: the predicate
    holds text and numbers only, and serialises the same way each time (the assembly cache
    key hashes it)."""
    env = Env({"l": [1, "2", 4.0, True], "s": "3"})
    predicate: Predicate = lower_condition(
        _condition('id in var.l and not (author in file("ids.csv") or id == "${var.s}")'),
        env, base)
    assert isinstance(predicate, And)
    first, second = predicate.operands
    assert isinstance(first, InList) and first.members == ("1", "2", "4", "True")
    assert isinstance(second, Not) and isinstance(second.operand, Or)
    in_file, compare = second.operand.operands
    assert isinstance(in_file, InFile) and in_file.path == str(base / "ids.csv")
    assert isinstance(compare, Compare) and compare.right == Const(value="3")
    dumped = predicate.model_dump(mode="json")
    assert And.model_validate(dumped) == predicate
    assert predicate.model_dump_json() == And.model_validate(dumped).model_dump_json()


def test_a_list_variable_without_a_value_lists_no_one(tmp_path: Path) -> None:
    """`listed in var.x` with x = null lowers to a rule with no ids: it removes nothing and
    says so in the build output (it was a `where` rule with no condition, exit 3)."""
    import json

    from cli_runner import run_cli

    data = Path(__file__).resolve().parents[2] / "examples" / "quickstart" / "data"
    spec = tmp_path / "spec.ccai"
    spec.write_text('variable "x" {\n  type = list\n  default = null\n}\n'
                    f'assembly "a" {{\n  source polis {{ path = "{data}" }}\n'
                    '  moderation {\n    drop participants listed in var.x\n  }\n'
                    '  consensus gac { threshold = 0.3 }\n}\n', encoding="utf-8")
    code, out, err = run_cli(["build", str(spec), "-o", str(tmp_path / "out"), "--until",
                              "assemblies"])
    assert code == 0, err
    assert "drop participants listed in var.x: removed 0 participants" in out + err
    artifact = json.loads((tmp_path / "out" / "assemblies" / "a.json").read_text())
    assert [m["removed"] for m in artifact["moderation"]] == [2, 0]


# ---------------------------------------------------------------- worked examples


TABLE = {
    "id": np.array(["1", "2", "3", "10"]),
    "text": np.array(["The AI should help", "spam http", "be kind", "AI must"]),
    "moderated": np.array([1, -1, 0, 1]),
    "meta": np.array([False, False, True, False]),
    "votes": np.array([30, 5, 25, 26]),
}


def test_conditions_on_a_table() -> None:
    def rows(text: str) -> list[str]:
        return [str(i) for i in TABLE["id"][_mask(_condition(text), TABLE)]]

    assert rows("moderated == 1") == ["1", "10"]
    assert rows("votes <= 25") == ["2", "3"]
    assert rows("meta") == ["3"]
    assert rows("not meta and moderated != -1") == ["1", "10"]
    assert rows("text matches /\\bai\\b/i") == ["1", "10"]
    assert rows("id in [2, \"10\"]") == ["2", "10"]
    assert rows("id == 3") == ["3"]
    assert rows("id > 2") == ["3", "10"]  # ids order as numbers
    assert rows("(votes > 25 or meta) and not text matches /must/") == ["1", "3"]


def test_id_literals_take_the_sources_normal_form() -> None:
    """`id == "3.0"` and `id in ["3.0"]` matched nothing while `listed in ["3.0"]` removed 3."""
    def rows(text: str) -> list[str]:
        return [str(i) for i in TABLE["id"][_mask(_condition(text), TABLE)]]

    assert rows('id == "3.0"') == ["3"]
    assert rows('id != " 3 "') == ["1", "2", "10"]
    assert rows('id in ["+2", "010", "3.50"]') == ["2", "10"]
    assert rows('text in ["be kind"]') == ["3"]
    assert rows('text == " be kind"') == []  # other fields are compared as written


def test_a_catastrophic_regex_is_stopped_at_its_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """`/^(\\w+\\s?)*$/` on one near-miss sentence hung the build forever."""
    import signal
    import time

    from ccaic.diagnostics import DiagnosticError

    monkeypatch.setenv("CCAIC_REGEX_MAX_SECONDS", "1")
    table = {"text": np.array(["The AI should tell the truth even when it is uncomfortable "
                               "and always be honest with everyone!"], dtype=object)}
    handler = signal.getsignal(signal.SIGALRM)
    start = time.monotonic()
    with pytest.raises(DiagnosticError) as exc:
        _mask(_condition("text matches /^(\\w+\\s?)*$/"), table)
    assert time.monotonic() - start < 5
    [d] = exc.value.diagnostics
    assert d.code == "CCAI437" and d.span is not None and d.span.column == 40
    assert signal.getsignal(signal.SIGALRM) is handler  # the timer leaves nothing behind
    assert list(_mask(_condition("text matches /^(\\w+\\s?)+!$/"), table)) == [True]


def test_ordering_ids_that_are_not_numbers_is_ccai438() -> None:
    """`id > 2` over a long-format source's ids ("p0") exited 3 (float("p0"))."""
    from ccaic.diagnostics import DiagnosticError

    table = {"id": np.array(["p0", "7", "p2"], dtype=object), "votes": np.array([1, 2, 3])}
    for text, bad in (("id > 2", "'p0'"), ("votes > 1 and id <= \"x\"", "'p0'")):
        with pytest.raises(DiagnosticError) as exc:
            _mask(_condition(text), table)
        [d] = exc.value.diagnostics
        assert d.code == "CCAI438" and bad in d.message and d.span is not None
    assert list(_mask(_condition("id == 7 or votes < 2"), table)) == [True, True, False]
