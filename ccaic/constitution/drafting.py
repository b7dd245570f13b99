"""Model-assisted drafting, checked against the votes, reviewed through a lock file.

A constitution with a `draft { model = "..." }` block asks a model to draft each principle
rendered from statements (one or a merge's several; not one an `edit` block words by hand) in
the target style, "Choose the response that ...". `ccaic suggest drafts FILE` drafts and
checks; the build only reads the result:

- every draft is checked against its sources: sentence-embedding similarity to each source
  statement >= `similarity`, and, when a `judge` model is configured, entailment ("does this
  principle say what these statements say, and nothing more?"). A draft that fails is kept with
  `needs_hand_edit` and the reason, and a constitution built from it stays flagged;
- drafts are cached by content (a key over the model, judge, threshold, prompt and source
  texts) in `principles.lock.json` beside the .ccai file, which a human reviews and commits;
- `ccaic suggest drafts FILE --accept [ID ...]` records the reviewer's decision: it re-runs the
  checks on each draft's text as it is now (a hand-fixed text loses its flag only when it
  passes) and marks it accepted, keeping the model's own text beside an edited one;
- the same command names the constitution's topics with the model (ccaic.report.topics), kept
  in the lock file too;
- a build with a `draft` block uses accepted drafts whose key still matches, and otherwise
  fails with CCAI481, which says how to draft and accept: it never calls a model and never uses
  an unreviewed draft. The lock file is read as a build input (ccaic.files) and its sha256 and
  topic names are recorded in the constitution (`drafts`).
"""

from __future__ import annotations

import hashlib
import json
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from ccaic.canonical import canonical_json, canonical_sha256
from ccaic.constitution.model import DraftLock, Edit, Principle
from ccaic.constitution.rewrite import PRINCIPLE_PREFIX
from ccaic.diagnostics import Diagnostic, DiagnosticError, Note, Span, error
from ccaic.files import read_data_bytes
from ccaic.lowering.constitution import FEEDBACK, DraftSpec

LOCK_NAME = "principles.lock.json"
LOCK_FORMAT = "1.0"
PROMPT_VERSION = 1  # in every key: a changed prompt drafts again


def drafts_command(file: str, variables: Sequence[str]) -> str:
    """`ccaic suggest drafts` for this .ccai file and these --var values, quoted as the user
    can paste it back (a hint that says `FILE` leaves the user to work out which)."""
    return shlex.join(["ccaic", "suggest", "drafts", file,
                       *(arg for v in variables for arg in ("--var", v))])


def accept_help(command: str) -> str:
    """CCAI481's hint: draft with `command`, review, accept with it, commit."""
    return (f"run `{command}` to draft them into {LOCK_NAME}, review that file (fix any text "
            f"flagged needs_hand_edit), then `{command} --accept` and commit it")


class Drafter(Protocol):
    """Completes each prompt (the text after "Choose the response that")."""

    def complete(self, prompts: list[str]) -> list[str]: ...


class Judge(Protocol):
    """Whether a principle says what the statements say, and nothing more."""

    def entails(self, principle: str, statements: Sequence[str]) -> bool: ...


@dataclass(frozen=True)
class Draft:
    key: str
    sources: tuple[str, ...]  # statement ids
    text: str
    needs_hand_edit: bool
    reason: str | None  # why a check failed
    similarity: tuple[float, ...]  # to each source, in order
    entailed: bool | None  # None: no judge
    accepted: bool = False
    drafted: str | None = None  # the model's own text (`text` is what the reviewer left)
    checked: str | None = None  # sha256 of the text the checks last ran on

    @property
    def unchecked(self) -> bool:
        """Its text was edited after the checks ran: accepting it again re-checks it."""
        return self.checked is not None and self.checked != text_sha(self.text)

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "sources": list(self.sources), "text": self.text,
                "needs_hand_edit": self.needs_hand_edit, "reason": self.reason,
                "similarity": list(self.similarity), "entailed": self.entailed,
                "accepted": self.accepted, "drafted": self.drafted, "checked": self.checked}


@dataclass(frozen=True)
class TopicNames:
    """One constitution's topic names by the model that gave them (ccaic.report.topics key)."""

    model: str
    names: dict[str, str]


@dataclass(frozen=True)
class Lock:
    """principles.lock.json: per constitution, each principle's draft and the topic names."""

    drafts: dict[str, dict[str, Draft]] = field(default_factory=dict)
    topics: dict[str, TopicNames] = field(default_factory=dict)
    sha256: str | None = None  # of the bytes read; None: no file


def lock_path(spec: DraftSpec) -> Path:
    return Path(spec.span.file).resolve().parent / LOCK_NAME


