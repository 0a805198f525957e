#!/usr/bin/env bash
# Installs what the benchmark needs, cached under .cache/bench (a second run is instant):
#   bin/mockllm, bin/sybench   built from bench/mock and bench/loadgen with the installed Go (stdlib only)
#   wrk                        Debian package (apt-get), the closed-loop load generator
#   litellm/                   a separate virtualenv with LiteLLM's proxy, the gateway we compare with
#   litellm/prisma-probe.json  whether LiteLLM's database features (Prisma) can run here, and why not
#   tools/                     a virtualenv with py-spy, for `make profile`
# Usage: bench/setup.sh [all|go|wrk|litellm|litellm-db|pyspy]...   (FORCE_PROBE=1 re-runs the probe)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
CACHE="$ROOT/.cache/bench"
BIN="$CACHE/bin"
mkdir -p "$BIN"
# The newest LiteLLM whose [proxy] extra resolves from PyPI here (1.108.8+ need a litellm-proxy-extras
# or litellm-proxy release the registry does not serve; 1.107.0 was a compromised release).
LITELLM_VERSION="${LITELLM_VERSION:-1.108.7}"
PYSPY_VERSION=0.4.3
# Prisma Client Python as LiteLLM's extra_proxy extra asks for it (>=0.11,<1).
PRISMA_VERSION=0.15.0
WORKSPACE_PY="$ROOT/.venv/bin/python"

build_go() {
  # Rebuilt when a source is newer than the binary (go build is itself cached).
  local name="$1" src="$ROOT/bench/$2"
  if [ ! -x "$BIN/$name" ] || [ -n "$(find "$src" -newer "$BIN/$name" -name '*.go' -o -newer "$BIN/$name" -name go.mod | head -1)" ]; then
    echo "[bench] building $name" >&2
    (cd "$src" && GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -o "$BIN/$name" .)
  fi
}

want="${*:-all}"
for step in $want; do
  case "$step" in
    all) "$0" go wrk litellm litellm-db pyspy ;;
    go)
      command -v go >/dev/null || { echo "[bench] Go is required to build the mock and the client" >&2; exit 1; }
      build_go mockllm mock
      build_go sybench loadgen ;;
    wrk)
      if ! command -v wrk >/dev/null; then
        echo "[bench] installing wrk (apt-get)" >&2
        if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
        $SUDO apt-get install -y -qq wrk >/dev/null 2>&1 || { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq wrk >/dev/null; }
      fi ;;
    litellm)
      if [ ! -f "$CACHE/litellm/.installed-$LITELLM_VERSION" ]; then
        echo "[bench] installing litellm[proxy]==$LITELLM_VERSION into .cache/bench/litellm (once)" >&2
        rm -rf "$CACHE/litellm"
        uv venv --quiet --python "$WORKSPACE_PY" "$CACHE/litellm"
        uv pip install --quiet --python "$CACHE/litellm/bin/python" "litellm[proxy]==$LITELLM_VERSION"
        # Compiled once here: with PYTHONDONTWRITEBYTECODE set, each start would recompile LiteLLM.
        "$CACHE/litellm/bin/python" -m compileall -q -j 0 "$CACHE/litellm/lib" >/dev/null 2>&1 || true
        rm -f "$CACHE/litellm/prisma-probe.json"
        touch "$CACHE/litellm/.installed-$LITELLM_VERSION"
      fi ;;
    litellm-db)
      # LiteLLM's virtual keys and budgets live in PostgreSQL behind Prisma; `prisma generate`
      # needs Prisma's query engine binary. Try it for real once and record the outcome.
      probe="$CACHE/litellm/prisma-probe.json"
      if [ ! -f "$probe" ] || [ -n "${FORCE_PROBE:-}" ]; then
        echo "[bench] probing whether LiteLLM's Prisma client can be generated here (once)" >&2
        uv pip install --quiet --python "$CACHE/litellm/bin/python" "prisma==$PRISMA_VERSION"
        work="$CACHE/prisma"
        mkdir -p "$work"
        schema="$(LITELLM_LOCAL_MODEL_COST_MAP=True "$CACHE/litellm/bin/python" -c 'import litellm.proxy, pathlib; print(pathlib.Path(litellm.proxy.__file__).parent / "schema.prisma")')"
        cp "$schema" "$work/schema.prisma"
        set +e
        (cd "$work" && PATH="$CACHE/litellm/bin:$PATH" PRISMA_HOME_DIR="$work/home" PRISMA_BINARY_CACHE_DIR="$work/engines" \
          timeout 300 prisma generate --schema schema.prisma) >"$work/generate.log" 2>&1
        rc=$?
        set -e
        "$CACHE/litellm/bin/python" - "$rc" "$work/generate.log" "$probe" "$PRISMA_VERSION" <<'PY'
import json, sys, pathlib
rc, log, out, version = int(sys.argv[1]), pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3]), sys.argv[4]
lines = [l.strip() for l in log.read_text(errors="replace").splitlines() if l.strip()]
errors = [l for l in lines if "error" in l.lower()] or lines[-1:]
reason = (
    f"`prisma generate` (Prisma Client Python {version}, Prisma CLI from the npm registry) exited {rc}: "
    + (errors[-1] if errors else "no output")
    + " - the query-engine binary is downloaded from Prisma's own binary host, which is not a package"
    " registry and cannot be reached from this machine"
)
out.write_text(json.dumps({"supported": rc == 0, "reason": "" if rc == 0 else reason, "log": lines[-20:]}, indent=1))
PY
      fi ;;
    pyspy)
      if [ ! -x "$CACHE/tools/bin/py-spy" ]; then
        echo "[bench] installing py-spy $PYSPY_VERSION into .cache/bench/tools (once)" >&2
        uv venv --quiet --python "$WORKSPACE_PY" "$CACHE/tools"
        uv pip install --quiet --python "$CACHE/tools/bin/python" "py-spy==$PYSPY_VERSION"
      fi ;;
    *) echo "unknown step $step" >&2; exit 2 ;;
  esac
done
