"""`envparity emulator`: serve the Render API emulator until interrupted."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from envparity.core.errors import EnvparityError
from envparity.core.findings import ExitCode

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "emulator",
        help="serve a local Render API emulator (for tests, the demo and trying things out)",
        description=(
            "Serve Render's REST API (/v1) on loopback from a seed or a saved state file. "
            "Prints RENDER_API_URL, RENDER_API_HOST and, with --tls, SSL_CERT_FILE (one per "
            "line, ready for `export`), then serves until Ctrl-C or SIGTERM. "
            "Seed format and emulated behaviour: docs/emulator.md."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    parser.add_argument("--tls", action="store_true",
                        help="serve HTTPS with a throwaway CA (needed by the Pulumi provider)")
    parser.add_argument("--ca-file", type=Path, default=None,
                        help="where to write the CA certificate with --tls (default: a temp dir)")
    parser.add_argument("--state", type=Path, default=None, metavar="FILE",
                        help="JSON state file: loaded if it exists, rewritten after every change")
    parser.add_argument("--seed", type=Path, default=None, metavar="FILE",
                        help="seed (JSON or YAML) used when there is no state file yet")
    parser.add_argument("--api-key", action="append", default=[], metavar="KEY",
                        help="accepted Bearer key (repeatable; default: the seed's apiKeys, "
                             "else rnd_test_key)")
    parser.add_argument("--progressive-deploys", action="store_true",
                        help="deploys move created, build_in_progress, update_in_progress, then "
                             "end, one status per read of them (default: they end at once)")
    parser.add_argument("--json", action="store_true",
                        help="print the addresses as one JSON object instead")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from envparity.emulator import DEFAULT_API_KEY, Emulator
    from envparity.emulator.seed import load_seed_file

    if not 0 <= args.port <= 65535:
        raise EnvparityError(f"--port {args.port} is out of range", hint="use 0..65535")
    seed = load_seed_file(args.seed) if args.seed is not None else None
    keys = list(args.api_key)
    if not keys and not (seed or {}).get("apiKeys") and not _state_has_keys(args.state):
        keys = [DEFAULT_API_KEY]
    emulator = Emulator(seed, api_keys=keys, tls=args.tls, state_file=args.state,
                        progressive_deploys=args.progressive_deploys,
                        host=args.host, port=args.port, ca_file=args.ca_file)
    try:
        emulator.start()
    except OSError as exc:
        raise EnvparityError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}",
                             hint="choose another --port or --host") from None
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:  # noqa: ARG001
        stop.set()

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        _announce(args, emulator.base_url, emulator.host_port, emulator.ca_file,
                  len(emulator.store.api_keys))
        while not stop.wait(0.5):
            pass
    finally:
        emulator.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("emulator stopped", file=sys.stderr)
    return int(ExitCode.CLEAN)


def _state_has_keys(state: Path | None) -> bool:
    if state is None or not state.exists():
        return False
    try:
        data = json.loads(state.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False  # the emulator itself reports a broken state file, with a hint
    return isinstance(data, dict) and bool(data.get("apiKeys"))


def _announce(args: argparse.Namespace, base_url: str, host_port: str, ca_file: Path | None,
              key_count: int) -> None:
    if args.json:
        print(json.dumps({"base_url": base_url, "host_port": host_port,
                          "ca_file": str(ca_file) if ca_file else None,
                          "state_file": str(args.state) if args.state else None,
                          "api_keys": key_count}), flush=True)
    else:
        print(f"RENDER_API_URL={base_url}")
        print(f"RENDER_API_HOST={host_port}")
        if ca_file is not None:
            print(f"SSL_CERT_FILE={ca_file}")
        print(f"serving {key_count} API key(s); Ctrl-C to stop", file=sys.stderr, flush=True)
        sys.stdout.flush()
