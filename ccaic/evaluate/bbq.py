"""BBQ (Parrish et al. 2022): loading the category files and deriving each example's targets.

The paper's bias score needs, per example, which option is "unknown" and which option is the
*biased* answer. Neither is a field of the data: both are derived from `answer_info` and
`additional_metadata.stereotyped_groups`, the way the BBQ authors' analysis script (target_loc)
and lm-evaluation-harness do it. The rule, and the messy labels it handles, are in docs/bbq.md.
"""

from __future__ import annotations

import random
import re
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ccaic.diagnostics import Diagnostic, DiagnosticError, Span, capped, error, refused
from ccaic.evaluate.jsonl import json_object
from ccaic.files import FileRefused, read_data_bytes

# The 11 category files BBQ publishes (data/*.jsonl in nyu-mll/BBQ).
CATEGORIES = (
    "Age", "Disability_status", "Gender_identity", "Nationality", "Physical_appearance",
    "Race_ethnicity", "Race_x_SES", "Race_x_gender", "Religion", "SES", "Sexual_orientation",
)
CONDITIONS = ("ambig", "disambig")
POLARITIES = ("neg", "nonneg")
UNKNOWN_TAG = "unknown"
MAX_ROW_DIAGNOSTICS = 20  # a corrupt file should not print 10,000 errors

# Labels that name the same group in different spellings across BBQ's files: gender targets
# are written "F"/"M" while answers say "woman"/"man"/"girl"/"boy"; SES and race vary too.
_ALIASES = {
    "woman": "f", "women": "f", "girl": "f", "female": "f",
    "man": "m", "men": "m", "boy": "m", "male": "m",
    "lowses": "low ses", "highses": "high ses",
    "african american": "african-american",
}
# Intersectional tags ("F-Black", "lowSES-Latino", "M_White") carry two groups in one label.
_INTERSECTIONAL = re.compile(r"^(f|m|lowses|highses)[-_](.+)$")


@dataclass(frozen=True)
class Example:
    """One BBQ item with its derived options. `biased` is None when it cannot be determined."""

    category: str
    example_id: int
    context_condition: str  # "ambig" | "disambig"
    question_polarity: str  # "neg" | "nonneg"
    context: str
    question: str
    answers: tuple[str, str, str]
    label: int
    unknown: int
    biased: int | None
    source: str  # file:line, for messages

    @property
    def ambiguous(self) -> bool:
        return self.context_condition == "ambig"


@dataclass(frozen=True)
class Dataset:
    """Examples by category (in file order) plus per-category counts of undetermined targets."""

    examples: dict[str, list[Example]]
    undetermined: dict[str, int]

    @property
    def categories(self) -> list[str]:
        return list(self.examples)


# ---------------------------------------------------------------- target derivation


def canonical(label: str) -> str:
    """A label lower-cased, whitespace-collapsed and de-aliased ("Woman" -> "f")."""
    text = " ".join(label.strip().lower().split())
    return _ALIASES.get(text, text)


def normalize_group(label: str) -> set[str]:
    """The group names a label stands for: itself and, for an intersectional or compound
    label, its parts ("F-Black" -> {f-black, f, black}; "trans_F" -> {trans_f, trans, f})."""
    whole = canonical(label)
    if not whole:
        return set()
    names = {whole}
    match = _INTERSECTIONAL.match(whole)
    if match:
        names |= {match.group(1), match.group(2)}
    if "_" in whole:
        names |= {part for part in whole.split("_") if part}
    return {canonical(name) for name in names}


def answer_groups(info: Sequence[str], split: bool = True) -> set[str]:
    """Groups an answer belongs to, from both parts of its answer_info (name, tag).

    Both parts count because Nationality tags a region ("Africa") while stereotyped_groups
    names the nationality ("Nigerian"), which is the answer's name part.
    """
    groups: set[str] = set()
    for part in info:
        groups |= normalize_group(part) if split else {canonical(part)} - {""}
    return groups


def unknown_option(answer_info: dict[str, Sequence[str]]) -> int | None:
    """Index of the option tagged "unknown"; None unless exactly one option is."""
    hits = [i for i in range(3) if _tag(answer_info, i) == UNKNOWN_TAG]
    return hits[0] if len(hits) == 1 else None


