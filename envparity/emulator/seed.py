"""Seed parsing: a small JSON (or YAML) description of a Render account into emulator state.

The seed is the only hand-written input, so every mistake is reported with its place in the
seed (``services[1].envVars``) instead of surfacing later as an odd API answer.
"""

from __future__ import annotations

import json
import re
import secrets
import string
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from envparity.core.errors import SeedError
from envparity.core.yamldoc import parse_yaml

__all__ = [
    "DEPLOY_STATUSES",
    "KEY_RULE",
    "SERVICE_TYPES",
    "load_seed_file",
    "new_id",
    "now_iso",
    "parse_seed",
]

SERVICE_TYPES = ("static_site", "web_service", "private_service", "background_worker", "cron_job")
DEPLOY_STATUSES = (
    "created", "queued", "build_in_progress", "update_in_progress", "live", "deactivated",
    "build_failed", "update_failed", "canceled", "pre_deploy_in_progress", "pre_deploy_failed",
)
DEPLOY_TRIGGERS = (
    "api", "blueprint_sync", "deploy_hook", "deployed_by_render", "manual", "other",
    "new_commit", "rollback", "service_resumed", "service_updated",
)
RUNTIMES = ("docker", "elixir", "go", "node", "python", "ruby", "rust", "image")
REGIONS = ("frankfurt", "oregon", "ohio", "singapore", "virginia")
# Render's exact key rule is not published; this is the POSIX-like rule its dashboard enforces
# in practice (letters, digits, `_`, `.`, `-`; no leading digit). Inferred. Seeds follow it
# too, so that every seeded key can be read and deleted by its per-key route.
KEY_RULE = re.compile(r"[A-Za-z_.-][A-Za-z0-9_.-]{0,255}")
_FAILURES = ("build_failed", "update_failed", "canceled", "pre_deploy_failed")
_ID_ALPHABET = string.ascii_lowercase + string.digits
_SERVICE_KEYS = {
    "id", "name", "type", "ownerId", "suspended", "envVars", "deploys", "createdAt",
    "updatedAt", "runtime", "region", "plan", "parentServer", "environmentId", "deployStatus",
    "failNextDeploys",
    "secretFiles",
}


