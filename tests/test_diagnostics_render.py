"""Diagnostics never echo what they must not: other files' contents, control characters, or
a whole megabyte line (issue 11)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ccaic.diagnostics import (
    MAX_DIAGNOSTICS_PER_FILE,
    MAX_SNIPPET_CHARS,
    Diagnostic,
    SourceCache,
    Span,
    cap_per_file,
    error,
    escape_control,
    render_github,
    render_json,
    render_text,
    warning,
)
from tests.cli_runner import run_cli


def _one(span: Span, sources: SourceCache, message: str = "m") -> str:
    return render_text([error("CCAI101", message, span, help="h")], sources)


def test_no_snippet_from_files_that_are_not_ccai(tmp_path: Path) -> None:
    secret = tmp_path / "environ"
    secret.write_text("AWS_SECRET_ACCESS_KEY=hunter2\n", encoding="utf-8")
    data = tmp_path / "votes.csv"
    data.write_text("voter-id,vote\nhunter2,1\n", encoding="utf-8")
    for path in (secret, data):
        text = _one(Span.point(str(path), 1, 1), SourceCache({str(secret): secret.read_text()}))
        assert "hunter2" not in text
        body = json.loads(render_json([error("CCAI101", "m", Span.point(str(path), 1, 1))]))
        assert "snippet" not in body["diagnostics"][0]


def test_no_snippet_from_a_ccai_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.ccai"
    path.write_bytes(b'x = "caf\xe9 hunter2"\n')
    assert "hunter2" not in _one(Span.point(str(path), 1, 1), SourceCache())


def test_ccai_snippets_still_shown(tmp_path: Path) -> None:
    path = tmp_path / "a.ccai"
    path.write_text('assembly "a" {\n  colour = 1\n}\n', encoding="utf-8")
    text = _one(Span(file=str(path), line=2, column=3, end_line=2, end_column=9), SourceCache())
    assert "2 |   colour = 1\n  |   ^~~~~~\n" in text


def test_long_lines_are_cut_around_the_span() -> None:
    line = "a" * 500_000 + "BAD" + "b" * 500_000
    span = Span(file="x.ccai", line=1, column=500_001, end_line=1, end_column=500_004)
    text = _one(span, SourceCache({"x.ccai": line}))
    shown, marker = text.splitlines()[2], text.splitlines()[3]
    assert len(shown) < MAX_SNIPPET_CHARS + 20
    assert shown.startswith("1 | ...") and shown.endswith("...")
    assert shown[marker.index("^"):marker.index("^") + 3] == "BAD"
    assert marker.split("|")[1].strip() == "^~~"
    snippet = json.loads(render_json([error("CCAI101", "m", span)],
                                      SourceCache({"x.ccai": line})))["diagnostics"][0]["snippet"]
    code = snippet["code"]
    assert len(code) == MAX_SNIPPET_CHARS
    assert code[snippet["highlight_start_offset"]:snippet["highlight_end_offset"]] == "BAD"


def test_control_characters_are_escaped() -> None:
    line = 'x = "\x1b[2J\x1b]0;pwned\x07" \u202eevil'
    span = Span(file="x.ccai", line=1, column=5, end_line=1, end_column=len(line) + 1)
    text = _one(span, SourceCache({"x.ccai": line}), message="bad \x1b[31mred\r")
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text and "\r" not in text
    assert "\\x1b[2J" in text and "\\u202e" in text and "bad \\x1b[31mred\\x0d" in text
    gh = render_github([error("CCAI101", "a\x1b[31mb", Span.point("x.ccai", 1, 1))])
    assert "\x1b" not in gh


def test_the_marker_stays_under_escaped_text() -> None:
    line = "\x1b\x1b\x1bname"
    span = Span(file="x.ccai", line=1, column=4, end_line=1, end_column=8)
    lines = _one(span, SourceCache({"x.ccai": line})).splitlines()
    shown, marker = lines[2], lines[3]
    start = marker.index("^")
    assert shown[start:start + 4] == "name" and marker.endswith("^~~~")


@given(st.text(max_size=300), st.integers(1, 320), st.integers(0, 40))
def test_snippets_never_carry_control_characters(line: str, column: int, width: int) -> None:
    span = Span(file="x.ccai", line=1, column=column, end_line=1, end_column=column + width)
    text = _one(span, SourceCache({"x.ccai": line.replace("\n", " ")}))
    assert escape_control(text.replace("\n", "")) == text.replace("\n", "")


def test_check_does_not_print_an_imported_environment(tmp_path: Path) -> None:
    """The issue's reproducer: `import "/proc/self/environ"` printed the environment."""
    (tmp_path / "main.ccai").write_text('import "/proc/self/environ"\n', encoding="utf-8")
    code, _, err = run_cli(["check", str(tmp_path / "main.ccai")])
    assert code == 1 and "PATH=" not in err and "HOME=" not in err