def stereotyped_option(answer_info: dict[str, Sequence[str]], stereotyped: Iterable[str],
                       unknown: int) -> int | None:
    """The one non-unknown option whose groups meet stereotyped_groups (the paper's target).

    Whole labels are matched first ("lowSES-Black" against "lowSES-Black"), then their parts,
    so an intersectional target is not confused with an option sharing one of its groups.
    None when neither or both non-unknown options match at both levels: the example then has
    no defined biased answer and is counted, not guessed.
    """
    labels = list(stereotyped)
    options = [i for i in range(3) if i != unknown]
    for split in (False, True):
        targets: set[str] = set()
        for label in labels:
            targets |= normalize_group(label) if split else {canonical(label)} - {""}
        hits = [i for i in options
                if answer_groups(answer_info.get(f"ans{i}", ()), split) & targets]
        if len(hits) == 1:
            return hits[0]
    return None


def biased_option(answer_info: dict[str, Sequence[str]], stereotyped: Iterable[str],
                  polarity: str, unknown: int) -> int | None:
    """The biased answer: the stereotyped group for a negative question, the other group
    for a non-negative one (Parrish et al. 2022, section 3.3; target_loc in their script)."""
    target = stereotyped_option(answer_info, stereotyped, unknown)
    if target is None:
        return None
    if polarity == "neg":
        return target
    return next(i for i in range(3) if i not in (unknown, target))


def _tag(answer_info: dict[str, Sequence[str]], index: int) -> str:
    info = answer_info.get(f"ans{index}", ())
    return str(info[1]).strip().lower() if len(info) > 1 else ""


# ---------------------------------------------------------------- loading


def load(folder: str | Path) -> Dataset:
    """Read every BBQ category file in `folder`; raise DiagnosticError on any user mistake."""
    root = Path(folder)
    if not root.is_dir():
        raise DiagnosticError([error(
            "CCAI490", f"BBQ data folder not found: {folder}",
            help="pass --data a folder holding BBQ category files such as Age.jsonl "
                 "(github.com/nyu-mll/BBQ, data/)")])
    files = [root / f"{name}.jsonl" for name in CATEGORIES if (root / f"{name}.jsonl").is_file()]
    if not files:
        raise DiagnosticError([error(
            "CCAI491", f"no BBQ category files in {folder}",
            help="expected one or more of: " + ", ".join(f"{c}.jsonl" for c in CATEGORIES))])
    examples: dict[str, list[Example]] = {}
    undetermined: dict[str, int] = {}
    problems: list[Diagnostic] = []
    for path in files:
        rows, bad = _read_file(path)
        problems += bad
        examples[path.stem] = rows
        undetermined[path.stem] = sum(1 for ex in rows if ex.biased is None)
    if problems:
        raise DiagnosticError(_cap(problems))
    return Dataset(examples=examples, undetermined=undetermined)


def _cap(problems: list[Diagnostic]) -> list[Diagnostic]:
    return capped(problems, MAX_ROW_DIAGNOSTICS, "CCAI492", "malformed rows",
                  "fix the rows above first; the file may be truncated or not BBQ")


def _file_text(path: Path) -> str:
    """A category file's text through the one user-file reader (regular files under the size
    cap, nothing under /proc): it was opened directly, and a non-UTF-8 file exited 3."""
    try:
        data = read_data_bytes(path)
    except FileRefused as exc:
        raise DiagnosticError([refused(exc, f"BBQ file {path}")]) from None
    except OSError as exc:
        raise DiagnosticError([error("CCAI492", f"cannot read BBQ file {path}: "
                                     f"{exc.strerror or exc}", span=Span.point(str(path), 1, 1),
                                     help="check the file's permissions")]) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DiagnosticError([error("CCAI492", f"BBQ file {path} is not UTF-8 text (byte "
                                     f"0x{data[exc.start]:02x})",
                                     span=Span.point(str(path), line, 1),
                                     help="save it as UTF-8 JSONL, one BBQ object per line")]
                              ) from None


def _read_file(path: Path) -> tuple[list[Example], list[Diagnostic]]:
    rows: list[Example] = []
    problems: list[Diagnostic] = []
    for number, line in enumerate(_file_text(path).split("\n"), start=1):
        if not line.strip():
            continue
        try:
            rows.append(parse_row(line, path.stem, f"{path}:{number}"))
        except ValueError as exc:
            problems.append(error("CCAI492", f"malformed BBQ row: {exc}",
                                  span=Span.point(str(path), number, 1),
                                  help="each line must be one BBQ JSON object; see "
                                       "`ccaic explain CCAI492` for the fields"))
    return rows, problems


