"""How an emulated deploy moves through Render's statuses, without a wall clock.

Render answers a deploy trigger with `created` and the deploy then passes through
`build_in_progress` and `update_in_progress` before it ends (`live`, or a failure). With
`progressive` off a deploy ends at once (every read after the trigger sees its final
status); with it on, each read that shows the deploy (`GET /deploys/{id}` or the list)
moves it one status on, so tests drive it by reading, exactly as a poller does.
The final status is the service's `deployStatus`, unless `failNextDeploys` queues others.
"""

from __future__ import annotations

from typing import Any, Final

from envparity.emulator.seed import new_id, now_iso
from envparity.emulator.shapes import deploy_json

__all__ = ["FINAL_STATUSES", "advance", "start_deploy"]

_STEPS: Final = ("created", "build_in_progress", "update_in_progress")
FINAL_STATUSES: Final = frozenset({
    "live", "deactivated", "build_failed", "update_failed", "canceled", "pre_deploy_failed",
})
# Where a failing deploy stops: a build failure ends the build, the rest end the update.
_STOP: Final = {"build_failed": "build_in_progress", "pre_deploy_failed": "build_in_progress"}


def start_deploy(service: dict[str, Any], *, seq: int, progressive: bool) -> dict[str, Any]:
    """Record a new API deploy of `service`; the record as the trigger answers it."""
    queued: list[str] = service.setdefault("failNextDeploys", [])
    final = queued.pop(0) if queued else service["deployStatus"]
    now = now_iso()
    deploy: dict[str, Any] = {"id": new_id("dep"), "status": "created", "trigger": "api",
                              "createdAt": now, "updatedAt": now, "seq": seq, "final": final}
    service["deploys"].append(deploy)
    answer = deploy_json(deploy)
    if not progressive:
        _finish(service, deploy)
    return answer


def advance(service: dict[str, Any], deploy: dict[str, Any]) -> None:
    """One read of an unfinished deploy: on to its next status."""
    final = deploy.get("final")
    if final is None or deploy["status"] in FINAL_STATUSES:
        return
    now = now_iso()
    stop = _STOP.get(final, "update_in_progress")
    if deploy["status"] == stop:
        _finish(service, deploy)
        return
    deploy["status"] = _STEPS[_STEPS.index(deploy["status"]) + 1]
    deploy["updatedAt"] = now
    deploy.setdefault("startedAt", now)


def _finish(service: dict[str, Any], deploy: dict[str, Any]) -> None:
    now = now_iso()
    final = deploy.pop("final")
    if final == "live":
        for older in service["deploys"]:
            if older is not deploy and older["status"] == "live":
                older["status"] = "deactivated"
    deploy.setdefault("startedAt", now)
    deploy.update(status=final, finishedAt=now, updatedAt=now)