@pytest.mark.parametrize("root", [True, False])
def test_a_ccai_symlink_to_another_file_is_not_quoted(tmp_path: Path, root: bool) -> None:
    """`env.ccai -> /proc/self/environ` (a symlink a shared repository can carry), checked
    or imported, printed the environment in the snippet of its parse error; a link to any
    file not named .ccai (~/.netrc, say) is located but not quoted."""
    (tmp_path / "netrc").write_text("machine x login me password hunter2 @\n", encoding="utf-8")
    (tmp_path / "creds.ccai").symlink_to(tmp_path / "netrc")
    (tmp_path / "env.ccai").symlink_to("/proc/self/environ")
    first = Path("/proc/self/environ").read_bytes().split(b"\0")[0].decode("utf-8", "replace")
    for name in ("creds.ccai", "env.ccai"):
        (tmp_path / "main.ccai").write_text(f'import "{name}"\n', encoding="utf-8")
        code, _, err = run_cli(["check", str(tmp_path / (name if root else "main.ccai"))])
        assert code == 1 and "hunter2" not in err and first and first[:40] not in err, err
    assert "creds.ccai:1:" in run_cli(["check", str(tmp_path / "creds.ccai")])[2]


def _at(file: str, line: int, warn: bool = False) -> Diagnostic:
    make = warning if warn else error
    return make("CCAI202", f"d{line}", Span.point(file, line, 1))


def test_cap_per_file_counts_what_it_leaves_out() -> None:
    diags = [*(_at("a.ccai", n) for n in range(1, 6)), _at("a.ccai", 6, warn=True),
             _at("b.ccai", 1)]
    capped = cap_per_file(diags, 3)
    assert [d.message for d in capped[:4]] == ["d1", "d2", "d3", "d1"]
    (extra,) = capped[4:]
    assert extra.code == "CCAI112" and extra.is_error
    assert extra.message == "2 more errors and 1 more warning in a.ccai not shown, from here on"
    assert extra.span is not None and extra.span.line == 4
    assert cap_per_file(diags, 0) == diags
    only_warnings = cap_per_file([_at("c.ccai", n, warn=True) for n in range(1, 4)], 2)
    last = only_warnings[-1]
    assert not last.is_error and "1 more warning in c.ccai" in last.message


def test_check_shows_at_most_100_per_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                          ) -> None:
    """200k errors were all printed (42 MB); now 100 and a count, and still exit 1."""
    path = tmp_path / "many.ccai"
    path.write_text("".join(f"x{i} = {i}\n" for i in range(1000)), encoding="utf-8")
    code, _, err = run_cli(["check", str(path)])
    assert code == 1
    assert err.count("error[CCAI216]") == MAX_DIAGNOSTICS_PER_FILE
    assert "error[CCAI112]: 900 more errors in" in err
    body = json.loads(run_cli(["check", "--format", "json", str(path)])[1])
    assert body["error_count"] == MAX_DIAGNOSTICS_PER_FILE + 1
    monkeypatch.setenv("CCAIC_MAX_DIAGNOSTICS", "0")
    assert run_cli(["check", str(path)])[2].count("error[CCAI216]") == 1000


def test_long_messages_are_cut(tmp_path: Path) -> None:
    """A 100,000-character attribute name was echoed whole, in the message and the hint."""
    path = tmp_path / "long.ccai"
    path.write_text('assembly "a" {\n  ' + "a" * 100_000 + " = 1\n}\n", encoding="utf-8")
    code, _, err = run_cli(["check", str(path)])
    assert code == 1 and "error[CCAI202]" in err
    assert len(err) < 3000 and "more characters)" in err


def test_info_lines_escape_control_characters(tmp_path: Path) -> None:
    """`fmt --check` printed a file name's ESC sequence raw ("would reformat <ESC>[31m...")."""
    path = tmp_path / "e\x1b[31mred.ccai"
    path.write_text("a {\nx=1}\n", encoding="utf-8")
    code, _, err = run_cli(["fmt", "--check", str(path)])
    assert code == 1 and "\x1b" not in err and "e\\x1b[31mred.ccai" in err
    assert "\n" in err  # line breaks are kept


@pytest.mark.parametrize("name", ["CCAIC_MAX_DIAGNOSTICS", "CCAIC_MAX_FILE_BYTES",
                                  "CCAIC_MAX_SOURCE_BYTES"])
@pytest.mark.parametrize("value", ["²", "١٢", "1e3", "-5", "x"])
def test_limit_settings_that_are_not_ascii_numbers_never_crash(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    """str.isdigit() accepts '²' and Arabic-Indic digits, which int() refuses (exit 3 before)."""
    spec = tmp_path / "a.ccai"
    spec.write_text('assembly "a" {\n  source polis { path = "x" }\n}\n')
    monkeypatch.setenv(name, value)
    code, _, err = run_cli(["check", str(spec)])
    assert code in (0, 1), err
    assert "Traceback" not in err
