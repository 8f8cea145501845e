"""What the state remembers about deploys, so an env written but never running is noticed.

Two outputs sit beside `envVars`: `deployedEnv`, a digest of the env carried by the last
deploy known to have gone live, and `lastDeploy` (`{id, status, env}`), the last deploy this
provider started and the digest of the env it carried. Both digests cover secret values,
so they travel as Pulumi secrets (encrypted in the state, `[secret]` in any display).
The service's env is *undeployed* when the env in the state (after a refresh: the env on
Render) differs from `deployedEnv`; Diff then proposes an update, and the update deploys.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from typing import Final

from envparity.core.secret import reveal
from envparity.plugins.provider.envvars import EnvSpec
from envparity.plugins.provider.props import Prop, PropMap, Sealed, is_unknown, unseal

__all__ = [
    "DEPLOYED_ENV",
    "FAILED",
    "LAST_DEPLOY",
    "NOT_DEPLOYED",
    "WENT_LIVE",
    "Rollout",
    "env_digest",
    "is_final",
    "rollout_from",
]

DEPLOYED_ENV: Final = "deployedEnv"
LAST_DEPLOY: Final = "lastDeploy"
NOT_DEPLOYED: Final = "none"
"""`deployedEnv` of an imported env no live deploy carried: it matches no env's digest."""
# `deactivated`: it went live, then a newer deploy replaced it.
WENT_LIVE: Final = frozenset({"live", "deactivated"})
FAILED: Final = frozenset({"build_failed", "update_failed", "canceled", "pre_deploy_failed"})


def is_final(status: str | None) -> bool:
    return status in WENT_LIVE or status in FAILED


def env_digest(spec: EnvSpec) -> str | None:
    """SHA-256 of the env as keys and values (a generated key counts by name); None if unknown."""
    if spec.entries is None or any(e.unknown for e in spec.entries):
        return None
    pairs = sorted((e.key, None if e.generate or e.value is None else reveal(e.value))
                   for e in spec.entries)
    return "sha256:" + hashlib.sha256(json.dumps(pairs).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Rollout:
    """`deployed`: digest of the env running on the service (None: not known yet)."""

    deployed: str | None = None
    last_id: str | None = None
    last_status: str | None = None
    last_env: str | None = None

    def pending(self, spec: EnvSpec) -> bool:
        """The env in `spec` is not the one the service runs."""
        current = env_digest(spec)
        return self.deployed is not None and current is not None and current != self.deployed

    def started(self, deploy_id: str | None, status: str | None, env: str | None) -> Rollout:
        return replace(self, last_id=deploy_id, last_status=status, last_env=env)

    def observed(self, status: str | None) -> Rollout:
        """The last deploy's status as read now; its env counts as deployed once it went live."""
        went_live = status in WENT_LIVE and self.last_env is not None
        return replace(self, last_status=status,
                       deployed=self.last_env if went_live else self.deployed)

    def props(self) -> PropMap:
        out: PropMap = {}
        if self.deployed is not None:
            out[DEPLOYED_ENV] = Sealed(self.deployed)
        if self.last_id is not None or self.last_status is not None:
            out[LAST_DEPLOY] = {
                "id": self.last_id or "", "status": self.last_status or "unknown",
                "env": Sealed(self.last_env or ""),
            }
        return out


def _text(value: Prop) -> str | None:
    plain, _ = unseal(value)
    return plain if isinstance(plain, str) and plain and not is_unknown(plain) else None


def rollout_from(state: PropMap) -> Rollout:
    last, _ = unseal(state.get(LAST_DEPLOY))
    record = last if isinstance(last, dict) else {}
    return Rollout(
        deployed=_text(state.get(DEPLOYED_ENV)),
        last_id=_text(record.get("id")),
        last_status=_text(record.get("status")),
        last_env=_text(record.get("env")),
    )
