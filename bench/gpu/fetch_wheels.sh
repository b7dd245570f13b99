#!/usr/bin/env bash
# Download the wheels of bench/gpu/wheels.txt into bench/gpu/wheels/ (ignored by git), for the
# GPU machine's Python 3.12 on x86-64, and print their total size. Needs the package registry.
#   bash bench/gpu/fetch_wheels.sh [DIR]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dir="${1:-$here/wheels}"
py="${PYTHON_FOR_PIP:-python3}"
mkdir -p "$dir"
platforms=(--platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64
           --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64)
grep -vE '^\s*(#|$)' "$here/wheels.txt" | while read -r spec kind; do
  if [[ "${kind:-}" == binary ]]; then
    "$py" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
      --implementation cp "${platforms[@]}" -d "$dir" "$spec"
  else
    "$py" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
      -d "$dir" "$spec"
  fi
done
# one wheel per pinned name, nothing else: two versions of one package stop the install
expected=$(grep -cvE '^\s*(#|$)' "$here/wheels.txt")
found=$(find "$dir" -maxdepth 1 -name '*.whl' | wc -l)
if [[ "$found" != "$expected" ]]; then
  echo "fetch_wheels: $found wheels in $dir, wheels.txt pins $expected; empty the folder and rerun" >&2
  exit 1
fi
echo "fetch_wheels: $found wheels, $(du -cb "$dir"/*.whl | tail -1 | cut -f1) bytes in $dir"
