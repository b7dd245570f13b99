"""`ccaic watch`: follow a live assembly, rebuild as votes arrive, keep the history.

Modules: `every` (the poll interval), `summary` (what a build folder says about each assembly
and constitution, and the fingerprint that decides whether the constitution changed), `sources`
(whether any vote arrived), `state` (history/watch.json, the one commit point of a poll, the
last good poll's artifacts and the folder's lock), `history` (the history/<n>/ entries),
`changelog` (HISTORY.md) and `poll` (one poll, and the loop). The build itself is
`ccaic.build.run_until`: its caches rerun only the stages whose inputs changed.
"""
