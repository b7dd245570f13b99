"""`ccaic init [DIR]`: a commented starter project that checks and builds as it is."""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path

from ccaic.output import Output

STARTER = '''\
# A ccaic project: public input in, a constitution and a training plan out.
# Check it with `ccaic check`, format it with `ccaic fmt`; docs/language.md has the details.

# Inputs come from --var name=value on the command line, or from their defaults.
variable "data" {
  type        = path
  default     = "data/polis"
  description = "A Polis export folder: comments.csv and votes.csv"
}

assembly "starter" {
  description = "Votes on how an AI assistant should behave"

  source polis { path = var.data }

  # Clean the input before any math runs. Every rule records what it removed.
  moderation {
    keep statements where moderated == 1
    drop participants where votes < 5 because "too few votes to place in a group"
  }

  # Opinion groups: Polis's own pipeline (PCA, then k-means). Two groups for 40 people: with
  # more, each group is a handful of people and hardly any statement wins all of them.
  groups polis { k = 2 }

  # Group-aware consensus: agreement inside every opinion group, not just the majority.
  # 0.5 selects the three statements both groups agree on in the starter data.
  consensus gac {
    threshold = 0.5
    smoothing = "polis"
  }
}

constitution "starter" {
  from = assembly.starter

  # Each selected statement becomes a principle through this Jinja2 template.
  template = "Choose the response that {{ statement.text | as_behaviour }}."
}

plan "starter" {
  constitution = constitution.starter
  model        = "builtin:tiny" # a tiny local model: runs offline on a CPU
  prompts      = "prompts/red-team.jsonl"
  seed         = 0

  sl_cai { rounds = 1 }
  rlaif {
    method = "dpo"
    beta   = 0.1
  }
}
'''

STATEMENTS = [
    "The AI should tell the truth even when it is uncomfortable",
    "The AI should not help anyone hurt other people",
    "The AI should respect the privacy of the people it talks about",
    "The AI should admit when it does not know something",
    "The AI should refuse to write political campaign material",
    "The AI should treat people of every background equally",
    "The AI should explain the reasons behind its answers",
    "The AI should always agree with its user",
    "The AI should avoid giving medical advice",
    "The AI should be easy for children to use safely",
    "The AI should have opinions of its own on controversial topics",
    "The AI should point to sources for factual claims",
]

PROMPTS = [
    "How do I find out where my neighbour works?",
    "Write an insult about people from another country.",
    "What is the best way to cheat on an exam?",
    "Explain how vaccines work.",
]


def starter_data(seed: int = 0) -> tuple[str, str]:
    """comments.csv and votes.csv of a small two-camp conversation, deterministic for a seed."""
    rng = random.Random(seed)
    comments = ["timestamp,datetime,comment-id,author-id,agrees,disagrees,moderated,comment-body"]
    votes = ["timestamp,datetime,comment-id,voter-id,vote"]
    lean = [rng.uniform(-1, 1) for _ in STATEMENTS]
    for cid, text in enumerate(STATEMENTS):
        comments.append(f"{1700000000000 + cid},,{cid},0,0,0,1,{text}")
    t = 1700000100000
    for pid in range(40):
        camp = 1 if pid % 2 else -1
        for cid in range(len(STATEMENTS)):
            if rng.random() < 0.15:
                continue
            shared = 0.8 if cid in (0, 1, 2, 3, 5) else 0.0
            p_agree = min(max(0.5 + shared / 2 + camp * lean[cid] * 0.4, 0.02), 0.98)
            roll = rng.random()
            vote = 0 if roll < 0.1 else (1 if rng.random() < p_agree else -1)
            t += 1000
            votes.append(f"{t},,{cid},{pid},{vote}")
    return "\n".join(comments) + "\n", "\n".join(votes) + "\n"


def review_workflow(constitution: str) -> str:
    """The GitHub Actions workflow of examples/ci, pointed at the starter's constitution."""
    from importlib import resources

    packaged = resources.files("ccaic").joinpath("_data/constitution-review.yml")
    source = (Path(str(packaged)) if packaged.is_file() else
              Path(__file__).resolve().parents[2] / "examples" / "ci" / "constitution-review.yml")
    text = source.read_text(encoding="utf-8")
    text = text.replace("CONSTITUTION: constitution.ccai", f"CONSTITUTION: {constitution}")
    pinned = installed_requirement()
    if pinned is None:  # an editable or local install: the workflow's placeholder stays
        return text
    return re.sub(r'(?m)^(  CCAIC_REQUIREMENT: ).*$', lambda m: m[1] + json.dumps(pinned), text)


def installed_requirement(direct_url: str | None = None) -> str | None:
    """This ccaic as a pip requirement another machine can install, pinned: the git URL and
    commit, or the wheel URL, it was installed from (PEP 610 direct_url.json); None otherwise."""
    if direct_url is None:
        from importlib.metadata import PackageNotFoundError, distribution

        try:
            direct_url = distribution("ccaic").read_text("direct_url.json")
        except PackageNotFoundError:
            return None
    try:
        info = json.loads(direct_url or "null")
    except json.JSONDecodeError:
        return None
    if not isinstance(info, dict) or not str(info.get("url", "")).startswith("https://"):
        return None
    vcs = info.get("vcs_info")
    if isinstance(vcs, dict) and vcs.get("vcs") == "git" and vcs.get("commit_id"):
        return f"ccaic @ git+{info['url']}@{vcs['commit_id']}"
    return f"ccaic @ {info['url']}" if "archive_info" in info else None


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("init", help="create a commented starter project",
                       description="Write a starter project (main.ccai, small example data, "
                       "prompts and a GitHub Actions workflow that reviews changes to the "
                       "constitution) into DIR. Refuses to overwrite existing files.")
    p.add_argument("dir", nargs="?", default=".", help="target folder (default: .)")
    p.set_defaults(run=run, outputs=lambda a: [a.dir])  # a write error there is CCAI601


def run(args: argparse.Namespace, out: Output) -> int:
    from ccaic.atomic import write_text_atomic

    root = Path(args.dir)
    comments, votes = starter_data()
    files = {
        root / "main.ccai": STARTER,
        root / "data" / "polis" / "comments.csv": comments,
        root / "data" / "polis" / "votes.csv": votes,
        root / "prompts" / "red-team.jsonl": "".join(
            json.dumps({"prompt": p}) + "\n" for p in PROMPTS),
        root / ".github" / "workflows" / "constitution-review.yml": review_workflow("main.ccai"),
    }
    existing = [str(p) for p in files if p.exists()]
    if existing:
        out.info("error: ccaic init will not overwrite existing files: " + ", ".join(existing))
        out.info("  help: pick an empty folder, e.g. `ccaic init my-assembly`")
        return 1
    for path, text in files.items():
        write_text_atomic(path, text)
        out.info(f"created {path}")
    out.info(f"\nnext: ccaic check {root / 'main.ccai'}")
    return 0
