"""Constitutions in other people's formats: read them in, write them back out.

Readers: the Hugging Face CAI recipe (`{"constitutions": [{"critic", "revision"}],
"system_chat": ...}`), Anthropic's released CAI prompts (CritiqueRevisionInstructions.json and
RLMadisonInstructions.json) and ccaic's own built constitution JSON. Writers: the HF recipe,
markdown, and canonical JSON (`canonical_json`). Every problem with an input file is a CCAI47x
diagnostic (raised as `DiagnosticError`), never a traceback: these functions are what `ccaic
diff` and `ccaic build` call on files a user named.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ccaic.canonical import canonical_json
from ccaic.constitution.model import (
    Constitution,
    Origin,
    Principle,
)
from ccaic.constitution.rewrite import as_critique, as_revision
from ccaic.diagnostics import DiagnosticError, Span, error
from ccaic.files import read_data_bytes

CRITIQUE_FILE = "CritiqueRevisionInstructions.json"
COMPARISON_FILE = "RLMadisonInstructions.json"

__all__ = [
    "canonical_json",
    "comparison_from_prompts",
    "load_anthropic",
    "load_constitution_file",
    "load_hf_recipe",
    "name_from_path",
    "to_hf_recipe",
    "to_markdown",
]


# ---------------------------------------------------------------- reading files


def _fail(code: str, message: str, path: str | Path, help: str) -> DiagnosticError:
    return DiagnosticError([error(code, message, Span.point(str(path), 1, 1), help=help)])


def read_json(path: str | Path) -> Any:
    """The parsed file; CCAI470 when it cannot be read, CCAI471 when it is not JSON."""
    try:
        text = read_data_bytes(path).decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise _fail("CCAI470", f"cannot read {path}: {reason}", path,
                    "check the path; diff and import take .ccai files or constitution JSON"
                    ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DiagnosticError([error(
            "CCAI471", f"{path} is not valid JSON: {exc.msg}",
            Span.point(str(path), exc.lineno, exc.colno, exc.pos),
            help="constitution files are JSON (a built constitution, the Hugging Face CAI "
            "recipe or Anthropic's CAI prompts); .ccai files must end in .ccai")]) from None


def name_from_path(path: str | Path) -> str:
    """An address-safe name: `llm-swarm-constitution_grok.json` -> `grok`."""
    stem = Path(path).stem
    stem = re.sub(r"^.*constitution[_-]", "", stem) or stem
    name = re.sub(r"[^0-9A-Za-z_]+", "_", stem).strip("_").lower()
    return name or "imported"


def _pid(index: int) -> str:
    return f"p{index + 1:02d}"


# ---------------------------------------------------------------- comparison text from prompts

_LIST_ITEM = r"(?:[a-z-]+\s+){0,3}[a-z-]+"
_CRITIQUE_LIST = re.compile(
    r"\b(?:response|responses|it|anything|said)\s+(?:that\s+)?"
    r"(?:may\s+be|is|are|was|were)\s+(?:in\s+(?:any|some)\s+way\s+)?"
    r"(?:interpreted\s+as\s+|considered\s+)?"
    rf"(?P<items>{_LIST_ITEM}(?:,?\s+(?:(?:or|and)\s+)?{_LIST_ITEM})*?)"
    r"(?:\s+in\s+any\s+way)?\s*(?:[.?]|$)", re.IGNORECASE)
_POSITIVE = {"thoughtful", "empathetic", "helpful", "honest", "appropriate", "age-appropriate",
             "respectful", "polite", "kind", "ethical", "harmless", "accurate", "caring"}
_REVISION_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bso that it(?:'s| is) ((?:more|less) .+)", re.I), "is {0}"),
    (re.compile(r"\bto make it ((?:more|less) .+)", re.I), "is {0}"),
    (re.compile(r"\bto (?:avoid) (.+)", re.I), "best avoids {0}"),
    (re.compile(r"\bto (?:reject|refuse) (.+)", re.I), "best rejects {0}"),
    (re.compile(r"\bto refrain from (.+)", re.I), "best refrains from {0}"),
    (re.compile(r"\bthat (refrains from .+|does not .+)", re.I), "{0}"),
    (re.compile(r"\bremoves? (?:any and all |all |any )?(.+? content)\b(.*)", re.I),
     "contains the least {0}{1}"),
)


def _critique_phrase(critique: str) -> str | None:
    """"... whether it is in any way sexist or racist" -> "is least sexist or racist"."""
    match = _CRITIQUE_LIST.search(critique)
    if match is None:
        return None
    items = match.group("items").strip()
    words = {w.strip(",").lower() for w in items.split()} - {"or", "and", "socially", "otherwise"}
    degree = "most" if words and words <= _POSITIVE else "least"
    return f"is {degree} {items}"


def _revision_phrase(revision: str) -> str | None:
    """"Rewrite the response to avoid X" -> "best avoids X"; the revision states the goal."""
    for pattern, template in _REVISION_RULES:
        match = pattern.search(revision)
        if match is not None:
            parts = [g.strip().rstrip(".") for g in match.groups()]
            return template.format(*parts)
    return None


def comparison_from_prompts(critique: str, revision: str) -> str:
    """A readable "Choose the response that ..." instruction from a critique/revision pair.

    The critique's list of faults is used first ("is least harmful, unethical or toxic"), then
    the goal the revision names; when neither rule applies the critique is quoted, so the text
    is always readable even if it is not idiomatic.
    """
    phrase = _critique_phrase(critique) or _revision_phrase(revision)
    if phrase is None:
        return f"Choose the response that best withstands this critique: {critique.strip()}"
    return f"Choose the response that {phrase.rstrip('.')}."


# ---------------------------------------------------------------- Hugging Face CAI recipe


def _flatten_chat(raw: Any, path: str | Path) -> tuple[tuple[dict[str, str], ...],
                                                        tuple[int, ...]]:
    """system_chat as a flat message list plus conversation lengths (empty when it was flat)."""
    if raw is None:
        return (), ()
    if not isinstance(raw, list):
        raise _fail("CCAI473", f"{path}: `system_chat` is not a list", path,
                    "system_chat is a list of {role, content} messages, or a list of such lists")
    nested = bool(raw) and all(isinstance(item, list) for item in raw)
    conversations = raw if nested else [raw]
    messages: list[dict[str, str]] = []
    for conversation in conversations:
        for message in conversation:
            if not (isinstance(message, dict) and all(isinstance(v, str)
                                                      for v in message.values())):
                raise _fail("CCAI473", f"{path}: a `system_chat` message is not an object of "
                            "strings", path, 'write messages as {"role": ..., "content": ...}')
            messages.append(dict(message))
    turns = tuple(len(c) for c in conversations) if nested else ()
    return tuple(messages), turns


def _hf_principles(entries: Any, name: str, path: str | Path) -> tuple[Principle, ...]:
    if not isinstance(entries, list) or not entries:
        raise _fail("CCAI474", f"{path} has no constitution entries", path,
                    'the HF recipe lists entries as "constitutions": [{"critic": ..., '
                    '"revision": ...}]')
    principles = []
    for i, entry in enumerate(entries):
        if not (isinstance(entry, dict) and isinstance(entry.get("critic"), str)
                and isinstance(entry.get("revision"), str)):
            raise _fail("CCAI473", f"{path}: constitutions[{i}] needs string `critic` and "
                        "`revision` fields", path, "each entry is {\"critic\": ..., "
                        "\"revision\": ...}")
        critic, revision = entry["critic"].strip(), entry["revision"].strip()
        pid = _pid(i)
        principles.append(Principle(
            address=f"principle.{name}.{pid}", id=pid,
            text=comparison_from_prompts(critic, revision), critique=critic, revision=revision))
    return tuple(principles)


def hf_recipe_from_data(data: Any, path: str | Path, name: str | None = None) -> Constitution:
    """The HF recipe already parsed (split out so sniffing reads the file once)."""
    if not isinstance(data, dict) or "constitutions" not in data:
        raise _fail("CCAI472", f"{path} is not a Hugging Face CAI recipe constitution", path,
                    'expected an object with "constitutions" (and optionally "system_chat")')
    name = name or name_from_path(path)
    chat, turns = _flatten_chat(data.get("system_chat"), path)
    return Constitution(
        name=name, description=f"Imported from the Hugging Face CAI recipe file "
        f"{Path(path).name}", origin=Origin(kind="import", source=Path(path).name,
                                             format="hf-recipe"),
        principles=_hf_principles(data["constitutions"], name, path),
        system_chat=chat, system_chat_turns=turns)


def load_hf_recipe(path: str | Path, name: str | None = None) -> Constitution:
    """One principle per critic/revision pair (`p01`...), system_chat kept for the round trip."""
    return hf_recipe_from_data(read_json(path), path, name)


def to_hf_recipe(c: Constitution) -> dict[str, Any]:
    """The HF recipe object; system_chat regrouped into its conversations when it had them."""
    chat: list[Any] = [dict(m) for m in c.system_chat]
    if c.system_chat_turns and sum(c.system_chat_turns) == len(chat):
        grouped, start = [], 0
        for n in c.system_chat_turns:
            grouped.append(chat[start:start + n])
            start += n
        chat = grouped
    return {"constitutions": [{"critic": p.critique, "revision": p.revision}
                              for p in c.principles],
            "system_chat": chat}


# ---------------------------------------------------------------- Anthropic's CAI release

_CRITIQUE_MARKS = re.compile(r"^\s*CritiqueRequest:\s*|\s*Critique:\s*$")
_REVISION_MARKS = re.compile(r"^\s*RevisionRequest:\s*|\s*Revision:\s*$")


def _anthropic_pairs(data: Any, path: str | Path) -> list[tuple[str, str]]:
    """(critique, revision) in harmful0, harmful1, ... order (numeric, not lexical)."""
    def order(key: str) -> tuple[int, str]:
        digits = re.search(r"(\d+)$", key)
        return (int(digits.group(1)) if digits else -1, key)

    pairs = []
    for key in sorted(data, key=order):
        entry = data[key]
        prompt = entry.get("prompt") if isinstance(entry, dict) else None
        edit = entry.get("edit_request") if isinstance(entry, dict) else None
        if isinstance(prompt, list):
            prompt = prompt[0] if prompt and isinstance(prompt[0], str) else None
        if not (isinstance(prompt, str) and isinstance(edit, str)):
            raise _fail("CCAI473", f"{path}: entry `{key}` needs a `prompt` and an "
                        "`edit_request`", path, "see Anthropic's CritiqueRevisionInstructions.json")
        pairs.append((_CRITIQUE_MARKS.sub("", prompt).strip(),
                      _REVISION_MARKS.sub("", edit).strip()))
    return pairs


def _comparison_texts(data: Any, path: str | Path) -> list[str]:
    if not (isinstance(data, list) and all(isinstance(x, str) for x in data)):
        raise _fail("CCAI473", f"{path} is not a list of comparison instructions", path,
                    "see Anthropic's RLMadisonInstructions.json")
    return [re.sub(r"\s*Options:\s*$", "", x).strip() for x in data]


def _is_critique_data(data: Any) -> bool:
    return isinstance(data, dict) and bool(data) and all(
        isinstance(v, dict) and "edit_request" in v for v in data.values())


def _is_comparison_data(data: Any) -> bool:
    return isinstance(data, list) and bool(data) and all(isinstance(x, str) for x in data)


def _anthropic_files(path: Path) -> tuple[Path | None, Path | None]:
    """The critique and comparison files for a folder or either file (the other beside it)."""
    folder = path if path.is_dir() else path.parent
    critique, comparison = folder / CRITIQUE_FILE, folder / COMPARISON_FILE
    if path.is_dir():
        return (critique if critique.is_file() else None,
                comparison if comparison.is_file() else None)
    if _is_comparison_data(read_json(path)):
        return (critique if critique.is_file() else None), path
    return path, (comparison if comparison.is_file() else None)


def load_anthropic(path_or_folder: str | Path, name: str = "anthropic") -> Constitution:
    """Anthropic's released CAI prompts as one constitution.

    Critique and revision requests come from CritiqueRevisionInstructions.json (harmful0..15),
    comparison text from RLMadisonInstructions.json. Anthropic's release does not pair the two
    lists: they are paired by position (harmful0 with the first comparison instruction, ...),
    so a principle's text and its critique may be about different things. With only one of
    the files, the missing half is derived (comparison text from the critique, or default
    critique/revision requests from the comparison text).
    """
    path = Path(path_or_folder)
    critique_file, comparison_file = _anthropic_files(path)
    if critique_file is None and comparison_file is None:
        raise _fail("CCAI474", f"{path} holds neither {CRITIQUE_FILE} nor {COMPARISON_FILE}",
                    path, "point at the folder of Anthropic's CAI release or one of its files")
    pairs = _anthropic_pairs(read_json(critique_file), critique_file) if critique_file else []
    texts = _comparison_texts(read_json(comparison_file), comparison_file) \
        if comparison_file else []
    principles = []
    for i in range(max(len(pairs), len(texts))):
        text = texts[i] if i < len(texts) else comparison_from_prompts(*pairs[i])
        critique, revision = pairs[i] if i < len(pairs) else (as_critique(text),
                                                              as_revision(text))
        pid = _pid(i)
        principles.append(Principle(address=f"principle.{name}.{pid}", id=pid, text=text,
                                    critique=critique, revision=revision))
    sources = ", ".join(f.name for f in (critique_file, comparison_file) if f is not None)
    return Constitution(
        name=name, description="Anthropic's released Constitutional AI prompts (critique/"
        "revision requests and comparison principles, paired by position)",
        origin=Origin(kind="import", source=sources, format="anthropic-cai"),
        principles=tuple(principles))


# ---------------------------------------------------------------- sniffing


def load_constitution_file(path: str | Path, name: str | None = None) -> Constitution:
    """Any constitution JSON ccaic knows, recognised by its shape rather than its name."""
    path = Path(path)
    if path.is_dir():
        return load_anthropic(path, name or "anthropic")
    data = read_json(path)
    if isinstance(data, dict) and "format_version" in data and "principles" in data:
        return _ccaic_constitution(data, path)
    if isinstance(data, dict) and "constitutions" in data:
        return hf_recipe_from_data(data, path, name)
    if _is_critique_data(data) or _is_comparison_data(data):
        return load_anthropic(path, name or "anthropic")
    raise _fail("CCAI472", f"{path} is not a constitution format ccaic knows", path,
                "ccaic reads its own built constitution JSON (format_version, principles), the "
                "Hugging Face CAI recipe (constitutions, system_chat) and Anthropic's CAI "
                "prompts (CritiqueRevisionInstructions.json, RLMadisonInstructions.json)")


def _ccaic_constitution(data: dict[str, Any], path: Path) -> Constitution:
    major = str(data.get("format_version", "")).split(".")[0]
    if major != "1":
        raise _fail("CCAI473", f"{path} has format_version {data.get('format_version')!r}; "
                    "this ccaic reads 1.x", path, "rebuild it with this version of ccaic")
    try:
        return Constitution.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise _fail("CCAI473", f"{path} is not a valid ccaic constitution: {where}: "
                    f"{first['msg']}", path, "rebuild it with `ccaic build FILE --until "
                    "constitution`") from None


# ---------------------------------------------------------------- markdown


def _origin_line(c: Constitution) -> str:
    o = c.origin
    if o.kind == "assembly":
        return f"Rendered from the statements of assembly `{o.source}`."
    if o.kind == "import":
        return f"Imported from `{o.source}` ({o.format or 'unknown format'})."
    return f"Written by hand{f' in `{o.source}`' if o.source else ''}."


def _principle_markdown(i: int, p: Any) -> list[str]:
    lines = [f"### {i}. {p.text}", "", f"`{p.address}`"
             + (f" · weight {p.weight:g}" if p.weight != 1.0 else "")
             + (f" · tags: {', '.join(p.tags)}" if p.tags else "")
             + (" · needs a hand edit" if p.needs_hand_edit else ""), "",
             f"- **Critique:** {p.critique}", f"- **Revision:** {p.revision}"]
    for e in p.edits:
        lines.append(f"- **Edit ({e.kind}):** {e.because or 'no reason given'}"
                     + (f" ({e.location})" if e.location else ""))
    if p.sources:
        lines += ["", "| statement | GAC | text |", "| --- | --- | --- |"]
        for s in p.sources:
            gac = f"{s.gac:.3f}" if s.gac is not None else "–"
            text = s.text.replace("|", "\\|").replace("\n", " ")
            lines.append(f"| {s.id} | {gac} | {text} |")
    return [*lines, ""]


def to_markdown(c: Constitution) -> str:
    """A readable document: what it is, where it came from, each principle with provenance."""
    lines = [f"# Constitution: {c.name}", ""]
    if c.description:
        lines += [c.description, ""]
    lines += [_origin_line(c), ""]
    if c.selection is not None:
        lines += [f"Selection: {c.selection.method} ({len(c.selection.statements)} statements).",
                  ""]
    lines += [f"## Principles ({len(c.principles)})", ""]
    for i, p in enumerate(c.principles, 1):
        lines += _principle_markdown(i, p)
    if c.dropped:
        lines += [f"## Dropped statements ({len(c.dropped)})", ""]
        lines += [f"- {d.id}: {d.text}" + (f" — {d.because}" if d.because else "")
                  for d in c.dropped]
        lines.append("")
    if c.system_chat:
        lines += [f"## Few-shot chat ({len(c.system_chat)} messages)", "",
                  "Kept from the import for the critique/revision prompts.", ""]
    return "\n".join(lines).rstrip() + "\n"
