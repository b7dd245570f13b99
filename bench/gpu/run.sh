#!/usr/bin/env bash
# The GPU benchmark in one command (issue 14): training, generation, labelling, end to end.
#
#   bash bench/gpu/run.sh OUT_DIR              on the GPU machine (one H200, under 8 minutes)
#   bash bench/gpu/run.sh --dry-run OUT_DIR    the same code, tiny sizes, on CPU (the tests)
#   ... [--no-install] [--only SECTION ...]
#
# On the GPU it installs the wheels of bench/gpu/wheels/ (fetched beforehand with
# fetch_wheels.sh, carried with the tree) into $CCAIC_BENCH_SITE, checks every pinned version
# and requirement (envcheck.py --strict), then runs gpubench.py. OUT_DIR gets RESULTS.md,
# results.json, envcheck.json and bench.log. Exit 0: every section ran; 1: a section failed
# or was skipped (the others' figures are still written); 2: the environment is not usable.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
py="${PYTHON:-python3}"
site="${CCAIC_BENCH_SITE:-/tmp/ccaic-bench-site}"
wheels="${CCAIC_BENCH_WHEELS:-$here/wheels}"
command="bash bench/gpu/run.sh $*"
dry=0 install=1 out="" extra=()
while (($#)); do
  case "$1" in
    --dry-run) dry=1 ;;
    --no-install) install=0 ;;
    --only) shift; while (($#)) && [[ "$1" != --* ]]; do extra+=(--only "$1"); shift; done
            continue ;;
    -h|--help) sed -n '2,12p' "${BASH_SOURCE[0]}"; exit 0 ;;
    -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    *) [[ -z "$out" ]] || { echo "run.sh: one OUT_DIR only" >&2; exit 2; }; out="$1" ;;
  esac
  shift
done
[[ -n "$out" ]] || { echo "usage: bash bench/gpu/run.sh [--dry-run] OUT_DIR" >&2; exit 2; }
mkdir -p "$out"
out="$(cd "$out" && pwd)"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1 PYTHONUNBUFFERED=1
export TOKENIZERS_PARALLELISM=false TRL_EXPERIMENTAL_SILENCE=1 PYTHONDONTWRITEBYTECODE=1
pypath="$repo"
if ((dry)); then
  # the developer's own environment, on CPU; the carried wheels are for the GPU's Python 3.12
  export CUDA_VISIBLE_DEVICES=""
  export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"  # tiny tensors: threads only contend
  config=dry strict=()
else
  config=gpu strict=(--strict)
  if ((install)); then
    compgen -G "$wheels/*.whl" >/dev/null || {
      echo "run.sh: no wheels in $wheels: run 'bash bench/gpu/fetch_wheels.sh' where the" \
           "package registry is reachable and carry bench/gpu/wheels" >&2; exit 2; }
    rm -rf "$site"
    "$py" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target "$site" \
      "$wheels"/*.whl
    pypath="$site:$repo"
  fi
fi
export PYTHONPATH="$pypath${PYTHONPATH:+:$PYTHONPATH}"
cd "$repo"
"$py" "$here/envcheck.py" "${strict[@]}" --json "$out/envcheck.json" || exit 2
set -o pipefail
"$py" "$here/gpubench.py" --config "$config" --out "$out" --envcheck "$out/envcheck.json" \
  --command "$command" "${extra[@]}" 2>&1 | tee "$out/bench.log"
