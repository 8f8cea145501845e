"""Where writes go: ids used once across stacks, the stack files read as text, Render's view."""

from __future__ import annotations

import pulumi
import pytest
from model_fixtures import REPO

from envparity.core.desired import DesiredService, DesiredStack
from envparity.core.findings import Severity
from envparity.core.secret import Secret
from envparity.core.stackvalues import ConfigValue
from envparity.core.targets import RenderService, service_ids_in, shared_id_findings
from envparity.emulator import running_emulator
from envparity.stack import program
from envparity.stack.peers import peer_service_ids

API, WORKER = "srv-aaaaaaaaaaaaaaaaaaaa", "srv-bbbbbbbbbbbbbbbbbbbb"
KEY = "rnd_targets_key"


def test_an_id_is_reported_against_every_service_that_shares_it() -> None:
    ids = {"staging": {"api": API, "worker": WORKER}, "production": {"api": WORKER}}
    found = shared_id_findings("staging", ids, location="Pulumi.staging.yaml")
    assert [(f.service, f.message) for f in found] == [
        ("worker", f"points at the same Render service ({WORKER}) as production's api")]
    assert shared_id_findings("staging", {"staging": {"api": API, "worker": WORKER}},
                              location="x") == []


def test_stack_files_are_read_without_decrypting_and_without_aliases() -> None:
    text = f"config:\n  envparity:serviceIds:\n    api: {API}\n    worker:\n      secure: v1:x\n"
    ids, found = service_ids_in(text, location="Pulumi.p.yaml")
    assert ids == {"api": API}
    assert [f.severity for f in found] == [Severity.WARNING]
    assert "worker" in found[0].message
    bomb = "a: &a [x, x]\nb: &b [*a, *a]\nconfig: {envparity:serviceIds: {api: *b}}\n"
    assert service_ids_in(bomb, location="p")[0] == {}
    assert "aliases" in service_ids_in(bomb, location="p")[1][0].message
    assert service_ids_in("config: [", location="p")[0] == {}


def test_the_other_stack_files_of_the_project_are_read() -> None:
    ids, found = peer_service_ids(REPO, ["staging", "production", "absent"], exclude="staging")
    assert set(ids) == {"production"}
    assert set(ids["production"]) == {"api", "worker"}
    assert found == []


def test_read_services_asks_render_what_each_service_is(monkeypatch: pytest.MonkeyPatch) -> None:
    seed = {"apiKeys": [KEY], "services": [
        {"id": API, "name": "api-staging", "type": "web_service", "envVars": {}},
        {"id": WORKER, "name": "worker-staging", "type": "background_worker", "envVars": {}},
    ]}
    desired = DesiredStack(stack="staging", services=(
        DesiredService(name="api", service_id=API, render_type="web_service", env={}),
        DesiredService(name="worker", service_id=WORKER, render_type="background_worker", env={}),
    ))
    config = {"render:apiKey": ConfigValue(value=Secret(KEY), secret=True)}
    with running_emulator(seed, api_keys=[KEY]) as emu:
        monkeypatch.setenv("RENDER_API_URL", emu.base_url)
        seen = program.read_services(desired, config)
        assert seen == {"api": RenderService(id=API, name="api-staging", type="web_service"),
                        "worker": RenderService(id=WORKER, name="worker-staging",
                                                type="background_worker")}
        missing = DesiredStack(stack="staging", services=(
            DesiredService(name="api", service_id="srv-cccccccccccccccccccc",
                           render_type="web_service", env={}),))
        with pytest.raises(pulumi.RunError, match="could not read the declared services"):
            program.read_services(missing, config)
