"""`make demo`: the incident, replayed on a local Render emulator, found and fixed.

Everything runs for real: the Render API emulator over TLS, the pinned `pulumi` engine
with the `render` plugin, a file backend. The demo works on a scratch copy of the
project so it never touches the repository's own `.state/`, and removes it at the end.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Final

from envparity.cli import main as cli
from envparity.cli.demogroups import group_the_project
from envparity.core.desired import DesiredStack
from envparity.core.errors import EnvparityError
from envparity.core.findings import ExitCode
from envparity.core.secret import reveal
from envparity.emulator import Emulator, running_emulator
from envparity.emulator.groupscenarios import grouped_incident_seed
from envparity.emulator.scenarios import incident_seed
from envparity.stack import engine
from envparity.stack.config import ensure_local_stacks, read_stack_config
from envparity.stack.loader import load_desired
from envparity.stack.toolchain import repo_root

__all__ = ["PROJECT_FILES", "render_env", "run", "scratch_project"]

STACKS: Final = ("staging", "production")
# What a project is made of; everything else (toolchain, venv, plugins) is linked.
PROJECT_FILES: Final = ("Pulumi.yaml", "Pulumi.staging.yaml", "Pulumi.production.yaml",
                         "__main__.py", "stacks")
_SHARED_DIRS: Final = (".tools", ".pulumi-home", ".venv")


def scratch_project(repo: Path, dest: Path) -> Path:
    """A copy of the project with its own empty backend, sharing the built toolchain."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in PROJECT_FILES:
        source = repo / name
        if source.is_dir():
            shutil.copytree(source, dest / name)
        else:
            shutil.copy2(source, dest / name)
    for name in _SHARED_DIRS:
        if (repo / name).exists():
            (dest / name).symlink_to((repo / name).resolve())
    ensure_local_stacks(dest, STACKS, environ=_without_backend(os.environ))
    return dest


def _without_backend(environ: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in environ.items() if k != "PULUMI_BACKEND_URL"}


def render_env(emu: Emulator, api_key: str) -> dict[str, str]:
    """Where both the provider (`RENDER_API_HOST`) and our client (`RENDER_API_URL`) go."""
    if emu.ca_file is None:
        raise EnvparityError("the provider only speaks https: start the emulator with tls")
    return {
        "RENDER_API_HOST": emu.host_port,
        "RENDER_API_URL": emu.base_url,
        "RENDER_API_KEY": api_key,
        "SSL_CERT_FILE": str(emu.ca_file),
    }


@contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


class _Narrator:
    def __init__(self) -> None:
        self.step = 0

    def title(self, text: str) -> None:
        self.step += 1
        print(f"\n== {self.step}. {text}", flush=True)

    def say(self, text: str) -> None:
        print(f"   {text}", flush=True)

    def command(self, argv: Sequence[str], *, expect: ExitCode) -> bool:
        print(f"   $ envparity {' '.join(argv)}", flush=True)
        code = cli.main(list(argv))
        ok = code == expect
        verdict = "as expected" if ok else f"UNEXPECTED, wanted {int(expect)}"
        print(f"   -> exit {code} ({verdict})", flush=True)
        return ok


def _desired(stack: str, repo: Path) -> DesiredStack:
    desired, findings = load_desired(stack, repo=repo)
    if desired is None:
        raise EnvparityError(
            f"the example stack {stack} does not pass check:\n"
            + "\n".join(f.render() for f in findings),
        )
    return desired


def _show_render(emu: Emulator, desired: DesiredStack, say: _Narrator) -> None:
    for svc in desired.services:
        keys = emu.env_vars(svc.service_id)
        last = (emu.deploys(svc.service_id) or [{}])[0].get("status", "none")
        missing = sorted(set(svc.env) - set(keys))
        linked = [g["name"] for g in emu.snapshot()["envGroups"]
                  if svc.service_id in g["serviceIds"]]
        groups = f", groups: {', '.join(linked) or 'none'}" if desired.groups.groups else ""
        say.say(f"{desired.stack}/{svc.name} ({svc.service_id}): {len(keys)} keys{groups}, "
                f"last deploy {last}" + (f", missing {', '.join(missing)}" if missing else ""))


