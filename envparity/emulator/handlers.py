"""The /v1 operations the client and the Pulumi provider use, on the emulator's store.

Each handler validates its whole input before it changes anything, so a rejected request leaves
the state exactly as it was. Callers hold the store lock.
"""

from __future__ import annotations

import base64
import secrets
from typing import Any

from envparity.emulator.deploys import advance, start_deploy
from envparity.emulator.routes import ApiError, ApiRequest, Reply, Route, in_window, page
from envparity.emulator.seed import (
    DEPLOY_STATUSES,
    KEY_RULE,
    REGIONS,
    RUNTIMES,
    SERVICE_TYPES,
    now_iso,
)
from envparity.emulator.shapes import (
    deploy_json,
    env_group_json,
    env_group_meta,
    env_var_item,
    owner_json,
    postgres_connection_info,
    service_json,
)
from envparity.emulator.state import encode_cursor

__all__ = ["ROUTES"]


def by_id(table: dict[str, dict[str, Any]], req: ApiRequest, param: str) -> dict[str, Any]:
    """The record named by a path parameter, or Render's 404."""
    wanted = req.params[param]
    record = table.get(wanted)
    if record is None:
        raise ApiError(404, f"not found: {wanted[:64]}")
    return record


def _service(req: ApiRequest) -> dict[str, Any]:
    return by_id(req.store.services, req, "serviceId")


def _group(req: ApiRequest) -> dict[str, Any]:
    return by_id(req.store.env_groups, req, "envGroupId")


def _key(req: ApiRequest) -> str:
    """The path's key. A key the rule refuses cannot exist, so reading or deleting it is a
    404 (the spec lists no 400 for those); writing it is a 400."""
    key = req.params["envVarKey"]
    if not KEY_RULE.fullmatch(key):
        if req.method == "PUT":
            raise ApiError(400, "invalid environment variable key")
        raise ApiError(404, "not found: no environment variable can have this key")
    return key


def _generated() -> str:
    # Observed on Render: generated values are base64 of 32 random bytes (44 characters).
    return base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def value_input(body: object, where: str, *, with_key: bool) -> tuple[str, str]:
    """(key, value) from envVarKeyValue / envVarKeyGenerateValue (or the keyless forms)."""
    if not isinstance(body, dict):
        raise ApiError(400, f"{where} must be a JSON object")
    key = ""
    if with_key:
        raw_key = body.get("key")
        if not isinstance(raw_key, str) or not KEY_RULE.fullmatch(raw_key):
            raise ApiError(400, f"{where}.key must be a valid environment variable key")
        key = raw_key
    has_value, has_generate = "value" in body, "generateValue" in body
    if has_value == has_generate:
        raise ApiError(400, f"{where} needs exactly one of value or generateValue")
    if has_value:
        if not isinstance(body["value"], str):
            raise ApiError(400, f"{where}.value must be a string")
        return key, body["value"]
    if body["generateValue"] is not True:
        raise ApiError(400, f"{where}.generateValue must be true")
    return key, _generated()


def _find(env: list[dict[str, Any]], key: str) -> dict[str, Any] | None:
    return next((e for e in env if e["key"] == key), None)


# --- services ---------------------------------------------------------------------------------

def list_services(req: ApiRequest) -> Reply:
    names = set(req.values("name"))
    types = set(req.values("type", choices=SERVICE_TYPES))
    owners = set(req.values("ownerId"))
    suspended = set(req.values("suspended", choices=("suspended", "not_suspended")))
    envs = set(req.values("environmentId"))
    regions = set(req.values("region", choices=REGIONS))
    # `env` is the deprecated name of the runtime filter.
    runtimes = set(req.values("env", choices=RUNTIMES))
    times = req.times("createdAt", "updatedAt")
    previews = req.boolean("includePreviews", default=True)
    chosen = [
        s for s in req.store.services.values()
        if (not names or s["name"] in names) and (not types or s["type"] in types)
        and (not owners or s["ownerId"] in owners)
        and (not suspended or s["suspended"] in suspended)
        and (not envs or s.get("environmentId") in envs)
        and (not regions or s["region"] in regions)
        and (not runtimes or s["runtime"] in runtimes)
        and (previews or "parentServer" not in s) and in_window(s, times)
    ]
    return Reply(200, [{"service": service_json(s), "cursor": encode_cursor(s["seq"])}
                       for s in page(chosen, req)])


def get_service(req: ApiRequest) -> Reply:
    return Reply(200, service_json(_service(req)))


def restart_service(req: ApiRequest) -> Reply:
    if _service(req)["type"] == "cron_job":
        raise ApiError(400, "restart is not supported for cron jobs")
    return Reply(200)


