"""Conformance: a broad scripted session, every answer validated against Render's OpenAPI spec.

The validator is openapi-core on Render's published document (see `emulator_fixtures`); these
tests also prove it is not vacuous: it rejects answers that break the spec.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest
from emulator_fixtures import (
    API_ID,
    CRON_ID,
    GROUP_ID,
    OWNER_ID,
    POSTGRES_ID,
    PREVIEW_ID,
    WORKER_ID,
    Recorder,
    client,
    seed_with_env,
    spec_validator,
)

from envparity.emulator import Exchange, running_emulator
from envparity.emulator.handlers import ROUTES


def _route_of(ex: Exchange) -> str | None:
    segments = ex.path.removeprefix("/v1/").split("/")
    for route in ROUTES:
        if route.method == ex.method and route.bind(segments) is not None:
            return f"{route.method} /{'/'.join(route.pattern)}"
    return None


def _session(recorder: Recorder) -> None:
    """Every operation, with good and bad input, as the client and the provider would call."""
    with running_emulator(seed_with_env(45)) as emu, client(emu) as api:
        emu.add_observer(recorder)
        for params in ({}, {"limit": 2}, {"name": "api,worker", "type": "web_service"},
                       {"includePreviews": "false", "suspended": "not_suspended"},
                       {"ownerId": OWNER_ID}, {"type": "nope"}, {"limit": "500"}):
            api.get("/services", params=params)
        for sid in (API_ID, WORKER_ID, PREVIEW_ID, CRON_ID, "srv-missing"):
            api.get(f"/services/{sid}")
        env = f"/services/{API_ID}/env-vars"
        page = api.get(env, params={"limit": 20}).json()
        api.get(env, params={"limit": 20, "cursor": page[-1]["cursor"]})
        api.get(env, params={"cursor": "???"})
        api.get(f"/services/{WORKER_ID}/env-vars")
        api.put(env, json=[{"key": "A", "value": "1"}, {"key": "G", "generateValue": True}])
        api.put(env, json={"key": "A"})
        api.put(env, content=b"not json")
        api.get(f"{env}/A")
        api.get(f"{env}/MISSING")
        api.put(f"{env}/B", json={"value": "2"})
        api.put(f"{env}/B", json={"generateValue": True})
        api.put(f"{env}/B", json={"value": None})
        api.delete(f"{env}/B")
        api.delete(f"{env}/B")
        api.get("/env-groups")
        api.get("/env-groups", params={"ownerId": OWNER_ID, "limit": 1})
        api.get("/env-groups", params={"cursor": "evg-missing"})
        api.get(f"/env-groups/{GROUP_ID}")
        api.get("/env-groups/evg-missing")
        api.post(f"/env-groups/{GROUP_ID}/services/{WORKER_ID}")
        api.post(f"/env-groups/{GROUP_ID}/services/srv-missing")
        api.delete(f"/env-groups/{GROUP_ID}/services/{WORKER_ID}")
        api.delete(f"/env-groups/{GROUP_ID}/services/{WORKER_ID}")
        group_env = f"/env-groups/{GROUP_ID}/env-vars"
        api.put(f"{group_env}/NEW", json={"value": "x"})
        api.put(f"{group_env}/NEW", json=["x"])
        api.get(f"{group_env}/NEW")
        api.delete(f"{group_env}/NEW")
        api.delete(f"{group_env}/NEW")
        api.get(f"{group_env}/NEW")
        deploy = api.post(f"/services/{API_ID}/deploys", json={"clearCache": "clear"}).json()
        api.post(f"/services/{API_ID}/deploys", json={"clearCache": "maybe"})
        api.get(f"/services/{API_ID}/deploys", params={"status": "live,build_failed"})
        api.get(f"/services/{WORKER_ID}/deploys", params={"limit": 1})
        api.get(f"/services/{WORKER_ID}/deploys", params={"status": "exploded"})
        api.get(f"/services/{API_ID}/deploys/{deploy['id']}")
        api.get(f"/services/{API_ID}/deploys/dep-missing")
        emu.faults.queue_deploys = True
        api.post(f"/services/{WORKER_ID}/deploys", json={})
        emu.faults.queue_deploys = False
        api.post(f"/services/{API_ID}/restart")
        api.post(f"/services/{CRON_ID}/restart")
        api.get(f"/postgres/{POSTGRES_ID}/connection-info")
        api.get("/postgres/dpg-missing/connection-info")
        api.get("/owners")
        api.get("/owners", params={"email": "ops@example.com"})
        api.get("/owners", params={"limit": 0})
        api.get(f"/owners/{OWNER_ID}")
        api.get("/owners/tea-missing")
        api.get("/users")
        api.get("/users", headers={"Authorization": "Bearer rnd_wrong"})
        api.get("/users", headers={"Accept": "text/plain"})
        api.delete("/users")
        api.get("/no/such/route")
        emu.faults.error_next, emu.faults.error_status = 1, 500
        api.get("/services")
        emu.faults.error_next, emu.faults.error_status = 1, 503
        api.get(f"/services/{API_ID}/env-vars")
        emu.faults.rate_limit_after, emu.faults.rate_limit_count = 0, 1
        api.put(env, json=[])
        assert emu.unexpected_errors == []


@pytest.fixture(scope="module")
def session() -> Recorder:
    recorder = Recorder()
    _session(recorder)
    return recorder


def test_every_answer_of_the_session_conforms(session: Recorder) -> None:
    assert len(session.exchanges) > 50
    assert session.problems() == []


def test_the_session_covers_every_route_with_success_and_failure(session: Recorder) -> None:
    ok: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    for ex in session.exchanges:
        route = _route_of(ex)
        if route is not None:
            (ok if ex.status < 400 else failed)[route] += 1
    every = {f"{r.method} /{'/'.join(r.pattern)}" for r in ROUTES}
    assert set(ok) == every
    assert set(failed) == every
    statuses = {ex.status for ex in session.exchanges}
    assert {200, 201, 202, 204, 400, 401, 404, 405, 406, 429, 500, 503} <= statuses


def test_the_validator_rejects_answers_that_break_the_spec() -> None:
    validator = spec_validator()
    headers = {"Render-Request-Id": "r", "Content-Type": "application/json"}

    def problems(method: str, path: str, status: int, body: object) -> list[str]:
        data = b"" if body is None else json.dumps(body).encode()
        return validator.problems(Exchange(method, path, "", b"", status, headers, data))

    env = f"/v1/services/{API_ID}/env-vars"
    assert problems("GET", env, 200, [{"envVar": {"key": "A", "value": "1"}, "cursor": "c"}]) == []
    assert problems("GET", env, 200, [{"envVar": {"key": "A"}, "cursor": "c"}])
    assert problems("GET", env, 200, [{"key": "A", "value": "1"}])
    assert problems("GET", "/v1/env-groups", 200, [{"id": GROUP_ID, "name": "g"}])
    assert problems("POST", f"/v1/services/{API_ID}/deploys", 201, {"status": "live"})
    assert problems("GET", f"/v1/services/{API_ID}", 404, {"message": 404})
    assert problems("GET", f"/v1/services/{API_ID}", 404, {})
    assert problems("GET", "/v1/not-in-the-spec", 200, {})
    no_id = Exchange("GET", "/v1/users", "", b"", 200, {}, b'{"name":"n","email":"e"}')
    assert validator.problems(no_id) == ["GET /v1/users -> 200: no Render-Request-Id header"]


def test_service_details_are_checked_against_the_branch_for_their_type() -> None:
    """The spec's serviceDetails `oneOf` is ambiguous; each type's own branch is enforced."""
    validator = spec_validator()
    with running_emulator(seed_with_env(0)) as emu, client(emu) as api:
        recorder = Recorder()
        emu.add_observer(recorder)
        api.get(f"/services/{API_ID}")
    (good,) = recorder.exchanges
    assert validator.problems(good) == []
    broken = json.loads(good.response_body)
    del broken["serviceDetails"]["healthCheckPath"]  # still a valid worker or private service
    bad = Exchange(good.method, good.path, "", b"", 200, good.response_headers,
                   json.dumps(broken).encode())
    assert any("healthCheckPath" in p for p in validator.problems(bad))
