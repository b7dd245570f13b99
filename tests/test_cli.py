"""CLI behaviour: exit codes, inputs, output formats, colour, fmt, explain, schema, init, speed."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_runner import run_cli
from hypothesis import given, settings
from hypothesis import strategies as st

from ccaic.cli import main
from ccaic.output import Output

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "quickstart" / "quickstart.ccai"

VALID = '''constitution "c" {
  principle "kind" { text = "Choose the kindest response." }
}
'''
UNFORMATTED = '''constitution   "c"{
principle "kind" {text="Choose the kindest response."}
}
'''
BROKEN = '''assembly "a" {
  source polis { path = "data" }
  consensus gac { threshold = 1.5 }
}
'''
SYNTAX_ERROR = '''constitution "c" {
  principle "kind" { text = "Choose the kindest response."
'''


@pytest.fixture(autouse=True)
def _plain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("FORCE_COLOR", raising=False)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- exit codes


def test_check_ok_exits_0(tmp_path: Path) -> None:
    code, out, err = run_cli(["check", str(write(tmp_path, "ok.ccai", VALID))])
    assert code == 0
    assert out == ""
    assert "ok: 1 file checked" in err


def test_check_errors_exit_1(tmp_path: Path) -> None:
    code, _, err = run_cli(["check", str(write(tmp_path, "bad.ccai", BROKEN))])
    assert code == 1
    assert "error[CCAI207]" in err
    assert err.rstrip().endswith("1 error, 0 warnings")


@pytest.mark.parametrize("argv", [
    ["check", "--no-such-flag"],
    ["no-such-command"],
    ["check", "--format", "xml", "x.ccai"],
    ["fmt", "--bogus"],
])
def test_usage_errors_exit_1_not_2(argv: list[str]) -> None:
    code, out, err = run_cli(argv)
    assert code == 1
    assert out == ""
    assert "error" in err and "usage" in err


def test_no_command_exits_1_with_help() -> None:
    code, _, err = run_cli([])
    assert code == 1
    assert "check" in err


@pytest.mark.parametrize("argv", [["--help"], ["check", "--help"], ["fmt", "--help"]])
def test_help_exits_0(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 0
    assert "usage" in capsys.readouterr().out


def test_warnings_only_exit_0_unless_warnings_as_errors(tmp_path: Path) -> None:
    path = write(tmp_path, "w.ccai", 'variable "v" { type = string }\n' + VALID)
    code, _, err = run_cli(["check", str(path)])
    assert (code, "warning[CCAI210]" in err) == (0, True)
    assert run_cli(["check", "--warnings-as-errors", str(path)])[0] == 1


def test_missing_file_is_a_diagnostic(tmp_path: Path) -> None:
    code, _, err = run_cli(["check", str(tmp_path / "nope.ccai")])
    assert code == 1
    assert "error[CCAI100]" in err and "Traceback" not in err


# ---------------------------------------------------------------- inputs


def test_check_folder_finds_ccai_files(tmp_path: Path) -> None:
    write(tmp_path, "a.ccai", VALID)
    write(tmp_path, "sub/b.ccai", VALID.replace('"c"', '"d"'))
    write(tmp_path, "sub/c.ccai", BROKEN)
    write(tmp_path, "notes.txt", "not a ccai file {")
    write(tmp_path, ".hidden/x.ccai", "garbage {")
    code, _, err = run_cli(["check", str(tmp_path)])
    assert code == 1
    assert "c.ccai:3:31: error[CCAI207]" in err
    assert "x.ccai" not in err and "notes.txt" not in err
    code, _, err = run_cli(["check", str(tmp_path / "sub" / "b.ccai"), str(tmp_path / "a.ccai")])
    assert code == 0 and "2 files checked" in err


def test_check_empty_folder_is_an_error(tmp_path: Path) -> None:
    code, _, err = run_cli(["check", str(tmp_path)])
    assert code == 1 and "no .ccai files" in err


def test_check_stdin() -> None:
    assert run_cli(["check", "-"], stdin=VALID)[0] == 0
    code, _, err = run_cli(["check", "-"], stdin=BROKEN)
    assert code == 1
    assert "<stdin>:3:31: error[CCAI207]" in err
    assert "threshold = 1.5" in err  # the source line is shown for stdin too


# ---------------------------------------------------------------- output formats


def test_json_goes_to_stdout_only(tmp_path: Path) -> None:
    code, out, err = run_cli(["check", "--format", "json", str(write(tmp_path, "b.ccai", BROKEN))])
    assert code == 1
    assert err == ""
    body = json.loads(out)
    assert body["format_version"] == "1.0"
    assert body["valid"] is False
    assert body["error_count"] == 1 and body["warning_count"] == 0
    (diag,) = body["diagnostics"]
    assert diag["code"] == "CCAI207"
    assert diag["range"]["start"] == {"line": 3, "column": 31,
                                            "offset": BROKEN.index("1.5")}
    assert diag["snippet"]["code"] == "  consensus gac { threshold = 1.5 }"


def test_json_for_a_valid_file(tmp_path: Path) -> None:
    code, out, err = run_cli(["check", "--format", "json", str(write(tmp_path, "ok.ccai", VALID))])
    assert (code, err) == (0, "")
    body = json.loads(out)
    assert body["valid"] is True and body["diagnostics"] == []


def test_github_format(tmp_path: Path) -> None:
    path = write(tmp_path, "b.ccai", BROKEN)
    code, out, err = run_cli(["check", "--format", "github", str(path)])
    assert code == 1
    assert err == ""
    line = out.strip()
    assert line.startswith(f"::error file={path},line=3,col=31,")
    assert "title=CCAI207" in line


def test_no_color_wins_over_force_color(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = str(write(tmp_path, "b.ccai", BROKEN))
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b[" not in run_cli(["check", path])[2]
    monkeypatch.delenv("NO_COLOR")
    assert "\x1b[" in run_cli(["check", path])[2]  # FORCE_COLOR alone does colour
    monkeypatch.delenv("FORCE_COLOR")
    assert "\x1b[" not in run_cli(["check", path])[2]  # StringIO is not a terminal


def test_no_color_in_subprocess(tmp_path: Path) -> None:
    path = write(tmp_path, "b.ccai", BROKEN)
    env = {"PATH": "/usr/bin:/bin", "NO_COLOR": "1", "FORCE_COLOR": "1"}
    proc = subprocess.run([sys.executable, "-m", "ccaic", "check", str(path)],
                          capture_output=True, text=True, env=env, cwd=REPO)
    assert proc.returncode == 1
    assert "\x1b" not in proc.stderr + proc.stdout
    assert "error[CCAI207]" in proc.stderr


# ---------------------------------------------------------------- fmt


def test_fmt_check_on_unformatted_file(tmp_path: Path) -> None:
    path = write(tmp_path, "u.ccai", UNFORMATTED)
    code, out, err = run_cli(["fmt", "--check", str(path)])
    assert code == 1 and out == ""
    assert str(path) in err
    assert path.read_text(encoding="utf-8") == UNFORMATTED


def test_fmt_check_on_formatted_file(tmp_path: Path) -> None:
    path = write(tmp_path, "f.ccai", VALID)
    assert run_cli(["fmt", "--check", str(path)])[0] == 0


def test_fmt_rewrites_in_place(tmp_path: Path) -> None:
    path = write(tmp_path, "u.ccai", UNFORMATTED)
    code, out, _ = run_cli(["fmt", str(path)])
    assert code == 0 and out == ""
    assert path.read_text(encoding="utf-8") == VALID
    assert run_cli(["fmt", "--check", str(path)])[0] == 0


def test_fmt_stdin_to_stdout() -> None:
    code, out, err = run_cli(["fmt", "-"], stdin=UNFORMATTED)
    assert (code, out, err) == (0, VALID, "")


def test_fmt_diff(tmp_path: Path) -> None:
    path = write(tmp_path, "u.ccai", UNFORMATTED)
    code, out, _ = run_cli(["fmt", "--check", "--diff", str(path)])
    assert code == 1
    assert out.startswith("--- ")
    assert "\n+++ " in out and "\n@@ " in out
    assert '\n+constitution "c" {\n' in out
    assert path.read_text(encoding="utf-8") == UNFORMATTED


def test_fmt_diff_alone_only_prints(tmp_path: Path) -> None:
    """`fmt --diff FILE` rewrote FILE; like black --diff and gofmt -d it only prints."""
    path = write(tmp_path, "u.ccai", UNFORMATTED)
    code, out, _ = run_cli(["fmt", "--diff", str(path)])
    assert code == 0
    assert '\n+constitution "c" {\n' in out
    assert path.read_text(encoding="utf-8") == UNFORMATTED


def test_fmt_syntax_error_leaves_file_alone(tmp_path: Path) -> None:
    path = write(tmp_path, "s.ccai", SYNTAX_ERROR)
    code, _, err = run_cli(["fmt", str(path)])
    assert code == 1
    assert "error[CCAI102]" in err
    assert path.read_text(encoding="utf-8") == SYNTAX_ERROR


def test_fmt_stdin_syntax_error() -> None:
    code, out, err = run_cli(["fmt", "-"], stdin=SYNTAX_ERROR)
    assert code == 1 and out == ""
    assert "<stdin>:2:" in err and "error[CCAI102]" in err


LIST_COMMENTS = """assembly "a" {
  source polis { path = "data" }
  moderation {
    drop participants listed in [
      12, # spam
      40, # bot
    ] because "spam"
    drop statements where moderated == 1 and id in [
      # duplicates
      1,
      2, # dup of 1
    ]
  }
  consensus gac { threshold = 0.5 }
}

