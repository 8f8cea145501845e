"""docs/benchmarks.md and its plot, from the JSON that `bench.suite` wrote.

    .venv/bin/python -m bench.report [--json docs/benchmarks.json] [--out docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bench.fleet import REPO

__all__ = ["main", "markdown", "plot", "targets"]

LABELS = {
    "drift": "envparity drift",
    "parity": "envparity parity A B --live",
    "status": "envparity status",
    "pulumi_preview": "pulumi preview --refresh --expect-no-changes",
    "envparity_preview": "envparity preview",
    "up_noop": "envparity up (no change)",
    "up_one": "envparity up (one key on one service)",
}
PROGRAM_SHARE = 0.05
CHECK_FACTOR = 1.5
DRIFT_FACTOR = 2.0
DRIFT_VS_PULUMI = 10.0
MEMORY_GROWTH = 1.5


def _cmd(fleet: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    command: Mapping[str, Any] = fleet["commands"][name]
    return command


def _program_share(fleet: Mapping[str, Any]) -> dict[str, float] | None:
    rows: Sequence[Mapping[str, float]] = fleet.get("program") or []
    if not rows:
        return None
    parts = ("startup", "imports", "body", "validate", "declare", "read_render")
    median = {p: float(sorted(r.get(p, 0.0) for r in rows)[len(rows) // 2]) for p in parts}
    preview = float(_cmd(fleet, "pulumi_preview")["wall"])
    own = median["validate"] + median["declare"]
    return {**median, "preview": preview, "own": own, "share": own / preview,
            "share_with_imports": (own + median["imports"]) / preview}


def targets(results: Mapping[str, Any]) -> list[tuple[str, bool, str]]:
    """(target, met, the figures that decide it)."""
    fleets = results["fleets"]
    big = fleets[-1]
    n = big["services"]
    drift, pulumi = _cmd(big, "drift"), _cmd(big, "pulumi_preview")
    pages = math.ceil(results["keys"] / 100)
    out = [
        (f"drift of {n} services within {DRIFT_FACTOR:g}x its lower bound",
         drift["wall"] <= DRIFT_FACTOR * drift["lower"],
         f"{drift['wall']:.1f}s against {drift['lower']:.1f}s "
         f"({drift['wall'] / drift['lower']:.2f}x)"),
        (f"drift of {n} services at least {DRIFT_VS_PULUMI:g}x faster than pulumi preview "
         "--refresh --expect-no-changes",
         pulumi["wall"] >= DRIFT_VS_PULUMI * drift["wall"],
         f"{pulumi['wall']:.1f}s / {drift['wall']:.1f}s = {pulumi['wall'] / drift['wall']:.1f}x"),
        ("drift requests = services x (ceil(keys/100) + 1 for secret files) + 1 group "
         "listing, every N",
         all(_cmd(f, "drift")["gets"] == f["services"] * (pages + 1) + 1
             and _cmd(f, "drift")["writes"] == 0 for f in fleets),
         ", ".join(f"{_cmd(f, 'drift')['gets']} for {f['services']}" for f in fleets)),
    ]
    share = _program_share(big)
    if share is not None:
        out.append((f"the program's own share under {PROGRAM_SHARE:.0%} of a preview",
                    share["share"] < PROGRAM_SHARE,
                    f"{share['own']:.2f}s of {share['preview']:.1f}s = {share['share']:.1%} "
                    f"(with the program's imports {share['share_with_imports']:.1%})"))
    check = results.get("check_all")
    if check:
        ratio = check["check"] / check["decrypt_together"]
        out.append((f"check --all at {check['keys']} x {check['stacks']} within "
                    f"{CHECK_FACTOR:g}x of its unavoidable decryptions",
                    ratio <= CHECK_FACTOR,
                    f"{check['check']:.1f}s against {check['decrypt_together']:.1f}s "
                    f"({ratio:.2f}x)"))
    small = fleets[0]
    growth = {c: _cmd(big, c)["peak_mib"] / _cmd(small, c)["peak_mib"] for c in LABELS}
    worst = max(growth, key=lambda c: growth[c])
    out.append((f"memory flat in N: peak memory grows less than {MEMORY_GROWTH:g}x from "
                f"{small['services']} to {n} services", growth[worst] < MEMORY_GROWTH,
                f"most growth: {LABELS[worst]} {growth[worst]:.2f}x "
                f"({_cmd(small, worst)['peak_mib']:.0f} to {_cmd(big, worst)['peak_mib']:.0f} "
                f"MiB); envparity drift {growth['drift']:.2f}x"))
    noop = [_cmd(f, "up_noop") for f in fleets]
    out.append(("a no-op up makes no write and starts no deploy",
                all(c["writes"] == 0 and c["deploys"] == 0 for c in noop),
                ", ".join(f"{c['writes']} writes / {c['deploys']} deploys" for c in noop)))
    return out


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b > 0 else "-"


def _table(results: Mapping[str, Any]) -> list[str]:
    lines = [
        "| command | N | time (median) | peak MiB | GET / write / deploy | 429s | max per "
        "service | rate bound | latency bound | / lower bound | / pulumi preview |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, label in LABELS.items():
        for fleet in results["fleets"]:
            c = _cmd(fleet, name)
            pulumi = _cmd(fleet, "pulumi_preview")["wall"]
            bound = c["bound"]
            exits = "" if c["exit_codes"] == [0] else f" (exit {c['exit_codes']})"
            lines.append(
                f"| `{label}`{exits} | {fleet['services']} | {c['wall']:.2f}s | "
                f"{c['peak_mib']:.0f} | {c['gets']} / {c['writes']} / {c['deploys']} | "
                f"{c['limited']} | {c['max_per_service']} | {bound['rate']:.2f}s | "
                f"{bound['latency']:.2f}s | {_ratio(c['wall'], c['lower'])} | "
                f"{_ratio(c['wall'], pulumi)} |")
    return lines


def markdown(results: Mapping[str, Any], *, plot_name: str, notes: str) -> str:
    m = results["machine"]
    runs = sorted({(f["services"], f["runs"]) for f in results["fleets"]})
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`python -m bench.suite`, then `python -m bench.report`); the raw",
        "figures are in `docs/benchmarks.json`. Every number below comes from the same run.",
        "",
        "## Machine",
        "",
        f"- {m['cores']} cores, {m['memory_gib']} GiB memory, CPU {m['cpu']}, kernel {m['kernel']}",
        f"- Python {m['python']}, pulumi {m['pulumi']}; envparity at commit "
        f"{m.get('commit', 'unknown')}",
        f"- Shared and loaded while measuring: load average {' '.join(m['load_at_start'])} at "
        f"the start, {' '.join(results['load_at_end'])} at the end (1, 5, 15 minutes). Times "
        "include waiting for the CPU behind other people's work; request counts do not vary.",
        f"- The whole run took {results['total_seconds'] / 60:.1f} minutes. Runs per fleet "
        f"(medians of these): {', '.join(f'{r} at N = {n}' for n, r in runs)}; fewer at the "
        "largest N so that a full run stays within about 30 minutes on 2 cores (its first "
        "`up` alone writes every service at Render's 30 writes/min).",
        "",
        "## Setup",
        "",
        f"A fleet of N services x {results['keys']} keys in two stacks (staging, production), "
        "one key in four a secret set with `pulumi config set-all --secret` and the project's "
        "passphrase, stacks in a temporary `file://` backend; the Render API emulator runs in "
        "the benchmark's process over TLS with "
        f"{results['latency'] * 1000:.0f} ms added to every request and Render's limits "
        "enforced (GET 400/min, writes 30/min, deploys 10/min per service, real 429s). Each "
        "command runs as a subprocess (`envparity ...` or the pinned `pulumi`) with "
        "RENDER_API_URL, RENDER_API_HOST and SSL_CERT_FILE pointing at the emulator, after the "
        "same first `envparity up` of production, and each starts on a fresh rate-limit "
        "minute, as a scheduled run hours after the last would. Requests are counted from the "
        "emulator's exchange log; peak memory is `ru_maxrss` from `os.wait4` (the largest "
        "single process of the command's tree, pulumi's plugins included). The changing `up` "
        "undoes one key edited by hand on one service.",
        "",
        "## Lower bounds",
        "",
        "- Requests needed: one env-var page of 100 per service read (`ceil(keys/100)`), "
        "for drift and parity also each service's secret files and each stack's env groups "
        "(one listing); parity reads both stacks; status reads the service and its latest "
        "deploy, and the stack's env groups (one listing); an `up` that changes one service "
        "needs one write and one deploy besides the reads.",
        "- Rate bound: requests needed / Render's allowed rate, per bucket (GET 400/min, "
        "writes 30/min, deploys 10/min per service): the pace a check run over every service "
        "and stack every few hours must keep. One run can start on a whole minute's budget, "
        "so a ratio under 1 is possible and means the run used that burst.",
        f"- Latency bound: {results['latency'] * 1000:.0f} ms x sequential depth, services "
        f"read {results['concurrency']} at a time (envparity's fan-out and pulumi's default "
        "`--parallel`), each service's own requests one after another.",
        "- Lower bound = the larger of the two. Neither counts start-up or decrypting the "
        "stack config, which every command also pays.",
        "",
        "## Results",
        "",
        f"![time against N]({plot_name})",
        "",
        *_table(results),
        "",
        "## Targets",
        "",
        "| target | met | figures |",
        "|---|---|---|",
        *[f"| {t} | {'yes' if ok else '**no**'} | {why} |" for t, ok, why in targets(results)],
        "",
    ]
    share = _program_share(results["fleets"][-1])
    if share is not None:
        lines += [
            f"## The program's share of a preview (N = {results['fleets'][-1]['services']})",
            "",
            "Timed inside the program by the project's Pulumi main (`bench/timed_program.py` "
            "runs the unchanged `__main__.py`; medians over the runs):",
            "",
            "| part | seconds |",
            "|---|---:|",
            f"| language host alive before the program ran (pulumi's refresh included) "
            f"| {share['startup']:.2f} |",
            f"| imports (envparity, pulumi SDK) | {share['imports']:.2f} |",
            f"| catalog load and validation | {share['validate']:.2f} |",
            f"| resource declaration | {share['declare']:.2f} |",
            f"| reading Render (the program's own read) | {share['read_render']:.2f} |",
            f"| whole program body | {share['body']:.2f} |",
            f"| `pulumi preview --refresh --expect-no-changes` | {share['preview']:.2f} |",
            "",
        ]
    check = results.get("check_all")
    if check:
        lines += [
            f"## check --all: {check['keys']} keys x {check['stacks']} stacks",
            "",
            f"`envparity check --all` took {check['check']:.2f}s (median of {check['runs']}). "
            f"The decryptions it cannot avoid, `pulumi config --json --show-secrets` of every "
            f"stack, took {check['decrypt_together']:.2f}s run all at once (as check runs "
            f"them) and {check['decrypt_one_by_one']:.2f}s one after another.",
            "",
        ]
    if notes:
        lines += ["## Notes", "", notes.strip(), ""]
    return "\n".join(lines)


def plot(results: Mapping[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    fleets = results["fleets"]
    sizes = [f["services"] for f in fleets]
    figure, axes = pyplot.subplots(figsize=(9, 5.5))
    for name, label in LABELS.items():
        axes.plot(sizes, [_cmd(f, name)["wall"] for f in fleets], marker="o", label=label)
    axes.plot(sizes, [_cmd(f, "drift")["lower"] for f in fleets], linestyle="--",
              color="grey", label="drift: lower bound")
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xticks(sizes, [str(s) for s in sizes])
    axes.set_xlabel(f"services (x {results['keys']} keys)")
    axes.set_ylabel("seconds (median)")
    axes.set_title(f"Time against fleet size, {results['latency'] * 1000:.0f} ms per request, "
                   "Render's rate limits on")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    pyplot.close(figure)


def main(argv: Sequence[str] | None = None) -> int:
    import json

    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--json", type=Path, default=REPO / "docs" / "benchmarks.json")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "benchmarks.md")
    parser.add_argument("--notes", type=Path, default=Path(__file__).with_name("notes.md"),
                        help="hand-written notes appended to the document, if the file exists")
    args = parser.parse_args(argv)
    results = json.loads(args.json.read_text(encoding="utf-8"))
    image = args.out.with_suffix(".png")
    plot(results, image)
    notes = args.notes.read_text(encoding="utf-8") if args.notes.exists() else ""
    args.out.write_text(markdown(results, plot_name=image.name, notes=notes), encoding="utf-8")
    print(f"wrote {args.out} and {image}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