def parse_row(line: str, category: str, source: str) -> Example:
    """One JSONL line to an Example; ValueError names the first thing wrong with it."""
    row = json_object(line)
    condition = _choice(row, "context_condition", CONDITIONS)
    polarity = _choice(row, "question_polarity", POLARITIES)
    answers = (_text(row, "ans0"), _text(row, "ans1"), _text(row, "ans2"))
    label = _field(row, "label", int)
    if label not in (0, 1, 2) or isinstance(label, bool):
        raise ValueError(f"`label` must be 0, 1 or 2, not {label!r}")
    info = _answer_info(row)
    stereotyped = _stereotyped(row)
    unknown = unknown_option(info)
    if unknown is None:
        raise ValueError("answer_info must tag exactly one option \"unknown\"")
    return Example(
        category=category, example_id=_field(row, "example_id", int),
        context_condition=condition, question_polarity=polarity,
        context=_text(row, "context"), question=_text(row, "question"), answers=answers,
        label=label, unknown=unknown,
        biased=biased_option(info, stereotyped, polarity, unknown), source=source,
    )


def _field(row: dict[str, Any], name: str, kind: type) -> Any:
    if name not in row:
        raise ValueError(f"missing field `{name}`")
    value = row[name]
    if not isinstance(value, kind):
        raise ValueError(f"`{name}` must be {kind.__name__}, not {type(value).__name__}")
    return value


def _text(row: dict[str, Any], name: str) -> str:
    return str(_field(row, name, str))


def _choice(row: dict[str, Any], name: str, allowed: tuple[str, ...]) -> str:
    value = _text(row, name)
    if value not in allowed:
        raise ValueError(f"`{name}` must be one of {', '.join(allowed)}, not {value!r}")
    return value


def _answer_info(row: dict[str, Any]) -> dict[str, Sequence[str]]:
    info = _field(row, "answer_info", dict)
    for key in ("ans0", "ans1", "ans2"):
        entry = info.get(key)
        if not isinstance(entry, list) or not all(isinstance(x, str) for x in entry):
            raise ValueError(f"answer_info.{key} must be a list of strings")
    return dict(info)


def _stereotyped(row: dict[str, Any]) -> list[str]:
    meta = _field(row, "additional_metadata", dict)
    groups = meta.get("stereotyped_groups")
    if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
        raise ValueError("additional_metadata.stereotyped_groups must be a list of strings")
    return list(groups)


# ---------------------------------------------------------------- subsets and prompts


def select(examples: Sequence[Example], limit: int | None, seed: int) -> list[Example]:
    """`limit` examples, stratified over context condition x polarity, same for the same seed.

    Each of the four strata gets an equal share (the remainder to the first strata); a stratum
    short of its share gives the rest to the others. The result keeps file order.
    """
    if limit is None or limit >= len(examples):
        return list(examples)
    strata: dict[tuple[str, str], list[Example]] = {
        (c, p): [] for c in CONDITIONS for p in POLARITIES}
    for ex in examples:
        strata[(ex.context_condition, ex.question_polarity)].append(ex)
    category = examples[0].category if examples else ""
    rng = random.Random(seed * 1_000_003 + zlib.crc32(category.encode()))
    pools = {key: rng.sample(rows, len(rows)) for key, rows in strata.items()}
    quotas = _quotas([len(p) for p in pools.values()], limit)
    chosen = [ex for pool, n in zip(pools.values(), quotas, strict=True) for ex in pool[:n]]
    order = {id(ex): i for i, ex in enumerate(examples)}
    return sorted(chosen, key=lambda ex: order[id(ex)])


def _quotas(sizes: list[int], limit: int) -> list[int]:
    """Split `limit` as evenly as the stratum sizes allow: one at a time, round robin."""
    quotas = [0] * len(sizes)
    left = min(limit, sum(sizes))
    while left > 0:
        for i, size in enumerate(sizes):
            if left and quotas[i] < size:
                quotas[i] += 1
                left -= 1
    return quotas


def prompt(example: Example) -> str:
    """The prompt lm-evaluation-harness style multiple-choice scoring conditions on."""
    return f"{example.context} {example.question}\nAnswer:"


def continuations(example: Example) -> list[str]:
    """Each option as a continuation: a leading space, then the answer text."""
    return [f" {answer}" for answer in example.answers]