constitution "c" {
  from = assembly.a
  principle "p" {
    text = "Choose the kindest response."
    tags = [
      "a", # x
      [
        "b", # nested
      ],
    ]
  }
}
"""


def test_fmt_keeps_comments_on_list_items() -> None:
    """fmt hoisted comments on a rule's list items above the rule and collapsed the list (and
    moved a nested list's comment after it); comments now stay beside their items."""
    code, out, err = run_cli(["fmt", "-"], stdin=LIST_COMMENTS)
    assert (code, err) == (0, "")
    assert out == LIST_COMMENTS
    collapsed = LIST_COMMENTS.replace("[\n      12, # spam\n      40, # bot\n    ]",
                                      "[12, # spam\n40]")
    code, out, _ = run_cli(["fmt", "-"], stdin=collapsed)
    assert code == 0 and "      12, # spam\n      40,\n    ] because" in out


@settings(max_examples=60, deadline=None)
@given(items=st.lists(st.tuples(st.integers(0, 99), st.booleans()), min_size=1, max_size=4),
       where=st.sampled_from(["listed", "member", "attribute"]))
def test_fmt_list_comments_stay_on_their_item(items: list[tuple[int, bool]], where: str) -> None:
    body = "".join(f"{n}, # c{i}\n" if commented else f"{n},\n"
                   for i, (n, commented) in enumerate(items))
    rule = {"listed": f"drop statements listed in [\n{body}]",
            "member": f"drop statements where id in [\n{body}]",
            "attribute": f"tags = [\n{body}]"}[where]
    text = (f'constitution "c" {{\n{rule}\n}}\n' if where == "attribute" else
            f'assembly "a" {{\nmoderation {{\n{rule}\n}}\n}}\n')
    code, out, _ = run_cli(["fmt", "-"], stdin=text)
    assert code == 0
    for i, (n, commented) in enumerate(items):
        if commented:
            assert f"{n}, # c{i}\n" in out, out
    assert run_cli(["fmt", "-"], stdin=out)[1] == out


