#!/usr/bin/env bash
# Installs the project's command-line tools into .cache/bin (cached; a second run is instant):
#   uv    from PyPI (pinned), the Python toolchain of the workspace
#   buf   from the Go module proxy (pinned), protobuf lint
#   helm  from the Go module proxy (pinned), chart lint and rendering
# Usage: scripts/tools.sh uv|buf|helm ...   Prints nothing when the tool is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="$PWD/.cache/bin"
mkdir -p "$BIN"
UV_VERSION=0.13.9
BUF_VERSION=v1.75.0
HELM_VERSION=v3.22.0
for tool in "$@"; do
  case "$tool" in
    uv)
      if ! command -v uv >/dev/null 2>&1 && [ ! -x "$BIN/uv" ]; then
        echo "installing uv $UV_VERSION" >&2
        python3 -m pip install --quiet --target "$PWD/.cache/uv-pkg" "uv==$UV_VERSION"
        ln -sf "$PWD/.cache/uv-pkg/bin/uv" "$BIN/uv"
      fi ;;
    buf)
      if [ ! -x "$BIN/buf" ]; then
        echo "building buf $BUF_VERSION from the Go module proxy (once)" >&2
        GOBIN="$BIN" GOFLAGS=-mod=mod go install "github.com/bufbuild/buf/cmd/buf@$BUF_VERSION"
      fi ;;
    helm)
      # The link flags of helm's own release build: without them helm reports no version and
      # assumes Kubernetes 1.20 for `template` defaults and lint's deprecation checks.
      if [ ! -x "$BIN/helm" ] || [ "$("$BIN/helm" version --template '{{.Version}}' 2>/dev/null)" != "$HELM_VERSION" ]; then
        echo "building helm $HELM_VERSION from the Go module proxy (once)" >&2
        K8S_MINOR=37
        GOBIN="$BIN" GOFLAGS=-mod=mod go install -ldflags "-s -w \
          -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION \
          -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$K8S_MINOR \
          -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$K8S_MINOR" \
          "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
      fi ;;
    *) echo "unknown tool $tool" >&2; exit 2 ;;
  esac
done
