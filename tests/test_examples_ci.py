"""examples/ci: the GitHub Actions workflow is valid, and its commands run on the sample repo.

The run test plays a pull request: examples/ci/sample is committed as the base branch, the files
in examples/ci/pull-request are laid over it as the pull request, and every workflow step that
runs ccaic (plus the step that checks out the base revision) is run as GitHub would run it, with
`bash --noprofile --norc -eo pipefail`, $GITHUB_STEP_SUMMARY pointing at a temporary file.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ccaic.build import STAGES

yaml = pytest.importorskip("yaml", reason="PyYAML is needed to read the workflow")

REPO = Path(__file__).resolve().parents[1]
CI = REPO / "examples" / "ci"
WORKFLOW = CI / "constitution-review.yml"
SAMPLE = CI / "sample"
PULL_REQUEST = CI / "pull-request"

# The stages `ccaic build --until` knows, in pipeline order; the workflow asks for "plan".
PIPELINE = ("check", "assemblies", "constitution", "plan")


def _until_stage() -> str:
    """The last stage this ccaic has that is not after "plan"."""
    known = [stage for stage in PIPELINE if stage in STAGES]
    return known[-1]


def _workflow(path: Path = WORKFLOW) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _steps(path: Path = WORKFLOW) -> list[dict]:
    (job,) = _workflow(path)["jobs"].values()
    return job["steps"]


def _is_install(step: dict) -> bool:
    return "pip install" in step.get("run", "")


def _runs_ccaic(script: str) -> bool:
    return any(line.strip().startswith("ccaic ") or " ccaic " in f" {line} "
               for line in script.splitlines() if not line.strip().startswith("#"))


def _review_steps(path: Path = WORKFLOW) -> list[dict]:
    """The steps the test runs: those that call ccaic, and the base-revision checkout.

    Not the install step: the test puts this checkout's ccaic on PATH instead, so it needs no
    network and no wheel cached on the machine (test_install_step_is_pinned checks that step).
    """
    return [step for step in _steps(path) if "run" in step and not _is_install(step)
            and (_runs_ccaic(step["run"]) or step["run"].startswith("git worktree"))]


# --- the workflow file -------------------------------------------------------------------------

@pytest.mark.parametrize("schema", ["vendor.github-workflows",
                                    "custom.github-workflows-require-timeout"])
def test_workflow_is_valid(schema: str) -> None:
    if importlib.util.find_spec("check_jsonschema") is None:
        pytest.skip("check-jsonschema is not installed (pip install check-jsonschema): it "
                    "validates the workflow against schemastore's vendored GitHub schema")
    # --builtin-schema uses the copy vendored in the package: no network.
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, str(WORKFLOW)],
        capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_workflow_shape() -> None:
    workflow = _workflow()
    # PyYAML reads the key `on` as the boolean True (YAML 1.1).
    on = workflow.get("on", workflow.get(True))
    assert on["pull_request"]["paths"] == ["**/*.ccai"]
    steps = _steps()
    python = [s for s in steps if s.get("uses", "").startswith("actions/setup-python")]
    assert python and python[0]["with"]["python-version"] == "3.11"
    installs = [s["run"] for s in steps if _is_install(s)]
    assert installs == ['python -m pip install "$CCAIC_REQUIREMENT"']
    scripts = "\n".join(s["run"] for s in _review_steps())
    for command in ("ccaic fmt --check", "ccaic check --format github",
                    "--until plan", "ccaic diff",
                    "--format markdown --detailed-exitcode", "$GITHUB_STEP_SUMMARY"):
        assert command in scripts, command
    assert {s["run"].split()[1] for s in _review_steps() if s["run"].startswith("ccaic")} == {
        "fmt", "check", "build"}


def test_install_step_is_pinned() -> None:
    """ccaic is not on PyPI: the workflow installs a direct reference pinned to a tag or commit."""
    from packaging.requirements import Requirement

    requirement = Requirement(_workflow()["env"]["CCAIC_REQUIREMENT"])
    assert requirement.name == "ccaic"
    url = requirement.url or ""
    assert url.startswith("git+https://") and url.endswith("/ccaic@v0.1.0"), url
    from ccaic import __version__

    assert url.rsplit("@v", 1)[1] == __version__  # the pin moves with each release


# --- running its commands on the sample --------------------------------------------------------

def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True,
                          check=True).stdout.strip()


def _env(tmp_path: Path, base_sha: str, workflow: Path = WORKFLOW) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    shim = bin_dir / "ccaic"  # this checkout's ccaic, whatever is first on PATH
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m ccaic "$@"\n', encoding="utf-8")
    shim.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "GITHUB_"))}
    env.update({key: str(value) for key, value in _workflow(workflow)["env"].items()
                if not str(value).startswith("${{")})
    runner_temp = tmp_path / "runner"
    runner_temp.mkdir(exist_ok=True)
    env.update({
        "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
        "PYTHONPATH": str(REPO),
        "BASE_SHA": base_sha,
        "RUNNER_TEMP": str(runner_temp),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "GITHUB_ACTIONS": "true",
        "CI": "true",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "ccaic test", "GIT_AUTHOR_EMAIL": "test@example.invalid",
        "GIT_COMMITTER_NAME": "ccaic test", "GIT_COMMITTER_EMAIL": "test@example.invalid",
    })
    return env


def _pull_request(tmp_path: Path, overlay: dict[str, str] | None = None) -> tuple[Path, str]:
    """A git repo with the sample as the base commit and the pull request on top of it."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed: the workflow checks out the base revision with git")
    repo = tmp_path / "repo"
    shutil.copytree(SAMPLE, repo)
    env = _env(tmp_path, "")
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, env=env, check=True)
    subprocess.run(["git", "add", "-A"], cwd=repo, env=env, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "base"], cwd=repo, env=env, check=True)
    base_sha = _git(repo, "rev-parse", "HEAD")
    files = overlay if overlay is not None else {
        str(path.relative_to(PULL_REQUEST)): path.read_text(encoding="utf-8")
        for path in PULL_REQUEST.rglob("*") if path.is_file()}
    for name, text in files.items():
        (repo / name).write_text(text, encoding="utf-8")
    subprocess.run(["git", "commit", "-q", "--allow-empty", "-am", "pull request"], cwd=repo,
                   env=env, check=True)
    return repo, base_sha


