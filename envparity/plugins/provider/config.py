"""Provider configuration: the `render:*` stack config plus where Render is.

`render:apiKey` is the community provider's key (a secret; `RENDER_API_KEY` or
`RENDER_APIKEY` in the environment as a fallback). Where Render is and which key wins are
decided by `envparity.render.endpoint`, the same code the program reads Render with:
`RENDER_API_HOST` (host:port, https) or `RENDER_API_URL` point it at another Render, such
as the project's emulator, and `SSL_CERT_FILE` names the CA bundle to trust for it.
`ENVPARITY_DEPLOY_TIMEOUT` (seconds) bounds the wait for each deploy the provider starts;
`envparity up --deploy-timeout` sets it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from envparity.core.errors import EnvparityError
from envparity.core.secret import Secret
from envparity.plugins.provider.envvars import CheckFailure
from envparity.plugins.provider.props import Prop, is_unknown, unseal
from envparity.render.endpoint import DEFAULT_BASE_URL, api_key_from, base_url_from_env
from envparity.render.ratelimit import Limits, limits_from_env

__all__ = [
    "DEFAULT_DEPLOY_TIMEOUT",
    "DEPLOY_TIMEOUT_VAR",
    "Settings",
    "check_config",
    "deploy_timeout",
    "settings_from",
]

_PREFIX: Final = "render:config:"
_BOOL: Final = {"true": True, "false": False}
_CLEAR_CACHE: Final = ("clear", "do_not_clear")
DEPLOY_TIMEOUT_VAR: Final = "ENVPARITY_DEPLOY_TIMEOUT"
DEFAULT_DEPLOY_TIMEOUT: Final = 900.0


@dataclass(frozen=True)
class Settings:
    """Everything a Render call needs; `api_key` is None until the stack sets one."""

    api_key: Secret | None
    base_url: str = DEFAULT_BASE_URL
    verify: str | bool = True
    deploy_on_change: bool = True
    clear_cache: bool = False
    deploy_timeout: float = DEFAULT_DEPLOY_TIMEOUT
    limits: Limits = field(default_factory=Limits)
    """Render's per-minute limits (`RENDER_API_READS_PER_MINUTE`, `..._WRITES_...`)."""

    def require_key(self) -> Secret:
        if self.api_key is None:
            raise EnvparityError(
                "render:apiKey is not set",
                hint="pulumi config set --secret render:apiKey <key> (or export RENDER_API_KEY)",
            )
        return self.api_key


def _text(value: Prop) -> str | None:
    plain, _ = unseal(value)
    if plain is None or is_unknown(plain):
        return None
    if isinstance(plain, bool):
        return "true" if plain else "false"
    return plain if isinstance(plain, str) else None


def check_config(news: Mapping[str, Prop]) -> list[CheckFailure]:
    """Values of the provider's own keys that would be misread; unknown keys pass through."""
    failures: list[CheckFailure] = []
    deploy = _text(news.get("deployOnChange"))
    if deploy is not None and deploy.lower() not in _BOOL:
        failures.append(CheckFailure("deployOnChange", "must be true or false"))
    cache = _text(news.get("clearCacheOnServiceUpdateDeployments"))
    if cache is not None and cache not in _CLEAR_CACHE:
        failures.append(CheckFailure(
            "clearCacheOnServiceUpdateDeployments", "must be clear or do_not_clear",
        ))
    return failures


def deploy_timeout(environ: Mapping[str, str]) -> float:
    """Seconds `up` waits for each deploy it starts (`envparity up --deploy-timeout` sets it)."""
    raw = environ.get(DEPLOY_TIMEOUT_VAR, "").strip()
    if not raw:
        return DEFAULT_DEPLOY_TIMEOUT
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not 1 <= seconds <= 86400:
        raise EnvparityError(
            f"{DEPLOY_TIMEOUT_VAR} must be a number of seconds from 1 to 86400, got {raw[:20]!r}",
            hint="e.g. envparity up --deploy-timeout 600",
        )
    return seconds


def settings_from(
    args: Mapping[str, Prop],
    variables: Mapping[str, str],
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Configure's inputs: `args` (typed, secrets marked) win over flat `variables`."""
    env = os.environ if environ is None else environ
    flat = {k.removeprefix(_PREFIX): v for k, v in variables.items() if k.startswith(_PREFIX)}

    def get(name: str) -> str | None:
        found = _text(args.get(name))
        return found if found is not None else flat.get(name)

    key = api_key_from(get("apiKey"), env)
    failures = check_config({"deployOnChange": get("deployOnChange"),
                             "clearCacheOnServiceUpdateDeployments":
                                 get("clearCacheOnServiceUpdateDeployments")})
    if failures:
        raise EnvparityError(
            "; ".join(f"render:{f.property} {f.reason}" for f in failures),
            hint="fix the value with pulumi config set",
        )
    return Settings(
        api_key=None if key is None else key.value,
        base_url=base_url_from_env(env),
        verify=env.get("SSL_CERT_FILE") or True,
        deploy_on_change=(get("deployOnChange") or "true").lower() == "true",
        clear_cache=get("clearCacheOnServiceUpdateDeployments") == "clear",
        deploy_timeout=deploy_timeout(env),
        limits=limits_from_env(env),
    )
