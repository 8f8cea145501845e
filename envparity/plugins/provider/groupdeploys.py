"""Deploys for env changed by a group, a link or a secret file, one shared where it covers many.

Render does not redeploy a service when a group it links, or a secret file, changes, so the
resource that changed it starts a deploy and, like a service's own env, waits for it to go
live. One `up` often changes several such things that reach the same service (two keys and a
file of one group), each in its own engine call, at once. A deploy carries the env as it is
when the deploy is started, so a deploy not started yet covers every write already done: the
changes of one service join its *waiting* deploy, which is started only when the one before
it (from this provider) has ended. So a burst of changes costs at most two deploys per
service: the one the first change started, and one for all that were written meanwhile.
Never covered: a change that finished after its service's deploy was started. A service's
own env change deploys through the same batches (`EnvVarsOperations.share_deploys`), so it
and the group changes written beside it share a deploy too.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from envparity.core.errors import EnvparityError
from envparity.plugins.provider.operations import DeployRun, EnvVarsOperations, Progress
from envparity.plugins.provider.props import PropMap
from envparity.plugins.provider.rollout import FAILED, is_final

__all__ = ["ChangeNotDeployed", "DeployBatches"]


class ChangeNotDeployed(EnvparityError):
    """A group, link or file changed on Render, but a service it reaches does not run it.

    `rid` and `outputs` are what the state records: the change stays in place."""

    def __init__(self, message: str, *, hint: str, rid: str, outputs: PropMap) -> None:
        super().__init__(message, hint=hint)
        self.rid = rid
        self.outputs = outputs


_NOT_STARTED: Final = DeployRun(None, "not-started")


@dataclass(eq=False)
class _Batch:
    """One deploy of one service, and the changes waiting on it."""

    after: _Batch | None
    progress: Progress
    done: threading.Event = field(default_factory=threading.Event)
    run: DeployRun = _NOT_STARTED
    lost: str | None = None
    """Why the deploy was not started or not followed to its end otherwise."""


class DeployBatches:
    """One per configured provider: each service's waiting deploy and its last one."""

    def __init__(self, ops: EnvVarsOperations) -> None:
        self._ops = ops
        self._lock = threading.Lock()
        self._waiting: dict[str, _Batch] = {}
        self._last: dict[str, _Batch] = {}

    def deploy(self, services: Sequence[str], *, progress: Progress) -> list[str]:
        """Deploy each service (their env was just written) and wait; what did not go live.

        All services deploy at once; each failure names the service, the deploy and how it
        ended."""
        batches = {s: self._join(s, progress) for s in dict.fromkeys(services)}
        failures = []
        for service, batch in batches.items():
            batch.done.wait()
            failure = self._failure(service, batch)
            if failure is not None:
                failures.append(failure)
        return failures

    def run(self, service: str, _name: str, progress: Progress) -> DeployRun:
        """A service's own env change (just written): its deploy, shared like the others'."""
        batch = self._join(service, progress)
        batch.done.wait()
        if batch.lost is not None:
            raise EnvparityError(f"service {service}: its env changed, but its deploy failed: "
                                 f"{batch.lost}", hint="run `envparity up` again: it sees the "
                                 "env is not deployed and deploys it")
        return batch.run

    def _join(self, service: str, progress: Progress) -> _Batch:
        with self._lock:
            waiting = self._waiting.get(service)
            if waiting is not None:
                return waiting
            batch = _Batch(after=self._last.get(service), progress=progress)
            self._waiting[service] = self._last[service] = batch
        threading.Thread(target=self._run, args=(service, batch), daemon=True,
                         name=f"deploy-{service}").start()
        return batch

    def _run(self, service: str, batch: _Batch) -> None:
        try:
            if batch.after is not None:
                batch.after.done.wait()
            with self._lock:
                # From here on a change joins the next deploy: this one may miss it.
                del self._waiting[service]
            if self._ops.cancelled:
                batch.lost = "the operation was cancelled before its deploy started"
                return
            batch.run = self._ops.start_and_wait(service, service, batch.progress)
        except EnvparityError as exc:  # the client's errors carry no values
            batch.lost = str(exc)
        finally:
            with self._lock:
                if self._waiting.get(service) is batch:
                    del self._waiting[service]
            batch.done.set()

    def _failure(self, service: str, batch: _Batch) -> str | None:
        run = batch.run
        if run.refused is not None:
            return (f"service {service}: its env changed, but starting its deploy failed "
                    f"(HTTP {run.refused})")
        if batch.lost is not None:
            deploy = f"deploy {run.deploy.id}" if run.deploy else "its deploy"
            return f"service {service}: its env changed, but {deploy} failed: {batch.lost}"
        if run.deploy is None:
            return None
        if is_final(run.status) and run.status not in FAILED:
            return None
        return (f"service {service}: deploy {run.deploy.id or '(queued)'} "
                f"{self._ops.ended(run.status)}")
