"""The emulator's /v1 API over real sockets: shapes, filters, pagination, errors, auth."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from emulator_fixtures import (
    API_ID,
    API_KEY,
    CRON_ID,
    GROUP_ID,
    OWNER_ID,
    POSTGRES_ID,
    PREVIEW_ID,
    WORKER_ID,
    checked_emulator,
    client,
    seed_with_env,
)

from envparity.emulator import Emulator


def _ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["service"]["id"] for item in response.json()]


def test_lists_services_with_filters(api: httpx.Client) -> None:
    assert _ids(api.get("/services")) == [API_ID, WORKER_ID, PREVIEW_ID, CRON_ID]
    assert _ids(api.get("/services", params={"name": "api,worker"})) == [API_ID, WORKER_ID]
    assert _ids(api.get("/services", params={"type": "background_worker,cron_job"})) == [
        WORKER_ID, CRON_ID]
    assert _ids(api.get("/services", params={"includePreviews": "false"})) == [
        API_ID, WORKER_ID, CRON_ID]
    assert _ids(api.get("/services", params={"suspended": "suspended"})) == [CRON_ID]
    assert _ids(api.get("/services", params={"ownerId": "tea-someoneelse"})) == []
    assert _ids(api.get("/services", params={"ownerId": OWNER_ID, "name": "worker"})) == [
        WORKER_ID]


@pytest.mark.parametrize("query", [{"type": "web"}, {"suspended": "yes"},
                                   {"includePreviews": "maybe"}, {"limit": "0"}])
def test_rejects_bad_service_filters(api: httpx.Client, query: dict[str, str]) -> None:
    response = api.get("/services", params=query)
    assert response.status_code == 400
    assert response.json()["message"]


def test_service_pages_follow_the_last_cursor(api: httpx.Client) -> None:
    seen, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 1} | ({"cursor": cursor} if cursor else {})
        page = api.get("/services", params=params).json()
        if not page:
            break
        seen += [i["service"]["id"] for i in page]
        cursor = page[-1]["cursor"]
    assert seen == [API_ID, WORKER_ID, PREVIEW_ID, CRON_ID]


def test_service_shape_and_preview_parent(api: httpx.Client) -> None:
    service = api.get(f"/services/{WORKER_ID}").json()
    assert (service["id"], service["name"], service["type"]) == (WORKER_ID, "worker",
                                                                 "background_worker")
    assert service["suspended"] == "not_suspended"
    assert service["suspenders"] == []
    assert "url" not in service["serviceDetails"]
    preview = api.get(f"/services/{PREVIEW_ID}").json()
    assert preview["serviceDetails"]["parentServer"] == {"id": API_ID, "name": "api"}
    assert api.get(f"/services/{CRON_ID}").json()["suspenders"] == ["user"]


def test_unknown_service_is_a_render_404(api: httpx.Client) -> None:
    response = api.get("/services/srv-doesnotexist")
    assert response.status_code == 404
    body = response.json()
    assert body["message"] == "not found: srv-doesnotexist"
    assert body["id"] == response.headers["Render-Request-Id"]
    for path in ("/services/srv-nope/env-vars", "/services/srv-nope/deploys",
                 "/env-groups/evg-nope", "/postgres/dpg-nope/connection-info",
                 "/owners/tea-nope", f"/services/{API_ID}/deploys/dep-nope",
                 f"/services/{API_ID}/env-vars/NOPE"):
        assert api.get(path).status_code == 404, path


def _all_env(api: httpx.Client, service_id: str, limit: int | None) -> tuple[list[str], int]:
    """Read every env var the way Render's clients do; returns (keys, requests made)."""
    keys: list[str] = []
    cursor, requests = None, 0
    while True:
        params: dict[str, Any] = {}
        if limit is not None:
            params["limit"] = limit
        if cursor:
            params["cursor"] = cursor
        response = api.get(f"/services/{service_id}/env-vars", params=params)
        requests += 1
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page) <= (limit or 20)
        keys += [item["envVar"]["key"] for item in page]
        if not page or len(page) < (limit or 20):
            return keys, requests
        cursor = page[-1]["cursor"]


@pytest.mark.parametrize(("count", "limit", "requests"), [
    (1, 100, 1), (20, 100, 1), (100, 100, 2), (250, 100, 3), (250, None, 13), (20, None, 2),
    (1, 1, 2),
])
def test_env_var_pagination(count: int, limit: int | None, requests: int) -> None:
    with checked_emulator(seed_with_env(count)) as emu, client(emu) as api:
        keys, made = _all_env(api, API_ID, limit)
        assert keys == [f"KEY_{i:04d}" for i in range(count)]
        assert made == requests
        first = api.get(f"/services/{API_ID}/env-vars").json()
        assert len(first) == min(count, 20)  # Render's default page
        assert first[0]["envVar"] == {"key": "KEY_0000", "value": "value-0"}


