"""What the provider does on Render for each engine call on `EnvVarsForService`.

Create and Update are the same act: read the service's env (every page), replace it
whole with the declared list, read it back, and when the service's env really changed,
start a deploy, because Render does not restart a service for an env change by itself
and a worker would keep running on its old env. Delete leaves the service's env as it is:
removing the declaration stops envparity managing the env, it does not empty a running
service's environment. All Render calls go through `RenderClient`.
"""

from __future__ import annotations

import base64
import secrets
import threading
from collections.abc import Callable

from envparity.core.errors import EnvparityError, RenderApiError, RenderNotFound
from envparity.core.secret import Secret
from envparity.plugins.provider.config import Settings
from envparity.plugins.provider.envvars import EnvSpec, mismatched_keys, observed, put_body
from envparity.render.client import RenderClient

__all__ = ["ClientFactory", "EnvVarsOperations", "generate_value", "render_client"]

ClientFactory = Callable[[Settings], RenderClient]


def render_client(settings: Settings) -> RenderClient:
    return RenderClient(
        base_url=settings.base_url, api_key=settings.require_key(), verify=settings.verify
    )


def generate_value() -> Secret:
    """What Render's `generateValue` makes: 256 random bits, base64 encoded."""
    return Secret(base64.b64encode(secrets.token_bytes(32)).decode())


class EnvVarsOperations:
    """One per configured provider; the client (and its rate limiter) is shared by threads."""

    def __init__(
        self,
        settings: Settings,
        *,
        client_factory: ClientFactory = render_client,
        generate: Callable[[], Secret] = generate_value,
    ) -> None:
        self._settings = settings
        self._factory = client_factory
        self._generate = generate
        self._client: RenderClient | None = None
        self._lock = threading.Lock()

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

    def apply(self, spec: EnvSpec) -> bool:
        """Make the service's env equal `spec`; True when a deploy was started."""
        if spec.service_id is None or spec.entries is None:
            raise EnvparityError("serviceId and envVars must be known before they are applied")
        service_id = spec.service_id
        client = self.client()
        before = {v.key: v.value for v in client.list_env_vars(service_id)}
        generated = {
            e.key: self._generate() for e in spec.entries if e.generate and e.key not in before
        }
        body = put_body(spec, before, generated=generated)
        client.replace_env_vars(service_id, body)
        after = {v.key: v.value for v in client.list_env_vars(service_id)}
        wrong = mismatched_keys(body, after)
        if wrong:
            raise EnvparityError(
                f"service {service_id}: after replacing its env, Render holds other values "
                f"for {', '.join(wrong)}",
                hint="another writer may be changing this service; run `pulumi up` again",
            )
        if after == before or not self._settings.deploy_on_change:
            return False
        try:
            client.trigger_deploy(service_id, clear_cache=self._settings.clear_cache)
        except RenderApiError as exc:
            raise EnvparityError(
                f"service {service_id}: env written, but starting its deploy failed "
                f"(HTTP {exc.status})",
                hint=f"deploy {service_id} from the Render dashboard; the new env is in place",
            ) from exc
        return True

    def read(self, service_id: str, old: EnvSpec) -> EnvSpec | None:
        """The live env in the state's shape, or None when the service is gone."""
        try:
            live = self.client().list_env_vars(service_id)
        except RenderNotFound:
            return None
        return observed(old, service_id, [(v.key, v.value) for v in live])