def draftable(principle: Principle) -> bool:
    """Rendered from statements and not worded by hand in an `edit` block (a person's text
    is never replaced by a model's)."""
    return bool(principle.sources) and not any(e.kind == "override" for e in principle.edits)


def source_texts(principle: Principle) -> list[str]:
    return [s.text for s in principle.sources]


def prompt(statements: Sequence[str], style: Sequence[str] = ()) -> str:
    """The drafting prompt: the target constitution's style (its hand-written principles, when
    it has any), the statements, then the principle's fixed opening to complete."""
    listed = "\n".join(f"- {s}" for s in statements)
    shown = "".join(f"- {s}\n" for s in style)
    return ("Rewrite these statements from a public vote as one principle for an AI "
            "constitution. Say what they say and nothing more.\n"
            + (f"Write it in the style of the constitution's other principles:\n{shown}"
               if style else "")
            + f"Statements:\n{listed}\nPrinciple: {PRINCIPLE_PREFIX}")


def principle_text(completion: str) -> str:
    """A completion as a principle: its first line after the fixed opening, one full stop."""
    line = (completion.strip().splitlines() or [""])[0].strip().rstrip(".")
    return f"{PRINCIPLE_PREFIX} {line}." if line else f"{PRINCIPLE_PREFIX}."


def text_sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def draft_key(spec: DraftSpec, statements: Sequence[str]) -> str:
    return canonical_sha256({"model": spec.model, "judge": spec.judge,
                             "similarity": spec.similarity, "prompt": PROMPT_VERSION,
                             "statements": list(statements),
                             **({"style": list(spec.style)} if spec.style else {})})


def check(text: str, statements: Sequence[str], ids: Sequence[str], threshold: float,
          judge: Judge | None) -> tuple[tuple[float, ...], bool | None, str | None]:
    """(similarity to each statement, entailment, the reason it fails or None); the reason
    names a statement by its id (`ids`, beside `statements`), as the reviewer finds it."""
    from ccaic.assembly.duplicates import resolve_matcher
    from ccaic.diff.match import similarity

    sims = tuple(float(x) for x in similarity(resolve_matcher("auto"), [text],
                                              list(statements))[0])
    low = [f"similarity {s:.2f} to statement {sid} is below {threshold:g}"
           for sid, s in zip(ids, sims, strict=True) if s < threshold]
    entailed = judge.entails(text, statements) if judge is not None else None
    if entailed is False:
        low.append("the judge model says it does not say what the statements say")
    return sims, entailed, "; ".join(low) or None


def draft_all(name: str, principles: Sequence[Principle], spec: DraftSpec, lock: Lock,
              drafter: Drafter, judge: Judge | None) -> tuple[Lock, int]:
    """Drafts for every principle from statements; a cached draft (same key) is kept as it is,
    accepted or not. Returns the new lock and how many drafts the model wrote."""
    old = lock.drafts.get(name, {})
    todo = [p for p in principles if draftable(p)
            and (p.id not in old or old[p.id].key != draft_key(spec, source_texts(p)))]
    completions = (drafter.complete([prompt(source_texts(p), spec.style) for p in todo])
                   if todo else [])
    entries = {pid: d for pid, d in old.items()
               if pid in {p.id for p in principles if draftable(p)}}
    for p, completion in zip(todo, completions, strict=True):
        text = principle_text(completion)
        sims, entailed, reason = check(text, source_texts(p), [s.id for s in p.sources],
                                       spec.similarity, judge)
        entries[p.id] = Draft(draft_key(spec, source_texts(p)), tuple(s.id for s in p.sources),
                              text, reason is not None, reason, sims, entailed, drafted=text,
                              checked=text_sha(text))
    return replace(lock, drafts={**lock.drafts, name: dict(sorted(entries.items()))}), len(todo)


def name_topics(name: str, topics: Sequence[tuple[str, str]], spec: DraftSpec, lock: Lock,
                namer: Drafter) -> tuple[Lock, int]:
    """The model's name for each (key, prompt) topic (ccaic.report.topics.named_topics); names
    the same model gave before are kept. Returns the new lock and how many it asked for."""
    from ccaic.report.topics import topic_name

    had = lock.topics.get(name)
    old = had.names if had is not None and had.model == spec.model else {}
    todo = [(key, text) for key, text in topics if key not in old]
    completions = namer.complete([text for _, text in todo]) if todo else []
    names = {key: old[key] for key, _ in topics if key in old}
    for (key, _), completion in zip(todo, completions, strict=True):
        names[key] = topic_name(completion) or ""  # "": asked, no name (keywords stay)
    rest = {k: v for k, v in lock.topics.items() if k != name}
    named = {name: TopicNames(spec.model, dict(sorted(names.items())))} if names else {}
    return replace(lock, topics=dict(sorted({**rest, **named}.items()))), len(todo)


