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
