"""Models keyed by what they are: a local folder by its content, a Hub id by its revision, and
the revision reaching every loader; total_batch_size over all processes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ccaic.diagnostics import DiagnosticError
from ccaic.train.dist import accumulation_steps

REPO = Path(__file__).resolve().parents[2]


def test_accumulation_keeps_the_total_batch_over_processes() -> None:
    # total 8 of per-device 4: 2 micro-batches on one process, 1 on each of two
    assert [accumulation_steps(8, 4, n) for n in (1, 2)] == [2, 1]
    assert [accumulation_steps(8, 4, n) * 4 * n for n in (1, 2)] == [8, 8]
    assert accumulation_steps(32, 2, 4) == 4
    with pytest.raises(DiagnosticError) as caught:
        accumulation_steps(4, 4, 2, "sft")
    (d,) = caught.value.diagnostics
    assert d.code == "CCAI521" and "batch_size = 2" in (d.help or "")


def _local_model(folder: Path) -> Path:
    from ccaic.models.tiny import tiny_path

    shutil.copytree(tiny_path(1), folder)
    return folder


def test_local_model_identity_follows_its_files(tmp_path: Path) -> None:
    pytest.importorskip("safetensors")
    from ccaic.models.identity import model_identity
    from ccaic.models.ref import ModelRef

    _local_model(tmp_path / "m")
    ref = ModelRef(ref="./m", kind="local", name="m")
    before = model_identity(ref, tmp_path, 1)
    assert before == model_identity(ref, tmp_path, 7)  # a folder's seed does not matter
    (tmp_path / "m" / "tokenizer_config.json").write_text(
        (tmp_path / "m" / "tokenizer_config.json").read_text() + " ")
    assert model_identity(ref, tmp_path, 1) != before  # tokenizer files count too
    hub = ModelRef(ref="org/m@abc", kind="hf", name="org/m", revision="abc")
    assert model_identity(hub, tmp_path, 1)["revision"] == "abc"


def _save_local(folder: Path, nudge: float = 0.0) -> None:
    """builtin:tiny written to `folder` with save_pretrained, one weight moved by `nudge`."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from ccaic.models.tiny import tiny_path

    model = AutoModelForCausalLM.from_pretrained(str(tiny_path(1)), dtype=torch.float32)
    with torch.no_grad():
        next(model.parameters())[0, 0] += nudge
    model.save_pretrained(str(folder))
    AutoTokenizer.from_pretrained(str(tiny_path(1))).save_pretrained(str(folder))


def test_a_changed_local_base_model_misses_the_cache(tiny_cache: Path, tmp_path: Path,
                                                     plan_files) -> None:
    """Every step trained or sampled from a local base is keyed by its weights: re-saving the
    same weights reuses them all, one changed weight reruns them all (the SFT model too).
    Before: the runner keyed a local model by its path, so a stage trained on the old
    weights was reused after the weights changed."""
    pytest.importorskip("trl")
    write_plan, compiled = plan_files
    from ccaic.train.runner import run_plan

    src = write_plan(tmp_path / "src", n_red=2, batch=2, sft_steps=1)
    _save_local(tmp_path / "src" / "m")
    src.write_text(src.read_text().replace('"builtin:tiny"', '"./m"'))
    out = tmp_path / "out"
    steps = ("step.initial", "step.sl_cai.revision", "step.sft")
    first = run_plan(compiled(src), out, until="sft").steps
    assert [first[s]["status"] for s in steps] == ["ran"] * 3
    _save_local(tmp_path / "src" / "m")  # the same weights, written again
    same = run_plan(compiled(src), out, until="sft").steps
    assert [(same[s]["status"], same[s]["dir"]) for s in steps] == [
        ("cached", first[s]["dir"]) for s in steps]
    _save_local(tmp_path / "src" / "m", nudge=0.5)
    again = run_plan(compiled(src), out, until="sft").steps
    assert [again[s]["status"] for s in steps] == ["ran"] * 3
    assert not {again[s]["dir"] for s in steps} & {first[s]["dir"] for s in steps}


HUB_SCRIPT = """
import json, sys
from ccaic.build import run_until
from ccaic.train.runner import run_plan
from ccaic.store import read_jsonl
out = {}
for name in sys.argv[2:]:
    built = run_until("plan", f"{sys.argv[1]}/{name}.ccai", None, data=False)
    assert built.ok, built.diagnostics
    res = run_plan(built.plans[0], f"{sys.argv[1]}/out-{name}", until="initial")
    rows = read_jsonl(f"{sys.argv[1]}/out-{name}/" + res.steps["step.initial"]["dir"]
                      + "/responses.jsonl")
    out[name] = [r["response"] for r in rows]
print(json.dumps(out))
"""


