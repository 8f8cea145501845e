"""`envparity emulator`: serve the Render API emulator until interrupted."""

from __future__ import annotations

import argparse
import json
import re
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from envparity.core.errors import EnvparityError
from envparity.core.findings import ExitCode

if TYPE_CHECKING:
    from envparity.emulator import Faults

__all__ = ["faults_from_args", "register"]


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
    _fault_options(parser)
    parser.set_defaults(func=run)


def _fault_options(parser: argparse.ArgumentParser) -> None:
    faults = parser.add_argument_group(
        "faults", "make the emulator misbehave, to try retries and failures by hand "
        "(docs/emulator.md, Faults); they act before authentication, like a load balancer")
    add = faults.add_argument
    add("--latency", type=float, default=0.0, metavar="SECONDS",
        help="wait this long before every answer (0..60; default 0)")
    add("--rate-limit-after", type=int, default=None, metavar="N",
        help="answer 429 once N requests have passed (0: a 429 storm from the first request)")
    add("--rate-limit-count", type=int, default=None, metavar="N",
        help="...for N requests only (default: until the emulator stops)")
    add("--retry-after", type=int, default=1, metavar="SECONDS",
        help="the Retry-After those 429s ask for (default 1)")
    add("--error-next", type=int, default=0, metavar="N",
        help="answer the first N requests with a 5xx")
    add("--error-rate", type=float, default=0.0, metavar="P",
        help="then answer this share of requests (0..1) with a 5xx")
    add("--error-status", type=int, default=503, metavar="CODE",
        help="the status of those answers (500..599; default 503)")
    add("--drop-next", type=int, default=0, metavar="N",
        help="close the first N connections without any answer")
    add("--drop-rate", type=float, default=0.0, metavar="P",
        help="then close this share of connections (0..1) without any answer")
    add("--fail-paths", default=None, metavar="REGEX",
        help="only requests whose path matches REGEX (searched, e.g. /env-vars) get, and "
             "count for, the faults above")
    add("--queue-deploys", action="store_true",
        help="answer deploy triggers 202 with an empty body, as Render sometimes does")
    add("--enforce-rate-limits", action="store_true",
        help="enforce Render's per-minute limits (GET 400, writes 30) with real 429s")
    add("--fault-seed", type=int, default=None, metavar="N",
        help="seed for the random faults, to make a run reproducible")


def faults_from_args(args: argparse.Namespace) -> Faults:
    """The `Faults` the options ask for; every bad value is named at once."""
    from envparity.emulator import Faults

    problems = []
    if not 0 <= args.latency <= 60:
        problems.append(f"--latency {args.latency:g} is not within 0..60 seconds")
    for name in ("rate_limit_after", "rate_limit_count", "retry_after", "error_next",
                 "drop_next"):
        value = getattr(args, name)
        if value is not None and value < 0:
            problems.append(f"--{name.replace('_', '-')} {value} is negative")
    for name in ("error_rate", "drop_rate"):
        if not 0 <= getattr(args, name) <= 1:
            problems.append(f"--{name.replace('_', '-')} {getattr(args, name):g} is not "
                            "a share within 0..1")
    if not 500 <= args.error_status <= 599:
        problems.append(f"--error-status {args.error_status} is not a 5xx status")
    if args.fail_paths is not None:
        try:
            re.compile(args.fail_paths)
        except re.error as exc:
            problems.append(f"--fail-paths is not a valid regular expression ({exc.msg})")
    if problems:
        raise EnvparityError("; ".join(problems), hint="see `envparity emulator --help`")
    return Faults(
        latency_seconds=args.latency, rate_limit_after=args.rate_limit_after,
        rate_limit_count=args.rate_limit_count, retry_after_seconds=args.retry_after,
        error_rate=args.error_rate, error_next=args.error_next, error_status=args.error_status,
        drop_connections=args.drop_rate, drop_next=args.drop_next, fail_paths=args.fail_paths,
        queue_deploys=args.queue_deploys, enforce_rate_limits=args.enforce_rate_limits,
        random_seed=args.fault_seed,
    )


def run(args: argparse.Namespace) -> int:
    from envparity.emulator import DEFAULT_API_KEY, Emulator, Faults
    from envparity.emulator.seed import load_seed_file

    if not 0 <= args.port <= 65535:
        raise EnvparityError(f"--port {args.port} is out of range", hint="use 0..65535")
    faults = faults_from_args(args)
    seed = load_seed_file(args.seed) if args.seed is not None else None
    keys = list(args.api_key)
    if not keys and not (seed or {}).get("apiKeys") and not _state_has_keys(args.state):
        keys = [DEFAULT_API_KEY]
    emulator = Emulator(seed, api_keys=keys, tls=args.tls, state_file=args.state,
                        progressive_deploys=args.progressive_deploys,
                        host=args.host, port=args.port, ca_file=args.ca_file, faults=faults)
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
        if faults != Faults():
            print(f"faults: {_described(faults)}", file=sys.stderr, flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        emulator.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("emulator stopped", file=sys.stderr)
    return int(ExitCode.CLEAN)


def _described(faults: Faults) -> str:
    """The faults that differ from a well-behaved emulator, as `field=value`."""
    calm = type(faults)()
    return ", ".join(f"{name}={getattr(faults, name)!r}" for name in faults.__dataclass_fields__
                     if not name.startswith("_") and getattr(faults, name) != getattr(calm, name))


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