def new_id(prefix: str) -> str:
    """An id in Render's shape: prefix, dash, 20 lowercase letters and digits."""
    return prefix + "-" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(20))


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def load_seed_file(path: Path) -> dict[str, Any]:
    """Read a seed from JSON, or YAML when the file name ends in .yaml/.yml.

    Both refuse a key given twice; YAML also refuses anchors, aliases and values JSON
    cannot hold (see `envparity.core.yamldoc`).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SeedError(f"cannot read seed {path}: {exc.strerror}", hint="check the path") from None
    is_yaml = path.suffix in (".yaml", ".yml")
    try:
        data = parse_yaml(text) if is_yaml else json.loads(text, object_pairs_hook=_unique)
    except ValueError as exc:
        # Parser messages name keys, lines and characters, never a value.
        raise SeedError(
            f"seed {path} is not valid {'YAML' if is_yaml else 'JSON'}: "
            f"{str(exc).splitlines()[0][:160]}",
            hint="fix the seed; its format is in docs/emulator.md",
        ) from None
    if not isinstance(data, dict):
        raise SeedError(f"seed {path} must hold an object", hint="see docs/emulator.md")
    return data


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key[:64]!r}")
        out[key] = value
    return out


class _Seq:
    def __init__(self) -> None:
        self.value = 0

    def next(self) -> int:
        self.value += 1
        return self.value


def parse_seed(seed: Mapping[str, Any]) -> dict[str, Any]:
    """Turn a seed into the persisted state layout (see `state.Store`)."""
    unknown = set(seed) - {"apiKeys", "owners", "services", "envGroups", "postgres", "user"}
    if unknown:
        _fail("seed", f"unknown fields {sorted(unknown)}")
    seq = _Seq()
    owners = [_owner(o, f"owners[{i}]", seq) for i, o in enumerate(_list(seed, "owners", "seed"))]
    if not owners:
        owners = [{"id": "tea-" + "0" * 20, "name": "emulated", "email": "ops@example.com",
                   "type": "team", "seq": seq.next()}]
    default_owner = owners[0]["id"]
    services = [
        _service(s, f"services[{i}]", seq, default_owner)
        for i, s in enumerate(_list(seed, "services", "seed"))
    ]
    service_ids = {s["id"] for s in services}
    if len(service_ids) != len(services):
        _fail("services", "duplicate service id")
    groups = [
        _env_group(g, f"envGroups[{i}]", seq, default_owner, service_ids)
        for i, g in enumerate(_list(seed, "envGroups", "seed"))
    ]
    postgres = [
        _postgres(p, f"postgres[{i}]", default_owner)
        for i, p in enumerate(_list(seed, "postgres", "seed"))
    ]
    keys = [_str(k, f"apiKeys[{i}]") for i, k in enumerate(_list(seed, "apiKeys", "seed"))]
    user = seed.get("user") or {"name": owners[0]["name"], "email": owners[0]["email"]}
    if not isinstance(user, dict) or not all(isinstance(user.get(k), str) for k in ("name",
                                                                                      "email")):
        _fail("user", "must be {name, email} strings")
    return {
        "version": 1, "seq": seq.value, "apiKeys": keys,
        "user": {"name": user["name"], "email": user["email"]},
        "owners": owners, "services": services, "envGroups": groups, "postgres": postgres,
    }


def _fail(where: str, what: str) -> None:
    raise SeedError(f"seed {where}: {what}", hint="see the seed format in docs/emulator.md")


def _list(obj: Mapping[str, Any], key: str, where: str) -> list[Any]:
    value = obj.get(key, [])
    if not isinstance(value, list):
        _fail(f"{where}.{key}", "must be a list")
    assert isinstance(value, list)
    return value


def _str(value: object, where: str, *, choices: Sequence[str] = ()) -> str:
    if not isinstance(value, str) or (choices and value not in choices):
        _fail(where, f"must be one of {list(choices)}" if choices else "must be a string")
    assert isinstance(value, str)
    return value


def _obj(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        _fail(where, "must be an object")
    assert isinstance(value, Mapping)
    return value


def env_list(value: object, where: str, seq: _Seq) -> list[dict[str, Any]]:
    """envVars as a {KEY: value} mapping or a [{key, value}] list, in the given order."""
    pairs: list[tuple[object, object]]
    if isinstance(value, Mapping):
        pairs = list(value.items())
    elif isinstance(value, list):
        pairs = [(_obj(v, f"{where}[{i}]").get("key"), v.get("value")) for i, v in enumerate(value)]
    else:
        _fail(where, "must be a {KEY: value} object or a list of {key, value}")
        return []
    out: list[dict[str, Any]] = []
    for key, val in pairs:
        key_s = _str(key, f"{where} key")
        if not KEY_RULE.fullmatch(key_s):
            _fail(f"{where} key {key_s[:64]!r}", "is not a valid env var key (letters, digits, "
                  "_ . -; not starting with a digit; at most 256 characters)")
        # Values are named by key only: never echo a value into an error.
        out.append({"key": key_s, "value": _str(val, f"{where}.{key_s}"), "seq": seq.next()})
    if len({e["key"] for e in out}) != len(out):
        _fail(where, "duplicate key")
    return out


def _files(value: object, where: str, seq: _Seq) -> list[dict[str, Any]]:
    """secretFiles as a {name: content} mapping (contents are never echoed into errors)."""
    return [{"name": e["key"], "content": e["value"], "seq": e["seq"]}
            for e in env_list(value, where, seq)]


def _owner(raw: object, where: str, seq: _Seq) -> dict[str, Any]:
    o = _obj(raw, where)
    return {
        "id": _str(o.get("id", new_id("tea")), f"{where}.id"),
        "name": _str(o.get("name"), f"{where}.name"),
        "email": _str(o.get("email", "ops@example.com"), f"{where}.email"),
        "type": _str(o.get("type", "team"), f"{where}.type", choices=("user", "team")),
        "seq": seq.next(),
    }


def _service(raw: object, where: str, seq: _Seq, owner: str) -> dict[str, Any]:
    s = _obj(raw, where)
    unknown = set(s) - _SERVICE_KEYS
    if unknown:
        _fail(where, f"unknown fields {sorted(unknown)}")
    deploys = [_deploy(d, f"{where}.deploys[{i}]", i) for i, d in enumerate(_list(s, "deploys",
                                                                                    where))]
    # Without dates of its own, a seeded service was set up before its first deploy, so its
    # env counts as deployed (an `updatedAt` later than the live deploy means it is not).
    first = min((d["createdAt"] for d in deploys), default=None)
    created = _str(s.get("createdAt", first or now_iso()), f"{where}.createdAt")
    record: dict[str, Any] = {
        "id": _str(s.get("id", new_id("srv")), f"{where}.id"),
        "name": _str(s.get("name"), f"{where}.name"),
        "type": _str(s.get("type", "web_service"), f"{where}.type", choices=SERVICE_TYPES),
        "ownerId": _str(s.get("ownerId", owner), f"{where}.ownerId"),
        "suspended": _str(s.get("suspended", "not_suspended"), f"{where}.suspended",
                          choices=("suspended", "not_suspended")),
        "createdAt": created,
        "updatedAt": _str(s.get("updatedAt", created), f"{where}.updatedAt"),
        "runtime": _str(s.get("runtime", "python"), f"{where}.runtime", choices=RUNTIMES),
        "region": _str(s.get("region", "oregon"), f"{where}.region", choices=REGIONS),
        "plan": _str(s.get("plan", "starter"), f"{where}.plan"),
        "deployStatus": _str(s.get("deployStatus", "live"), f"{where}.deployStatus",
                             choices=DEPLOY_STATUSES),
        "failNextDeploys": [
            _str(x, f"{where}.failNextDeploys[{i}]", choices=_FAILURES)
            for i, x in enumerate(_list(s, "failNextDeploys", where))
        ],
        "seq": seq.next(),
        "envVars": env_list(s.get("envVars", {}), f"{where}.envVars", seq),
        "secretFiles": _files(s.get("secretFiles", {}), f"{where}.secretFiles", seq),
    }
    for optional in ("environmentId",):
        if optional in s:
            record[optional] = _str(s[optional], f"{where}.{optional}")
    if "parentServer" in s:
        parent = _obj(s["parentServer"], f"{where}.parentServer")
        record["parentServer"] = {
            "id": _str(parent.get("id"), f"{where}.parentServer.id"),
            "name": _str(parent.get("name"), f"{where}.parentServer.name"),
        }
    # Seed order is chronological (last = newest) unless createdAt says otherwise.
    deploys.sort(key=lambda d: (d["createdAt"], d["_order"]))
    for d in deploys:
        d.pop("_order")
        d["seq"] = seq.next()
    record["deploys"] = deploys
    return record


def _deploy(raw: object, where: str, order: int) -> dict[str, Any]:
    d = _obj(raw, where)
    created = _str(d.get("createdAt", now_iso()), f"{where}.createdAt")
    deploy: dict[str, Any] = {
        "id": _str(d.get("id", new_id("dep")), f"{where}.id"),
        "status": _str(d.get("status", "live"), f"{where}.status", choices=DEPLOY_STATUSES),
        "trigger": _str(d.get("trigger", "api"), f"{where}.trigger", choices=DEPLOY_TRIGGERS),
        "createdAt": created,
        "startedAt": _str(d.get("startedAt", created), f"{where}.startedAt"),
        "updatedAt": _str(d.get("updatedAt", d.get("finishedAt", created)), f"{where}.updatedAt"),
        "_order": order,
    }
    if "finishedAt" in d:
        deploy["finishedAt"] = _str(d["finishedAt"], f"{where}.finishedAt")
    if "commit" in d:
        commit = _obj(d["commit"], f"{where}.commit")
        deploy["commit"] = {k: _str(v, f"{where}.commit.{k}") for k, v in commit.items()
                            if k in ("id", "message", "createdAt")}
    return deploy


def _env_group(raw: object, where: str, seq: _Seq, owner: str,
               service_ids: set[str]) -> dict[str, Any]:
    g = _obj(raw, where)
    created = _str(g.get("createdAt", now_iso()), f"{where}.createdAt")
    linked = [_str(x, f"{where}.serviceIds[{i}]") for i, x in enumerate(_list(g, "serviceIds",
                                                                               where))]
    missing = [x for x in linked if x not in service_ids]
    if missing:
        _fail(f"{where}.serviceIds", f"unknown services {missing}")
    group: dict[str, Any] = {
        "id": _str(g.get("id", new_id("evg")), f"{where}.id"),
        "name": _str(g.get("name"), f"{where}.name"),
        "ownerId": _str(g.get("ownerId", owner), f"{where}.ownerId"),
        "createdAt": created,
        "updatedAt": _str(g.get("updatedAt", created), f"{where}.updatedAt"),
        "seq": seq.next(),
        "envVars": env_list(g.get("envVars", {}), f"{where}.envVars", seq),
        "secretFiles": _files(g.get("secretFiles", {}), f"{where}.secretFiles", seq),
        "serviceIds": list(dict.fromkeys(linked)),
    }
    if "environmentId" in g:
        group["environmentId"] = _str(g["environmentId"], f"{where}.environmentId")
    return group


def _postgres(raw: object, where: str, owner: str) -> dict[str, Any]:
    p = _obj(raw, where)
    pg_id = _str(p.get("id", new_id("dpg") + "-a"), f"{where}.id")
    region = _str(p.get("region", "oregon"), f"{where}.region", choices=REGIONS)
    record: dict[str, Any] = {
        "id": pg_id,
        "name": _str(p.get("name", pg_id), f"{where}.name"),
        "ownerId": _str(p.get("ownerId", owner), f"{where}.ownerId"),
        "databaseName": _str(p.get("databaseName", "app"), f"{where}.databaseName"),
        "databaseUser": _str(p.get("databaseUser", "app"), f"{where}.databaseUser"),
        "password": _str(p.get("password", secrets.token_urlsafe(24)), f"{where}.password"),
        "region": region,
    }
    for key in ("internalConnectionString", "externalConnectionString"):
        if key in p:
            record[key] = _str(p[key], f"{where}.{key}")
    return record
