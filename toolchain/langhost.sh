#!/usr/bin/env bash
# Give the pinned CLI a Python language host, so plain `pulumi preview` / `pulumi up` run this
# project: writes the launcher .tools/bin/pulumi-language-python (envparity.plugins.langhost in the
# project's .venv), unless the pulumi that setup linked from PATH has a real host beside it.
# Idempotent; called by `make setup` after toolchain/setup.sh. See docs/toolchain.md.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
python="$repo/.venv/bin/python"
bin_dir="$repo/.tools/bin"
launcher="$bin_dir/pulumi-language-python"
marker="# envparity stand-in language host"

say() { printf 'langhost: %s\n' "$*"; }
fail() { printf 'langhost: error: %s\n' "$1" >&2; [ $# -lt 2 ] || printf '    fix: %s\n' "$2" >&2; exit 1; }

[ -x "$python" ] || fail "$python is missing" "create the virtualenv first: make setup"
[ -e "$bin_dir/pulumi" ] || fail "$bin_dir/pulumi is missing" "run toolchain/setup.sh first (make setup does)"
is_ours() { [ -f "$1" ] && grep -qF "$marker" "$1"; }

# A real installation (setup linked its pulumi from PATH) keeps its own host: the engine
# would prefer ours, found first on PATH, over the one bundled beside the CLI.
real_dir=$(dirname "$(readlink -f "$bin_dir/pulumi")")
real_host="$real_dir/pulumi-language-python"
if [ "$real_dir" != "$(readlink -f "$bin_dir")" ] && [ -x "$real_host" ] && ! is_ours "$real_host"; then
    if is_ours "$launcher"; then
        rm -f "$launcher"
        say "removed the stand-in launcher; $real_host is used"
    else
        say "real language host found beside pulumi: $real_host; nothing to do"
    fi
    exit 0
fi
if [ -e "$launcher" ] && ! is_ours "$launcher"; then
    say "$launcher is not envparity's; left as it is"
    exit 0
fi

"$python" -c 'import envparity.plugins.langhost' \
    || fail "envparity.plugins.langhost does not import" "pip install -e . into .venv (make setup does)"
quote() { printf "'%s'" "${1//\'/\'\\\'\'}"; }
# PYTHONPATH puts this checkout first: a copied .venv's editable install still points at
# the checkout it was made in, and the host must run this one's program and envparity.
cat >"$launcher.tmp" <<EOF
#!/bin/sh
$marker, standing in for pulumi-language-python
# (see docs/toolchain.md). Written by toolchain/langhost.sh.
PYTHONPATH=$(quote "$repo")\${PYTHONPATH:+:\$PYTHONPATH} exec $(quote "$python") -m envparity.plugins.langhost "\$@"
EOF
chmod +x "$launcher.tmp"
if cmp -s "$launcher.tmp" "$launcher"; then
    rm -f "$launcher.tmp"
    say "stand-in language host already in .tools/bin"
else
    if [ -e "$launcher" ] && ! grep -qF "$(quote "$repo")" "$launcher"; then
        say "the launcher ran another checkout's envparity (a moved or copied checkout); rewriting"
    fi
    mv -f "$launcher.tmp" "$launcher"
    say "stand-in language host written to $launcher"
fi
