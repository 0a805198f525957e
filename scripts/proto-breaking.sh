#!/usr/bin/env bash
# `buf breaking` (buf.yaml: the FILE rules): the protos of the working tree, uncommitted changes
# included, against those of the last commit of main that is not part of the change under test,
# so that a renumbered, retyped or removed field, message or RPC fails `make proto-check`.
#   on a branch      the merge base of HEAD and main (origin/main, else the local main): HEAD
#                    itself while the branch has no commit of its own
#   on main itself   HEAD's first parent (also with a detached HEAD on main): CI tests a clone of
#                    main whose HEAD is the change (a merge's first parent is main before it)
#   PROTO_BREAKING_AGAINST=<commit>   that commit instead (e.g. the last release tag)
# The base's protos are read with `git archive` rather than buf's own `.git#ref=` input, which
# clones the repository to a fixed depth: this works the same in a worktree, a shallow clone and
# on a base of any age. Without history to compare against (not a git checkout, no main, a
# shallow clone without the base, a first commit) the check is skipped, saying why.
set -euo pipefail
cd "$(dirname "$0")/.."

skip() {
  echo "proto-check: buf breaking skipped: $*" >&2
  exit 0
}

git rev-parse --git-dir >/dev/null 2>&1 || skip "not a git checkout"
if [ -n "${PROTO_BREAKING_AGAINST:-}" ]; then
  if ! base=$(git rev-parse --verify --quiet "$PROTO_BREAKING_AGAINST^{commit}"); then
    echo "proto-check: PROTO_BREAKING_AGAINST=$PROTO_BREAKING_AGAINST names no commit here" >&2
    exit 1
  fi
  what="$PROTO_BREAKING_AGAINST"
else
  main=""
  for ref in refs/remotes/origin/main refs/heads/main; do
    if git rev-parse --verify --quiet "$ref^{commit}" >/dev/null; then
      main=$ref
      break
    fi
  done
  [ -n "$main" ] || skip "no main branch (origin/main or main) in this clone"
  base=$(git merge-base HEAD "$main") || skip "HEAD and $main share no commit in this clone (shallow?)"
  branch=$(git symbolic-ref --quiet --short HEAD || true)
  if [ "$base" = "$(git rev-parse HEAD)" ] && [ -n "$branch" ] && [ "$branch" != main ]; then
    what="HEAD: $branch has no commit of its own yet"
  elif [ "$base" = "$(git rev-parse HEAD)" ]; then
    base=$(git rev-parse --verify --quiet "HEAD^1^{commit}") ||
      skip "HEAD is on main and its parent is not in this clone (shallow clone or first commit)"
    what="HEAD^1, main before HEAD"
  else
    what="the merge base with ${main#refs/*/}"
  fi
fi
git cat-file -e "$base:protos" 2>/dev/null || skip "$base has no protos/ to compare against"

against=$(mktemp -d)
trap 'rm -rf "$against"' EXIT
git archive "$base" -- protos | tar -x -C "$against"
# The base's own module layout; the current one when the base predates buf.yaml.
if git cat-file -e "$base:buf.yaml" 2>/dev/null; then
  git show "$base:buf.yaml" >"$against/buf.yaml"
else
  cp buf.yaml "$against/buf.yaml"
fi
echo "proto-check: buf breaking against $(git rev-parse --short "$base") ($what)"
if ! buf breaking --against "$against"; then
  echo "proto-check: the change breaks the wire or generated code of existing protos; add fields," \
    "messages and RPCs under new numbers and names instead (reserve retired ones)" >&2
  exit 1
fi