def _hub_cache(root: Path, repo: str, commits: dict[str, Path], main: str) -> Path:
    """An offline Hugging Face cache holding `repo` at several commits (refs/main -> main)."""
    folder = root / ("models--" + repo.replace("/", "--"))
    for commit, files in commits.items():
        shutil.copytree(files, folder / "snapshots" / commit)
    (folder / "refs").mkdir(parents=True)
    (folder / "refs" / "main").write_text(main)
    return root


@pytest.mark.slow
def test_a_pinned_revision_reaches_the_loaders(tiny_cache: Path, tmp_path: Path,
                                               plan_files) -> None:
    """Two revisions in an offline cache; `org/tiny@A` generates what folder A generates,
    not what main (B) does. Before: the revision never reached from_pretrained."""
    pytest.importorskip("trl")
    write_plan, _ = plan_files
    from ccaic.models.tiny import tiny_path

    a, b = "a" * 40, "b" * 40
    hub = _hub_cache(tmp_path / "hub", "org/tiny", {a: tiny_path(1), b: tiny_path(2)}, main=b)
    src = write_plan(tmp_path / "src", n_red=2, batch=2)
    shutil.copytree(tiny_path(1), tmp_path / "src" / "folder_a")
    text = src.read_text()
    for name, model in (("pinned_a", f"org/tiny@{a}"), ("main", "org/tiny"),
                        ("folder_a", "./folder_a")):
        (src.parent / f"{name}.ccai").write_text(text.replace('"builtin:tiny"', f'"{model}"'))
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_CACHE": str(hub),
           "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run([sys.executable, "-c", HUB_SCRIPT, str(src.parent), "pinned_a",
                           "main", "folder_a"], env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["pinned_a"] == got["folder_a"]
    assert got["main"] != got["pinned_a"]
    run = json.loads((src.parent / "out-pinned_a" / "plan.json").read_text())
    assert run["policy"]["revision"] == a


MERGE_SCRIPT = """
import sys
from pathlib import Path
import torch
from peft import get_peft_model
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM
from ccaic.plan.model import Lora, Training
from ccaic.train.trainers import _peft_config, merge_saved_adapter
rev, work, folder_a = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
base = AutoModelForCausalLM.from_pretrained("org/tiny", revision=rev, dtype=torch.float32)
config = _peft_config(Training(lora=Lora(r=2, dropout=0.0)), rev)
get_peft_model(base, config).save_pretrained(str(work / "raw"))  # adapters start at zero
merge_saved_adapter(work / "raw", work / "merged")
got = load_file(str(work / "merged" / "model.safetensors"))
want = load_file(folder_a + "/model.safetensors")
shared = sorted(set(got) & set(want))
assert shared
print(all(torch.equal(got[k].float(), want[k].float()) for k in shared))
"""


def test_adapters_merged_from_disk_go_into_the_pinned_revision(tiny_cache: Path,
                                                                tmp_path: Path) -> None:
    """Under several processes the adapters are merged from their saved folder, whose config
    names the base. Before: it named no revision, so a plan pinning `org/tiny@A` had its
    adapters merged into main (B)."""
    pytest.importorskip("peft")
    from ccaic.models.tiny import tiny_path

    a, b = "a" * 40, "b" * 40
    hub = _hub_cache(tmp_path / "hub", "org/tiny", {a: tiny_path(1), b: tiny_path(2)}, main=b)
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_CACHE": str(hub),
           "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run([sys.executable, "-c", MERGE_SCRIPT, a, str(tmp_path),
                           str(tiny_path(1))], env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().splitlines()[-1] == "True"


SCORER_SCRIPT = """
import sys
import torch
from safetensors.torch import load_file
from ccaic.evaluate.run import load_scorer
want = {n: load_file(f + "/model.safetensors") for n, f in zip(("a", "b"), sys.argv[2:4])}
got = load_scorer(sys.argv[1], 0).model.state_dict()
shared = sorted(set(got) & set(want["a"]))
assert shared
print([n for n, w in want.items() if all(torch.equal(got[k].float(), w[k].float())
                                         for k in shared)])
"""


@pytest.mark.parametrize(("model", "loads"), [("org/tiny@" + "a" * 40, "a"), ("org/tiny", "b")])
def test_ccaic_evaluate_model_pins_a_revision(tiny_cache: Path, tmp_path: Path, model: str,
                                              loads: str) -> None:
    """`ccaic evaluate bbq --model org/name@rev` loads that revision, as a plan's model does.
    Before: the whole text went to from_pretrained as a repo id (CCAI494)."""
    pytest.importorskip("transformers")
    from ccaic.models.tiny import tiny_path

    hub = _hub_cache(tmp_path / "hub", "org/tiny", {"a" * 40: tiny_path(1),
                                                    "b" * 40: tiny_path(2)}, main="b" * 40)
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_CACHE": str(hub),
           "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run([sys.executable, "-c", SCORER_SCRIPT, model, str(tiny_path(1)),
                           str(tiny_path(2))], env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().splitlines()[-1] == f"['{loads}']"
