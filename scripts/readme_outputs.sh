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