# --- service env vars -------------------------------------------------------------------------

def list_env_vars(req: ApiRequest) -> Reply:
    return Reply(200, [env_var_item(e) for e in page(_service(req)["envVars"], req)])


def replace_env_vars(req: ApiRequest) -> Reply:
    service = _service(req)
    body = req.json()
    if not isinstance(body, list):
        raise ApiError(400, "request body must be a JSON array of environment variables")
    pairs = [value_input(item, f"[{i}]", with_key=True) for i, item in enumerate(body)]
    if len({k for k, _ in pairs}) != len(pairs):
        raise ApiError(400, "duplicate environment variable key")
    service["envVars"] = [{"key": k, "value": v, "seq": req.store.next_seq()} for k, v in pairs]
    req.store.touch(service["id"])
    return Reply(200, [env_var_item(e) for e in service["envVars"]], wrote=True)


def _read_key(env: list[dict[str, Any]], key: str) -> Reply:
    item = _find(env, key)
    if item is None:
        raise ApiError(404, f"not found: {key}")
    return Reply(200, {"key": key, "value": item["value"]})


def _upsert_key(req: ApiRequest, env: list[dict[str, Any]], key: str) -> str:
    _, value = value_input(req.json(), "body", with_key=False)
    req.store.put_env(env, key, value)
    return value


def _remove_key(owner: dict[str, Any], key: str) -> None:
    if _find(owner["envVars"], key) is None:
        raise ApiError(404, f"not found: {key}")
    owner["envVars"] = [e for e in owner["envVars"] if e["key"] != key]


def get_env_var(req: ApiRequest) -> Reply:
    service, key = _service(req), _key(req)
    return _read_key(service["envVars"], key)


def put_env_var(req: ApiRequest) -> Reply:
    service, key = _service(req), _key(req)
    value = _upsert_key(req, service["envVars"], key)
    req.store.touch(service["id"])
    return Reply(200, {"key": key, "value": value}, wrote=True)


def delete_env_var(req: ApiRequest) -> Reply:
    service, key = _service(req), _key(req)
    _remove_key(service, key)
    req.store.touch(service["id"])
    return Reply(204, wrote=True)


# --- env groups -------------------------------------------------------------------------------

def list_env_groups(req: ApiRequest) -> Reply:
    names, owners = set(req.values("name")), set(req.values("ownerId"))
    envs = set(req.values("environmentId"))
    times = req.times("createdAt", "updatedAt")
    groups = [
        g for g in req.store.env_groups.values()
        if (not names or g["name"] in names) and (not owners or g["ownerId"] in owners)
        and (not envs or g.get("environmentId") in envs) and in_window(g, times)
    ]
    # This list has no cursor wrapper; the cursor is taken to be the last group's id.
    after = req.query.get("cursor", [""])[-1]
    if after:
        ids = [g["id"] for g in groups]
        if after not in ids:
            raise ApiError(400, "invalid cursor")
        groups = groups[ids.index(after) + 1:]
    services = req.store.services
    return Reply(200, [env_group_meta(g, services) for g in groups[: req.limit()]])


def get_env_group(req: ApiRequest) -> Reply:
    return Reply(200, env_group_json(_group(req), req.store.services))


def link_env_group(req: ApiRequest) -> Reply:
    group, service = _group(req), _service(req)
    # A link changes the linked service's env, not the group: `updatedAt` stays, so a
    # service linked before is not taken to run an outdated group (see `status`).
    if service["id"] not in group["serviceIds"]:
        group["serviceIds"].append(service["id"])
    return Reply(200, env_group_json(group, req.store.services), wrote=True)


def unlink_env_group(req: ApiRequest) -> Reply:
    group, service = _group(req), _service(req)
    if service["id"] not in group["serviceIds"]:
        raise ApiError(404, f"not found: link to {service['id']}")
    group["serviceIds"].remove(service["id"])
    return Reply(204, wrote=True)


def get_group_env_var(req: ApiRequest) -> Reply:
    group, key = _group(req), _key(req)
    return _read_key(group["envVars"], key)


def put_group_env_var(req: ApiRequest) -> Reply:
    group, key = _group(req), _key(req)
    _upsert_key(req, group["envVars"], key)
    group["updatedAt"] = now_iso()
    return Reply(200, env_group_json(group, req.store.services), wrote=True)


def delete_group_env_var(req: ApiRequest) -> Reply:
    group, key = _group(req), _key(req)
    _remove_key(group, key)
    group["updatedAt"] = now_iso()
    return Reply(204, wrote=True)


