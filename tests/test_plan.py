"""Desired state and the plan views: key sets, defaults, derived values, fingerprints only."""

from __future__ import annotations

import json

import pytest
from model_fixtures import EXAMPLE_VALUES, REPO, example_config

from envparity.core.desired import DesiredStack
from envparity.core.plan import desired_state, plan_json, plan_text
from envparity.core.secret import Secret, fingerprint, reveal
from envparity.stack.catalog import load_catalog

CATALOG = load_catalog(REPO)
KEY = b"plan-test-key"


def desired(stack: str, **changes: object) -> DesiredStack:
    state, findings = desired_state(CATALOG, stack, example_config(stack, **changes),
                                    location=f"Pulumi.{stack}.yaml")
    assert findings == []
    assert state is not None
    return state


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_every_service_gets_exactly_its_catalog_keys(stack: str) -> None:
    state = desired(stack)
    ids = EXAMPLE_VALUES[stack]["envparity:serviceIds"]
    assert isinstance(ids, dict)
    assert [s.name for s in state.services] == ["api", "worker"]
    for svc in state.services:
        assert set(svc.env) == set(CATALOG.keys_for(svc.name))
        assert svc.service_id == ids[svc.name]
        assert svc.render_type == CATALOG.services[svc.name].render_type
        assert svc.preserve == frozenset(CATALOG.services[svc.name].preserve)
        assert svc.env["ENVIRONMENT"] == stack
        for key, value in svc.env.items():
            assert isinstance(value, Secret) == CATALOG.is_secret(key)


def test_defaults_fill_gaps_and_stack_values_win() -> None:
    state = desired("staging", LOG_LEVEL=None, KEEP_ALIVE="30")
    api = state.service("api")
    assert api.env["LOG_LEVEL"] == CATALOG.key("LOG_LEVEL").default
    assert api.env["KEEP_ALIVE"] == "30"


def test_per_service_values_reach_only_their_service() -> None:
    state = desired("staging", LOG_LEVEL={"api": "WARNING", "worker": "DEBUG"})
    assert state.service("api").env["LOG_LEVEL"] == "WARNING"
    assert state.service("worker").env["LOG_LEVEL"] == "DEBUG"


def test_errors_give_no_desired_state() -> None:
    state, findings = desired_state(CATALOG, "staging",
                                    example_config("staging", UVICORN_WORKERS="two"),
                                    location="Pulumi.staging.yaml")
    assert state is None
    assert [f.rule for f in findings] == ["bad-type"]


def test_plan_json_shows_plain_values_and_fingerprints_for_secrets() -> None:
    state = desired("production")
    shown = plan_json(state, key=KEY)
    assert json.loads(json.dumps(shown)) == shown
    services = {s["service"]: s for s in shown["services"]}  # type: ignore[attr-defined]
    worker = services["worker"]
    assert worker["id"] == "srv-d2h5mr8dl3ps73fvvlog"
    assert worker["env"]["WORKER_MAX_RETRIES"] == {"secret": False, "value": "5"}
    secret = state.service("worker").env["DATABASE_URL"]
    assert worker["env"]["DATABASE_URL"] == {"secret": True,
                                             "fingerprint": fingerprint(secret, key=KEY)}
    assert worker["preserve"] == ["PYTHON_VERSION"]


def test_plan_views_never_contain_a_secret_value() -> None:
    state = desired("staging")
    secrets = [reveal(v) for s in state.services for v in s.env.values() if isinstance(v, Secret)]
    assert len(secrets) > 10
    text = plan_text(state, key=KEY)
    blob = json.dumps(plan_json(state, key=KEY))
    for value in secrets:
        assert value not in text
        assert value not in blob
    assert "fp:" in text
    assert "https://api.staging.example.com" in text