# ---------------------------------------------------------------- explain, schema


def test_explain_known_code() -> None:
    page = REPO / "docs" / "errors" / "CCAI201.md"
    if not page.is_file():
        pytest.skip("docs/errors/CCAI201.md is not written yet")
    for arg in ("CCAI201", "201", "ccai201"):
        code, out, _ = run_cli(["explain", arg])
        assert code == 0
        assert out == page.read_text(encoding="utf-8")


@pytest.mark.parametrize("arg", ["999", "CCAI999", "hello"])
def test_explain_unknown_code(arg: str) -> None:
    code, out, err = run_cli(["explain", arg])
    assert code == 1 and out == ""
    assert "no such diagnostic code" in err


def test_schema_is_valid_json_schema(tmp_path: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    from ccaic.syntax.parser import parse

    code, out, err = run_cli(["schema"])
    assert code == 0 and err == ""
    schema = json.loads(out)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for path in [EXAMPLE, *sorted(REPO.glob("constitutions/*.ccai"))]:
        tree = parse(path.read_text(encoding="utf-8"), str(path))
        errors = sorted(validator.iter_errors(tree.model_dump(mode="json")), key=str)
        assert not errors, f"{path.name}: {errors[0].message}"
    # and the schema rejects what is not an AST
    assert not validator.is_valid({"kind": "file", "items": "nope"})


# ---------------------------------------------------------------- init


def test_init_creates_a_project_that_checks(tmp_path: Path) -> None:
    target = tmp_path / "proj"
    code, _, err = run_cli(["init", str(target)])
    assert code == 0
    main_file = target / "main.ccai"
    assert main_file.is_file()
    assert (target / "data" / "polis" / "votes.csv").is_file()
    assert run_cli(["check", str(target)])[0] == 0
    assert run_cli(["fmt", "--check", str(target)])[0] == 0
    before = main_file.read_text(encoding="utf-8")
    main_file.write_text(before + "# mine\n", encoding="utf-8")
    code, _, err = run_cli(["init", str(target)])
    assert code == 1 and "will not overwrite" in err
    assert main_file.read_text(encoding="utf-8") == before + "# mine\n"


def test_init_starter_builds_until_plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The starter's groups and threshold select principles, so its plan compiles."""
    assert run_cli(["init", str(tmp_path / "p")])[0] == 0
    monkeypatch.chdir(tmp_path / "p")
    code, _, err = run_cli(["build", "main.ccai", "-o", "out", "--until", "plan"])
    assert code == 0, err
    built = json.loads((tmp_path / "p" / "out" / "constitutions" / "starter.json").read_text())
    assert len(built["principles"]) == 3
    assert (tmp_path / "p" / "out" / "plans" / "starter" / "plan.json").is_file()


@pytest.mark.slow
def test_init_starter_builds_to_the_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`ccaic init DIR && cd DIR && ccaic build main.ccai -o out` trains, evaluates, reports."""
    pytest.importorskip("trl", reason="the full build trains (the train extra)")
    assert run_cli(["init", str(tmp_path / "p")])[0] == 0
    monkeypatch.chdir(tmp_path / "p")
    code, _, err = run_cli(["build", "main.ccai", "-o", "out"])
    assert code == 0, err
    assert "build ok (until run)" in err
    assert (tmp_path / "p" / "out" / "report.html").is_file()


# ---------------------------------------------------------------- speed and imports


def test_check_does_not_import_training_stack() -> None:
    code = (
        "import sys; from ccaic.cli import main; "
        f"rc = main(['check', {str(EXAMPLE)!r}]); "
        "heavy = sorted({m.split('.')[0] for m in sys.modules}"
        " & {'torch', 'transformers', 'trl'}); "
        "assert rc == 0, rc; assert not heavy, heavy"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stderr


def test_check_is_fast() -> None:
    """The issue's requirement: `ccaic check` on an example answers well under 2 s."""
    best = float("inf")
    for _ in range(2):  # the first run may pay for a cold lark grammar cache
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "ccaic", "check", str(EXAMPLE)],
                              capture_output=True, text=True, cwd=REPO)
        best = min(best, time.perf_counter() - start)
        assert proc.returncode == 0, proc.stderr
    assert best < 2.0, f"ccaic check took {best:.2f} s"