def _run_steps(tmp_path: Path, repo: Path, base_sha: str, workflow: Path = WORKFLOW
               ) -> list[subprocess.CompletedProcess]:
    env = _env(tmp_path, base_sha, workflow)
    results = []
    for step in _review_steps(workflow):
        script = step["run"].replace("--until plan", f"--until {_until_stage()}")
        path = tmp_path / "step.sh"
        path.write_text(script, encoding="utf-8")
        result = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(path)],
                                cwd=repo, env=env, capture_output=True, text=True, check=False,
                                timeout=600)
        results.append(result)
        if result.returncode != 0:
            break
    return results


def _show(results: list[subprocess.CompletedProcess]) -> str:
    return "\n".join(f"$ {r.args[-1]} -> {r.returncode}\n{r.stdout}{r.stderr}" for r in results)


def test_sample_passes_fmt_and_check() -> None:
    for folder in (SAMPLE, PULL_REQUEST):
        for command in (["fmt", "--check", "."], ["check", "--format", "github", "."]):
            result = subprocess.run([sys.executable, "-m", "ccaic", *command], cwd=folder,
                                    capture_output=True, text=True, check=False)
            assert result.returncode == 0, (folder, command, result.stdout + result.stderr)
            assert "::error" not in result.stdout + result.stderr


