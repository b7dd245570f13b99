"""Cost of hostile ids and cells in a Polis votes.csv (docs/limits.md, "Data limits").

Usage: python bench/data_limits.py ROWS LENGTH [id|vote|text]
Writes a Polis export folder with ROWS ordinary votes plus one row whose voter-id (`id`), vote
cell (`vote`) or, in comments.csv, statement text (`text`) is LENGTH characters, loads it with
`load_source` and prints one line: the outcome (rows loaded, or the diagnostic code), seconds
and peak traced Python memory (tracemalloc, numpy included).
"""

from __future__ import annotations

import sys
import tempfile
import time
import tracemalloc
from pathlib import Path


def main() -> None:
    rows, length = int(sys.argv[1]), int(sys.argv[2])
    where = sys.argv[3] if len(sys.argv) > 3 else "id"
    from ccaic.assembly.sources import load_source
    from ccaic.diagnostics import DiagnosticError

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        lines = [f"{i},x,{i % 7},{i % 300},1\n" for i in range(rows)]
        if where == "id":
            lines.append(f"{rows},x,0,{'8' * length},1\n")
        elif where == "vote":
            lines.append(f"{rows},x,0,1,{'1' * length}\n")
        texts = "".join(f"{j},x,{j},1,0,0,1,statement {j}\n" for j in range(7))
        if where == "text":
            texts += f"7,x,7,1,0,0,1,{'t' * length}\n"
        (folder / "votes.csv").write_text("timestamp,datetime,comment-id,voter-id,vote\n"
                                          + "".join(lines))
        (folder / "comments.csv").write_text(
            "timestamp,datetime,comment-id,author-id,agrees,disagrees,moderated,comment-body\n"
            + texts)
        tracemalloc.start()
        start = time.perf_counter()
        try:
            src = load_source("auto", folder)
            outcome = f"loaded {src.table.shape[0]} participants"
        except DiagnosticError as exc:
            outcome = exc.diagnostics[0].code
        seconds = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    print(f"rows={rows} length={length} in={where}: {outcome}, {seconds:.3f} s, "
          f"peak {peak / 2 ** 20:.1f} MiB")


if __name__ == "__main__":
    main()
