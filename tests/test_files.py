"""Files a user names: regular files only, capped in size, never a hang (docs/limits.md).

Each test would hang, fill memory or crash before ccaic/files.py: /dev/zero and FIFOs were read
with Path.read_bytes(), and /proc files report a size of 0.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from plan_fixtures import compile_source

from ccaic.files import (
    DATA_ENV,
    SOURCE_ENV,
    FileRefused,
    read_data_bytes,
    read_source_bytes,
    read_user_bytes,
    size_text,
)
from tests.cli_runner import run_cli

REPO = Path(__file__).resolve().parents[1]
ZERO = Path("/dev/zero")
needs_devices = pytest.mark.skipif(not ZERO.exists() or not hasattr(os, "mkfifo"),
                                   reason="needs /dev/zero and FIFOs")


@pytest.fixture(autouse=True)
def _deadline() -> Iterator[None]:
    """A regression here is a hang or an endless read: fail after 20 s instead."""
    if not hasattr(signal, "SIGALRM"):
        yield
        return

    def fail(*_: object) -> None:
        raise TimeoutError("reading a file did not stop")

    old = signal.signal(signal.SIGALRM, fail)
    signal.alarm(20)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _special_paths(tmp: Path) -> dict[str, Path]:
    fifo = tmp / "fifo"
    os.mkfifo(fifo)
    link = tmp / "link"
    link.symlink_to(ZERO)
    return {"zero": ZERO, "urandom": Path("/dev/urandom"), "fifo": fifo, "symlink": link}


@needs_devices
@pytest.mark.parametrize("kind", ["zero", "urandom", "fifo", "symlink"])
def test_special_files_are_refused(tmp_path: Path, kind: str) -> None:
    path = _special_paths(tmp_path)[kind]
    with pytest.raises(FileRefused) as info:
        read_data_bytes(path)
    assert info.value.code == "CCAI108"
    assert "not a regular file" in str(info.value.strerror)
    assert ("FIFO" in str(info.value.strerror)) is (kind == "fifo")


def test_size_cap_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_bytes(b"x" * 2049)
    assert read_user_bytes(path, 2049) == b"x" * 2049
    with pytest.raises(FileRefused) as info:
        read_user_bytes(path, 2048)
    assert info.value.code == "CCAI109"
    assert info.value.strerror == "it is 2.0 KiB, over the 2 KiB limit"


@pytest.mark.skipif(not Path("/proc/self/environ").is_file(), reason="needs /proc")
def test_size_cap_while_reading_files_that_report_no_size(monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    """/proc files say st_size 0 (other pseudo files may too); the read itself must stop at
    the cap. /proc itself is refused first (CCAI108), so that check is lifted here."""
    monkeypatch.setattr("ccaic.files._kernel_file", lambda path: False)
    assert os.stat("/proc/self/environ").st_size == 0
    with pytest.raises(FileRefused) as info:
        read_user_bytes("/proc/self/environ", 4)
    assert info.value.code == "CCAI109"


def test_directory_and_missing_keep_their_errors(tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError):
        read_data_bytes(tmp_path)
    with pytest.raises(FileNotFoundError):
        read_data_bytes(tmp_path / "nope.csv")


def test_limits_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "a.ccai"
    path.write_bytes(b"#" * 100)
    monkeypatch.setenv(SOURCE_ENV, "99")
    with pytest.raises(FileRefused) as info:
        read_source_bytes(path)
    assert SOURCE_ENV in info.value.hint
    monkeypatch.setenv(SOURCE_ENV, "100")
    assert read_source_bytes(path) == b"#" * 100
    monkeypatch.setenv(DATA_ENV, "lots")
    with pytest.raises(FileRefused) as info:
        read_data_bytes(path)
    assert info.value.code == "CCAI109" and "'lots'" in str(info.value.strerror)


def test_size_text() -> None:
    assert [size_text(n) for n in (5, 2048, 16 << 20, 3 << 29)] == \
        ["5 bytes", "2 KiB", "16 MiB", "1.5 GiB"]


# ---------------------------------------------------------------- through the commands


def test_check_refuses_a_huge_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SOURCE_ENV, "1000")
    path = tmp_path / "big.ccai"
    path.write_text("# padding\n" * 200, encoding="utf-8")
    code, _, err = run_cli(["check", str(path)])
    assert code == 1
    assert "error[CCAI109]: cannot read" in err and "over the 1000 bytes limit" in err


@needs_devices
@pytest.mark.parametrize("kind", ["zero", "fifo", "symlink"])
def test_check_refuses_special_root_files(tmp_path: Path, kind: str) -> None:
    path = _special_paths(tmp_path)[kind]
    code, _, err = run_cli(["check", str(path)])
    assert code == 1 and "error[CCAI108]" in err


@needs_devices
def test_import_of_a_fifo_is_located_at_the_import(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "shared.ccai")
    (tmp_path / "main.ccai").write_text('import "shared.ccai"\n', encoding="utf-8")
    code, _, err = run_cli(["check", str(tmp_path / "main.ccai")])
    assert code == 1
    assert f"{tmp_path / 'main.ccai'}:1:8: error[CCAI108]" in err


def test_import_of_a_non_ccai_file_is_not_read(tmp_path: Path) -> None:
    """/proc/self/environ would be parsed and its secrets quoted in the errors."""
    secret = tmp_path / "env.txt"
    secret.write_text("TOKEN=hunter2\n", encoding="utf-8")
    (tmp_path / "main.ccai").write_text(f'import "{secret}"\n', encoding="utf-8")
    code, _, err = run_cli(["check", str(tmp_path / "main.ccai")])
    assert code == 1 and "error[CCAI213]: an import must name a .ccai file" in err
    assert "hunter2" not in err


PLAN = """\
constitution "c" {
  principle "harm" { text = "Choose the response that is least harmful." }
}
plan "p" {
  constitution = constitution.c
  model        = "builtin:tiny"
  prompts      = "PROMPTS"
}
"""


@needs_devices
@pytest.mark.parametrize("kind", ["zero", "fifo", "symlink"])
def test_plan_prompts_special_files(tmp_path: Path, kind: str) -> None:
    path = _special_paths(tmp_path)[kind]
    spec = tmp_path / "t.ccai"
    spec.write_text(PLAN.replace("PROMPTS", str(path)), encoding="utf-8")
    _, diags, _ = compile_source(spec)
    errors = [d for d in diags if d.is_error]
    assert [d.code for d in errors] == ["CCAI108"], [(d.code, d.message) for d in errors]
    assert errors[0].span is not None and errors[0].span.line == 7


def _assembly(ids: str) -> str:
    return f"""\
