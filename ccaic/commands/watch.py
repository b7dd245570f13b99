"""`ccaic watch FILE -o DIR`: follow a live assembly and keep the constitution's history."""

from __future__ import annotations

import argparse
from pathlib import Path

from ccaic.commands.common import add_offline, add_out, add_vars, not_a_folder, program_sources
from ccaic.output import Output


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from ccaic.build import RUN_STEPS, STAGES

    p = sub.add_parser(
        "watch", help="rebuild as votes arrive and keep the constitution's history",
        description="Poll the sources of a .ccai file, rebuild what their new votes change "
        "(the build's caches rerun only those stages), and append to the history: "
        "history/<n>/ holds the constitutions, the assembly summary and the diff against the "
        "previous entry; HISTORY.md tells it for people. A failed poll changes nothing.")
    p.add_argument("file", help="the .ccai file to watch")
    add_out(p)
    add_vars(p)
    p.add_argument("--until", choices=(*STAGES, *RUN_STEPS), default="constitution",
                   metavar="STAGE", help="build up to this stage on each poll (default: "
                   "constitution; `run` trains on every change)")
    p.add_argument("--every", default="10m", metavar="DURATION",
                   help="time between polls: 30s, 10m, 1h (default 10m)")
    p.add_argument("--once", action="store_true", help="poll once and exit (cron, CI)")
    p.add_argument("--polls", type=int, default=None, metavar="N",
                   help="stop after N polls (default: until interrupted)")
    p.add_argument("--on-change", default=None, metavar="COMMAND",
                   help="a shell command run after each new history entry, with the entry's "
                   "folder, as an absolute path, in $CCAIC_WATCH_ENTRY")
    add_offline(p)
    p.add_argument("--detailed-exitcode", action="store_true",
                   help="exit 2 when the constitution changed, 0 when it did not, 1 on error")
    p.set_defaults(run=run, outputs=lambda a: [a.out])  # a write error there is CCAI601


def run(args: argparse.Namespace, out: Output) -> int:
    from ccaic.assembly.sources.polis_api import offline
    from ccaic.diagnostics import DiagnosticError
    from ccaic.watch.every import parse_every
    from ccaic.watch.poll import PollResult, loop, poll

    try:
        every = parse_every(args.every)
    except DiagnosticError as exc:
        out.diagnostics(exc.diagnostics, "text")
        return 1
    blocked = not_a_folder(args.out)
    if blocked is not None:
        out.diagnostics([blocked], "text")
        return 1
    root = Path(args.out)

    def step() -> PollResult:
        with offline(args.offline):
            done = poll(args.file, root, args.var, args.until, args.on_change)
        out.diagnostics(done.diagnostics, "text", program_sources(done.programs), quiet_ok=True)
        if done.ok:
            said = f" ({'; '.join(done.counts)})" if done.counts else ""  # no assembly: no "()"
            out.info(f"~ {args.out}/history/{done.entry}/: the constitution changed{said}"
                     if done.entry is not None else f"watch: no change{said}")
        return done

    results = loop(args.once, every, args.polls, step)
    if not all(r.ok for r in results):
        return 1
    return 2 if args.detailed_exitcode and any(r.entry is not None for r in results) else 0
