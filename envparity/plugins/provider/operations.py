"""What the provider does on Render for each engine call on `EnvVarsForService`.

Create and Update are the same act: read the service's env (every page), replace it
whole with the declared list, and when that changed the env or the service does not yet
run it, start a deploy and wait for it to end, because Render does not restart a service
for an env change by itself and a worker would keep running on its old env. The read
before the PUT is compared with the keys the engine's diff showed (the state and the
inputs): a key that appeared on Render since then was never reviewed, so it is carried
over, not deleted. Delete leaves the service's env as it is: removing the declaration
stops envparity managing the env, it does not empty a running service's environment. All
Render calls go through `RenderClient`.
"""

from __future__ import annotations

import base64
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from envparity.checks.status import runs_its_env
from envparity.core.errors import EnvparityError, RenderApiError, RenderNotFound
from envparity.core.secret import Secret
from envparity.plugins.provider.config import Settings
from envparity.plugins.provider.envvars import (
    EnvSpec,
    aligned,
    mismatched_keys,
    observed,
    put_body,
    with_carried,
)
from envparity.plugins.provider.props import PropMap
from envparity.plugins.provider.rollout import (
    FAILED,
    NOT_DEPLOYED,
    Rollout,
    env_digest,
    is_final,
)
from envparity.render.client import Deploy, RenderClient

__all__ = [
    "Applied",
    "ClientFactory",
    "DeployIncomplete",
    "DeployRun",
    "DeployRunner",
    "EnvVarsOperations",
    "Progress",
    "generate_value",
    "render_client",
]

ClientFactory = Callable[[Settings], RenderClient]
Progress = Callable[[str], None]
_FIRST_POLL = 1.0
_MAX_POLL = 15.0


def render_client(settings: Settings) -> RenderClient:
    return RenderClient(
        base_url=settings.base_url, api_key=settings.require_key(), verify=settings.verify,
        limiter=settings.limits.limiter(),
    )


def generate_value() -> Secret:
    """What Render's `generateValue` makes: 256 random bits, base64 encoded."""
    return Secret(base64.b64encode(secrets.token_bytes(32)).decode())


@dataclass(frozen=True, slots=True)
class Applied:
    """What Render holds after an apply, in the state's shape, and what was deployed."""

    spec: EnvSpec
    rollout: Rollout
    carried: tuple[str, ...] = ()
    """Keys on Render that nobody reviewed the removal of: kept, not deleted."""

    def props(self) -> PropMap:
        return {**self.spec.props(), **self.rollout.props()}


@dataclass(frozen=True, slots=True)
class DeployRun:
    """A deploy started after a service's env was written, and how its wait ended."""

    deploy: Deploy | None
    """None: Render refused to start it."""
    status: str
    refused: int | None = None
    """Render's HTTP status when it refused."""


DeployRunner = Callable[[str, str, Progress], DeployRun]
"""Start a deploy of a service (id, name for messages) whose env was just written, and wait
for it to end."""


class DeployIncomplete(EnvparityError):
    """The env is written but its deploy did not go live; `applied` is what the state holds."""

    def __init__(self, message: str, *, hint: str, applied: Applied) -> None:
        super().__init__(message, hint=hint)
        self.applied = applied