def _pulumi_line(line: str) -> None:
    text = line.rstrip("\n")
    if text.strip():
        print(f"   | {text}", flush=True)


def _story(repo: Path, emu: Emulator, prod: DesiredStack, say: _Narrator) -> bool:
    ok = True
    say.title("Render today (the emulator holds the incident)")
    _show_render(emu, prod, say)
    say.title("The declaration itself is sound: every stack passes check")
    ok &= say.command(["check", "--all"], expect=ExitCode.CLEAN)
    say.title("The scheduled job's first signal: the worker's last deploy failed")
    ok &= say.command(["status", "--stack", "production"], expect=ExitCode.FINDINGS)
    say.title("Drift: what runs on Render against what is declared")
    ok &= say.command(["drift", "--stack", "production"], expect=ExitCode.FINDINGS)
    say.title("Parity: staging (fixed by hand) against production, both live")
    ok &= say.command(["parity", "staging", "production", "--live"], expect=ExitCode.FINDINGS)
    say.title("The pull request's preview of the fix (markdown, as posted on the PR)")
    ok &= say.command(["preview", "--stack", "production", "--format", "markdown"],
                      expect=ExitCode.CLEAN)
    say.title("pulumi up: apply it")
    result = engine.up("production", repo=repo, on_output=_pulumi_line)
    say.say(f"changes: {dict(sorted(result.changes.items()))}")
    say.title("Render now matches the declaration, and staging")
    _show_render(emu, prod, say)
    ok &= say.command(["drift", "--stack", "production"], expect=ExitCode.CLEAN)
    ok &= say.command(["parity", "staging", "production", "--live"], expect=ExitCode.CLEAN)
    say.title("A second preview has nothing left to do")
    ok &= not engine.preview("production", repo=repo, on_output=_pulumi_line).changed
    return ok


def run(*, keep: bool = False, groups: bool = False) -> int:
    """Replay the incident and its fix; 0 when Render ends up matching the declaration.

    With `groups`, the shared keys live in an env group that production's worker is not
    linked to: the same outage, by another road."""
    repo = repo_root()
    say = _Narrator()
    workdir = Path(tempfile.mkdtemp(prefix="envparity-demo-"))
    try:
        print("envparity demo: the production worker that died with "
              "`[Errno 101] Network is unreachable`", flush=True)
        say.title(f"A scratch copy of the project with its own Pulumi backend: {workdir}")
        with _environment({"PULUMI_BACKEND_URL": (workdir / "project" / ".state").as_uri()}):
            project = scratch_project(repo, workdir / "project")
            if groups:
                say.say("variant: the shared keys live in the env group app-shared-<stack>")
                group_the_project(project, STACKS)
            prod, staging = _desired("production", project), _desired("staging", project)
            keys = [reveal(read_stack_config(s, repo=project)["render:apiKey"].value)
                    for s in STACKS]
            make_seed = grouped_incident_seed if groups else incident_seed
            seed = make_seed(prod, staging, api_keys=keys)
            with running_emulator(seed, api_keys=keys, tls=True) as emu, _environment(
                {**render_env(emu, keys[-1]), "ENVPARITY_REPO": str(project)}
            ):
                say.say(f"Render API emulator on {emu.base_url} (CA {emu.ca_file})")
                ok = _story(project, emu, prod, say)
    finally:
        if keep:
            print(f"\nkept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print("\ndemo " + ("finished: Render matches the declaration" if ok else "FAILED"),
          flush=True)
    return int(ExitCode.CLEAN if ok else ExitCode.FAILED)


if __name__ == "__main__":
    sys.exit(run())