def accept(name: str, principles: Sequence[Principle], spec: DraftSpec, lock: Lock,
           judge: Judge | None, ids: Sequence[str] = ()) -> tuple[Lock, list[str]]:
    """The reviewer's decision: the current drafts of `ids` (every current draft when empty)
    re-checked on their text as it is now (the reviewer may have fixed it: `drafted` keeps the
    model's) and marked accepted; a text stays flagged while a check fails. Returns the new
    lock and the accepted ids; CCAI485 for an id with no current draft."""
    drafts = lock.drafts.get(name, {})
    current = set(principles_with_draft(principles, spec, drafts))
    unknown = [i for i in ids if i not in current]
    if unknown:
        raise DiagnosticError([error(
            "CCAI485", f"constitution `{name}` has no current draft `{unknown[0]}` to accept",
            spec.span, notes=[Note(message="drafts: " + (", ".join(sorted(current)) or "none"))],
            help="give the ids of principles.lock.json's drafts (`ccaic suggest drafts FILE` "
            "drafts what is missing), or --accept alone for all of them")])
    chosen = set(ids) or current
    by_id = {p.id: p for p in principles}
    entries = dict(drafts)
    for pid in sorted(chosen):
        d = drafts[pid]
        sources = by_id[pid].sources
        sims, entailed, reason = check(d.text, source_texts(by_id[pid]),
                                       [s.id for s in sources], spec.similarity, judge)
        entries[pid] = replace(d, needs_hand_edit=reason is not None, reason=reason,
                               similarity=sims, entailed=entailed, accepted=True,
                               drafted=d.text if d.drafted is None else d.drafted,
                               checked=text_sha(d.text))
    return replace(lock, drafts={**lock.drafts, name: entries}), sorted(chosen)


def _draft(d: dict[str, Any]) -> Draft:
    return Draft(key=d["key"], sources=tuple(d["sources"]), text=d["text"],
                 needs_hand_edit=bool(d["needs_hand_edit"]), reason=d.get("reason"),
                 similarity=tuple(d.get("similarity", ())), entailed=d.get("entailed"),
                 accepted=bool(d["accepted"]), drafted=d.get("drafted", d["text"]),
                 checked=d.get("checked"))


def read_lock(path: Path) -> Lock:
    """The lock file (a build input, read through ccaic.files so it is recorded), or an empty
    lock when there is none; CCAI482 when it cannot be read."""
    if not path.is_file():
        return Lock()
    try:
        raw = read_data_bytes(path)
        data = json.loads(raw.decode("utf-8"))
        drafts = {name: {pid: _draft(d) for pid, d in entries.items()}
                  for name, entries in data["constitutions"].items()}
        topics = {name: TopicNames(str(t["model"]), {str(k): str(v)
                                                      for k, v in t["names"].items()})
                  for name, t in data.get("topics", {}).items()}
        return Lock(drafts, topics, hashlib.sha256(raw).hexdigest())
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise DiagnosticError([error(
            "CCAI482", f"cannot read {path.name}: {type(exc).__name__}: {exc}",
            Span.point(str(path), 1, 1),
            help="restore it from version control, or delete it and draft again with "
            "`ccaic suggest drafts FILE`")]) from None


def lock_text(lock: Lock) -> str:
    topics = {name: {"model": t.model, "names": t.names} for name, t in lock.topics.items()}
    return canonical_json({"format_version": LOCK_FORMAT, "constitutions": {
        name: {pid: d.to_dict() for pid, d in drafts.items()}
        for name, drafts in lock.drafts.items()}, **({"topics": topics} if topics else {})})


def principles_with_draft(principles: Sequence[Principle], spec: DraftSpec,
                          drafts: Mapping[str, Draft], accepted: bool = False) -> list[str]:
    """Ids of the principles from statements with a current draft (its key matches today's
    statements and settings), or, with `accepted`, a current accepted one whose text is the one
    its checks ran on (a text edited after them is not reviewed until accepted again)."""
    def current(p: Principle) -> bool:
        d = drafts.get(p.id)
        return (d is not None and (not accepted or (d.accepted and not d.unchecked))
                and d.key == draft_key(spec, source_texts(p)))

    return [p.id for p in principles if draftable(p) and current(p)]


def without_draft(principles: Sequence[Principle], spec: DraftSpec,
                  drafts: Mapping[str, Draft], accepted: bool = True) -> list[str]:
    """Ids of the principles from statements with no current (accepted) draft."""
    have = set(principles_with_draft(principles, spec, drafts, accepted))
    return [p.id for p in principles if draftable(p) and p.id not in have]


