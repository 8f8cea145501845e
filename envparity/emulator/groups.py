"""Env group lifecycle and secret files (of services and of groups) on the emulator's store.

Render's semantics, kept on purpose: a group changes key by key (PATCH takes only the name),
while `PUT /services/{id}/secret-files` replaces every file of the service. Callers hold the
store lock; every handler validates its whole input before it changes anything.
"""

from __future__ import annotations

import re
from typing import Any

from envparity.emulator.handlers import by_id, value_input
from envparity.emulator.routes import ApiError, ApiRequest, Reply, Route, page
from envparity.emulator.seed import new_id, now_iso
from envparity.emulator.shapes import env_group_json, secret_file_item
from envparity.emulator.state import Store

__all__ = ["GROUP_ROUTES"]

# Render publishes no rule for file names; they become /etc/secrets/<name>, so path separators
# and the dot names are refused. Inferred.
_FILE_NAME = re.compile(r"[A-Za-z0-9_.-]{1,255}")


def _group(req: ApiRequest) -> dict[str, Any]:
    return by_id(req.store.env_groups, req, "envGroupId")


def _service(req: ApiRequest) -> dict[str, Any]:
    return by_id(req.store.services, req, "serviceId")


def _valid_name(name: object, where: str) -> str:
    if not isinstance(name, str) or not _FILE_NAME.fullmatch(name) or name in (".", ".."):
        raise ApiError(400, f"{where} must be a secret file name (letters, digits, _ . -)")
    return name


def _file_name(req: ApiRequest) -> str:
    return _valid_name(req.params["secretFileName"], "secretFileName")


def _content(body: object, where: str) -> str:
    if not isinstance(body, dict) or not isinstance(body.get("content"), str):
        raise ApiError(400, f"{where}.content must be a string")
    content: str = body["content"]
    return content


def _file_inputs(body: object, where: str) -> list[tuple[str, str]]:
    """[(name, content)] from a secretFileInput array; names must be unique."""
    if not isinstance(body, list):
        raise ApiError(400, f"{where} must be a JSON array of secret files")
    pairs = [(_valid_name(item.get("name") if isinstance(item, dict) else None,
                          f"{where}[{i}].name"), _content(item, f"{where}[{i}]"))
             for i, item in enumerate(body)]
    if len({n for n, _ in pairs}) != len(pairs):
        raise ApiError(400, f"{where}: duplicate secret file name")
    return pairs


def _put_file(store: Store, files: list[dict[str, Any]], *, name: str, content: str) -> None:
    """Upsert one file: an existing name keeps its place, a new one goes last."""
    for item in files:
        if item["name"] == name:
            item["content"] = content
            return
    files.append({"name": name, "content": content, "seq": store.next_seq()})