@pytest.mark.parametrize("limit", ["0", "101", "-1", "abc", "1e3", "2.5", "250", "99999999999"])
def test_bad_limit_is_400(api: httpx.Client, limit: str) -> None:
    response = api.get(f"/services/{API_ID}/env-vars", params={"limit": limit})
    assert response.status_code == 400
    assert "limit" in response.json()["message"]


@pytest.mark.parametrize("cursor", ["not-a-cursor", "!!!", base64.b64encode(b"short").decode()])
def test_bad_cursor_is_400(api: httpx.Client, cursor: str) -> None:
    assert api.get(f"/services/{API_ID}/env-vars", params={"cursor": cursor}).status_code == 400


def test_cursor_survives_deleting_the_item_it_points_at(api: httpx.Client) -> None:
    api.put(f"/services/{API_ID}/env-vars",
            json=[{"key": k, "value": "v"} for k in ("A", "B", "C", "D")])
    first = api.get(f"/services/{API_ID}/env-vars", params={"limit": 2}).json()
    assert api.delete(f"/services/{API_ID}/env-vars/B").status_code == 204
    rest = api.get(f"/services/{API_ID}/env-vars",
                   params={"limit": 2, "cursor": first[-1]["cursor"]}).json()
    assert [i["envVar"]["key"] for i in rest] == ["C", "D"]


def test_put_replaces_the_whole_list(emu: Emulator, api: httpx.Client) -> None:
    body = [{"key": "B", "value": "2"}, {"key": "A", "value": "1"},
            {"key": "GENERATED", "generateValue": True}]
    response = api.put(f"/services/{API_ID}/env-vars", json=body)
    assert response.status_code == 200
    assert [i["envVar"]["key"] for i in response.json()] == ["B", "A", "GENERATED"]
    env = emu.env_vars(API_ID)
    assert list(env) == ["B", "A", "GENERATED"]  # LOG_LEVEL and ENVIRONMENT are gone
    assert len(env["GENERATED"]) == 44
    assert base64.b64decode(env["GENERATED"])
    listed = api.get(f"/services/{API_ID}/env-vars").json()
    assert {i["envVar"]["key"]: i["envVar"]["value"] for i in listed} == env
    assert api.put(f"/services/{API_ID}/env-vars", json=[]).status_code == 200
    assert emu.env_vars(API_ID) == {}


def test_chunked_bodies_are_read(emu: Emulator, api: httpx.Client) -> None:
    def streamed() -> Iterator[bytes]:
        yield b'[{"key": "STREAMED",'
        yield b' "value": "yes"}]'

    response = api.put(f"/services/{API_ID}/env-vars", content=streamed())
    assert response.status_code == 200
    assert emu.env_vars(API_ID) == {"STREAMED": "yes"}


@pytest.mark.parametrize("body", [
    {"key": "A", "value": "1"},
    [{"key": "A", "value": "1"}, {"key": "A", "value": "2"}],
    [{"key": "A"}],
    [{"key": "A", "value": 1}],
    [{"key": "A", "value": "1", "generateValue": True}],
    [{"key": "A", "generateValue": False}],
    [{"key": "", "value": "1"}],
    [{"key": "BAD KEY", "value": "1"}],
    [{"value": "1"}],
    ["A=1"],
])
def test_bad_replace_bodies_change_nothing(emu: Emulator, api: httpx.Client, body: Any) -> None:
    before = emu.snapshot()
    response = api.put(f"/services/{API_ID}/env-vars", json=body)
    assert response.status_code == 400
    assert emu.snapshot() == before


def test_single_key_operations(emu: Emulator, api: httpx.Client) -> None:
    path = f"/services/{API_ID}/env-vars"
    assert api.get(f"{path}/LOG_LEVEL").json() == {"key": "LOG_LEVEL", "value": "info"}
    assert api.put(f"{path}/LOG_LEVEL", json={"value": "debug"}).json() == {
        "key": "LOG_LEVEL", "value": "debug"}
    assert api.put(f"{path}/NEW", json={"value": "x"}).status_code == 200
    assert list(emu.env_vars(API_ID)) == ["LOG_LEVEL", "ENVIRONMENT", "NEW"]
    generated = api.put(f"{path}/TOKEN", json={"generateValue": True}).json()["value"]
    assert len(generated) == 44
    assert api.delete(f"{path}/NEW").status_code == 204
    assert api.delete(f"{path}/NEW").status_code == 404
    for bad in ({"value": 3}, {}, {"generateValue": "yes"}, ["x"]):
        assert api.put(f"{path}/LOG_LEVEL", json=bad).status_code == 400
    assert api.put(f"{path}/LOG_LEVEL", content=b"{nope").status_code == 400
    assert api.put(f"{path}/LOG_LEVEL").status_code == 400
    assert emu.env_vars(API_ID)["LOG_LEVEL"] == "debug"


