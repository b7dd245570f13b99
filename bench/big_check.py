"""Write a large .ccai file for measuring `ccaic check` (docs/limits.md, "Input size").

    python bench/big_check.py big.ccai 10        # about 10 MB
    /usr/bin/time -v ccaic check big.ccai

Each repeat is a realistic assembly, constitution and plan (moderation rules, a template, a
list, nested blocks) with one mistake (an unknown attribute), so the file has one error per
about 700 bytes, as a generated or concatenated spec gone wrong would.
"""

from __future__ import annotations

import sys
from pathlib import Path

UNIT = """\
assembly "a{n}" {{
  source polis {{ path = "data/{n}" }}
  moderation {{
    keep statements where moderated == 1
    drop statements where text matches /https?:\\/\\// because "links are not principles"
    drop participants where votes < 3 and not (agrees > 100 or disagrees > 100)
  }}
  groups kmeans {{
    k    = 2..5
    seed = {n}
  }}
  consensus gac {{ threshold = 0.6 }}
}}

constitution "c{n}" {{
  from     = assembly.a{n}
  template = "Choose the response that {{{{ statement.text | as_behaviour }}}}."
  colour   = "blue"   # the mistake: no such attribute
}}

"""


def generate(megabytes: float) -> str:
    """Units until the text reaches `megabytes` MB (10**6 bytes)."""
    target = int(megabytes * 1_000_000)
    parts: list[str] = []
    size = n = 0
    while size < target:
        unit = UNIT.format(n=n)
        parts.append(unit)
        size += len(unit.encode("utf-8"))
        n += 1
    return "".join(parts)


def main(argv: list[str]) -> int:
    out = Path(argv[1] if len(argv) > 1 else "big.ccai")
    out.write_text(generate(float(argv[2]) if len(argv) > 2 else 10.0), encoding="utf-8")
    print(f"wrote {out} ({out.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
