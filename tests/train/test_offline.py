"""A Hugging Face id that is not cached fails in seconds without a Hub (issue 10: it retried
for about 55 s before CCAI513); turned-off steps are counted as off, not reused."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ccaic.diagnostics import DiagnosticError


@pytest.fixture
def no_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """An empty Hugging Face cache; the probe's memo cleared before and after."""
    from ccaic.models import load

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-hub"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    load._probe.cache_clear()
    yield monkeypatch
    load._probe.cache_clear()


def _fails_fast(plan, out: Path) -> str:  # type: ignore[no-untyped-def]
    from ccaic.train.runner import run_plan

    t0 = time.perf_counter()
    with pytest.raises(DiagnosticError) as caught:
        run_plan(plan, out)
    elapsed = time.perf_counter() - t0
    (d,) = caught.value.diagnostics
    assert d.code == "CCAI513" and elapsed < 5, (d.code, elapsed)
    return d.message


@pytest.mark.parametrize("how", ["HF_HUB_OFFLINE", "unreachable"])
def test_an_uncached_hub_id_fails_in_seconds(how: str, no_hub, tmp_path: Path,
                                             plan_files) -> None:
    write_plan, compiled = plan_files
    src = write_plan(tmp_path / "src", n_red=2)
    src.write_text(src.read_text().replace('"builtin:tiny"', '"org/not-cached@v1"'))
    if how == "HF_HUB_OFFLINE":
        no_hub.setenv("HF_HUB_OFFLINE", "1")
    else:  # an endpoint nothing answers (a closed local port)
        no_hub.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    message = _fails_fast(compiled(src), tmp_path / "out")
    assert "`org/not-cached` at revision v1 is not in the local Hugging Face cache" in message
    assert ("HF_HUB_OFFLINE is set" if how == "HF_HUB_OFFLINE" else "cannot be reached") \
        in message


def test_an_uncached_feedback_model_names_feedback_model(no_hub, tmp_path: Path,
                                                       plan_files) -> None:
    """The hint said "point `model` at a local folder" for a feedback_model too."""
    from ccaic.train.runner import run_plan

    write_plan, compiled = plan_files
    src = write_plan(tmp_path / "src", n_red=2)
    src.write_text(src.read_text().replace(
        'model           = "builtin:tiny"',
        'model           = "builtin:tiny"\n  feedback_model = "org/not-cached-judge"'))
    no_hub.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(DiagnosticError) as caught:
        run_plan(compiled(src), tmp_path / "out")
    (d,) = caught.value.diagnostics
    assert d.code == "CCAI513" and "`org/not-cached-judge`" in d.message, d.message
    assert "point `feedback_model` at a local folder" in (d.help or ""), d.help


def test_a_hub_that_never_answers_is_given_up_after_the_probe(no_hub) -> None:
    """A connection that opens and then hangs (a listening socket nobody reads)."""
    import socket

    from ccaic.models.load import HUB_PROBE_SECONDS, hub_problem

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        no_hub.setenv("HF_ENDPOINT", f"http://127.0.0.1:{silent.getsockname()[1]}")
        t0 = time.perf_counter()
        assert hub_problem("org/not-cached", None) is not None
        assert time.perf_counter() - t0 < HUB_PROBE_SECONDS + 1


def test_turned_off_steps_are_counted_as_off() -> None:
    from ccaic.train.runner import RunResult

    run = RunResult(out_dir=Path("."), steps={
        "step.initial": {"status": "cached"}, "step.sft": {"status": "ran"},
        "step.pairs": {"status": "off"}, "step.label": {"status": "off"}})
    assert [run.count(s) for s in ("ran", "cached", "off")] == [1, 1, 2]
