"""examples/ci/constitution-watch.yml: a valid scheduled workflow whose `ccaic watch --once`
step, run as GitHub runs it on the CI sample, reports a change once and then none."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_examples_ci import CI, SAMPLE, _env, _runs_ccaic, _workflow

yaml = pytest.importorskip("yaml", reason="PyYAML is needed to read the workflow")

WATCH = CI / "constitution-watch.yml"


@pytest.mark.parametrize("schema", ["vendor.github-workflows",
                                    "custom.github-workflows-require-timeout"])
def test_watch_workflow_is_valid(schema: str) -> None:
    if importlib.util.find_spec("check_jsonschema") is None:
        pytest.skip("check-jsonschema is not installed (pip install check-jsonschema): it "
                    "validates the workflow against schemastore's vendored GitHub schema")
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, str(WATCH)],
        capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def _steps() -> list[dict]:
    (job,) = _workflow(WATCH)["jobs"].values()
    return list(job["steps"])


def test_watch_workflow_is_scheduled_and_pinned_like_the_review() -> None:
    workflow = _workflow(WATCH)
    on = workflow.get("on", workflow.get(True))  # PyYAML reads `on` as True (YAML 1.1)
    assert on["schedule"][0]["cron"].split()[0].isdigit()
    assert workflow["env"]["CCAIC_REQUIREMENT"] == \
        _workflow(CI / "constitution-review.yml")["env"]["CCAIC_REQUIREMENT"]
    (watch,) = [s for s in _steps() if _runs_ccaic(s.get("run", ""))]
    assert "ccaic watch" in watch["run"] and "--once" in watch["run"]
    assert "--detailed-exitcode" in watch["run"]
    (pull_request,) = [s for s in _steps() if "gh pr create" in s.get("run", "")]
    assert pull_request["if"] == f"steps.{watch['id']}.outputs.changed == 'true'"


def _poll(tmp_path: Path, repo: Path, step: dict, extra: dict[str, str] | None = None
          ) -> tuple[subprocess.CompletedProcess, str]:
    """Run one step's script as GitHub does; what it wrote to $GITHUB_OUTPUT."""
    env = {**_env(tmp_path, "", WATCH), **step.get("env", {}), **(extra or {})}
    output = tmp_path / "github_output"
    output.write_text("")
    env["GITHUB_OUTPUT"] = str(output)
    script = tmp_path / "step.sh"
    script.write_text(step["run"], encoding="utf-8")
    done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                          cwd=repo, env=env, capture_output=True, text=True, check=False,
                          timeout=600)
    return done, output.read_text()


def test_the_watch_step_reports_a_change_once_on_the_sample(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(SAMPLE, repo)
    (watch,) = [s for s in _steps() if _runs_ccaic(s.get("run", ""))]
    first, said = _poll(tmp_path, repo, watch)
    assert first.returncode == 0, first.stdout + first.stderr
    assert said == "changed=true\n"
    summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert summary.startswith("# History") and "## Entry 1 (" in summary
    watch_dir = repo / _workflow(WATCH)["env"]["WATCH_DIR"]
    assert (watch_dir / "history" / "1" / "constitutions" / "assistant.json").is_file()
    second, said = _poll(tmp_path, repo, watch)
    assert second.returncode == 0, second.stdout + second.stderr
    assert said == "changed=false\n"
    assert "The constitution is unchanged." in second.stdout


def test_the_pull_request_step_pushes_the_new_entry(tmp_path: Path) -> None:
    """The step after a change, against a local bare repository as `origin` and a `gh` that
    records its arguments (no network): the branch holds the new entry and HISTORY.md."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed: the step commits and pushes with git")
    repo, origin = tmp_path / "repo", tmp_path / "origin.git"
    shutil.copytree(SAMPLE, repo)
    env = _env(tmp_path, "", WATCH)
    for command in (["git", "init", "-q", "--bare", str(origin)],
                    ["git", "init", "-q", "-b", "main"], ["git", "add", "-A"],
                    ["git", "commit", "-q", "-m", "base"],
                    ["git", "remote", "add", "origin", str(origin)]):
        subprocess.run(command, cwd=repo, env=env, check=True, capture_output=True)
    gh = tmp_path / "bin" / "gh"
    gh.write_text(f'#!/bin/sh\necho "$@" >> {tmp_path / "gh.log"}\n'
                  '[ "$1 $2" = "pr view" ] && exit 1\nexit 0\n', encoding="utf-8")
    gh.chmod(0o755)
    (watch,) = [s for s in _steps() if _runs_ccaic(s.get("run", ""))]
    (pull_request,) = [s for s in _steps() if "gh pr create" in s.get("run", "")]
    assert _poll(tmp_path, repo, watch)[1] == "changed=true\n"
    done, _ = _poll(tmp_path, repo, pull_request, {"GH_TOKEN": "test"})
    assert done.returncode == 0, done.stdout + done.stderr
    branch = _workflow(WATCH)["env"]["WATCH_BRANCH"]
    watch_dir = _workflow(WATCH)["env"]["WATCH_DIR"]
    files = subprocess.run(["git", "ls-tree", "-r", "--name-only", branch], cwd=origin,
                           env=env, capture_output=True, text=True, check=True).stdout.split()
    assert f"{watch_dir}/HISTORY.md" in files
    assert f"{watch_dir}/history/1/summary.json" in files
    assert f"{watch_dir}/history/watch.json" in files
    assert not any(f.startswith(f"{watch_dir}/assemblies/") for f in files)  # the build stays out
    log = (tmp_path / "gh.log").read_text()
    assert "pr create --head constitution-watch" in log