def test_init_writes_the_review_workflow(tmp_path: Path) -> None:
    """The starter carries examples/ci's workflow, pointed at its own constitution."""
    assert run_cli(["init", str(tmp_path / "p")])[0] == 0
    written = (tmp_path / "p" / ".github" / "workflows" / "constitution-review.yml").read_text()
    example = (REPO / "examples" / "ci" / "constitution-review.yml").read_text()
    assert written == example.replace("CONSTITUTION: constitution.ccai", "CONSTITUTION: main.ccai")
    assert "CONSTITUTION: main.ccai" in written


PLAN_ONLY_MISTAKE = '''assembly "a" {
  source polis { path = "no-such-export" }
  consensus gac { threshold = 0.5 }
}

constitution "c" {
  from = assembly.a
}

plan "p" {
  constitution = constitution.c
  prompts      = "prompts.jsonl"
  sft {
    precision = "bf16"
    lora {
      enabled = false
      r       = 8
    }
  }
}
'''


def test_plan_checks_need_no_data(tmp_path: Path) -> None:
    """CCAI504 came only at `build --until plan`, after the data loaded (here: a missing
    export, CCAI401, hid it); now `check` and the build's first stage report it."""
    path = write(tmp_path, "plan.ccai", PLAN_ONLY_MISTAKE)
    code, _, err = run_cli(["check", str(path)])
    assert code == 1 and "error[CCAI504]" in err and "CCAI401" not in err
    code, _, err = run_cli(["build", str(path), "-o", str(tmp_path / "out"), "--until", "plan"])
    assert code == 1 and "error[CCAI504]" in err and "CCAI401" not in err


