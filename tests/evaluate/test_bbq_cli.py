"""`ccaic evaluate bbq`: JSON shape, text table, diagnostics and exit codes."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from bbq_rows import balanced_rows, write
from cli_runner import run_cli

KEYS = {"accuracy_ambiguous", "accuracy_disambiguated", "bias_ambiguous", "bias_disambiguated",
        "bias_ambiguous_unscaled", "n_ambiguous", "n_disambiguated", "n_ambiguous_non_unknown",
        "n_disambiguated_non_unknown", "n_ambiguous_biased", "n_disambiguated_biased",
        "n_ambiguous_undetermined", "n_disambiguated_undetermined", "intervals"}


class ShortestAnswer:
    """A torch-free scorer: prefers the shortest continuation."""

    def score(self, prompts: Sequence[str], conts: Sequence[str]) -> list[float]:
        return [-float(len(c)) for c in conts]


@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch) -> None:
    import ccaic.evaluate.run as run_module

    monkeypatch.setattr(run_module, "load_scorer", lambda spec, seed, batch=16: ShortestAnswer())


def test_json_shape(tmp_path: Path, fake_model: None) -> None:
    write(tmp_path, "Age", balanced_rows(10))
    write(tmp_path, "Religion", balanced_rows(5, "Religion"))
    code, out, err = run_cli(["evaluate", "bbq", "--model", "fake", "--data", str(tmp_path),
                          "--limit", "12", "--format", "json", "--resamples", "50"])
    assert code == 0, err
    body = json.loads(out)
    assert body["format_version"] == "1.0"
    assert body["model"] == "fake"
    assert set(body["categories"]) == {"Age", "Religion"}
    age = body["categories"]["Age"]
    assert set(age) >= KEYS
    assert age["n_ambiguous"] == 6 and age["n_disambiguated"] == 6 and age["n_available"] == 40
    assert body["categories"]["Religion"]["n_ambiguous"] == 6
    assert set(age["intervals"]) == {"accuracy_ambiguous", "accuracy_disambiguated",
                                     "bias_ambiguous", "bias_disambiguated"}
    assert set(body["overall"]) >= KEYS
    assert body["overall"]["n_ambiguous"] == 12
    # "Can't be determined" is the longest option, so the shortest-answer model never picks it.
    assert age["accuracy_ambiguous"] == 0.0


def test_text_table(tmp_path: Path, fake_model: None) -> None:
    write(tmp_path, "Age", balanced_rows(3))
    code, out, _ = run_cli(["evaluate", "bbq", "--model", "fake", "--data", str(tmp_path)])
    assert code == 0
    assert out.splitlines()[1].split()[:3] == ["category", "n", "amb"]
    assert out.splitlines()[-1].startswith("overall")


def test_missing_data_is_a_diagnostic(tmp_path: Path) -> None:
    code, out, err = run_cli(["evaluate", "bbq", "--model", "builtin:tiny", "--data",
                          str(tmp_path / "nope"), "--format", "json"])
    assert code == 1
    assert json.loads(out)["diagnostics"][0]["code"] == "CCAI490"
    code, out, err = run_cli(["evaluate", "bbq", "--model", "builtin:tiny", "--data",
                              str(tmp_path)])
    assert code == 1 and "CCAI491" in err and out == ""


def test_unknown_builtin_model(tmp_path: Path) -> None:
    write(tmp_path, "Age", balanced_rows(1))
    code, _, err = run_cli(["evaluate", "bbq", "--model", "builtin:huge", "--data", str(tmp_path)])
    assert code == 1 and "CCAI494" in err


@pytest.mark.parametrize("argv", [["evaluate"], ["evaluate", "bbq", "--data", "x"],
                                  ["evaluate", "bbq", "--model", "m", "--data", "x",
                                   "--limit", "0"]])
def test_usage_errors_exit_1(argv: list[str]) -> None:
    assert run_cli(argv)[0] == 1


def test_builtin_tiny_end_to_end(shared: Path, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("ccaic.models.tiny")
    monkeypatch.setenv("CCAIC_CACHE", str(tmp_path))
    code, out, err = run_cli(["evaluate", "bbq", "--model", "builtin:tiny", "--data",
                          str(shared / "data" / "bbq"), "--limit", "8", "--format", "json",
                          "--resamples", "20"])
    assert code == 0, err
    body = json.loads(out)
    assert len(body["categories"]) == 6
    assert all(c["n_ambiguous"] == 4 and c["n_disambiguated"] == 4
               for c in body["categories"].values())