def test_workflow_commands_on_a_pull_request(tmp_path: Path) -> None:
    repo, base_sha = _pull_request(tmp_path)
    results = _run_steps(tmp_path, repo, base_sha)
    assert len(results) == len(_review_steps()), _show(results)
    assert all(r.returncode == 0 for r in results), _show(results)
    # exit 2 from `ccaic diff --detailed-exitcode` is "changes present", not a failure
    assert "The constitution changed" in results[-1].stdout, _show(results)
    constitution = _workflow()["env"]["CONSTITUTION"]
    assert list((repo / "build" / "constitutions").glob("*.json")), "nothing built"
    summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    # the markdown diff: the threshold went 0.5 -> 0.4 (two statements added) and the
    # hand-written principle was reworded
    direct = subprocess.run(
        [sys.executable, "-m", "ccaic", "diff", str(tmp_path / "runner" / "base" / constitution),
         constitution, "--format", "markdown", "--detailed-exitcode"],
        cwd=repo, capture_output=True, text=True, check=False)
    assert direct.returncode == 2, direct.stderr
    assert summary.strip() == direct.stdout.strip()
    assert "added" in summary and "changed" in summary
    assert "not_human" in summary


def test_workflow_commands_when_nothing_changed(tmp_path: Path) -> None:
    repo, base_sha = _pull_request(tmp_path, overlay={})
    results = _run_steps(tmp_path, repo, base_sha)
    assert all(r.returncode == 0 for r in results), _show(results)
    assert "The constitution is unchanged." in results[-1].stdout
    assert (tmp_path / "summary.md").read_text(encoding="utf-8").strip()


def test_workflow_fails_when_the_diff_fails(tmp_path: Path) -> None:
    # The base revision's data is gone (say it lived elsewhere): diff exits 1, the step fails.
    repo, base_sha = _pull_request(tmp_path)
    env = _env(tmp_path, base_sha)
    checkout, diff = (step["run"] for step in _review_steps()[-2:])
    assert checkout.startswith("git worktree") and "ccaic diff" in diff
    results = []
    for name, script in (("checkout", checkout), ("diff", diff)):
        path = tmp_path / f"{name}.sh"
        path.write_text(script, encoding="utf-8")
        results.append(subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(path)], cwd=repo, env=env,
            capture_output=True, text=True, check=False))
        if name == "checkout":
            shutil.rmtree(tmp_path / "runner" / "base" / "data")
    assert [r.returncode for r in results] == [0, 1], _show(results)
    assert "::error file=" in results[1].stdout


def test_init_starter_passes_its_own_workflow(tmp_path: Path) -> None:
    """`ccaic init` writes a project whose workflow passes: check, build up to the plan (the
    starter selects principles) and a diff against the base after a pull request changes it."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed: the workflow checks out the base revision with git")
    repo = tmp_path / "repo"
    init = subprocess.run([sys.executable, "-m", "ccaic", "init", str(repo)],
                          capture_output=True, text=True, check=False)
    assert init.returncode == 0, init.stderr
    workflow = repo / ".github" / "workflows" / "constitution-review.yml"
    env = _env(tmp_path, "", workflow)
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "base"]):
        subprocess.run(["git", *args], cwd=repo, env=env, check=True)
    base_sha = _git(repo, "rev-parse", "HEAD")
    main = repo / "main.ccai"
    text = main.read_text(encoding="utf-8")
    assert "threshold = 0.5" in text
    main.write_text(text.replace("threshold = 0.5", "threshold = 0.4"), encoding="utf-8")
    subprocess.run(["git", "commit", "-q", "-am", "pull request"], cwd=repo, env=env, check=True)
    results = _run_steps(tmp_path, repo, base_sha, workflow)
    assert len(results) == len(_review_steps(workflow)), _show(results)
    assert all(r.returncode == 0 for r in results), _show(results)
    assert "The constitution changed" in results[-1].stdout, _show(results)
    built = json.loads((repo / "build" / "constitutions" / "starter.json").read_text())
    assert len(built["principles"]) == 5  # 0.4 selects five statements of the starter data
    assert (repo / "build" / "plans" / "starter" / "plan.json").is_file()