assembly "a" {{
  source polis {{ path = "." }}
  moderation {{
    drop participants listed in file("{ids}")
  }}
  groups kmeans {{ k = 2 }}
  consensus gac {{ threshold = 0.3 }}
}}
constitution "c" {{
  from     = assembly.a
  template = "Choose the response that {{{{ statement.text }}}}."
}}
"""


@needs_devices
@pytest.mark.parametrize("kind", ["zero", "fifo", "symlink"])
def test_build_id_file_special_files(tmp_path: Path, kind: str) -> None:
    """`file(...)` in a moderation rule: CCAI108, exit 1, before anything is written."""
    path = _special_paths(tmp_path)[kind]
    source = REPO / "tests" / "golden" / "builds" / "polis-csv-moderated"
    for name in ("comments.csv", "votes.csv"):
        (tmp_path / name).write_bytes((source / name).read_bytes())
    spec = tmp_path / "main.ccai"
    spec.write_text(_assembly(str(path)), encoding="utf-8")
    code, _, err = run_cli(["build", str(spec), "-o", str(tmp_path / "out"),
                            "--until", "constitution"])
    assert code == 1, err
    assert "error[CCAI108]" in err



def test_missing_id_file_hint_names_the_ccai_folder(tmp_path: Path) -> None:
    """Issue 10: the hint said "relative to the current folder"; it is the .ccai file's."""
    source = REPO / "tests" / "golden" / "builds" / "polis-csv-moderated"
    for name in ("comments.csv", "votes.csv"):
        (tmp_path / name).write_bytes((source / name).read_bytes())
    spec = tmp_path / "main.ccai"
    spec.write_text(_assembly("ids-to-toss.csv"), encoding="utf-8")
    code, _, err = run_cli(["build", str(spec), "-o", str(tmp_path / "out"),
                            "--until", "constitution"])
    assert code == 1 and "error[CCAI401]" in err, err
    assert "in a .ccai file it is relative to that file's folder" in err
    assert "taken relative to the current folder" not in err


