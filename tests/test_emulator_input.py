"""The emulator refuses what Render would: bad keys on per-key routes, bad seeds, bad filters."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from emulator_fixtures import (
    API_ID,
    CRON_ID,
    GROUP_ID,
    PREVIEW_ID,
    WORKER_ID,
    app_seed,
    checked_emulator,
    client,
    spec_validator,
)

from envparity.core.errors import SeedError
from envparity.emulator import Emulator
from envparity.emulator.seed import load_seed_file, parse_seed


@pytest.fixture
def api() -> Iterator[httpx.Client]:
    seed = app_seed()
    seed["services"][0].update(createdAt="2026-01-01T00:00:00Z", updatedAt="2026-03-01T00:00:00Z",
                               region="frankfurt")
    seed["services"][1].update(createdAt="2026-02-01T00:00:00Z", updatedAt="2026-02-01T00:00:00Z")
    seed["envGroups"][0].update(createdAt="2026-01-15T00:00:00Z")
    with checked_emulator(seed) as emu, client(emu) as c:
        yield c


@pytest.mark.parametrize("method", ["GET", "DELETE"])
@pytest.mark.parametrize("owner", [f"services/{API_ID}", f"env-groups/{GROUP_ID}"])
def test_reading_or_deleting_a_key_no_variable_can_have_is_not_found(
    api: httpx.Client, method: str, owner: str
) -> None:
    # The spec lists 404 (not 400) for these operations; checked_emulator validates the answer.
    assert api.request(method, f"/{owner}/env-vars/1BAD").status_code == 404


def test_writing_a_key_the_rule_refuses_is_still_a_bad_request(api: httpx.Client) -> None:
    answer = api.put(f"/services/{API_ID}/env-vars/1BAD", json={"value": "v"})
    assert answer.status_code == 400


def _ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["service"]["id"] for item in response.json()]


def test_service_list_applies_region_runtime_and_time_filters(api: httpx.Client) -> None:
    assert _ids(api.get("/services", params={"region": "frankfurt"})) == [API_ID]
    assert _ids(api.get("/services", params={"env": "docker"})) == [CRON_ID]
    assert _ids(api.get("/services", params={"createdBefore": "2026-01-15T00:00:00Z"})) == [
        API_ID]
    assert _ids(api.get("/services", params={"createdAfter": "2026-01-15T00:00:00Z",
                                             "createdBefore": "2026-03-01T00:00:00+00:00"})) == [
        WORKER_ID]
    assert _ids(api.get("/services", params={"updatedAfter": "2026-02-15T00:00:00Z",
                                             "updatedBefore": "2026-06-01T00:00:00"})) == [API_ID]


def test_env_group_and_deploy_lists_apply_time_filters(api: httpx.Client) -> None:
    groups = api.get("/env-groups", params={"createdAfter": "2026-01-16T00:00:00Z"})
    assert groups.json() == []
    assert len(api.get("/env-groups", params={"createdBefore": "2026-01-16T00:00:00Z"}).json()) == 1
    deploys = api.get(f"/services/{WORKER_ID}/deploys",
                      params={"createdAfter": "2026-01-01T12:00:00Z"}).json()
    assert [d["deploy"]["status"] for d in deploys] == ["build_failed"]
    finished = api.get(f"/services/{API_ID}/deploys",
                       params={"finishedBefore": "2026-01-01T10:04:00Z"}).json()
    assert finished == []


@pytest.mark.parametrize(("path", "query"), [
    ("/services", {"region": "mars"}),
    ("/services", {"env": "cobol"}),
    ("/services", {"createdBefore": "yesterday"}),
    ("/env-groups", {"updatedAfter": "2026-13-01T00:00:00Z"}),
    (f"/services/{API_ID}/deploys", {"finishedAfter": "soon"}),
])
def test_malformed_filters_are_refused(api: httpx.Client, path: str, query: dict[str, str]) -> None:
    assert api.get(path, params=query).status_code == 400


def test_cron_job_details_match_exactly_one_branch_of_the_spec() -> None:
    validator = spec_validator()
    branches = [ref["$ref"].rsplit("/", 1)[-1] for ref in validator.raw_spec["components"][
        "schemas"]["service"]["properties"]["serviceDetails"]["oneOf"]]
    with checked_emulator(app_seed()) as emu, client(emu) as api:
        details = api.get(f"/services/{CRON_ID}").json()["serviceDetails"]
    matching = [b for b in branches if not validator._schema_problems(b, details)]
    assert matching == ["cronJobDetails"]


def _seed_with(envvars: Any) -> dict[str, Any]:
    seed = app_seed()
    seed["services"][0]["envVars"] = envvars
    return seed


@pytest.mark.parametrize("key", ["1KEY", "", "HAS SPACE", "K" * 257])
def test_seed_keys_follow_the_per_key_routes_rule(key: str) -> None:
    with pytest.raises(SeedError, match="not a valid env var key"):
        parse_seed(_seed_with({key: "v"}))


def test_every_seeded_key_can_be_read_and_deleted() -> None:
    seed = _seed_with({"A.B-C_1": "v", "_X": "w"})
    with checked_emulator(seed) as emu, client(emu) as api:
        for key in ("A.B-C_1", "_X"):
            assert api.get(f"/services/{API_ID}/env-vars/{key}").status_code == 200
            assert api.delete(f"/services/{API_ID}/env-vars/{key}").status_code == 204


@pytest.mark.parametrize(("name", "text"), [
    ("seed.yaml", "services:\n  - id: srv-a\n    name: a\n    name: b\n"),
    ("seed.yaml", "services:\n  - name: a\n    envVars:\n      K: one\n      K: two\n"),
    ("seed.json", '{"services": [{"name": "a", "envVars": {"K": "one", "K": "two"}}]}'),
])
def test_seed_files_with_a_key_given_twice_are_refused(tmp_path: Path, name: str,
                                                       text: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(SeedError, match="duplicate key"):
        load_seed_file(path)


def test_yaml_seed_aliases_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "seed.yaml"
    path.write_text("services:\n  - &svc {name: a}\n  - *svc\n")
    with pytest.raises(SeedError, match="aliases"):
        load_seed_file(path)


def test_seed_errors_never_echo_a_value(tmp_path: Path) -> None:
    path = tmp_path / "seed.yaml"
    path.write_text("services:\n  - name: a\n    envVars:\n"
                    "      K: !!binary c2VjcmV0LWNhbmFyeQ==\n")
    with pytest.raises(SeedError) as caught:
        load_seed_file(path)
    assert "c2VjcmV0" not in caught.value.render()
    assert "line 4" in caught.value.render()


def test_emulator_accepts_a_plain_yaml_seed(tmp_path: Path) -> None:
    path = tmp_path / "seed.yaml"
    path.write_text(f"services:\n  - id: {PREVIEW_ID}\n    name: a\n    envVars: {{K: v}}\n")
    emulator = Emulator(load_seed_file(path))
    assert list(emulator.store.services) == [PREVIEW_ID]