def test_env_groups(emu: Emulator, api: httpx.Client) -> None:
    groups = api.get("/env-groups").json()
    assert [g["id"] for g in groups] == [GROUP_ID]
    assert "envVars" not in groups[0]
    assert "cursor" not in groups[0]
    assert groups[0]["serviceLinks"] == [{"id": API_ID, "name": "api", "type": "web"}]
    group = api.get(f"/env-groups/{GROUP_ID}").json()
    assert group["envVars"] == [{"key": "SENTRY_ENV", "value": "production"}]
    linked = api.post(f"/env-groups/{GROUP_ID}/services/{WORKER_ID}")
    assert linked.status_code == 200
    assert [s["id"] for s in linked.json()["serviceLinks"]] == [API_ID, WORKER_ID]
    assert api.delete(f"/env-groups/{GROUP_ID}/services/{API_ID}").status_code == 204
    assert api.delete(f"/env-groups/{GROUP_ID}/services/{API_ID}").status_code == 404
    assert emu.linked_services(GROUP_ID) == [WORKER_ID]
    assert api.post(f"/env-groups/{GROUP_ID}/services/srv-nope").status_code == 404
    put = api.put(f"/env-groups/{GROUP_ID}/env-vars/REGION", json={"value": "eu"})
    assert put.status_code == 200
    assert {"key": "REGION", "value": "eu"} in put.json()["envVars"]
    assert api.get(f"/env-groups/{GROUP_ID}/env-vars/REGION").json()["value"] == "eu"
    assert api.delete(f"/env-groups/{GROUP_ID}/env-vars/SENTRY_ENV").status_code == 204
    assert emu.group_env_vars(GROUP_ID) == {"REGION": "eu"}
    assert api.get("/env-groups", params={"name": "other"}).json() == []
    assert api.get("/env-groups", params={"cursor": GROUP_ID}).json() == []
    assert api.get("/env-groups", params={"cursor": "evg-unknown"}).status_code == 400


def test_deploys_are_recorded(emu: Emulator, api: httpx.Client) -> None:
    created = api.post(f"/services/{API_ID}/deploys", json={})
    assert created.status_code == 201
    deploy = created.json()
    assert deploy["id"].startswith("dep-")
    assert deploy["status"] == "created"
    assert deploy["trigger"] == "api"
    listed = api.get(f"/services/{API_ID}/deploys").json()
    assert [i["deploy"]["status"] for i in listed] == ["live", "deactivated"]
    assert listed[0]["deploy"]["id"] == deploy["id"]
    assert api.get(f"/services/{API_ID}/deploys/{deploy['id']}").json()["status"] == "live"
    assert emu.deploys(API_ID)[0]["id"] == deploy["id"]
    only_live = api.get(f"/services/{API_ID}/deploys", params={"status": "live"}).json()
    assert len(only_live) == 1
    page = api.get(f"/services/{API_ID}/deploys", params={"limit": 1}).json()
    rest = api.get(f"/services/{API_ID}/deploys",
                   params={"limit": 1, "cursor": page[-1]["cursor"]}).json()
    assert rest[0]["deploy"]["status"] == "deactivated"
    commit = api.post(f"/services/{API_ID}/deploys", json={"commitId": "abc123",
                                                           "clearCache": "clear"}).json()
    assert commit["commit"] == {"id": "abc123"}


def test_seeded_deploy_history_is_newest_first(api: httpx.Client) -> None:
    listed = api.get(f"/services/{WORKER_ID}/deploys").json()
    assert [i["deploy"]["status"] for i in listed] == ["build_failed", "live"]


@pytest.mark.parametrize("body", [None, b"[]", b"{bad", b'{"clearCache": "yes"}',
                                  b'{"commitId": 5}'])
def test_bad_deploy_bodies(emu: Emulator, api: httpx.Client, body: bytes | None) -> None:
    response = api.post(f"/services/{API_ID}/deploys", content=body)
    assert response.status_code == 400
    assert len(emu.deploys(API_ID)) == 1


def test_queued_deploys_answer_202_with_no_body(emu: Emulator, api: httpx.Client) -> None:
    emu.faults.queue_deploys = True
    response = api.post(f"/services/{API_ID}/deploys", json={})
    assert response.status_code == 202
    assert response.content == b""
    assert len(emu.deploys(API_ID)) == 2


def test_restart(api: httpx.Client) -> None:
    response = api.post(f"/services/{API_ID}/restart")
    assert response.status_code == 200
    assert response.content == b""
    assert api.post(f"/services/{CRON_ID}/restart").status_code == 400