def require_model(name: str, spec: DraftSpec) -> None:
    """CCAI484 for `model = "feedback"` that lowering could not resolve: no plan trains it."""
    if spec.model == FEEDBACK:
        raise DiagnosticError([error(
            "CCAI484", f'constitution `{name}` drafts with model = "feedback", but no plan '
            "trains it", spec.span, help='name the model (`model = "builtin:tiny"`), or add a '
            f"plan with `constitution = constitution.{name}`")])


def apply_lock(name: str, principles: Sequence[Principle], spec: DraftSpec,
               prompts: Callable[[str, str, list[str]], tuple[str, str]], command: str
               ) -> tuple[list[Principle], DraftLock | None, list[Diagnostic]]:
    """The principles with their reviewed drafts and the record of the lock they came from,
    or CCAI481 naming those without one, whose hint runs `command` (drafts_command).
    `prompts(id, text, statement ids)` renders a principle's critique and revision."""
    require_model(name, spec)
    path = lock_path(spec)
    lock = read_lock(path)
    drafts = lock.drafts.get(name, {})
    missing = without_draft(principles, spec, drafts)
    if missing:
        shown = ", ".join(missing[:8]) + (f" and {len(missing) - 8} more" if len(missing) > 8
                                          else "")
        return list(principles), None, [error(
            "CCAI481", f"constitution `{name}`: {len(missing)} principle"
            f"{'s have' if len(missing) != 1 else ' has'} no reviewed draft in {path.name} "
            f"({shown})", spec.span, help=accept_help(command))]
    topics = lock.topics.get(name)
    record = DraftLock(file=LOCK_NAME, sha256=lock.sha256 or "",
                       topic_names={k: v for k, v in topics.names.items() if v}
                       if topics and topics.model == spec.model else {})
    return [_drafted(p, drafts[p.id], spec, prompts) if draftable(p) else p
            for p in principles], record, []


def _drafted(p: Principle, draft: Draft, spec: DraftSpec,
             prompts: Callable[[str, str, list[str]], tuple[str, str]]) -> Principle:
    edited = "edited by hand and " if draft.drafted not in (None, draft.text) else ""
    because = f"drafted by {spec.model}, {edited}reviewed in {LOCK_NAME}"
    if draft.reason:
        because += f"; needs a hand edit: {draft.reason}"
    critique, revision = prompts(p.id, draft.text, [s.id for s in p.sources])
    edit = Edit(kind="override", because=because, location=f"{LOCK_NAME}#{p.id}", before=p.text)
    return p.model_copy(update={"text": draft.text, "critique": critique, "revision": revision,
                                "edits": (*p.edits, edit),
                                "needs_hand_edit": draft.needs_hand_edit})


# ---------------------------------------------------------------- models


class ModelDrafter:
    """A model reference's completions, greedy: builtin:tiny, a Hub id, a folder, or an
    OpenAI-compatible endpoint (`openai:<model>@<url>`)."""

    def __init__(self, lm: Any, max_new_tokens: int = 40) -> None:
        self.lm = lm
        self.max_new_tokens = max_new_tokens

    def complete(self, prompts: list[str]) -> list[str]:
        from ccaic.plan.model import Sampling

        sampling = Sampling(max_new_tokens=self.max_new_tokens, temperature=0.0)
        return [g.text for g in self.lm.generate_texts(prompts, sampling, 0)]


class ModelJudge:
    """Entailment as the judge model's choice between " Yes" and " No"."""

    def __init__(self, lm: Any) -> None:
        self.lm = lm

    def entails(self, principle: str, statements: Sequence[str]) -> bool:
        listed = "\n".join(f"- {s}" for s in statements)
        question = (f"Statements:\n{listed}\nPrinciple: {principle}\nDoes this principle say "
                    "what these statements say, and nothing more? Answer:")
        yes, no = self.lm.option_logprobs([question], (" Yes", " No"))[0]
        return bool(yes > no)


def load_lm(ref_text: str, base: Path) -> Any:
    """The generator for a model reference (LM, or RemoteLM for an endpoint); the reference's
    own diagnostic (CCAI501/CCAI502) when it names nothing."""
    from ccaic.models.load import model_location, model_revision
    from ccaic.models.ref import parse_model_ref

    ref, code, message = parse_model_ref(ref_text, base, remote_ok=True)
    if ref is None:
        raise DiagnosticError([error(code, message, None,
                                     help="write builtin:tiny, a Hub id, a model folder or "
                                     "openai:<model>@<url>")])
    if ref.kind == "openai":
        from ccaic.models.remote import RemoteLM

        return RemoteLM(ref)
    from ccaic.models.lm import LM

    return LM(model_location(ref, str(base), 0), model_revision(ref))