@pytest.mark.parametrize("command", ["check", "fmt"])
def test_stdin_is_capped(command: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """`ccaic check - < /dev/zero` read until memory ran out; stdin now stops at the cap."""
    monkeypatch.setenv(SOURCE_ENV, "4096")
    code, _, err = run_cli([command, "-"], stdin="#" * 5000)
    assert code == 1 and "error[CCAI109]: cannot read <stdin>: it is over the 4 KiB limit" in err
    assert run_cli([command, "-"], stdin="# " * 2000 + "\n")[0] == 0


@needs_devices
def test_show_refuses_a_device_and_binary(tmp_path: Path) -> None:
    """`ccaic show /dev/zero` read forever; a binary file was an exit 3 (UnicodeDecodeError)."""
    code, _, err = run_cli(["show", str(ZERO)])
    assert code == 1 and "error[CCAI514]" in err and "not a regular file" in err
    binary = tmp_path / "plan.json"
    binary.write_bytes(b"\xff\xfe\x00plan")
    code, _, err = run_cli(["show", str(binary)])
    assert code == 1 and "not UTF-8 text" in err


def _unusable_paths(tmp: Path) -> dict[str, Path]:
    """Paths that exist-checks and opens fail on with an OSError other than "not found"."""
    (tmp / "loop.ccai").symlink_to(tmp / "loop2.ccai")
    (tmp / "loop2.ccai").symlink_to(tmp / "loop.ccai")
    (tmp / "plain.txt").write_text("", encoding="utf-8")
    return {"name-too-long": tmp / ("x" * 300 + ".ccai"), "symlink-loop": tmp / "loop.ccai",
            "file-as-folder": tmp / "plain.txt" / "y.ccai"}


def _polis_folder(tmp: Path) -> None:
    source = REPO / "tests" / "golden" / "builds" / "polis-csv-moderated"
    for name in ("comments.csv", "votes.csv"):
        (tmp / name).write_bytes((source / name).read_bytes())


UNUSABLE_KINDS = ["name-too-long", "symlink-loop", "file-as-folder"]


@pytest.mark.parametrize("kind", UNUSABLE_KINDS)
@pytest.mark.parametrize("where", ["source", "id-file"])
def test_build_unusable_data_paths_are_ccai113(tmp_path: Path, kind: str, where: str) -> None:
    """A source path or id list whose name is too long, loops or runs through a file was an
    OSError or RuntimeError from Path.is_file()/resolve(): exit 3."""
    bad = _unusable_paths(tmp_path)[kind]
    _polis_folder(tmp_path)
    text = _assembly(str(bad) if where == "id-file" else "ids.csv")
    if where == "source":
        text = text.replace('path = "."', f'path = "{bad}"')
    spec = tmp_path / "main.ccai"
    spec.write_text(text, encoding="utf-8")
    code, _, err = run_cli(["build", str(spec), "-o", str(tmp_path / "out"),
                            "--until", "constitution"])
    assert code == 1 and "error[CCAI113]" in err, err
    assert f"main.ccai:{2 if where == 'source' else 4}:" in err  # the note at the path


@pytest.mark.parametrize("kind", UNUSABLE_KINDS)
def test_check_unusable_import_and_root(tmp_path: Path, kind: str) -> None:
    """`import "<bad>"` is CCAI113 at the import (a too-long name was "not found"), and
    `ccaic check <bad>` is CCAI113, not exit 3."""
    bad = _unusable_paths(tmp_path)[kind]
    spec = tmp_path / "main.ccai"
    spec.write_text(f'import "{bad}"\n', encoding="utf-8")
    code, _, err = run_cli(["check", str(spec)])
    assert code == 1 and f"main.ccai:1:8: error[CCAI113]: cannot read {bad}" in err, err
    code, _, err = run_cli(["check", str(bad)])
    assert code == 1 and "error[CCAI113]" in err, err


@pytest.mark.parametrize("kind", UNUSABLE_KINDS)
@pytest.mark.parametrize("attribute", ["prompts", "model"])
def test_plan_unusable_paths_are_ccai113(tmp_path: Path, kind: str, attribute: str) -> None:
    """A model folder or prompts file with a bad name: Path.exists() raised (exit 3)."""
    bad = _unusable_paths(tmp_path)[kind]
    (tmp_path / "red.jsonl").write_text('{"prompt": "How do I pick a lock?"}\n',
                                        encoding="utf-8")
    prompts, model = ((bad, "builtin:tiny") if attribute == "prompts"
                      else (tmp_path / "red.jsonl", bad))
    text = PLAN.replace("PROMPTS", str(prompts)).replace("builtin:tiny", str(model))
    spec = tmp_path / "t.ccai"
    spec.write_text(text, encoding="utf-8")
    _, diags, _ = compile_source(spec)
    errors = [d for d in diags if d.is_error]
    assert [d.code for d in errors] == ["CCAI113"], [(d.code, d.message) for d in errors]
    assert errors[0].span is not None and errors[0].span.line == (7 if attribute == "prompts"
                                                                  else 6)


@pytest.mark.skipif(os.geteuid() == 0, reason="root may read anything")
def test_unreadable_file_is_ccai113(tmp_path: Path) -> None:
    path = tmp_path / "secret.ccai"
    path.write_text("a = 1\n", encoding="utf-8")
    path.chmod(0)
    with pytest.raises(FileRefused) as info:
        read_source_bytes(path)
    assert info.value.code == "CCAI113" and "permissions" in info.value.hint


@pytest.mark.parametrize("kind", UNUSABLE_KINDS)
@pytest.mark.parametrize("command", ["show", "analyze", "fmt"])
def test_command_line_unusable_paths(tmp_path: Path, kind: str, command: str) -> None:
    """A path named on the command line: `show` with a too-long name was exit 3
    (Path.is_dir() raised)."""
    bad = _unusable_paths(tmp_path)[kind]
    code, _, err = run_cli([command, str(bad)])
    assert code == 1 and "error[CCAI" in err and "Traceback" not in err, err
