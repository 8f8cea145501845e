"""Seeds, the persisted state file (survives restarts, written atomically) and seed errors."""

from __future__ import annotations

import json
import stat
import threading
from pathlib import Path
from typing import Any

import pytest
from emulator_fixtures import API_ID, WORKER_ID, app_seed, checked_emulator, client

from envparity.core.errors import SeedError
from envparity.emulator import Emulator
from envparity.emulator.seed import load_seed_file


def test_state_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    with checked_emulator(state_file=state) as emu, client(emu) as api:
        api.put(f"/services/{API_ID}/env-vars", json=[{"key": "KEPT", "value": "1"}])
        deploy = api.post(f"/services/{WORKER_ID}/deploys", json={}).json()["id"]
        first_port = emu.host_port
    # No seed the second time: everything comes from the state file.
    with checked_emulator({}, state_file=state) as emu, client(emu) as api:
        assert emu.env_vars(API_ID) == {"KEPT": "1"}
        assert api.get(f"/services/{WORKER_ID}/deploys/{deploy}").json()["status"] == "live"
        assert api.get("/users").status_code == 200  # the seed's API key was persisted too
    assert first_port  # both runs really served


def test_saved_state_wins_over_the_seed(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    with checked_emulator(state_file=state) as emu:
        emu.set_env_var(API_ID, "LOG_LEVEL", "debug")
    with checked_emulator(app_seed(), state_file=state) as emu:
        assert emu.env_vars(API_ID)["LOG_LEVEL"] == "debug"


def test_state_file_is_private_and_matches_the_api(tmp_path: Path) -> None:
    state = tmp_path / "nested" / "state.json"
    with checked_emulator(state_file=state) as emu, client(emu) as api:
        api.put(f"/services/{API_ID}/env-vars/NEW", json={"value": "x"})
        saved = json.loads(state.read_text())
        assert saved == emu.snapshot()
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
    assert [p.name for p in state.parent.iterdir()] == ["state.json"]  # no temp files left


def test_writes_are_atomic_under_concurrency(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    errors: list[str] = []
    reads = 0
    done = threading.Event()

    def reader() -> None:
        nonlocal reads
        while not done.is_set():
            try:
                json.loads(state.read_text())
                reads += 1
            except ValueError as exc:
                errors.append(str(exc))

    def writer(emu: Emulator, n: int) -> None:
        with client(emu) as api:
            for i in range(25):
                body = [{"key": f"W{n}_{j}", "value": "x" * 2000} for j in range(i % 7 + 1)]
                assert api.put(f"/services/{API_ID}/env-vars", json=body).status_code == 200

    with checked_emulator(state_file=state) as emu:
        watcher = threading.Thread(target=reader)
        watcher.start()
        writers = [threading.Thread(target=writer, args=(emu, n)) for n in range(4)]
        for w in writers:
            w.start()
        for w in writers:
            w.join()
        done.set()
        watcher.join()
        final = emu.snapshot()
    assert errors == []
    assert reads > 0
    assert json.loads(state.read_text()) == final
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]


def test_broken_state_file_is_refused_not_overwritten(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text('{"services": [')
    with pytest.raises(SeedError) as caught:
        Emulator(app_seed(), state_file=state)
    assert "not valid JSON" in str(caught.value)
    assert caught.value.hint
    assert state.read_text() == '{"services": ['
    state.write_text(json.dumps(app_seed()))
    with pytest.raises(SeedError, match="not an emulator state file"):
        Emulator(None, state_file=state)


@pytest.mark.parametrize(("seed", "where"), [
    ({"services": [{"name": "api", "typo": 1}]}, "services[0]"),
    ({"services": [{"name": "api", "type": "lambda"}]}, "services[0].type"),
    ({"services": [{"id": "srv-a", "name": "a"}, {"id": "srv-a", "name": "b"}]}, "services"),
    ({"services": [{"name": "api", "envVars": {"K": 5}}]}, "services[0].envVars.K"),
    ({"services": [{"name": "api", "envVars": [{"key": "K", "value": "s3cr3t-canary"},
                                               {"key": "K", "value": "s3cr3t-canary"}]}]},
     "services[0].envVars"),
    ({"envGroups": [{"name": "g", "serviceIds": ["srv-missing"]}]}, "envGroups[0].serviceIds"),
    ({"services": [{"name": "w", "deploys": [{"status": "exploded"}]}]},
     "services[0].deploys[0].status"),
    ({"servics": []}, "seed"),
    ({"owners": "acme"}, "seed.owners"),
])
def test_seed_errors_name_the_place(seed: dict[str, Any], where: str) -> None:
    with pytest.raises(SeedError) as caught:
        Emulator(seed)
    assert f"seed {where}" in str(caught.value)
    assert "s3cr3t-canary" not in str(caught.value) + caught.value.hint


def test_seed_files_json_and_yaml(tmp_path: Path) -> None:
    (tmp_path / "seed.json").write_text(json.dumps(app_seed()))
    (tmp_path / "seed.yaml").write_text("services:\n  - name: api\n    envVars: {A: '1'}\n")
    assert load_seed_file(tmp_path / "seed.json") == app_seed()
    assert load_seed_file(tmp_path / "seed.yaml")["services"][0]["envVars"] == {"A": "1"}
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(SeedError, match="not valid JSON"):
        load_seed_file(tmp_path / "bad.json")
    (tmp_path / "list.json").write_text("[]")
    with pytest.raises(SeedError, match="must hold an object"):
        load_seed_file(tmp_path / "list.json")
    with pytest.raises(SeedError, match="cannot read seed"):
        load_seed_file(tmp_path / "missing.json")


def test_defaults_fill_a_minimal_seed() -> None:
    with checked_emulator({"services": [{"name": "solo"}]}, api_keys=["rnd_other"]) as emu, \
            client(emu, key="rnd_other") as api:
        services = api.get("/services").json()
        assert len(services) == 1
        service = services[0]["service"]
        assert service["id"].startswith("srv-")
        assert len(service["id"]) == 24
        assert service["type"] == "web_service"
        owners = api.get("/owners").json()
        assert service["ownerId"] == owners[0]["owner"]["id"]
        assert api.get(f"/services/{service['id']}/deploys").json() == []
