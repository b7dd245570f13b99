"""Files a spec names beside its source: id lists (`listed in file(...)`) and groups files.

Both hold ids that must match the source's, so both go through `normalize_id` (an ids-to-toss
file written as "643.0" removes participant 643), and both say what did not match: an id list
whose ids match nothing, or a groups file that leaves participants out, is a warning with a
count (CCAI434, CCAI433), never a silent no-op. A participant given two different groups is an
error (CCAI432): the last row silently winning was a wrong number.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from ccaic.assembly._io import (
    MAX_REPORTS,
    group_labels,
    id_error,
    id_problem,
    normalize_id,
    normalize_ids,
    read_csv,
    read_text,
    span_at,
)
from ccaic.assembly.votes import natural_key
from ccaic.diagnostics import Diagnostic, DiagnosticError, Note, Span, error, warning

#: First-line values taken for a header, not an id, in an id list.
ID_HEADERS = frozenset({"id", "ids", "participant", "pid", "statement_id", "participant_id",
                        "comment-id", "voter-id", "tid", "statement"})


def read_id_entries(path: str) -> list[tuple[str, int]]:
    """(normalised id, line) per id in a one-id-per-line file (first CSV field).

    Blank lines are skipped, and so is a first line that is a header (a known column name, or
    text that is not an id-like word); an id over MAX_ID_CHARS is CCAI430."""
    text = read_text(Path(path), path)
    out: list[tuple[str, int]] = []
    for n, line in enumerate(text.split("\n"), start=1):
        raw = line.split(",")[0].strip().strip('"')
        value = normalize_id(raw)
        if not value or (n == 1 and _is_header(value)):
            continue
        problem = id_problem(value, "id")
        if problem is not None:
            raise DiagnosticError([id_error(f"{path}: {problem}", span_at(path, n, 1), False)])
        out.append((value, n))
    return out


def _is_header(value: str) -> bool:
    return value.lower() in ID_HEADERS or not value.lstrip("-").replace("_", "").replace(
        "-", "").isalnum()


def unmatched_ids(entries: Iterable[tuple[str, int]], known: Iterable[str], what: str,
                  where: str, span: Span | None) -> Diagnostic | None:
    """CCAI434 (warning) when listed ids match no `what` of the source; None when all match.

    `entries` are (id, line) pairs (line 0: written inline at `span`), `where` names the list;
    the warning points at the first unmatched id."""
    have = set(known)
    missing = [(i, n) for i, n in entries if i not in have]
    if not missing:
        return None
    total = len({i for i, _ in entries})
    distinct = sorted({i for i, _ in missing}, key=natural_key)
    shown = ", ".join(repr(i) for i in distinct[:5]) + (", ..." if len(distinct) > 5 else "")
    first_line = missing[0][1]
    at = span_at(where, first_line, 1) if first_line else span
    return warning(
        "CCAI434", f"{where}: {len(distinct)} of {total} listed ids match no {what} of the "
        f"source ({shown})", at,
        help=f"check the ids against the source's {what} ids; a list for another source or "
        "another id column removes nothing")


def read_groups_file(path: str, participant_column: str, column: str) -> dict[str, str]:
    """Participant id -> group label from a CSV groups file, ids and labels normalised.

    Missing columns are CCAI417; a blank label leaves the participant unclustered; one
    participant with two different labels is CCAI432 (located at the second row)."""
    table = read_csv(Path(path), path)
    missing = [c for c in (participant_column, column) if c not in table.header]
    if missing:
        raise DiagnosticError([error(
            "CCAI417", f"{path}: no column {', '.join(repr(m) for m in missing)} in the groups "
            "file", span_at(path, 1, 1), help=f"the header has: {', '.join(table.header[:12])}; "
            "name the columns with `participant_column` and `column`")])
    pi, gi = table.header.index(participant_column), table.header.index(column)
    pids = normalize_ids([r[pi] if pi < len(r) else "" for r in table.rows], "participant id",
                         lambda r: table.span(r, pi), path)
    labels = group_labels([r[gi] if gi < len(r) else "" for r in table.rows],
                          lambda r: table.span(r, gi), path)
    out: dict[str, str] = {}
    first: dict[str, int] = {}
    diags: list[Diagnostic] = []
    for r, (pid, label) in enumerate(zip(pids, labels, strict=True)):
        if pid in first and out.get(pid, "") != label and len(diags) < MAX_REPORTS:
            diags.append(error(
                "CCAI432", f"{path}: participant {pid!r} is in group {label or '(none)'!r} "
                f"here and in group {out.get(pid, '(none)')!r} on line "
                f"{table.lines[first[pid]]}", table.span(r, gi),
                help="give each participant one group: remove or fix one of the rows"))
        first.setdefault(pid, r)
        if label and pid not in out:
            out[pid] = label
    if diags:
        raise DiagnosticError(diags)
    return out


def groups_file_coverage(participants: Sequence[str], groups: dict[str, str], path: str,
                         source_participants: Sequence[str] | None = None) -> list[Diagnostic]:
    """CCAI433 (warning) when participants of the (moderated) table have no group in the file
    (they are left unclustered), counting also the file's ids that match no participant of
    the source as loaded (`source_participants`, default `participants`); CCAI435 (raised)
    when no participant has a group."""
    absent = sum(1 for p in participants if p not in groups)
    if not absent:
        return []
    if absent == len(participants):
        raise DiagnosticError([no_group_given(path, len(groups))])
    strangers = len(set(groups) - set(source_participants or participants))
    extra = (f"; {strangers} of its {len(groups)} ids match no participant of the source"
             if strangers else "")
    return [warning(
        "CCAI433", f"{path}: {absent} of {len(participants)} participants have no group in "
        f"the groups file and are left unclustered{extra}", span_at(path, 1, 1),
        help="give every participant a group, or check that the file's ids are the source's "
        "participant ids")]


def no_group_given(path: str, rows: int) -> Diagnostic:
    """CCAI435: a groups file that groups no participant of the table would give groups with
    no members, and every statement a GAC of 0 (it crashed on a file with a header only)."""
    what = (f"none of its {rows} grouped ids is a participant left after moderation" if rows
            else "it gives no participant a group")
    return error("CCAI435", f"{path}: the groups file groups no participant ({what})",
                 span_at(path, 1, 1),
                 help="give the source's participants a group in the file (participant id, "
                 "group label), or check that it is the groups file of this export")


def listed_unmatched(listed: Sequence[str] | None, listed_file: str | None, subject: str,
                     span: Span | None, participants: Sequence[str],
                     statement_ids: Sequence[str]) -> list[Diagnostic]:
    """CCAI434 warnings for a `listed in [...]` / `listed in file(...)` rule whose ids match
    nothing in the source as loaded (before any rule), each with a note at the rule."""
    known = participants if subject == "participants" else statement_ids
    what = "participant" if subject == "participants" else "statement"
    found = []
    if listed:
        found.append(unmatched_ids([(normalize_id(i), 0) for i in listed], known, what,
                                   "listed ids", span))
    if listed_file is not None:
        found.append(unmatched_ids(read_id_entries(listed_file), known, what, listed_file,
                                   None))
    return [d.model_copy(update={"notes": (*d.notes, Note(message="listed by this rule",
                                                          span=span))})
            for d in found if d is not None]

