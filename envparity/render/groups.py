"""Env groups and secret files: the calls `RenderClient` gains from `EnvGroupCalls`.

Render's shapes are followed on purpose: the groups list has no cursor wrapper, a group changes
key by key (there is no bulk replace; PATCH takes only the name), and a service's secret files
are replaced as a whole by one PUT. Contents are wrapped in `Secret` as they are read and
scrubbed from Render's error text as they are sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol, TypeVar
from urllib.parse import quote

import httpx

from envparity.core.errors import EnvparityError
from envparity.core.secret import EnvValue, reveal
from envparity.render.models import (
    EnvGroup,
    SecretFile,
    parse_env_group,
    parse_env_groups,
    parse_page,
    parse_secret_file,
)

__all__ = ["EnvGroupCalls"]

log = logging.getLogger("envparity.render.client")
T = TypeVar("T")


def _seg(text: str) -> str:
    return quote(text, safe="")


class _Transport(Protocol):
    """What the calls below need from the client they are mixed into."""

    _page_limit: int

    def _json(self, method: str, path: str, parse: Callable[[object], T], *,
              params: Mapping[str, str] | None = None, body: object = None,
              sent: Sequence[str] = ()) -> T: ...

    def _request(self, method: str, path: str, *, params: Mapping[str, str] | None = None,
                 body: object = None, sent: Sequence[str] = ()) -> httpx.Response: ...

    def _paged(self, path: str, item_key: str, parse: Callable[[object], T],
               params: Mapping[str, str] | None = None, *, page_limit: int | None = None,
               stop_at: int | None = None) -> list[T]: ...


def _unique(names: Sequence[str], what: str) -> None:
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise EnvparityError(f"{what} given more than once: {', '.join(repeated)}",
                             hint="give each once")


class EnvGroupCalls:
    """Env group and secret file operations of Render's API v1."""

    # --- env groups -------------------------------------------------------------------

    def list_env_groups(
        self: _Transport, *, names: Sequence[str] = (), owner_ids: Sequence[str] = ()
    ) -> list[EnvGroup]:
        """All groups; this list has no cursor wrapper, so page by the last id and dedupe."""
        params: dict[str, str] = {"limit": str(self._page_limit)}
        for name, values in (("name", names), ("ownerId", owner_ids)):
            if values:
                params[name] = ",".join(values)
        groups: dict[str, EnvGroup] = {}
        while True:
            page = self._json("GET", "/env-groups", parse_env_groups, params=params)
            fresh = [g for g in page if g.id not in groups]
            groups.update((g.id, g) for g in fresh)
            if not fresh or len(page) < self._page_limit:
                if page and not fresh:
                    log.info("GET /env-groups: a full page held no new groups; assuming the end")
                return list(groups.values())
            params["cursor"] = fresh[-1].id

    def get_env_group(self: _Transport, group_id: str) -> EnvGroup:
        return self._json("GET", f"/env-groups/{_seg(group_id)}", parse_env_group)

    def create_env_group(
        self: _Transport, *, name: str, owner_id: str,
        env: Sequence[tuple[str, EnvValue]] = (), service_ids: Sequence[str] = (),
    ) -> EnvGroup:
        _unique([k for k, _ in env], "keys")
        values = [reveal(v) for _, v in env]
        body = {"name": name, "ownerId": owner_id,
                "envVars": [{"key": k, "value": v} for (k, _), v in zip(env, values, strict=True)],
                "serviceIds": list(service_ids)}
        return self._json("POST", "/env-groups", parse_env_group, body=body, sent=values)

    def rename_env_group(self: _Transport, group_id: str, name: str) -> EnvGroup:
        """In place: the id, values, files and links stay."""
        return self._json("PATCH", f"/env-groups/{_seg(group_id)}", parse_env_group,
                          body={"name": name})

    def delete_env_group(self: _Transport, group_id: str) -> None:
        self._request("DELETE", f"/env-groups/{_seg(group_id)}")

    def link_env_group(self: _Transport, group_id: str, service_id: str) -> EnvGroup:
        path = f"/env-groups/{_seg(group_id)}/services/{_seg(service_id)}"
        return self._json("POST", path, parse_env_group)

    def unlink_env_group(self: _Transport, group_id: str, service_id: str) -> None:
        self._request("DELETE", f"/env-groups/{_seg(group_id)}/services/{_seg(service_id)}")

    def put_group_env_var(self: _Transport, group_id: str, key: str, value: EnvValue) -> EnvGroup:
        path = f"/env-groups/{_seg(group_id)}/env-vars/{_seg(key)}"
        return self._json("PUT", path, parse_env_group, body={"value": reveal(value)},
                          sent=[reveal(value)])

    def delete_group_env_var(self: _Transport, group_id: str, key: str) -> None:
        self._request("DELETE", f"/env-groups/{_seg(group_id)}/env-vars/{_seg(key)}")

    def put_group_secret_file(
        self: _Transport, group_id: str, name: str, content: EnvValue
    ) -> EnvGroup:
        path = f"/env-groups/{_seg(group_id)}/secret-files/{_seg(name)}"
        return self._json("PUT", path, parse_env_group, body={"content": reveal(content)},
                          sent=[reveal(content)])

    def delete_group_secret_file(self: _Transport, group_id: str, name: str) -> None:
        self._request("DELETE", f"/env-groups/{_seg(group_id)}/secret-files/{_seg(name)}")

    # --- service secret files ---------------------------------------------------------

    def list_secret_files(self: _Transport, service_id: str) -> list[SecretFile]:
        path = f"/services/{_seg(service_id)}/secret-files"
        return self._paged(path, "secretFile", parse_secret_file)

    def replace_secret_files(
        self: _Transport, service_id: str, files: Sequence[tuple[str, EnvValue]]
    ) -> list[SecretFile]:
        """PUT every file: files left out are deleted on Render."""
        _unique([n for n, _ in files], "secret files")
        contents = [reveal(c) for _, c in files]
        body = [{"name": n, "content": c} for (n, _), c in zip(files, contents, strict=True)]
        path = f"/services/{_seg(service_id)}/secret-files"
        return self._json("PUT", path, lambda d: parse_page(d, "secretFile", parse_secret_file)[0],
                          body=body, sent=contents)

    def put_secret_file(
        self: _Transport, service_id: str, name: str, content: EnvValue
    ) -> SecretFile:
        path = f"/services/{_seg(service_id)}/secret-files/{_seg(name)}"
        return self._json("PUT", path, parse_secret_file, body={"content": reveal(content)},
                          sent=[reveal(content)])

    def delete_secret_file(self: _Transport, service_id: str, name: str) -> None:
        self._request("DELETE", f"/services/{_seg(service_id)}/secret-files/{_seg(name)}")
