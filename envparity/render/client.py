"""Client for Render's REST API: what drift, parity, status and preflight read and write.

Synchronous and thread-safe (one `httpx.Client`, a locked rate limiter, no other shared
state) because drift fans out over threads. Every value read from Render is wrapped in a
`Secret` at the edge; errors and logs carry method, path, status and Render's request id,
never the key and never a value. Render's quirks are followed on purpose: a 202 deploy
with no body, an env-groups list without cursors, `Ratelimit-Reset` sent as seconds.
"""

from __future__ import annotations

import logging
import os
import random
import time
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, Final, TypeVar
from urllib.parse import quote

import httpx

from envparity.core.errors import (
    EnvparityError,
    RenderApiError,
    RenderAuthError,
    RenderNotFound,
    RenderRateLimited,
    RenderUnavailable,
)
from envparity.core.secret import MASK, EnvValue, Secret, reveal
from envparity.render.endpoint import (
    DEFAULT_BASE_URL,
    BearerAuth,
    api_key_from,
    base_url_from_env,
    cert_rejected,
    tls_verify,
)
from envparity.render.groups import EnvGroupCalls
from envparity.render.models import (
    Deploy,
    EnvGroup,
    EnvVar,
    SecretFile,
    Service,
    error_class,
    error_message,
    parse_body,
    parse_connection_info,
    parse_deploy,
    parse_env_var,
    parse_page,
    parse_service,
)
from envparity.render.ratelimit import RateLimiter, backoff_delay, limits_from_env, server_delay

__all__ = [
    "DEFAULT_BASE_URL",
    "Deploy",
    "EnvGroup",
    "EnvVar",
    "RenderApiError",
    "RenderAuthError",
    "RenderClient",
    "RenderNotFound",
    "RenderRateLimited",
    "RenderUnavailable",
    "SecretFile",
    "Service",
    "base_url_from_env",
]

MAX_PAGE: Final = 100
# A 5xx or a lost connection is tried this often in all (waits of about 0.5, 1 and 2 s): a
# service that keeps failing is reported unread within seconds, not after the whole retry
# budget, which stays for 429s whose waits Render names (README, "Retries").
SERVER_ERROR_ATTEMPTS: Final = 4
log = logging.getLogger("envparity.render.client")
T = TypeVar("T")
# Failures that happen before a request leaves this machine: always safe to send again.
_NOT_SENT: Final = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def _seg(text: str) -> str:
    return quote(text, safe="")


