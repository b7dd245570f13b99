#!/usr/bin/env bash
# Re-run every command whose output the README or docs/outputs/ shows, and save the outputs.
# Needs ../shared (the CCAI 2023 data). Usage: scripts/readme_outputs.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out=docs/outputs
data=../shared/data/ccai-2023
mkdir -p "$out"
ccaic build constitutions/public.ccai --var data=$data -o build/ccai 2> "$out/build-ccai-2023.txt"
ccaic diff constitutions/public.ccai constitutions/standard.ccai --var data=$data \
  > "$out/diff-public-vs-standard.txt"
ccaic diff ../shared/data/cai/llm-swarm-constitution_anthropic.json \
  ../shared/data/cai/llm-swarm-constitution_grok.json > "$out/diff-hf-anthropic-vs-grok.txt"
ccaic analyze ../shared/data/polis/opendata/brexit-consensus --format text \
  > "$out/analyze-brexit-consensus.txt"
sed -i "s#$(pwd)/##g; s#$(cd .. && pwd)/#../#g" "$out"/*.txt
# The report screenshot (docs/images/report-quickstart.png): a full quickstart build in Chromium.
.venv/bin/ccaic build examples/quickstart/quickstart.ccai -o build/quickstart 2>/dev/null
profile=$(mktemp -d)
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --window-size=1200,2400 \
  --screenshot=docs/images/report-quickstart.png "file://$(pwd)/build/quickstart/report.html" 2>/dev/null
rm -rf "$profile"
