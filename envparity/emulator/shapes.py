"""Stored records rendered in the exact shapes of Render's OpenAPI document.

Fields the spec requires but envparity does not model (plan, build command, ports) get fixed,
plausible values so that every response validates against the published schemas.
"""

from __future__ import annotations

from typing import Any

from envparity.emulator.state import encode_cursor

__all__ = [
    "deploy_json",
    "env_group_json",
    "env_group_meta",
    "env_var_item",
    "owner_json",
    "postgres_connection_info",
    "secret_file_item",
    "service_json",
]

_SHORT_TYPES = {
    "static_site": "static",
    "web_service": "web",
    "private_service": "pserv",
    "background_worker": "worker",
    "cron_job": "cron",
}
_PLANS = ("starter", "starter_plus", "standard", "standard_plus", "pro", "pro_plus", "pro_max",
          "pro_ultra", "free", "custom")


def service_json(s: dict[str, Any]) -> dict[str, Any]:
    slug = s["name"].lower().replace(" ", "-")
    out: dict[str, Any] = {
        "id": s["id"],
        "name": s["name"],
        "ownerId": s["ownerId"],
        "type": s["type"],
        "slug": slug,
        "createdAt": s["createdAt"],
        "updatedAt": s["updatedAt"],
        "dashboardUrl": f"https://dashboard.render.com/{_SHORT_TYPES[s['type']]}/{s['id']}",
        "suspended": s["suspended"],
        "suspenders": ["user"] if s["suspended"] == "suspended" else [],
        "autoDeploy": "yes",
        "notifyOnFail": "default",
        "rootDir": "",
        "branch": "main",
        "repo": f"https://github.com/example/{slug}",
        "serviceDetails": _details(s, slug),
    }
    if "environmentId" in s:
        out["environmentId"] = s["environmentId"]
    return out


def _details(s: dict[str, Any], slug: str) -> dict[str, Any]:
    url = f"https://{slug}.onrender.com"
    if s["type"] == "static_site":
        details: dict[str, Any] = {"buildCommand": "make build", "publishPath": "public",
                                   "url": url, "buildPlan": "starter"}
    else:
        runtime = s["runtime"]
        native = {"buildCommand": "pip install -r requirements.txt", "startCommand": "./start"}
        docker = {"dockerCommand": "", "dockerContext": ".", "dockerfilePath": "./Dockerfile"}
        details = {
            "env": runtime,
            "runtime": runtime,
            "envSpecificDetails": docker if runtime in ("docker", "image") else native,
            "plan": s["plan"] if s["plan"] in _PLANS else "starter",
            "region": s["region"],
            "buildPlan": "starter",
        }
        # A cron job has no instances: with this field its details also fit the worker schema.
        if s["type"] != "cron_job":
            details["numInstances"] = 1
        if s["type"] in ("web_service", "private_service"):
            details["openPorts"] = [{"port": 10000, "protocol": "TCP"}]
            details["url"] = url if s["type"] == "web_service" else f"{slug}:10000"
        if s["type"] == "web_service":
            details["healthCheckPath"] = "/healthz"
        if s["type"] == "cron_job":
            details["schedule"] = "0 * * * *"
    if "parentServer" in s:
        details["parentServer"] = dict(s["parentServer"])
    return details


def env_var_item(e: dict[str, Any]) -> dict[str, Any]:
    return {"envVar": {"key": e["key"], "value": e["value"]}, "cursor": encode_cursor(e["seq"])}


def secret_file_item(f: dict[str, Any]) -> dict[str, Any]:
    return {"secretFile": {"name": f["name"], "content": f["content"]},
            "cursor": encode_cursor(f["seq"])}


def deploy_json(d: dict[str, Any]) -> dict[str, Any]:
    """The API's view of a deploy record (not its sequence number or planned end)."""
    return {k: (dict(v) if isinstance(v, dict) else v) for k, v in d.items()
            if k not in ("seq", "final")}


def env_group_meta(g: dict[str, Any], services: dict[str, dict[str, Any]]) -> dict[str, Any]:
    links = [
        {"id": sid, "name": services[sid]["name"], "type": _SHORT_TYPES[services[sid]["type"]]}
        for sid in g["serviceIds"]
        if sid in services
    ]
    out: dict[str, Any] = {
        "id": g["id"],
        "name": g["name"],
        "ownerId": g["ownerId"],
        "createdAt": g["createdAt"],
        "updatedAt": g["updatedAt"],
        "serviceLinks": links,
    }
    if "environmentId" in g:
        out["environmentId"] = g["environmentId"]
    return out


def env_group_json(g: dict[str, Any], services: dict[str, dict[str, Any]]) -> dict[str, Any]:
    out = env_group_meta(g, services)
    out["envVars"] = [{"key": e["key"], "value": e["value"]} for e in g["envVars"]]
    out["secretFiles"] = [{"name": f["name"], "content": f["content"]} for f in g["secretFiles"]]
    return out


def owner_json(o: dict[str, Any]) -> dict[str, Any]:
    return {k: o[k] for k in ("id", "name", "email", "type")}


def postgres_connection_info(p: dict[str, Any]) -> dict[str, str]:
    user, password, db = p["databaseUser"], p["password"], p["databaseName"]
    internal = p.get("internalConnectionString") or f"postgresql://{user}:{password}@{p['id']}/{db}"
    external = p.get("externalConnectionString") or (
        f"postgresql://{user}:{password}@{p['id']}.{p['region']}-postgres.render.com/{db}"
    )
    return {
        "password": password,
        "internalConnectionString": internal,
        "externalConnectionString": external,
        "psqlCommand": f"PGPASSWORD={password} psql {external}",
    }