# --- deploys ----------------------------------------------------------------------------------

def create_deploy(req: ApiRequest) -> Reply:
    service = _service(req)
    body = req.json_object()
    clear = body.get("clearCache", "do_not_clear")
    if clear not in ("clear", "do_not_clear"):
        raise ApiError(400, "clearCache must be clear or do_not_clear")
    for name in ("commitId", "imageUrl"):
        if name in body and not isinstance(body[name], str):
            raise ApiError(400, f"{name} must be a string")
    answer = start_deploy(service, seq=req.store.next_seq(),
                          progressive=req.store.progressive_deploys)
    deploy = service["deploys"][-1]
    for name, field in (("commitId", "commit"), ("imageUrl", "image")):
        if name in body:
            deploy[field] = answer[field] = {"id" if field == "commit" else "ref": body[name]}
    if req.faults.queue_deploys:
        return Reply(202, wrote=True)
    return Reply(201, answer, wrote=True)


def list_deploys(req: ApiRequest) -> Reply:
    statuses = set(req.values("status", choices=DEPLOY_STATUSES))
    times = req.times("createdAt", "updatedAt", "finishedAt")
    service = _service(req)
    shown = page([d for d in service["deploys"]
                  if (not statuses or d["status"] in statuses) and in_window(d, times)],
                 req, newest_first=True)
    for deploy in shown:
        advance(service, deploy)
    return Reply(200, [{"deploy": deploy_json(d), "cursor": encode_cursor(d["seq"])}
                       for d in shown], wrote=True)


def get_deploy(req: ApiRequest) -> Reply:
    did, service = req.params["deployId"], _service(req)
    deploy = next((d for d in service["deploys"] if d["id"] == did), None)
    if deploy is None:
        raise ApiError(404, f"not found: {did[:64]}")
    advance(service, deploy)
    return Reply(200, deploy_json(deploy), wrote=True)


# --- postgres, owners, user -------------------------------------------------------------------

def postgres_connection(req: ApiRequest) -> Reply:
    return Reply(200, postgres_connection_info(by_id(req.store.postgres, req, "postgresId")))


def list_owners(req: ApiRequest) -> Reply:
    names, emails = set(req.values("name")), set(req.values("email"))
    chosen = [o for o in req.store.owners.values()
              if (not names or o["name"] in names) and (not emails or o["email"] in emails)]
    return Reply(200, [{"owner": owner_json(o), "cursor": encode_cursor(o["seq"])}
                       for o in page(chosen, req)])


def get_owner(req: ApiRequest) -> Reply:
    return Reply(200, owner_json(by_id(req.store.owners, req, "ownerId")))


def get_user(req: ApiRequest) -> Reply:
    return Reply(200, dict(req.store.user))


def _r(method: str, path: str, handler: Any) -> Route:
    return Route(method, tuple(path.split("/")), handler)


ROUTES: tuple[Route, ...] = (
    _r("GET", "services", list_services),
    _r("GET", "services/{serviceId}", get_service),
    _r("POST", "services/{serviceId}/restart", restart_service),
    _r("GET", "services/{serviceId}/env-vars", list_env_vars),
    _r("PUT", "services/{serviceId}/env-vars", replace_env_vars),
    _r("GET", "services/{serviceId}/env-vars/{envVarKey}", get_env_var),
    _r("PUT", "services/{serviceId}/env-vars/{envVarKey}", put_env_var),
    _r("DELETE", "services/{serviceId}/env-vars/{envVarKey}", delete_env_var),
    _r("GET", "services/{serviceId}/deploys", list_deploys),
    _r("POST", "services/{serviceId}/deploys", create_deploy),
    _r("GET", "services/{serviceId}/deploys/{deployId}", get_deploy),
    _r("GET", "env-groups", list_env_groups),
    _r("GET", "env-groups/{envGroupId}", get_env_group),
    _r("POST", "env-groups/{envGroupId}/services/{serviceId}", link_env_group),
    _r("DELETE", "env-groups/{envGroupId}/services/{serviceId}", unlink_env_group),
    _r("GET", "env-groups/{envGroupId}/env-vars/{envVarKey}", get_group_env_var),
    _r("PUT", "env-groups/{envGroupId}/env-vars/{envVarKey}", put_group_env_var),
    _r("DELETE", "env-groups/{envGroupId}/env-vars/{envVarKey}", delete_group_env_var),
    _r("GET", "postgres/{postgresId}/connection-info", postgres_connection),
    _r("GET", "owners", list_owners),
    _r("GET", "owners/{ownerId}", get_owner),
    _r("GET", "users", get_user),
)
