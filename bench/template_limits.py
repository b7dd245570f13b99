"""What hostile principle templates cost now, and what the bounds cost an ordinary template.

    python bench/template_limits.py [--statements N]

Renders each template of docs/limits.md (Templates) over N synthetic selected statements,
the way a build does (ccaic.constitution.render), and prints for each the diagnostic code,
the seconds and the peak Python memory; then the time per principle of an ordinary template
under ccaic's bounded sandbox and under Jinja2's plain SandboxedEnvironment.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from pathlib import Path
from tempfile import TemporaryDirectory

from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from ccaic.check.checker import check_paths
from ccaic.constitution import templates
from ccaic.constitution.model import StatementRef
from ccaic.constitution.render import SelectedStatements, build_constitutions

HOSTILE = [
    "{{ 'x' * 10**6 }}",
    "{{ 'x' * 10**8 }}",
    "{{ 10**5000 }}",
    '{{ "%*d" | format(10**8, 1) }}',
    "{% for a in statement.text %}{% for b in statement.text %}{% for c in statement.text %}"
    "{{ a }}{{ b }}{{ c }}{% endfor %}{% endfor %}{% endfor %}",
    "{% for a in statement.text * 100 %}{% for b in statement.text * 100 %}{% endfor %}"
    "{% endfor %}",
]
ORDINARY = "Choose the response that {{ statement.text | strip_period | lower_first }}."
TEXT = "The AI should tell the truth even when the truth is not what the user hopes to hear."


def _spec(template: str) -> str:
    return ('assembly "a" {\n  source polis { path = "x" }\n  consensus gac { top_k = 5 }\n}\n\n'
            f'constitution "c" {{\n  from     = assembly.a\n  template = """{template}"""\n}}\n')


def _selection(n: int) -> SelectedStatements:
    refs = tuple(StatementRef(id=str(i), text=f"{TEXT} ({i})", gac=0.8, agrees=10, disagrees=2,
                              passes=1, rank=i) for i in range(1, n + 1))
    return SelectedStatements(assembly="a", method="top", threshold=None, top_k=n,
                              statements=refs, candidates={r.id: r for r in refs})


def run(template: str, n: int, folder: Path) -> tuple[str, float, float]:
    """(outcome, seconds, peak MiB) of rendering `template` for n statements."""
    path = folder / "t.ccai"
    path.write_text(_spec(template))
    programs, diags = check_paths([str(path)])
    if any(d.is_error for d in diags):
        return "check: " + ",".join(d.code for d in diags), 0.0, 0.0
    tracemalloc.start()
    start = time.perf_counter()
    constitutions, render_diags = build_constitutions(programs[0], {}, {"a": _selection(n)})
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    outcome = render_diags[0].code if render_diags else \
        f"ok, {sum(len(p.text) for c in constitutions for p in c.principles)} chars"
    return outcome, seconds, peak


def render_seconds(n: int) -> tuple[float, float]:
    """Seconds to render the ordinary template n times: bounded, and in Jinja2's own sandbox
    with the same filters and no bounds."""
    env = SandboxedEnvironment(undefined=StrictUndefined)
    env.filters.update(templates.filters())
    plain = env.from_string(ORDINARY)
    contexts = [{"statement": templates.present("statement", r.model_dump())}
                for r in _selection(n).statements]
    start = time.perf_counter()
    for context in contexts:
        templates.render(ORDINARY, context, templates.Limits())
    bounded = time.perf_counter() - start
    start = time.perf_counter()
    for context in contexts:
        plain.render(**context)
    return bounded, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--statements", type=int, default=100)
    n = parser.parse_args().statements
    with TemporaryDirectory() as tmp:
        for template in HOSTILE:
            outcome, seconds, peak = run(template, n, Path(tmp))
            print(f"{outcome:10} {seconds:7.3f} s {peak:7.1f} MiB  {template[:70]}")
        outcome, seconds, _ = run(ORDINARY, n, Path(tmp))
    print(f"ordinary template, {n} principles: {outcome} in {seconds:.3f} s (critique and "
          "revision requests included)")
    bounded, plain = render_seconds(n)
    print(f"one render of it: {bounded / n * 1e6:.0f} us bounded, {plain / n * 1e6:.0f} us in "
          "Jinja2's plain sandbox")


if __name__ == "__main__":
    main()
