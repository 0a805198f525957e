#!/usr/bin/env bash
# Generates the Python protobuf/gRPC stubs and their .pyi type stubs from protos/ with the
# protoc bundled in the locked grpcio-tools (one pinned toolchain for every machine).
#   scripts/proto.sh            regenerate into libs/protos/src/switchyard
#   scripts/proto.sh --check    fail when the committed stubs differ from a fresh generation
set -euo pipefail
cd "$(dirname "$0")/.."
out_final=libs/protos/src/switchyard
gen() {
  local out
  mkdir -p "$1" && out=$(cd "$1" && pwd)
  rm -rf "$out" && mkdir -p "$out"
  local protos
  protos=$(cd protos && find switchyard -name '*.proto' | sort)
  (cd protos && uv run --frozen python -m grpc_tools.protoc -I . \
    --python_out="$out/.." --pyi_out="$out/.." \
    --grpc_python_out="$out/.." \
    --plugin=protoc-gen-mypy_grpc="$(cd .. && pwd)/.venv/bin/protoc-gen-mypy_grpc" \
    --mypy_grpc_out=quiet:"$out/.." \
    $protos)
  # Packages for every generated directory, so imports and mypy see regular packages.
  find "$out" -type d -exec sh -c 'for d; do [ -f "$d/__init__.py" ] || : > "$d/__init__.py"; done' _ {} +
  : > "$out/py.typed"
}
if [ "${1:-}" = "--check" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  mkdir -p "$tmp/switchyard"
  gen "$tmp/gen/switchyard"
  if ! diff -r -x __pycache__ "$tmp/gen/switchyard" "$out_final" >/dev/null; then
    diff -r -x __pycache__ "$tmp/gen/switchyard" "$out_final" | head -40
    echo "proto-check: generated stubs are out of date; run 'make proto' and commit the result" >&2
    exit 1
  fi
  echo "proto-check: stubs match protos/"
else
  gen "$out_final"
  echo "proto: stubs written to $out_final"
fi
