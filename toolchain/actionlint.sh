#!/usr/bin/env bash
# Provide the pinned GitHub Actions linter (and shellcheck, which it runs on `run:` steps)
# for tests/test_workflows.py. Idempotent; the built binary is cached per user.
set -euo pipefail

version=1.7.12
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin="$repo/.tools/bin/actionlint"
cached="${XDG_CACHE_HOME:-$HOME/.cache}/envparity/actionlint-v$version"

say() { printf 'actionlint: %s\n' "$*"; }
reports_version() { [ -x "$1" ] && "$1" -version 2>/dev/null | head -n1 | grep -qx "v\?$version"; }

mkdir -p "$(dirname "$bin")" "$(dirname "$cached")"
if reports_version "$bin"; then
    say "v$version already in .tools/bin"
elif reports_version "$cached"; then
    cp "$cached" "$bin.tmp" && mv -f "$bin.tmp" "$bin"
    say "v$version copied from the cache"
else
    say "building v$version from the Go module proxy"
    tmp=$(mktemp -d)
    GOFLAGS=-mod=mod GOTOOLCHAIN=local GOBIN="$tmp" \
        go install "github.com/rhysd/actionlint/cmd/actionlint@v$version"
    mv -f "$tmp/actionlint" "$bin"
    rmdir "$tmp"
    cp "$bin" "$cached.tmp" && mv -f "$cached.tmp" "$cached"
fi

if ! command -v shellcheck >/dev/null; then
    say "installing shellcheck from Debian's packages"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null
fi
say "$("$bin" -version | head -n1), $(shellcheck --version | sed -n 2p)"