def _drop_file(files: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    if not any(f["name"] == name for f in files):
        raise ApiError(404, f"not found: {name}")
    return [f for f in files if f["name"] != name]


def _read_file(files: list[dict[str, Any]], name: str) -> Reply:
    found = next((f for f in files if f["name"] == name), None)
    if found is None:
        raise ApiError(404, f"not found: {name}")
    return Reply(200, {"name": name, "content": found["content"]})


def _group_reply(req: ApiRequest, group: dict[str, Any], status: int = 200) -> Reply:
    return Reply(status, env_group_json(group, req.store.services), wrote=True)


# --- env group lifecycle ----------------------------------------------------------------------

def create_env_group(req: ApiRequest) -> Reply:
    body = req.json_object()
    name, owner = body.get("name"), body.get("ownerId")
    if not isinstance(name, str) or not name.strip():
        raise ApiError(400, "name is required")
    if not isinstance(owner, str) or owner not in req.store.owners:
        raise ApiError(400, "ownerId must name a workspace")
    raw_vars = body.get("envVars")
    if not isinstance(raw_vars, list):
        raise ApiError(400, "envVars must be a JSON array")
    pairs = [value_input(item, f"envVars[{i}]", with_key=True) for i, item in enumerate(raw_vars)]
    if len({k for k, _ in pairs}) != len(pairs):
        raise ApiError(400, "duplicate environment variable key")
    files = _file_inputs(body.get("secretFiles", []), "secretFiles")
    linked = body.get("serviceIds", [])
    if not isinstance(linked, list) or not all(isinstance(s, str) for s in linked):
        raise ApiError(400, "serviceIds must be an array of service ids")
    unknown = [s for s in linked if s not in req.store.services]
    if unknown:
        raise ApiError(404, f"not found: {unknown[0][:64]}")
    environment = body.get("environmentId")
    if environment is not None and not isinstance(environment, str):
        raise ApiError(400, "environmentId must be a string")
    store, now = req.store, now_iso()
    group: dict[str, Any] = {
        "id": new_id("evg"), "name": name, "ownerId": owner, "createdAt": now, "updatedAt": now,
        "seq": store.next_seq(),
        "envVars": [{"key": k, "value": v, "seq": store.next_seq()} for k, v in pairs],
        "secretFiles": [{"name": n, "content": c, "seq": store.next_seq()} for n, c in files],
        "serviceIds": list(dict.fromkeys(linked)),
    }
    if environment is not None:
        group["environmentId"] = environment
    store.env_groups[group["id"]] = group
    return _group_reply(req, group, 201)


def rename_env_group(req: ApiRequest) -> Reply:
    group, body = _group(req), req.json_object()
    extra = sorted(set(body) - {"name"})
    if extra:
        raise ApiError(400, f"only name can be changed, not {extra[0][:64]}")
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ApiError(400, "name is required")
    group["name"] = name
    group["updatedAt"] = now_iso()
    return _group_reply(req, group)


def delete_env_group(req: ApiRequest) -> Reply:
    group = _group(req)
    del req.store.env_groups[group["id"]]
    return Reply(204, wrote=True)


# --- group secret files -----------------------------------------------------------------------

def get_group_file(req: ApiRequest) -> Reply:
    group, name = _group(req), _file_name(req)
    return _read_file(group["secretFiles"], name)


def put_group_file(req: ApiRequest) -> Reply:
    group, name = _group(req), _file_name(req)
    content = _content(req.json(), "body")
    _put_file(req.store, group["secretFiles"], name=name, content=content)
    group["updatedAt"] = now_iso()
    return _group_reply(req, group)


def delete_group_file(req: ApiRequest) -> Reply:
    group, name = _group(req), _file_name(req)
    group["secretFiles"] = _drop_file(group["secretFiles"], name)
    group["updatedAt"] = now_iso()
    return Reply(204, wrote=True)


# --- service secret files ---------------------------------------------------------------------

def list_service_files(req: ApiRequest) -> Reply:
    return Reply(200, [secret_file_item(f) for f in page(_service(req)["secretFiles"], req)])


def replace_service_files(req: ApiRequest) -> Reply:
    service = _service(req)
    pairs = _file_inputs(req.json(), "body")
    store = req.store
    service["secretFiles"] = [{"name": n, "content": c, "seq": store.next_seq()}
                              for n, c in pairs]
    return Reply(200, [secret_file_item(f) for f in service["secretFiles"]], wrote=True)


def get_service_file(req: ApiRequest) -> Reply:
    service, name = _service(req), _file_name(req)
    return _read_file(service["secretFiles"], name)


def put_service_file(req: ApiRequest) -> Reply:
    service, name = _service(req), _file_name(req)
    content = _content(req.json(), "body")
    _put_file(req.store, service["secretFiles"], name=name, content=content)
    return Reply(201, {"name": name, "content": content}, wrote=True)


def delete_service_file(req: ApiRequest) -> Reply:
    service, name = _service(req), _file_name(req)
    service["secretFiles"] = _drop_file(service["secretFiles"], name)
    return Reply(204, wrote=True)


def _r(method: str, path: str, handler: Any) -> Route:
    return Route(method, tuple(path.split("/")), handler)


GROUP_ROUTES: tuple[Route, ...] = (
    _r("POST", "env-groups", create_env_group),
    _r("PATCH", "env-groups/{envGroupId}", rename_env_group),
    _r("DELETE", "env-groups/{envGroupId}", delete_env_group),
    _r("GET", "env-groups/{envGroupId}/secret-files/{secretFileName}", get_group_file),
    _r("PUT", "env-groups/{envGroupId}/secret-files/{secretFileName}", put_group_file),
    _r("DELETE", "env-groups/{envGroupId}/secret-files/{secretFileName}", delete_group_file),
    _r("GET", "services/{serviceId}/secret-files", list_service_files),
    _r("PUT", "services/{serviceId}/secret-files", replace_service_files),
    _r("GET", "services/{serviceId}/secret-files/{secretFileName}", get_service_file),
    _r("PUT", "services/{serviceId}/secret-files/{secretFileName}", put_service_file),
    _r("DELETE", "services/{serviceId}/secret-files/{secretFileName}", delete_service_file),
)