def test_build_says_a_plan_warning_once(tmp_path: Path) -> None:
    """The plan checks run at the check stage and again when the plan compiles."""
    import shutil

    shutil.copytree(REPO / "examples" / "ci" / "sample", tmp_path / "s")
    spec = tmp_path / "s" / "constitution.ccai"
    spec.write_text(spec.read_text().replace("sl_cai { rounds = 1 }",
                                             'sl_cai { rounds = 1 }\n  sft { precision = "bf16" }'))
    code, _, err = run_cli(["build", str(spec), "-o", str(tmp_path / "out"), "--until", "plan"])
    assert code == 0, err
    assert err.count("warning[CCAI532]") == 1, err


# ---------------------------------------------------------------- outputs that cannot be written

SAMPLE_SPEC = REPO / "examples" / "ci" / "sample" / "constitution.ccai"


def _no_crash_file(err: str) -> None:
    assert "internal error" not in err and "ccaic-crash-" not in err, err


@pytest.mark.parametrize("nested", [False, True])
def test_build_output_naming_a_file_is_ccai602(tmp_path: Path, nested: bool) -> None:
    """`-o FILE` exited 3 (FileExistsError in mkdir)."""
    blocker = write(tmp_path, "notes.txt", "mine\n")
    target = blocker / "build" if nested else blocker
    code, _, err = run_cli(["build", str(SAMPLE_SPEC), "-o", str(target), "--until", "plan"])
    assert code == 1 and "error[CCAI602]" in err and str(target) in err, err
    _no_crash_file(err)
    assert blocker.read_text() == "mine\n"


@pytest.mark.parametrize("argv", [
    ["build", str(SAMPLE_SPEC), "-o", "/proc/ccaic-out", "--until", "plan"],
    ["init", "/proc/ccaic-init"],
])
def test_unwritable_output_is_ccai601(argv: list[str]) -> None:
    """A folder that cannot be created (/proc: tests run as root, where chmod stops nothing)."""
    code, _, err = run_cli(argv)
    assert code == 1 and "error[CCAI601]" in err and "/proc/ccaic-" in err, err
    _no_crash_file(err)


