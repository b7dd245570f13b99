"""Vote sources: `source <name> { ... }` in the language and `ccaic analyze --kind <kind>`.

An entry's `name` is the language name, `meta["kind"]` the loader's `--kind` name, `target` the
loader (`(path, display, SourceOptions) -> LoadedSource`, see ccaic.assembly.sources) and
`attrs` the source block attributes it takes. The checker's `source` block takes the union of
every entry's attributes, in entry order; `meta["language"]` False keeps a loader that only
`--kind` names (the polis entry detects it) out of the language. `meta["sync"]` names a
function run before the assembly stage's cache lookup (a remote source downloads its snapshot
there, so the cache keys on what was downloaded). `meta["needs"]` lists groups of attributes
the block must set one of, each with an example (the checker's CCAI209). An attribute of the
union that the labelled source does not take is a warning (CCAI217: it would do nothing), as
is one that `meta["with"]` says acts only beside another that the block does not set, or
that `meta["unless"]` says another overrides (polis_api reads a report_id's export, never
the conversation API beside it).

A new source: its module under ccaic/assembly/sources/ plus one Entry here (plus docs).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ccaic.registry import Attr, Entry, Registry

PATH = Attr("path", "export folder, or the votes file for votes_csv; polis_api: a snapshot to "
            "start from (optional: its snapshot is in the build folder)")
#: Every source but polis_api needs `path` (meta["needs"], CCAI209).
NEEDS_PATH = ((("path",), "`path = ...` (export folder, or the votes file for votes_csv)"),)
VOTE_SIGN = Attr("choice", "which vote value means agree: auto, export (+1 = agree, CSV exports) "
                 "or api (-1 = agree, Polis API)", choices=("auto", "export", "api"),
                 default="auto")
UNKNOWN_STATEMENTS = Attr("choice", "votes for statements the source does not list: error, or "
                          "drop (and count them)", choices=("error", "drop"), default="error")

#: A long-format CSV's options (a `polis` path naming a single file is read as one too).
LONG_CSV: dict[str, Attr] = {
    "statements": Attr("path", "votes_csv: a CSV of statement ids and texts"),
    "participant_column": Attr("string", "votes_csv: participant id column"),
    "statement_column": Attr("string", "votes_csv: statement id column"),
    "vote_column": Attr("string", "votes_csv: vote column"),
    "timestamp_column": Attr("string", "votes_csv: timestamp column (revotes)"),
    "statement_id_column": Attr("string", "votes_csv: id column of `statements`"),
    "statement_text_column": Attr("string", "votes_csv: text column of `statements`"),
}
EXPORT: dict[str, Attr] = {"vote_sign": VOTE_SIGN, "unknown_statements": UNKNOWN_STATEMENTS}
#: Attributes that act only beside another (meta["with"]; alone they are CCAI217).
WITH_STATEMENTS = {"statement_id_column": "statements", "statement_text_column": "statements"}
#: A live Polis server's settings (ccaic.assembly.sources.polis_api).
POLIS_API: dict[str, Attr] = {
    "base_url": Attr("string", "polis_api: the Polis server, e.g. https://pol.is"),
    "conversation_id": Attr("string", "polis_api: the conversation, read through the API"),
    "report_id": Attr("string", "polis_api: a report of it, read as its CSV export"),
    "token_env": Attr("string", "polis_api: environment variable holding an access token"),
    "timeout": Attr("number", "polis_api: seconds to wait for an answer (default 30)",
                    minimum=0, exclusive_minimum=True, default=30),
    "retries": Attr("int", "polis_api: retries after a timeout or a busy server (default 3)",
                    minimum=0, maximum=10, default=3),
    "max_bytes": Attr("int", "polis_api: largest download accepted (default 200000000)",
                      minimum=1, default=200_000_000),
}

SOURCES: Registry[Callable[..., Any]] = Registry("source", [
    Entry("polis", "ccaic.assembly.sources:load_detected",
          "a Polis export folder (CSV or API JSON) or a long-format CSV file, detected from "
          "what the path holds", attrs={"path": PATH, **LONG_CSV, **EXPORT},
          meta={"kind": "auto", "with": WITH_STATEMENTS, "needs": NEEDS_PATH}),
    Entry("polis_csv", "ccaic.assembly.sources.polis_csv:load_polis_csv",
          "a Polis CSV export folder (votes.csv or participants-votes.csv, comments.csv)",
          attrs={"path": PATH, **EXPORT},
          meta={"kind": "polis-csv", "language": False, "needs": NEEDS_PATH}),
    Entry("polis_json", "ccaic.assembly.sources.polis_json:load_polis_json",
          "a Polis API JSON folder (votes.json, comments.json, math-pca2.json)",
          attrs={"path": PATH, **EXPORT}, meta={"kind": "polis-json", "needs": NEEDS_PATH}),
    Entry("votes_csv", "ccaic.assembly.sources.long_csv:load_long_csv",
          "one long-format votes file (participant, statement, vote[, timestamp]): CSV or "
          "Parquet", attrs={"path": PATH, **LONG_CSV, **EXPORT},
          meta={"kind": "long-csv", "with": WITH_STATEMENTS, "needs": NEEDS_PATH}),
    Entry("polis_api", "ccaic.assembly.sources.polis_api:load_polis_api",
          "a running Polis server, downloaded into a snapshot folder before each build",
          attrs={"path": PATH, **POLIS_API, **EXPORT},
          meta={"kind": "polis-api", "sync": "ccaic.assembly.sources.polis_api:sync",
                "unless": {"conversation_id": "report_id"},
                "needs": ((("base_url",), '`base_url = "https://pol.is"`'),
                          (("conversation_id", "report_id"),
                           '`report_id = "<the id in the report\'s URL>"`'))}),
])


def language_names() -> tuple[str, ...]:
    """The names `source <name>` accepts, in registry order."""
    return tuple(e.name for e in SOURCES if e.meta.get("language", True))


def kinds() -> tuple[str, ...]:
    """The `--kind` names of `ccaic analyze`, in registry order ("auto" first)."""
    return tuple(str(e.meta["kind"]) for e in SOURCES)


def by_kind(kind: str) -> Entry | None:
    """The entry whose loader `--kind` names, None for an unknown kind."""
    return next((e for e in SOURCES if e.meta["kind"] == kind), None)
