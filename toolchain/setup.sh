#!/usr/bin/env bash
# Provide the pinned Pulumi CLI in .tools/bin and install envparity's `render` resource
# provider plugin into the project's PULUMI_HOME. Idempotent: a rerun changes nothing and
# takes seconds. Called by `make setup` once .venv exists. See docs/toolchain.md.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
python="$repo/.venv/bin/python"
started=$(date +%s)

say() { printf 'setup: %s\n' "$*"; }
fail() { printf 'setup: error: %s\n' "$1" >&2; [ $# -lt 2 ] || printf '    fix: %s\n' "$2" >&2; exit 1; }

[ -x "$python" ] || fail "$python is missing" "create the virtualenv first: make setup"

# Paths and the pulumi environment come from one place, envparity.stack.toolchain.
mapfile -t settings < <("$python" - "$repo" <<'PY'
import sys
from pathlib import Path
from envparity.stack.toolchain import PULUMI_VERSION, pulumi_bin, pulumi_env
repo = Path(sys.argv[1])
env = pulumi_env(repo)
from envparity.stack.toolchain import RENDER_PLUGIN_VERSION
print(PULUMI_VERSION, pulumi_bin(repo), env["PULUMI_HOME"], env["PULUMI_SKIP_UPDATE_CHECK"],
      env["PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION"], RENDER_PLUGIN_VERSION, sep="\n")
PY
)
[ "${#settings[@]}" -eq 6 ] || fail "envparity.stack.toolchain did not load" \
    "pip install -e . into .venv (make setup does)"
version=${settings[0]}
pulumi_bin=${settings[1]}
PULUMI_HOME=${settings[2]}
PULUMI_SKIP_UPDATE_CHECK=${settings[3]}
PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=${settings[4]}
plugin_version=${settings[5]}
export PULUMI_HOME PULUMI_SKIP_UPDATE_CHECK PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION

wrapper="$repo/toolchain/pulumi-cli"
cache_dir="${XDG_CACHE_HOME:-$HOME/.cache}/envparity"
key=$(cat "$wrapper/go.mod" "$wrapper/go.sum" | sha256sum | cut -c1-16)
cached="$cache_dir/pulumi-v$version-$key"

reports_version() { [ -x "$1" ] && [ "$("$1" version 2>/dev/null || true)" = "v$version" ]; }

# --- 1. the pulumi CLI ------------------------------------------------------------------
mkdir -p "$(dirname "$pulumi_bin")"
if reports_version "$pulumi_bin"; then
    say "pulumi v$version already in .tools/bin"
    if [ ! -L "$pulumi_bin" ] && [ ! -e "$cached" ]; then
        mkdir -p "$cache_dir"
        cp "$pulumi_bin" "$cached.tmp" && mv -f "$cached.tmp" "$cached"
        say "stored it in the cache as $cached"
    fi
else
    on_path=""
    while IFS= read -r candidate; do
        [ "$candidate" -ef "$pulumi_bin" ] && continue
        if reports_version "$candidate"; then on_path=$candidate; break; fi
    done < <(type -ap pulumi || true)
    if [ -n "$on_path" ]; then
        ln -sfn "$on_path" "$pulumi_bin"
        say "pulumi v$version found on PATH at $on_path; linked into .tools/bin"
    elif reports_version "$cached"; then
        cp "$cached" "$pulumi_bin.tmp" && mv -f "$pulumi_bin.tmp" "$pulumi_bin"
        say "pulumi v$version copied from the cache $cached"
    else
        command -v go >/dev/null || fail "go is not installed; it is needed to build pulumi v$version" \
            "install Go 1.26 (https://go.dev/dl or apt-get install golang-go), or put pulumi v$version on PATH"
        say "building pulumi v$version from the Go module proxy (takes minutes; cached afterwards)"
        build_started=$(date +%s)
        (cd "$wrapper" && GOFLAGS=-mod=mod GOTOOLCHAIN=local go build -trimpath \
            -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$version" \
            -o "$pulumi_bin.tmp" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
        reports_version "$pulumi_bin.tmp" || fail "the built pulumi does not report v$version" \
            "check toolchain/pulumi-cli/go.mod requires pkg/v3 and sdk/v3 at v$version"
        mv -f "$pulumi_bin.tmp" "$pulumi_bin"
        mkdir -p "$cache_dir"
        cp "$pulumi_bin" "$cached.tmp" && mv -f "$cached.tmp" "$cached"
        say "built pulumi v$version in $(( $(date +%s) - build_started ))s; cached as $cached"
    fi
fi
reports_version "$pulumi_bin" || fail "$pulumi_bin does not report v$version" "remove it and rerun make setup"
say "$("$pulumi_bin" version) at $pulumi_bin"

# --- 2. the render provider plugin --------------------------------------------------------
launcher="$repo/.tools/plugins/pulumi-resource-render"
mkdir -p "$(dirname "$launcher")"
quote() { printf "'%s'" "${1//\'/\'\\\'\'}"; }
# PYTHONPATH puts this checkout first: a copied .venv's editable install still points at
# the checkout it was made in, and the launcher must run this one's code.
cat >"$launcher.tmp" <<EOF
#!/bin/sh
# envparity's provider for render:services:EnvVarsForService: envparity's own
# pulumi-resource-render $plugin_version (see docs/toolchain.md). Written by toolchain/setup.sh.
PYTHONPATH=$(quote "$repo")\${PYTHONPATH:+:\$PYTHONPATH} exec $(quote "$python") -m envparity.plugins.provider "\$@"
EOF
chmod +x "$launcher.tmp"
mv -f "$launcher.tmp" "$launcher"
"$python" -c 'import envparity.plugins.provider.server' \
    || fail "envparity.plugins.provider does not import" "pip install -e . into .venv (make setup does)"

# Also as 0.6.0, in this project's own PULUMI_HOME only: state written before the program
# pinned its provider names the engine's default provider at 0.6.0, and the first run after
# upgrading reads it once; there it is envparity's plugin too, never the community one.
for version in "$plugin_version" 0.6.0; do
    installed="$PULUMI_HOME/plugins/resource-render-v$version/pulumi-resource-render"
    if [ -x "$installed" ] && cmp -s "$launcher" "$installed"; then
        say "plugin resource render v$version already installed in $PULUMI_HOME"
        continue
    fi
    if [ -e "$installed" ] && ! grep -qF "$(quote "$repo")" "$installed"; then
        say "the installed plugin ran another checkout's envparity (a moved or copied checkout); reinstalling"
    fi
    "$pulumi_bin" plugin install resource render "$version" --file "$launcher" --reinstall
    say "plugin resource render v$version installed in $PULUMI_HOME"
done
# Captured first: with pipefail, grep -q closing the pipe early would fail the check.
plugins=$("$pulumi_bin" plugin ls 2>/dev/null || true)
grep -Eq "^render +resource +$plugin_version" <<<"$plugins" \
    || fail "pulumi plugin ls does not list resource render $plugin_version" "rerun make setup"

# --- 3. what it cost ------------------------------------------------------------------------
say "done in $(( $(date +%s) - started ))s"
du -sh "$repo/.tools" "$PULUMI_HOME" 2>/dev/null | sed 's/^/setup: disk /'
[ -d "$cache_dir" ] && du -sh "$cache_dir" | sed 's/^/setup: disk /'
exit 0