class RenderClient(EnvGroupCalls):
    """Render REST API v1, with pagination, retries within a time budget and pacing."""

    def __init__(
        self,
        *,
        base_url: str = DEFAULT_BASE_URL,
        api_key: Secret,
        transport: httpx.BaseTransport | None = None,
        verify: str | bool = True,
        retry_budget_seconds: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
        limiter: RateLimiter | None = None,
        page_limit: int = MAX_PAGE,
        max_attempts: int = 10,
        server_error_attempts: int = SERVER_ERROR_ATTEMPTS,
        timeout: float = 30.0,
    ) -> None:
        if not 1 <= page_limit <= MAX_PAGE:
            raise ValueError(f"page_limit must be 1..{MAX_PAGE}")
        tls = tls_verify(verify)
        self.base_url = base_url.rstrip("/")
        self._key = api_key
        self._budget = retry_budget_seconds
        self._max_attempts = max_attempts
        self._server_error_attempts = server_error_attempts
        self._sleep = sleep
        self._clock = clock
        self._jitter = jitter
        self._limiter = limiter if limiter is not None else RateLimiter(clock=clock, sleep=sleep)
        self._page_limit = page_limit
        self._http = httpx.Client(
            base_url=self.base_url,
            auth=BearerAuth(api_key),
            transport=transport,
            verify=tls,
            timeout=timeout,
            headers={"Accept": "application/json", "User-Agent": "envparity"},
        )

    def __repr__(self) -> str:
        return f"RenderClient(base_url={self.base_url!r}, api_key={MASK!r})"

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, api_key: Secret | None = None,
        **kw: Any,
    ) -> RenderClient:
        """Configured as a user would: the key from `api_key_from` (a given key, such as a
        stack's `render:apiKey`, else `RENDER_API_KEY`), `base_url_from_env`, and
        `SSL_CERT_FILE` to trust."""
        env = os.environ if environ is None else environ
        key = api_key_from(api_key, env)
        if key is None:
            raise EnvparityError(
                "RENDER_API_KEY is not set",
                hint="create an API key in Render's Account Settings and export RENDER_API_KEY",
            )
        if env.get("SSL_CERT_FILE") and "verify" not in kw:
            kw["verify"] = env["SSL_CERT_FILE"]
        if "limiter" not in kw:
            kw["limiter"] = limits_from_env(env).limiter()
        return cls(base_url=base_url_from_env(env), api_key=key.value, **kw)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> RenderClient:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # --- services --------------------------------------------------------------------

    def list_services(
        self, *, names: Sequence[str] = (), types: Sequence[str] = (), owner_ids: Sequence[str] = ()
    ) -> list[Service]:
        params: dict[str, str] = {"includePreviews": "false"}
        for name, values in (("name", names), ("type", types), ("ownerId", owner_ids)):
            if values:
                params[name] = ",".join(values)
        found = self._paged("/services", "service", parse_service, params)
        # Render does not say whether `name` matches exactly; the caller means exactly.
        return [s for s in found if not names or s.name in names]

    def get_service(self, service_id: str) -> Service:
        return self._json("GET", f"/services/{_seg(service_id)}", parse_service)

    def restart_service(self, service_id: str) -> None:
        self._request("POST", f"/services/{_seg(service_id)}/restart")

    # --- service env vars -------------------------------------------------------------

    def list_env_vars(self, service_id: str) -> list[EnvVar]:
        path = f"/services/{_seg(service_id)}/env-vars"
        return self._paged(path, "envVar", parse_env_var)

    def replace_env_vars(
        self, service_id: str, env: Sequence[tuple[str, EnvValue]]
    ) -> list[EnvVar]:
        """PUT the whole list: keys left out are deleted on Render."""
        keys = [k for k, _ in env]
        repeated = sorted({k for k in keys if keys.count(k) > 1})
        if repeated:
            raise EnvparityError(
                f"keys given more than once: {', '.join(repeated)}", hint="give each key once"
            )
        body = [{"key": k, "value": reveal(v)} for k, v in env]
        path = f"/services/{_seg(service_id)}/env-vars"
        return self._json(
            "PUT", path, lambda d: parse_page(d, "envVar", parse_env_var)[0],
            body=body, sent=[b["value"] for b in body],
        )

    def get_env_var(self, service_id: str, key: str) -> EnvVar:
        path = f"/services/{_seg(service_id)}/env-vars/{_seg(key)}"
        return self._json("GET", path, parse_env_var)

    def put_env_var(self, service_id: str, key: str, value: EnvValue) -> EnvVar:
        path = f"/services/{_seg(service_id)}/env-vars/{_seg(key)}"
        return self._json(
            "PUT", path, parse_env_var, body={"value": reveal(value)}, sent=[reveal(value)]
        )

    def delete_env_var(self, service_id: str, key: str) -> None:
        self._request("DELETE", f"/services/{_seg(service_id)}/env-vars/{_seg(key)}")

    # --- deploys and databases ------------------------------------------------------------

    def trigger_deploy(self, service_id: str, *, clear_cache: bool = False) -> Deploy | None:
        """Start a deploy; None when Render queued it (202, empty body) without a record yet."""
        body = {"clearCache": "clear"} if clear_cache else {}
        path = f"/services/{_seg(service_id)}/deploys"
        response = self._request("POST", path, body=body)
        if response.status_code == 202 or not response.content.strip():
            return None
        return parse_body(response, "POST", path, parse_deploy)

    def get_deploy(self, service_id: str, deploy_id: str) -> Deploy:
        path = f"/services/{_seg(service_id)}/deploys/{_seg(deploy_id)}"
        return self._json("GET", path, parse_deploy)

    def list_deploys(self, service_id: str, *, limit: int = 20) -> list[Deploy]:
        """The `limit` most recent deploys, newest first as Render returns them."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        path = f"/services/{_seg(service_id)}/deploys"
        return self._paged(
            path, "deploy", parse_deploy, page_limit=min(limit, self._page_limit), stop_at=limit
        )

    def postgres_connection_info(self, postgres_id: str) -> Mapping[str, Secret]:
        path = f"/postgres/{_seg(postgres_id)}/connection-info"
        return self._json("GET", path, parse_connection_info)

    # --- transport ------------------------------------------------------------------------

    def _paged(
        self,
        path: str,
        item_key: str,
        parse: Callable[[object], T],
        params: Mapping[str, str] | None = None,
        *,
        page_limit: int | None = None,
        stop_at: int | None = None,
    ) -> list[T]:
        """Follow cursors until Render says there is no more: an empty page, or one shorter
        than the limit. A full page without a cursor is an error, never taken as the end."""
        limit = page_limit or self._page_limit
        query = {**(params or {}), "limit": str(limit)}
        found: list[T] = []
        seen: set[str] = set()
        while True:
            items, size, cursor = self._json(
                "GET", path, lambda d: parse_page(d, item_key, parse), params=query
            )
            found.extend(items)
            if stop_at is not None and len(found) >= stop_at:
                return found[:stop_at]
            if size < limit:
                return found
            if not cursor:
                # Stopping here would be a silent partial read: more may follow this page.
                raise RenderApiError(
                    method="GET", path=path, status=200,
                    render_message="a full page came without a cursor to the next one",
                    request_id=None, hint="run again; if it persists, Render's paging changed",
                )
            if cursor in seen:
                # Stopping here would be a silent partial read; drift must not call that clean.
                raise RenderApiError(
                    method="GET", path=path, status=200,
                    render_message="the same page cursor came back twice", request_id=None,
                )
            seen.add(cursor)
            query["cursor"] = cursor

    def _json(
        self,
        method: str,
        path: str,
        parse: Callable[[object], T],
        *,
        params: Mapping[str, str] | None = None,
        body: object = None,
        sent: Sequence[str] = (),
    ) -> T:
        response = self._request(method, path, params=params, body=body, sent=sent)
        return parse_body(response, method, path, parse)

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: object = None,
        sent: Sequence[str] = (),
    ) -> httpx.Response:
        """One call with pacing and retries; `sent` lists values to scrub from Render's text."""
        deadline = self._clock() + self._budget
        attempt = 0
        # An earlier attempt may have been applied although its answer was lost or a 5xx.
        reached = False
        server_errors = 0
        while True:
            attempt += 1
            self._limiter.acquire(method, path)
            status: int | None = None
            request_id: str | None = None
            wait: float | None = None
            # A POST (deploy, restart, link) that may have reached Render is not sent twice.
            maybe_applied = False
            try:
                response = self._http.request(method, path, params=params, json=body)
            except httpx.TransportError as exc:
                message = f"connection failed ({type(exc).__name__})"
                landed = not isinstance(exc, _NOT_SENT)
                maybe_applied = method == "POST" and landed
                if cert_rejected(exc):
                    # Not transient: retrying cannot make an untrusted certificate trusted.
                    raise RenderUnavailable(
                        method=method, path=path, status=None, request_id=None,
                        render_message="TLS certificate not trusted", attempts=attempt,
                        hint="point SSL_CERT_FILE at the CA file that signed the certificate",
                    ) from None
            else:
                status = response.status_code
                request_id = response.headers.get("render-request-id")
                log.debug(
                    "%s %s -> %s attempt %d request_id %s",
                    method, path, status, attempt, request_id,
                )
                if status < 400:
                    return response
                if status == 404 and method == "DELETE" and reached:
                    log.info("DELETE %s -> 404 after an attempt that may have deleted it: done",
                             path)
                    return response
                message = error_message(response, (*sent, self._key.reveal()))
                landed = status >= 500
                maybe_applied = method == "POST" and landed
                if status == 429:
                    wait = server_delay(response.headers)
                elif status < 500:
                    raise error_class(status)(
                        method=method, path=path, status=status,
                        render_message=message, request_id=request_id, attempts=attempt,
                    )
            delay = wait if wait is not None else backoff_delay(attempt, jitter=self._jitter())
            if wait is not None:
                delay += min(1.0, wait * 0.1) * self._jitter()
            out_of_time = self._clock() + delay > deadline
            server_errors += status != 429
            spent = (attempt >= self._max_attempts
                     or server_errors >= self._server_error_attempts)
            if maybe_applied or spent or out_of_time:
                log.info(
                    "%s %s -> %s giving up at attempt %d request_id %s",
                    method, path, status, attempt, request_id,
                )
                raise error_class(status)(
                    method=method, path=path, status=status,
                    render_message=message, request_id=request_id, attempts=attempt,
                )
            log.info(
                "%s %s -> %s attempt %d request_id %s, retrying in %.2fs",
                method, path, status, attempt, request_id, delay,
            )
            reached = reached or landed
            self._sleep(delay)