class EnvVarsOperations:
    """One per configured provider; the client (and its rate limiter) is shared by threads."""

    def __init__(
        self,
        settings: Settings,
        *,
        client_factory: ClientFactory = render_client,
        generate: Callable[[], Secret] = generate_value,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        cancelled: threading.Event | None = None,
    ) -> None:
        self._settings = settings
        self._cancelled = cancelled or threading.Event()
        self._factory = client_factory
        self._generate = generate
        self._clock = clock
        self._sleep = sleep
        self._client: RenderClient | None = None
        self._lock = threading.Lock()
        self._runner: DeployRunner = self.start_and_wait

    def share_deploys(self, runner: DeployRunner) -> None:
        """Deploy a service's own env change through `runner`, which may cover other changes
        to the service with the same deploy (`envparity.plugins.provider.groupdeploys`)."""
        self._runner = runner

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def client(self) -> RenderClient:
        with self._lock:
            if self._client is None:
                self._client = self._factory(self._settings)
            return self._client

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    def apply(
        self, spec: EnvSpec, *, old: EnvSpec | None = None, rollout: Rollout | None = None,
        label: str = "", progress: Progress | None = None,
    ) -> Applied:
        """Make the service's env equal `spec` and, unless it already runs it, deploy it.

        `old` is the state the engine diffed against (None for a create); `rollout` what the
        state remembers about deploys (None: nothing, so the env found on Render counts as
        deployed).
        """
        if spec.service_id is None or spec.entries is None:
            raise EnvparityError("serviceId and envVars must be known before they are applied")
        service_id = spec.service_id
        name = label or service_id
        client = self.client()
        before = {v.key: v.value for v in client.list_env_vars(service_id)}
        # A create has no state to compare with: the program's removal warnings, from its
        # own read, are all the review there is.
        seen = set(before) if old is None else {e.key for e in old.entries or ()}
        reviewed = seen | {e.key for e in spec.entries}
        carried = tuple(sorted(before.keys() - reviewed))
        target = with_carried(spec, {k: before[k] for k in carried})
        generated = {
            e.key: self._generate() for e in target.entries or () if e.generate
            and e.key not in before
        }
        body = put_body(target, before, generated=generated)
        wrong = mismatched_keys(body, before)
        changed = bool(wrong)
        if changed:
            # The PUT answers the new list, so no second read is needed unless it disagrees.
            after = {v.key: v.value for v in client.replace_env_vars(service_id, body)}
            if mismatched_keys(body, after):
                after = {v.key: v.value for v in client.list_env_vars(service_id)}
            wrong = mismatched_keys(body, after)
        if wrong:
            raise EnvparityError(
                f"{name}: after replacing its env, Render holds other values "
                f"for {', '.join(wrong)}",
                hint="another writer may be changing this service; run `pulumi up` again",
            )
        written = EnvSpec(service_id, aligned(target.entries or (), old or spec),
                          spec.query_params)
        state = rollout if rollout is not None else Rollout(
            deployed=env_digest(observed(spec, service_id, list(before.items())))
        )
        applied = Applied(written, state, carried)
        if not self._settings.deploy_on_change:
            return applied
        # A changed env is deployed even if the state says it is the deployed one: someone
        # may have deployed a hand edit since, and the service then runs that. A create has
        # no memory of deploys, so Render's deploy history decides (as `envparity status`).
        if not (changed or state.pending(written)) and (
            rollout is not None or runs_its_env(client.get_service(service_id),
                                                client.list_deploys(service_id))
        ):
            return applied
        return self._deploy(applied, name=name, progress=progress or (lambda _: None))

    def _deploy(self, applied: Applied, *, name: str, progress: Progress) -> Applied:
        service_id = applied.spec.service_id
        assert service_id is not None
        digest = env_digest(applied.spec)
        run = self._runner(service_id, name, progress)
        if run.deploy is None:
            raise DeployIncomplete(
                f"{name}: env written, but starting its deploy failed (HTTP {run.refused})",
                hint="run `envparity up` again: it sees the env is not deployed and deploys it",
                applied=Applied(applied.spec, applied.rollout.started(None, "not-started", digest),
                                applied.carried),
            )
        deploy, status = run.deploy, run.status
        rollout = applied.rollout.started(deploy.id or None, status, digest).observed(status)
        done = Applied(applied.spec, rollout, applied.carried)
        if status in FAILED or not is_final(status):
            raise DeployIncomplete(
                f"{name}: deploy {deploy.id or '(queued)'} {self.ended(status)}; the new env is "
                "written but the service does not run it",
                hint="see the deploy's logs on Render; the next `envparity up` deploys again",
                applied=done,
            )
        return done

    def start_and_wait(self, service_id: str, name: str, progress: Progress) -> DeployRun:
        """Start one deploy of the service and wait for it to end (or the timeout)."""
        try:
            deploy = self._start_deploy(service_id)
        except RenderApiError as exc:
            return DeployRun(None, "not-started", exc.status)
        progress(f"{name}: deploy {deploy.id} {deploy.status or 'queued'}")
        return DeployRun(deploy, self._wait_deploy(service_id, deploy, name=name,
                                                  progress=progress))

    def _start_deploy(self, service_id: str) -> Deploy:
        """Start a deploy of the service (RenderApiError when Render refuses it)."""
        client = self.client()
        deploy = client.trigger_deploy(service_id, clear_cache=self._settings.clear_cache)
        if deploy is None:  # 202: queued without a record; the newest deploy is ours
            found = client.list_deploys(service_id, limit=1)
            deploy = found[0] if found else Deploy(
                id="", status="queued", created_at=None, finished_at=None, trigger="api"
            )
        return deploy

    def ended(self, status: str) -> str:
        """How a deploy that did not go live ended, for a failure's message."""
        if is_final(status):
            return f"ended {status}"
        if self._cancelled.is_set():
            return f"was still {status} when the wait was cancelled"
        return f"still {status} after {self._settings.deploy_timeout:g} s"

    def _wait_deploy(self, service_id: str, deploy: Deploy, *, name: str,
                    progress: Progress) -> str:
        """Poll the deploy until it ends or the timeout passes; its last status."""
        status = deploy.status or "queued"
        deadline = self._clock() + self._settings.deploy_timeout
        delay = _FIRST_POLL
        while not is_final(status) and deploy.id:
            if self._clock() + delay > deadline or self._cancelled.is_set():
                return status
            self._sleep(delay)
            delay = min(delay * 2, _MAX_POLL)
            seen = self.client().get_deploy(service_id, deploy.id).status or status
            if seen != status:
                progress(f"{name}: deploy {deploy.id} {seen}")
            status = seen
        return status

    def read(
        self, service_id: str, old: EnvSpec | None, rollout: Rollout
    ) -> tuple[EnvSpec, Rollout] | None:
        """The live env in the state's shape, and deploys brought up to date; None: gone.

        `old` is None for an import: Render's deploy history then says whether the env
        found is the one the service runs, as for a create.
        """
        client = self.client()
        try:
            live = client.list_env_vars(service_id)
        except RenderNotFound:
            return None
        found = observed(old or EnvSpec(service_id, None), service_id,
                         [(v.key, v.value) for v in live])
        if old is None:
            runs = runs_its_env(client.get_service(service_id), client.list_deploys(service_id))
            rollout = Rollout(deployed=env_digest(found) if runs else NOT_DEPLOYED)
        elif rollout.deployed is None:
            # A state written before deploys were tracked: what it held was deployed.
            rollout = Rollout(deployed=env_digest(old if old.entries is not None else found))
        if rollout.last_id and not is_final(rollout.last_status):
            rollout = rollout.observed(client.get_deploy(service_id, rollout.last_id).status)
        return found, rollout
