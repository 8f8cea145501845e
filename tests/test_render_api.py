"""The Render client's contract, request by request, through httpx.MockTransport."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import httpx
import pytest
from client_fixtures import (
    BASE,
    CANARY_KEY,
    CANARY_VALUE,
    FakeClock,
    Script,
    env_server,
    make_client,
    reply,
)

from envparity.core.errors import EnvparityError, RenderApiError, RenderAuthError, RenderNotFound
from envparity.core.secret import Secret
from envparity.render.client import DEFAULT_BASE_URL, Deploy, EnvVar, RenderClient


def numbered_env(count: int) -> list[tuple[str, str]]:
    return [(f"KEY_{i:03d}", f"value-{i}") for i in range(count)]


@pytest.mark.parametrize(
    ("count", "requests"), [(0, 1), (1, 1), (20, 1), (99, 1), (100, 2), (101, 2), (250, 3)]
)
def test_list_env_vars_pages_until_short_or_empty_page(count: int, requests: int) -> None:
    env = numbered_env(count)
    script = Script(env_server(env))
    with make_client(script) as client:
        got = client.list_env_vars("srv-abc")
    assert [(v.key, v.value.reveal()) for v in got] == env
    assert all(isinstance(v.value, Secret) for v in got)
    assert len(script.requests) == requests
    assert [r.url.params["limit"] for r in script.requests] == ["100"] * requests
    # Each next page starts at the cursor of the previous page's last item.
    cursors = [r.url.params.get("cursor") for r in script.requests]
    assert cursors == [None] + [f"c-{100 * i - 1}" for i in range(1, requests)]
    assert all(r.url.path == "/v1/services/srv-abc/env-vars" for r in script.requests)


def test_smaller_page_limit_takes_more_requests() -> None:
    script = Script(env_server(numbered_env(45)))
    with make_client(script, page_limit=20) as client:
        assert len(client.list_env_vars("srv-abc")) == 45
    assert [r.url.params["limit"] for r in script.requests] == ["20", "20", "20"]


def test_full_page_then_empty_page_stops() -> None:
    full = [{"envVar": {"key": f"K{i}", "value": "v"}, "cursor": f"c{i}"} for i in range(100)]
    script = Script(reply(200, full), reply(200, []))
    with make_client(script) as client:
        assert len(client.list_env_vars("srv-abc")) == 100
    assert len(script.requests) == 2
    assert script.requests[1].url.params["cursor"] == "c99"


def test_cursor_repeating_is_an_error_not_a_silent_partial_read() -> None:
    full = [{"envVar": {"key": f"K{i}", "value": "v"}, "cursor": "same"} for i in range(100)]
    with make_client(Script(reply(200, full))) as client, pytest.raises(RenderApiError) as err:
        client.list_env_vars("srv-abc")
    assert "cursor came back twice" in str(err.value)


@pytest.mark.parametrize("last", [{}, {"cursor": ""}, {"cursor": None}])
def test_full_page_without_a_cursor_is_an_error_not_the_end(last: dict[str, object]) -> None:
    full: list[dict[str, object]] = [
        {"envVar": {"key": f"K{i}", "value": "v"}, "cursor": f"c{i}"} for i in range(99)]
    full.append({"envVar": {"key": "K99", "value": "v"}, **last})
    script = Script(reply(200, full), reply(200, [{"envVar": {"key": "K100", "value": "v"}}]))
    with make_client(script) as client, pytest.raises(RenderApiError) as err:
        client.list_env_vars("srv-abc")
    assert "full page came without a cursor" in str(err.value)
    assert len(script.requests) == 1


def test_list_services_filters_and_exact_names() -> None:
    services = [
        {"cursor": "a", "service": {"id": "srv-1", "name": "api", "type": "web_service",
                                    "suspended": "not_suspended"}},
        {"cursor": "b", "service": {"id": "srv-2", "name": "api-old", "type": "web_service",
                                    "suspended": "suspended"}},
    ]
    script = Script(reply(200, services))
    with make_client(script) as client:
        found = client.list_services(
            names=["api", "worker"], types=["web_service", "background_worker"],
            owner_ids=["tea-1"],
        )
    assert [(s.id, s.name, s.suspended) for s in found] == [("srv-1", "api", "not_suspended")]
    params = script.requests[0].url.params
    assert params["includePreviews"] == "false"
    assert params["name"] == "api,worker"
    assert params["type"] == "web_service,background_worker"
    assert params["ownerId"] == "tea-1"


def test_get_service_and_not_found() -> None:
    script = Script(
        reply(200, {"id": "srv-1", "name": "api", "type": "web_service",
                    "suspended": "not_suspended", "slug": "api"}),
        reply(404, {"message": "not found: srv-nope"}, headers={"Render-Request-Id": "rq-404"}),
    )
    with make_client(script) as client:
        service = client.get_service("srv-1")
        assert service.raw["slug"] == "api"
        with pytest.raises(RenderNotFound) as err:
            client.get_service("srv-nope")
    text = str(err.value)
    assert "GET /services/srv-nope" in text
    assert "HTTP 404" in text
    assert "not found: srv-nope" in text
    assert "rq-404" in text
    assert err.value.status == 404
    assert err.value.request_id == "rq-404"
    assert err.value.hint
    assert len(script.requests) == 2  # a 404 is final, never retried


@pytest.mark.parametrize("status", [401, 403])
def test_auth_failure_is_immediate(status: int) -> None:
    clock = FakeClock()
    script = Script(reply(status, {"message": "unauthorized"}))
    with make_client(script, clock) as client, pytest.raises(RenderAuthError) as err:
        client.list_env_vars("srv-1")
    assert err.value.status == status
    assert "RENDER_API_KEY" in err.value.hint
    assert len(script.requests) == 1
    assert clock.sleeps == []


def test_other_client_errors_are_final_and_plain() -> None:
    script = Script(reply(409, {"id": "conflict", "message": "deploy in progress"}))
    with make_client(script) as client, pytest.raises(RenderApiError) as err:
        client.restart_service("srv-1")
    assert type(err.value) is RenderApiError
    assert "POST /services/srv-1/restart" in str(err.value)
    assert "deploy in progress" in str(err.value)
    assert len(script.requests) == 1


def test_bearer_key_and_json_headers_are_sent() -> None:
    script = Script(env_server([]))
    with make_client(script) as client:
        client.list_env_vars("srv-1")
    request = script.requests[0]
    assert request.headers["Authorization"] == f"Bearer {CANARY_KEY}"
    assert request.headers["Accept"] == "application/json"


def test_replace_env_vars_sends_the_whole_list_revealed() -> None:
    def echo(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        return reply(200, [{"envVar": item, "cursor": item["key"]} for item in body])

    script = Script(echo)
    with make_client(script) as client:
        got = client.replace_env_vars("srv-1", [("A", "plain"), ("B", Secret("hidden"))])
    request = script.requests[0]
    assert request.method == "PUT"
    assert request.url.path == "/v1/services/srv-1/env-vars"
    assert json.loads(request.content) == [
        {"key": "A", "value": "plain"}, {"key": "B", "value": "hidden"}
    ]
    assert got == [EnvVar("A", Secret("plain")), EnvVar("B", Secret("hidden"))]


def test_replace_refuses_duplicate_keys_before_sending() -> None:
    script = Script(reply(200, []))
    with make_client(script) as client, pytest.raises(EnvparityError, match="DUP"):
        client.replace_env_vars("srv-1", [("DUP", "a"), ("OK", "b"), ("DUP", "c")])
    assert script.requests == []


def test_single_env_var_operations_and_key_quoting() -> None:
    script = Script(
        reply(200, {"key": "A B", "value": "v1"}),
        reply(200, {"key": "LOG_LEVEL", "value": "debug"}),
        reply(204),
    )
    with make_client(script) as client:
        assert client.get_env_var("srv-1", "A B") == EnvVar("A B", Secret("v1"))
        assert client.put_env_var("srv-1", "LOG_LEVEL", "debug").value == Secret("debug")
        client.delete_env_var("srv-1", "LOG_LEVEL")
    get, put, delete = script.requests
    assert get.url.raw_path == b"/v1/services/srv-1/env-vars/A%20B"
    assert (put.method, json.loads(put.content)) == ("PUT", {"value": "debug"})
    assert (delete.method, delete.url.path) == ("DELETE", "/v1/services/srv-1/env-vars/LOG_LEVEL")


def test_env_groups_list_has_no_cursor_wrapper_and_pages_by_id() -> None:
    def group(i: int) -> dict[str, object]:
        return {"id": f"evg-{i}", "name": f"g{i}", "ownerId": "tea-1",
                "serviceLinks": [{"id": "srv-1", "name": "api", "type": "web"}]}

    script = Script(reply(200, [group(i) for i in range(100)]),
                    reply(200, [group(99), *[group(i) for i in range(100, 130)]]))
    with make_client(script) as client:
        groups = client.list_env_groups(names=["g1"])
    assert [g.id for g in groups] == [f"evg-{i}" for i in range(130)]
    assert groups[0].service_ids == ("srv-1",)
    assert groups[0].env_vars == ()
    assert script.requests[1].url.params["cursor"] == "evg-99"
    assert script.requests[0].url.params["name"] == "g1"


def test_env_group_get_link_unlink() -> None:
    full = {"id": "evg-1", "name": "shared", "ownerId": "tea-1", "serviceLinks": [],
            "envVars": [{"key": "S", "value": CANARY_VALUE}], "secretFiles": []}
    linked = {**full, "serviceLinks": [{"id": "srv-9", "name": "w", "type": "worker"}]}
    script = Script(reply(200, full), reply(200, linked), reply(204))
    with make_client(script) as client:
        group = client.get_env_group("evg-1")
        assert group.env_vars == (EnvVar("S", Secret(CANARY_VALUE)),)
        assert client.link_env_group("evg-1", "srv-9").service_ids == ("srv-9",)
        client.unlink_env_group("evg-1", "srv-9")
    assert [(r.method, r.url.path) for r in script.requests[1:]] == [
        ("POST", "/v1/env-groups/evg-1/services/srv-9"),
        ("DELETE", "/v1/env-groups/evg-1/services/srv-9"),
    ]
    leaked = CANARY_VALUE in repr(group)
    assert not leaked, "canary leaked into the env group's repr"


def test_trigger_deploy_202_empty_body_is_none() -> None:
    created = {"id": "dep-1", "status": "created", "trigger": "api",
               "createdAt": "2026-01-01T00:00:00Z"}
    script = Script(reply(202, raw=b""), reply(201, created))
    with make_client(script) as client:
        assert client.trigger_deploy("srv-1") is None
        deploy = client.trigger_deploy("srv-1", clear_cache=True)
    assert deploy == Deploy("dep-1", "created", "2026-01-01T00:00:00Z", None, "api")
    assert [json.loads(r.content) for r in script.requests] == [{}, {"clearCache": "clear"}]
    assert script.requests[0].url.path == "/v1/services/srv-1/deploys"


def test_list_deploys_stops_at_limit() -> None:
    items = [{"deploy": {"id": f"dep-{i}", "status": "live"}, "cursor": f"c{i}"} for i in range(5)]
    script = Script(reply(200, items))
    with make_client(script) as client:
        deploys = client.list_deploys("srv-1", limit=3)
    assert [d.id for d in deploys] == ["dep-0", "dep-1", "dep-2"]
    assert script.requests[0].url.params["limit"] == "3"


def test_postgres_connection_info_is_all_secret() -> None:
    info = {"password": CANARY_VALUE, "internalConnectionString": "postgresql://u:p@dpg-1-a/db",
            "externalConnectionString": "x", "psqlCommand": "psql"}
    script = Script(reply(200, info))
    with make_client(script) as client:
        got = client.postgres_connection_info("dpg-1")
    assert got["password"].reveal() == CANARY_VALUE
    assert set(got) == set(info)
    leaked = CANARY_VALUE in repr(got)
    assert not leaked, "canary leaked into the connection info's repr"


def test_wrong_shape_and_non_json_bodies_are_errors_naming_the_call() -> None:
    script = Script(reply(200, {"not": "a list"}), reply(200, raw=b"<html>"))
    with make_client(script) as client:
        with pytest.raises(RenderApiError, match="GET /services/srv-1/env-vars"):
            client.list_env_vars("srv-1")
        with pytest.raises(RenderApiError, match="not JSON"):
            client.get_service("srv-1")


def test_render_message_is_capped() -> None:
    script = Script(reply(400, {"message": "x" * 5000}))
    with make_client(script) as client, pytest.raises(RenderApiError) as err:
        client.get_service("srv-1")
    assert len(err.value.render_message) <= 200
    assert len(str(err.value)) < 400


def test_client_is_safe_to_share_between_threads() -> None:
    envs = {f"srv-{n}": numbered_env(n * 37) for n in range(1, 9)}

    def handle(request: httpx.Request) -> httpx.Response:
        return env_server(envs[request.url.path.split("/")[3]])(request)

    results: dict[str, list[str]] = {}
    with make_client(Script(handle)) as client:
        def read(sid: str) -> None:
            results[sid] = [v.key for v in client.list_env_vars(sid)]

        threads = [threading.Thread(target=read, args=(sid,)) for sid in envs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert results == {sid: [k for k, _ in env] for sid, env in envs.items()}


def test_from_env_reads_url_key_and_ca_file(tmp_path: Path) -> None:
    with pytest.raises(EnvparityError) as err:
        RenderClient.from_env({})
    assert "RENDER_API_KEY" in str(err.value)
    assert err.value.hint

    with RenderClient.from_env({"RENDER_API_KEY": CANARY_KEY}) as client:
        assert client.base_url == DEFAULT_BASE_URL
        leaked = CANARY_KEY in repr(client)
        assert not leaked, "API key leaked into the client's repr"

    with pytest.raises(EnvparityError, match="RENDER_API_URL"):
        RenderClient.from_env({"RENDER_API_KEY": "k", "RENDER_API_URL": "api.render.com"})

    missing = tmp_path / "missing-ca.pem"
    with pytest.raises(EnvparityError, match="CA file") as err:
        RenderClient.from_env({"RENDER_API_KEY": "k", "SSL_CERT_FILE": str(missing)})
    assert "SSL_CERT_FILE" in err.value.hint

    script = Script(env_server([("A", "1")]))
    environ = {"RENDER_API_KEY": CANARY_KEY, "RENDER_API_URL": "http://127.0.0.1:9/v1/"}
    with RenderClient.from_env(environ, transport=httpx.MockTransport(script)) as client:
        assert [v.key for v in client.list_env_vars("srv-1")] == ["A"]
    assert str(script.requests[0].url).startswith("http://127.0.0.1:9/v1/services/srv-1/env-vars")


def test_base_url_without_trailing_slash_keeps_v1() -> None:
    script = Script(env_server([]))
    with make_client(script) as client:
        client.list_env_vars("srv-1")
    assert str(script.requests[0].url).startswith(f"{BASE}/services/")
