#!/bin/sh
# PostgreSQL server binaries for the tests that log in to a real server (tests/pg.py).
# Idempotent: installs Debian's `postgresql` package only when no server binaries are
# found. Nothing is started here; each test run starts its own throwaway cluster.
set -eu

find_bindir() {
    if [ -n "${ENVPARITY_PG_BINDIR:-}" ] && [ -x "$ENVPARITY_PG_BINDIR/initdb" ]; then
        echo "$ENVPARITY_PG_BINDIR"
        return 0
    fi
    # Debian keeps server binaries off PATH, one directory per major version; take the newest.
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n -r); do
        if [ -x "$dir/initdb" ] && [ -x "$dir/postgres" ]; then
            echo "$dir"
            return 0
        fi
    done
    return 1
}

if bindir=$(find_bindir); then
    echo "==> postgres: server binaries in $bindir ($("$bindir/postgres" --version))"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "==> postgres: no server binaries found; as root run: apt-get install -y postgresql" >&2
    exit 1
fi
echo "==> postgres: installing Debian's postgresql package"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends postgresql >/dev/null
bindir=$(find_bindir) || { echo "==> postgres: install finished but initdb not found" >&2; exit 1; }
echo "==> postgres: server binaries in $bindir ($("$bindir/postgres" --version))"