def test_postgres_owners_and_user(api: httpx.Client) -> None:
    info = api.get(f"/postgres/{POSTGRES_ID}/connection-info").json()
    assert info["password"] == "pg-secret-canary"
    assert info["internalConnectionString"] == (
        f"postgresql://app:pg-secret-canary@{POSTGRES_ID}/app")
    assert info["externalConnectionString"].startswith("postgresql://app:pg-secret-canary@")
    owners = api.get("/owners").json()
    assert [o["owner"]["id"] for o in owners] == [OWNER_ID]
    assert api.get("/owners", params={"name": "nobody"}).json() == []
    assert api.get(f"/owners/{OWNER_ID}").json()["name"] == "acme"
    assert api.get("/users").json() == {"name": "Ops", "email": "ops@example.com"}


@pytest.mark.parametrize("key", [None, "rnd_wrong", f"{API_KEY} extra"])
def test_auth_is_required(emu: Emulator, key: str | None) -> None:
    with client(emu, key=key) as anonymous:
        response = anonymous.get("/services")
    assert response.status_code == 401
    assert response.json()["message"] == "unauthorized"
    assert "Render-Request-Id" in response.headers


def test_auth_scheme_is_case_insensitive_and_basic_is_refused(emu: Emulator) -> None:
    with client(emu, key=None) as c:
        assert c.get("/users", headers={"Authorization": f"bearer {API_KEY}"}).status_code == 200
        assert c.get("/users", headers={"Authorization": f"Basic {API_KEY}"}).status_code == 401


def test_headers_on_every_answer(api: httpx.Client) -> None:
    ids = set()
    for path in ("/services", "/services/srv-nope", "/nowhere"):
        response = api.get(path)
        ids.add(response.headers["Render-Request-Id"])
        assert response.headers["Ratelimit-Limit"] == "400"
        assert 0 < int(response.headers["Ratelimit-Reset"]) <= 60
    assert len(ids) == 3
    write = api.put(f"/services/{API_ID}/env-vars/X", json={"value": "1"})
    assert write.headers["Ratelimit-Limit"] == "30"
    deploy = api.post(f"/services/{API_ID}/deploys", json={})
    assert deploy.headers["Ratelimit-Limit"] == "10"
    assert int(deploy.headers["Ratelimit-Remaining"]) == 9


def test_unknown_paths_methods_and_media_types(api: httpx.Client) -> None:
    assert api.get("/nothing-here").status_code == 404
    outside = api.get(str(api.base_url).replace("/v1", "/v2") + "services")
    assert outside.status_code == 404
    wrong = api.delete("/services")
    assert wrong.status_code == 405
    assert wrong.headers["Allow"] == "GET"
    assert api.request("PATCH", f"/services/{API_ID}/env-vars").status_code == 405
    assert api.get("/users", headers={"Accept": "text/html"}).status_code == 406
    assert api.get("/users", headers={"Accept": "text/html, */*;q=0.1"}).status_code == 200


def test_changes_behind_the_apis_back_are_visible(emu: Emulator, api: httpx.Client) -> None:
    emu.set_env_var(WORKER_ID, "HAND_EDITED", "yes")
    assert api.get(f"/services/{WORKER_ID}/env-vars/HAND_EDITED").json()["value"] == "yes"
    emu.delete_env_var(WORKER_ID, "LOG_LEVEL")
    assert api.get(f"/services/{WORKER_ID}/env-vars/LOG_LEVEL").status_code == 404
    with pytest.raises(KeyError):
        emu.delete_env_var(WORKER_ID, "LOG_LEVEL")
    with pytest.raises(KeyError):
        emu.env_vars("srv-nope")


def test_request_log_has_no_values_or_keys(emu: Emulator, api: httpx.Client) -> None:
    canary = "canary-value-5f1d2a"
    api.put(f"/services/{API_ID}/env-vars/SECRET", json={"value": canary})
    api.get(f"/services/{API_ID}/env-vars", params={"limit": 5})
    log = emu.requests
    assert log[-2] == ("PUT", f"/v1/services/{API_ID}/env-vars/SECRET", 200)
    assert log[-1] == ("GET", f"/v1/services/{API_ID}/env-vars", 200)
    assert canary not in repr(log)
    assert API_KEY not in repr(log)


def test_tls_with_the_ca_file() -> None:
    with checked_emulator(tls=True) as emu:
        assert emu.base_url.startswith("https://127.0.0.1:")
        assert emu.ca_file is not None
        assert emu.ca_file.read_text().startswith("-----BEGIN CERTIFICATE-----")
        with client(emu) as api:
            assert api.get("/users").status_code == 200
        with httpx.Client(base_url=emu.base_url) as untrusting, pytest.raises(httpx.ConnectError):
            untrusting.get("/users")
        with client(emu) as api:
            assert api.get(f"/services/{API_ID}").json()["id"] == API_ID
        ca_file = emu.ca_file
    assert not ca_file.exists()
