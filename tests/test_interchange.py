"""Import/export of constitutions: HF recipe, Anthropic's CAI release, markdown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ccaic.canonical import canonical_json
from ccaic.constitution.interchange import (
    comparison_from_prompts,
    load_anthropic,
    load_constitution_file,
    load_hf_recipe,
    to_hf_recipe,
    to_markdown,
)
from ccaic.diagnostics import DiagnosticError


def test_hf_anthropic_and_grok(shared: Path) -> None:
    a = load_hf_recipe(shared / "data/cai/llm-swarm-constitution_anthropic.json")
    g = load_hf_recipe(shared / "data/cai/llm-swarm-constitution_grok.json")
    assert (a.name, len(a.principles)) == ("anthropic", 16)
    assert (g.name, len(g.principles)) == ("grok", 2)
    assert a.principles[0].address == "principle.anthropic.p01"
    assert all(p.text.startswith("Choose the response that") for p in a.principles)
    assert a.principles[1].text == ("Choose the response that is least insensitive, sexist, "
                                    "racist, or socially inappropriate.")


@pytest.mark.parametrize("stem", ["anthropic", "grok"])
def test_hf_round_trip(shared: Path, tmp_path: Path, stem: str) -> None:
    source = shared / f"data/cai/llm-swarm-constitution_{stem}.json"
    first = load_hf_recipe(source)
    exported = to_hf_recipe(first)
    assert exported == json.loads(source.read_text())
    (tmp_path / "x.json").write_text(json.dumps(exported))
    again = load_hf_recipe(tmp_path / "x.json")
    assert [(p.critique, p.revision) for p in again.principles] == \
        [(p.critique, p.revision) for p in first.principles]
    assert again.system_chat == first.system_chat
    assert to_hf_recipe(again) == exported


def test_flat_system_chat_stays_flat(tmp_path: Path) -> None:
    data = {"constitutions": [{"critic": "Is it rude?", "revision": "Make it polite."}],
            "system_chat": [{"role": "user", "content": "hi"}]}
    (tmp_path / "c.json").write_text(json.dumps(data))
    assert to_hf_recipe(load_hf_recipe(tmp_path / "c.json")) == data


def test_anthropic_release_loads_16(shared: Path) -> None:
    c = load_anthropic(shared / "data/cai")
    assert len(c.principles) == 16
    assert c.origin.format == "anthropic-cai"
    first = c.principles[0]
    assert first.critique.startswith("Identify specific ways")
    assert "CritiqueRequest" not in first.critique and "Critique:" not in first.critique
    assert first.revision.startswith("Please rewrite") and "Revision:" not in first.revision
    assert first.text.startswith("Please choose the assistant response")
    assert "Options" not in first.text
    # harmful10 comes after harmful9 (numeric order, not lexical)
    assert "controversal" in c.principles[10].critique


def test_sniffing(shared: Path, tmp_path: Path) -> None:
    cai = shared / "data/cai"
    assert load_constitution_file(cai / "CritiqueRevisionInstructions.json").origin.format == \
        "anthropic-cai"
    assert load_constitution_file(cai / "RLMadisonInstructions.json").origin.format == \
        "anthropic-cai"
    c = load_constitution_file(cai / "llm-swarm-constitution_grok.json")
    (tmp_path / "built.json").write_text(canonical_json(c))
    assert load_constitution_file(tmp_path / "built.json") == c


@pytest.mark.parametrize(("content", "code"), [
    ("{not json", "CCAI471"),
    ('{"rules": []}', "CCAI472"),
    ('{"constitutions": [{"critic": "x"}]}', "CCAI473"),
    ('{"constitutions": []}', "CCAI474"),
    ('{"format_version": "9.0", "principles": []}', "CCAI473"),
])
def test_bad_files_are_diagnostics(tmp_path: Path, content: str, code: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(DiagnosticError) as info:
        load_constitution_file(path)
    assert info.value.diagnostics[0].code == code


def test_missing_file() -> None:
    with pytest.raises(DiagnosticError) as info:
        load_constitution_file("no/such/file.json")
    assert info.value.diagnostics[0].code == "CCAI470"


def test_comparison_text_rules() -> None:
    critique = "Say whether the response is thoughtful and empathetic."
    assert comparison_from_prompts(critique, "x") == \
        "Choose the response that is most thoughtful and empathetic."
    assert comparison_from_prompts("Discuss.", "Rewrite the response to avoid insults.") == \
        "Choose the response that best avoids insults."
    assert comparison_from_prompts("Discuss.", "Do better.").startswith(
        "Choose the response that best withstands this critique: Discuss.")


def test_markdown(shared: Path) -> None:
    c = load_hf_recipe(shared / "data/cai/llm-swarm-constitution_grok.json")
    md = to_markdown(c)
    assert md.startswith("# Constitution: grok")
    assert "### 1. " in md and "**Critique:**" in md and "`principle.grok.p02`" in md
    assert "Imported from `llm-swarm-constitution_grok.json` (hf-recipe)" in md
