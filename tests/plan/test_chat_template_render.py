"""A plan's chat template file is rendered on ccaic's conversations at compile time (CCAI531),
so a template that parses but fails to render cannot crash the first generation (exit 3)."""

from __future__ import annotations

import pytest

from ccaic.plan.chat_templates import BUILTIN_TEMPLATES, SAMPLE_CONVERSATIONS, render_problem

LOOP = "{% for m in messages %}X{% endfor %}"
FAILING = {
    "unknown filter": LOOP.replace("X", "{{ m.content | shout }}"),
    "missing field": LOOP.replace("X", "{{ m.meta.name }}"),
    "raise_exception": "{% if messages[0].role != 'system' %}{{ raise_exception('no system') }}"
                       "{% endif %}" + LOOP,
    "division by zero": LOOP + "{{ 1 / 0 }}",
}
RENDERING = {
    **BUILTIN_TEMPLATES,
    "tojson": LOOP.replace("X", "{{ m.content | tojson }}"),
    "tools unset": "{% if tools is not none %}{{ tools | length }}{% endif %}" + LOOP,
}


@pytest.mark.parametrize("name", sorted(FAILING))
def test_templates_transformers_cannot_render_are_problems(name: str) -> None:
    pytest.importorskip("transformers")
    from transformers.utils.chat_template_utils import render_jinja_template

    assert render_problem(FAILING[name])
    messages, prompt = SAMPLE_CONVERSATIONS[0]
    with pytest.raises(Exception):  # noqa: B017 - the point: transformers fails on it too
        render_jinja_template(conversations=[messages], chat_template=FAILING[name],
                              add_generation_prompt=prompt)


@pytest.mark.parametrize("name", sorted(RENDERING))
def test_templates_transformers_renders_pass(name: str) -> None:
    pytest.importorskip("transformers")
    from transformers.utils.chat_template_utils import render_jinja_template

    assert render_problem(RENDERING[name]) is None
    for messages, prompt in SAMPLE_CONVERSATIONS:
        render_jinja_template(conversations=[messages], chat_template=RENDERING[name],
                              add_generation_prompt=prompt)


def test_a_model_template_that_refuses_the_conversation_is_ccai540() -> None:
    """The model's own template (not the plan's) is rendered only once loaded; one that raises
    (a template demanding a system turn) was exit 3 when the model was loaded (its end-of-turn
    probe) and at the first generation. `ccaic build` now exits 1 with CCAI540."""
    pytest.importorskip("transformers")
    from transformers import AutoTokenizer

    from ccaic.diagnostics import DiagnosticError
    from ccaic.models.lm import render, turn_stop_ids
    from ccaic.models.tiny import tiny_path

    tok = AutoTokenizer.from_pretrained(str(tiny_path(0)))
    messages, _ = SAMPLE_CONVERSATIONS[0]
    assert "Again?" in render(tok, "./m", messages)
    tok.chat_template = FAILING["raise_exception"]
    assert turn_stop_ids(tok) == [tok.eos_token_id]  # loading the model gets this far
    with pytest.raises(DiagnosticError) as caught:
        render(tok, "./m", messages)
    (d,) = caught.value.diagnostics
    assert d.code == "CCAI540" and "no system" in d.message and "chatml" in (d.help or "")