def _disk_full(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every atomic write fails as on a full disk (the write, not the folder creation)."""
    import errno
    import os as os_module

    import ccaic.atomic

    real_fdopen = os_module.fdopen

    class Full(io.RawIOBase):
        def __init__(self, fd: int) -> None:
            self.handle = real_fdopen(fd, "wb")

        def writable(self) -> bool:
            return True

        def write(self, data: object) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

        def close(self) -> None:
            self.handle.close()
            super().close()

    monkeypatch.setattr(ccaic.atomic.os, "fdopen", lambda fd, mode: Full(fd))


def test_full_disk_in_build_is_ccai601(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _disk_full(monkeypatch)
    out = tmp_path / "out"
    code, _, err = run_cli(["build", str(SAMPLE_SPEC), "-o", str(out), "--until", "plan"])
    assert code == 1 and "error[CCAI601]" in err and str(out) in err, err
    assert "No space left on device" in err and "the disk is full" in err
    _no_crash_file(err)
    assert not [p for p in out.rglob("*") if p.is_file()]  # nothing half-written


def test_full_disk_in_init_is_ccai601(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _disk_full(monkeypatch)
    code, _, err = run_cli(["init", str(tmp_path / "p")])
    assert code == 1 and "error[CCAI601]" in err and str(tmp_path / "p") in err, err
    _no_crash_file(err)


def test_full_disk_in_fmt_is_ccai601(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """fmt names the file, leaves it as it was, and goes on with the next one."""
    first = write(tmp_path, "a.ccai", UNFORMATTED)
    second = write(tmp_path, "b.ccai", UNFORMATTED)
    _disk_full(monkeypatch)
    code, _, err = run_cli(["fmt", str(first), str(second)])
    assert code == 1 and err.count("error[CCAI601]") == 2, err
    assert f"cannot write {first}" in err and f"cannot write {second}" in err
    _no_crash_file(err)
    assert first.read_text() == UNFORMATTED and second.read_text() == UNFORMATTED


def test_other_os_errors_stay_crashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only an error about the output is the user's: anything else is still a bug (exit 3)."""
    import ccaic.commands.build as build_command

    def broken(*_args: object, **_kwargs: object) -> object:
        raise PermissionError(13, "Permission denied", "/somewhere/else")

    monkeypatch.setattr("ccaic.build.build", broken)
    monkeypatch.setenv("TMPDIR", "/tmp")
    assert build_command is not None
    code, _, err = run_cli(["build", str(SAMPLE_SPEC), "-o", "/tmp/ccaic-test-out"])
    assert code == 3 and "internal error" in err


# ---------------------------------------------------------------- show


def test_show_finds_the_plan_in_a_build_folder(tmp_path: Path) -> None:
    """`ccaic show DIR` looked only for DIR/plan.json; a build writes plans/<name>/plan.json."""
    import shutil

    shutil.copytree(REPO / "examples" / "ci" / "sample", tmp_path / "s")
    out = tmp_path / "out"
    assert run_cli(["build", str(tmp_path / "s" / "constitution.ccai"), "-o", str(out), "--until",
                "plan"])[0] == 0
    code, text, err = run_cli(["show", str(out)])
    assert code == 0, err
    assert text == run_cli(["show", str(out / "plans" / "assistant" / "plan.json")])[1]
    assert text.startswith("plan assistant (plan.assistant)")
    assert run_cli(["show", str(out / "plans" / "assistant")])[1] == text
    second = out / "plans" / "other"
    shutil.copytree(out / "plans" / "assistant", second)
    code, _, err = run_cli(["show", str(out)])
    assert code == 1 and "holds 2 training plans" in err and str(second / "plan.json") in err


@pytest.mark.parametrize(("direct_url", "expected"), [
    ('{"url": "https://github.com/example/ccaic", "vcs_info": {"vcs": "git", '
     '"commit_id": "0123abc", "requested_revision": "v0.1.0"}}',
     "ccaic @ git+https://github.com/example/ccaic@0123abc"),
    ('{"url": "https://example.org/ccaic-0.1.0-py3-none-any.whl", "archive_info": {}}',
     "ccaic @ https://example.org/ccaic-0.1.0-py3-none-any.whl"),
    ('{"url": "file:///work/ccaic", "dir_info": {"editable": true}}', None),
    (None, None), ("not json", None),
])
def test_init_pins_the_workflow_to_the_installed_ccaic(direct_url: str | None,
                                                       expected: str | None) -> None:
    """The starter's workflow installs the ccaic that wrote it, when pip can install it again."""
    from ccaic.commands.init import installed_requirement

    assert installed_requirement(direct_url or "") == expected


def test_init_workflow_carries_the_pin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    yaml = pytest.importorskip("yaml")
    import ccaic.commands.init as init

    pin = "ccaic @ git+https://github.com/example/ccaic@0123abc"
    monkeypatch.setattr(init, "installed_requirement", lambda: pin)
    assert run_cli(["init", str(tmp_path / "p")])[0] == 0
    workflow = tmp_path / "p" / ".github" / "workflows" / "constitution-review.yml"
    assert yaml.safe_load(workflow.read_text())["env"]["CCAIC_REQUIREMENT"] == pin


class _FullStream(io.StringIO):
    def write(self, text: str) -> int:
        import errno

        raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize("argv", [["schema"], ["check", str(EXAMPLE), "--format", "json"],
                                  ["build", str(SAMPLE_SPEC), "-o", "{tmp}", "--until", "plan",
                                   "--format", "json"]])
def test_full_standard_output_is_ccai601(tmp_path: Path, argv: list[str]) -> None:
    """`ccaic schema > /dev/full` exited 3; it names standard output, not the build folder."""
    err = io.StringIO()
    code = main([a.replace("{tmp}", str(tmp_path / "out")) for a in argv],
                Output(_FullStream(), err))
    assert code == 1, err.getvalue()
    assert "error[CCAI601]: cannot write standard output: No space left on device" in \
        err.getvalue()


def test_build_json_summary_for_an_output_that_is_a_file(tmp_path: Path) -> None:
    """`--format json` keeps the build summary's shape when -o is refused."""
    blocker = write(tmp_path, "notes.txt", "mine\n")
    code, out, _ = run_cli(["build", str(SAMPLE_SPEC), "-o", str(blocker), "--format", "json"])
    summary = json.loads(out)
    assert code == 1 and summary["ok"] is False and summary["artifacts"] == []
    assert [d["code"] for d in summary["diagnostics"]["diagnostics"]] == ["CCAI602"]
