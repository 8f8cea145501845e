"""Env group lifecycle and secret files on the emulator, every answer checked against the spec."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import httpx
import pytest
from emulator_fixtures import (
    API_ID,
    GROUP_ID,
    OWNER_ID,
    WORKER_ID,
    Recorder,
    app_seed,
    client,
)

from envparity.emulator import Emulator, running_emulator
from envparity.emulator.groups import GROUP_ROUTES

CANARY = "file-content-canary-7d1f"


def _create(api: httpx.Client, **extra: object) -> dict[str, object]:
    body = {"name": "app-shared-production", "ownerId": OWNER_ID, "envVars": [], **extra}
    response = api.post("/env-groups", json=body)
    assert response.status_code == 201, response.text
    group: dict[str, object] = response.json()
    return group


def test_create_with_values_files_and_links(emu: Emulator, api: httpx.Client) -> None:
    group = _create(api, envVars=[{"key": "JWT_SECRET", "value": "s"},
                                  {"key": "TOKEN", "generateValue": True}],
                    secretFiles=[{"name": "ca.pem", "content": CANARY}],
                    serviceIds=[API_ID, WORKER_ID, API_ID])
    gid = str(group["id"])
    assert gid.startswith("evg-")
    assert emu.group_env_vars(gid)["JWT_SECRET"] == "s"
    assert len(emu.group_env_vars(gid)["TOKEN"]) == 44
    assert emu.secret_files(gid) == {"ca.pem": CANARY}
    assert emu.linked_services(gid) == [API_ID, WORKER_ID]
    listed = api.get("/env-groups", params={"name": "app-shared-production"}).json()
    assert [g["id"] for g in listed] == [gid]
    assert "envVars" not in listed[0]
    assert "secretFiles" not in listed[0]
    assert api.get(f"/env-groups/{gid}").json()["secretFiles"] == [
        {"name": "ca.pem", "content": CANARY}]


@pytest.mark.parametrize("body", [
    {"ownerId": OWNER_ID, "envVars": []},
    {"name": "x", "envVars": []},
    {"name": "x", "ownerId": "tea-nope", "envVars": []},
    {"name": "x", "ownerId": OWNER_ID},
    {"name": "x", "ownerId": OWNER_ID, "envVars": [{"key": "1BAD", "value": "v"}]},
    {"name": "x", "ownerId": OWNER_ID, "envVars": [{"key": "A", "value": "1"},
                                                   {"key": "A", "value": "2"}]},
    {"name": "x", "ownerId": OWNER_ID, "envVars": [], "secretFiles": [{"name": "../etc"}]},
    {"name": "x", "ownerId": OWNER_ID, "envVars": [],
     "secretFiles": [{"name": "a", "content": "1"}, {"name": "a", "content": "2"}]},
    {"name": "x", "ownerId": OWNER_ID, "envVars": [], "serviceIds": "srv-x"},
])
def test_bad_create_bodies_change_nothing(emu: Emulator, api: httpx.Client,
                                          body: dict[str, object]) -> None:
    before = emu.snapshot()
    assert api.post("/env-groups", json=body).status_code == 400
    assert emu.snapshot() == before


def test_create_with_an_unknown_service_is_404(emu: Emulator, api: httpx.Client) -> None:
    before = emu.snapshot()
    body = {"name": "x", "ownerId": OWNER_ID, "envVars": [], "serviceIds": ["srv-nope"]}
    assert api.post("/env-groups", json=body).status_code == 404
    assert emu.snapshot() == before


def test_rename_keeps_id_values_and_links(emu: Emulator, api: httpx.Client) -> None:
    renamed = api.patch(f"/env-groups/{GROUP_ID}", json={"name": "renamed"})
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "renamed"
    assert renamed.json()["id"] == GROUP_ID
    assert emu.group_env_vars(GROUP_ID) == {"SENTRY_ENV": "production"}
    assert emu.linked_services(GROUP_ID) == [API_ID]
    # PATCH takes only the name: no way to replace the values in bulk.
    assert api.patch(f"/env-groups/{GROUP_ID}", json={"name": "y", "envVars": []}
                     ).status_code == 400
    assert api.patch(f"/env-groups/{GROUP_ID}", json={"name": ""}).status_code == 400
    assert api.patch("/env-groups/evg-nope", json={"name": "z"}).status_code == 404
    assert api.put(f"/env-groups/{GROUP_ID}", json={"name": "z"}).status_code == 405


def test_delete_removes_values_and_files(emu: Emulator, api: httpx.Client) -> None:
    assert api.delete(f"/env-groups/{GROUP_ID}").status_code == 204
    assert api.get(f"/env-groups/{GROUP_ID}").status_code == 404
    assert api.delete(f"/env-groups/{GROUP_ID}").status_code == 404
    assert GROUP_ID not in emu.snapshot()["envGroups"]


def test_group_secret_files_key_by_key(emu: Emulator, api: httpx.Client) -> None:
    files = f"/env-groups/{GROUP_ID}/secret-files"
    put = api.put(f"{files}/app.json", json={"content": CANARY})
    assert put.status_code == 200
    assert put.json()["secretFiles"] == [{"name": "app.json", "content": CANARY}]
    assert api.put(f"{files}/b.txt", json={"content": "b"}).status_code == 200
    assert api.put(f"{files}/app.json", json={"content": "new"}).status_code == 200
    assert emu.secret_files(GROUP_ID) == {"app.json": "new", "b.txt": "b"}
    assert api.get(f"{files}/app.json").json() == {"name": "app.json", "content": "new"}
    assert api.delete(f"{files}/app.json").status_code == 204
    assert api.delete(f"{files}/app.json").status_code == 404
    assert api.get(f"{files}/app.json").status_code == 404
    assert api.put(f"{files}/b.txt", json={"content": 3}).status_code == 400
    assert api.put(f"{files}/a b", json={"content": "x"}).status_code == 400
    assert emu.secret_files(GROUP_ID) == {"b.txt": "b"}


def test_service_secret_files_replace_all(emu: Emulator, api: httpx.Client) -> None:
    files = f"/services/{API_ID}/secret-files"
    assert api.get(files).json() == []
    upsert = api.put(f"{files}/old.txt", json={"content": "old"})
    assert upsert.status_code == 201
    assert upsert.json() == {"name": "old.txt", "content": "old"}
    replaced = api.put(files, json=[{"name": "a.pem", "content": CANARY},
                                    {"name": "b.pem", "content": "b"}])
    assert replaced.status_code == 200
    assert [i["secretFile"]["name"] for i in replaced.json()] == ["a.pem", "b.pem"]
    assert emu.secret_files(API_ID) == {"a.pem": CANARY, "b.pem": "b"}
    first = api.get(files, params={"limit": 1}).json()
    rest = api.get(files, params={"cursor": first[0]["cursor"]}).json()
    assert [i["secretFile"]["name"] for i in first + rest] == ["a.pem", "b.pem"]
    assert api.get(f"{files}/a.pem").json()["content"] == CANARY
    assert api.delete(f"{files}/a.pem").status_code == 204
    assert api.delete(f"{files}/a.pem").status_code == 404
    assert api.get(f"{files}/a.pem").status_code == 404
    before = emu.snapshot()
    assert api.put(files, json=[{"name": "x", "content": "1"}, {"name": "x"}]).status_code == 400
    assert api.put(files, json={"name": "x"}).status_code == 400
    assert emu.snapshot() == before
    assert api.get("/services/srv-nope/secret-files").status_code == 404


def test_request_log_names_no_file_content(emu: Emulator, api: httpx.Client) -> None:
    api.put(f"/services/{API_ID}/secret-files/c.pem", json={"content": CANARY})
    assert CANARY not in repr(emu.requests)


def test_faulted_group_writes_change_nothing(emu: Emulator, api: httpx.Client) -> None:
    before = emu.snapshot()
    emu.faults.fail_paths = r"/env-groups|/secret-files"
    emu.faults.error_next, emu.faults.drop_next = 1, 0
    assert api.post("/env-groups", json={"name": "x", "ownerId": OWNER_ID,
                                         "envVars": []}).status_code == 503
    emu.faults.rate_limit_after, emu.faults.rate_limit_count = 0, 1
    assert api.put(f"/env-groups/{GROUP_ID}/secret-files/a", json={"content": "1"}
                   ).status_code == 429
    assert api.get(f"/services/{API_ID}/env-vars").status_code == 200  # not a matching path
    assert emu.snapshot() == before


def test_seeded_files_and_old_state_files(tmp_path: Path) -> None:
    seed = {"services": [{"id": API_ID, "name": "api", "secretFiles": {"a.pem": CANARY}}],
            "envGroups": [{"id": GROUP_ID, "name": "g", "secretFiles": {"g.txt": "g"}}]}
    with running_emulator(seed) as emu:
        assert emu.secret_files(API_ID) == {"a.pem": CANARY}
        assert emu.secret_files(GROUP_ID) == {"g.txt": "g"}
        old = emu.snapshot()
    for record in [*old["services"], *old["envGroups"]]:
        del record["secretFiles"]
    state = tmp_path / "state.json"
    state.write_text(json.dumps(old), encoding="utf-8")
    with running_emulator(state_file=state) as emu, client(emu) as api:
        assert api.get(f"/services/{API_ID}/secret-files").json() == []
        assert api.get(f"/env-groups/{GROUP_ID}").json()["secretFiles"] == []


def test_every_group_route_answers_to_spec_on_success_and_failure() -> None:
    recorder = Recorder()
    with running_emulator(app_seed()) as emu, client(emu) as api:
        emu.add_observer(recorder)
        gid = str(_create(api, serviceIds=[API_ID])["id"])
        api.post("/env-groups", json={"name": "x"})
        api.patch(f"/env-groups/{gid}", json={"name": "renamed"})
        api.patch(f"/env-groups/{gid}", json={})
        files = f"/env-groups/{gid}/secret-files"
        api.put(f"{files}/a", json={"content": "1"})
        api.put(f"{files}/a", json=[])
        api.get(f"{files}/a")
        api.get(f"{files}/missing")
        api.delete(f"{files}/a")
        api.delete(f"{files}/a")
        sfiles = f"/services/{API_ID}/secret-files"
        api.put(sfiles, json=[{"name": "a", "content": "1"}])
        api.put(sfiles, json={})
        api.get(sfiles, params={"limit": 1})
        api.get(sfiles, params={"limit": 0})
        api.put(f"{sfiles}/b", json={"content": "2"})
        api.put(f"{sfiles}/b", json={"content": None})
        api.get(f"{sfiles}/b")
        api.get(f"{sfiles}/missing")
        api.delete(f"{sfiles}/b")
        api.delete(f"{sfiles}/b")
        api.delete(f"/env-groups/{gid}")
        api.delete(f"/env-groups/{gid}")
        assert emu.unexpected_errors == []
    assert recorder.problems() == []
    ok: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    for ex in recorder.exchanges:
        segments = ex.path.removeprefix("/v1/").split("/")
        for route in GROUP_ROUTES:
            if route.method == ex.method and route.bind(segments) is not None:
                (ok if ex.status < 400 else failed)[f"{route.method} {route.pattern}"] += 1
    every = {f"{r.method} {r.pattern}" for r in GROUP_ROUTES}
    assert set(ok) == every
    assert set(failed) == every

