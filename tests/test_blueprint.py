"""`render.yaml` Blueprints read as catalog shape: every feature, and every bad input named."""

from __future__ import annotations

from pathlib import Path

import pytest

from envparity.core.blueprint import parse_blueprint
from envparity.core.importplan import merge_catalog

FIXTURE = Path(__file__).parent / "fixtures" / "blueprint" / "render.yaml"
STACKS = ("staging", "production")


def parsed(text: str | None = None):  # type: ignore[no-untyped-def]
    return parse_blueprint(FIXTURE.read_text() if text is None else text,
                           file="render.yaml", stacks=STACKS)


def test_the_fixture_imports_every_feature_as_documented() -> None:
    result = parsed()
    assert result.errors == ()
    assert result.draft.services == {
        "myapp-api": "web_service", "myapp-worker": "background_worker",
        "myapp-search": "private_service", "myapp-nightly": "cron_job"}
    keys = result.draft.keys
    # Literal values are kept as Render keeps them: strings.
    assert (keys["UVICORN_WORKERS"].type, keys["UVICORN_WORKERS"].default) == ("int", "4")
    assert (keys["REQUEST_TIMEOUT"].type, keys["REQUEST_TIMEOUT"].default) == ("float", "2.5")
    assert (keys["DEBUG_SQL"].type, keys["DEBUG_SQL"].default) == ("bool", "false")
    assert keys["FEATURE_FLAGS_URL"].type == "url"
    # sync: false and generateValue are secrets with no value in the catalog.
    for name in ("STRIPE_SECRET_KEY", "SESSION_SIGNING_KEY", "SENTRY_DSN"):
        assert keys[name].secret
        assert keys[name].default is None
    # fromDatabase: the connection string is a postgres_url, other properties typed.
    assert (keys["DATABASE_URL"].type, keys["DATABASE_URL"].secret) == ("postgres_url", True)
    assert keys["DATABASE_PORT"].type == "int"
    # fromService: property typed; envVarKey takes the referenced key's secrecy.
    assert (keys["API_INTERNAL_HOST"].type, keys["API_INTERNAL_HOST"].secret) == ("string", False)
    assert keys["CACHE_URL"].secret
    assert keys["SESSION_SIGNING_KEY"].services == ("myapp-api", "myapp-worker")
    # fromGroup: the group's keys go to every service that links it.
    assert keys["FEATURE_FLAGS_URL"].services == ("myapp-api", "myapp-nightly")


def test_per_stack_service_names_map_onto_one_catalog_service() -> None:
    result = parsed()
    assert result.names["myapp-staging-api"] == result.names["myapp-api"] == "myapp-api"
    # LOG_LEVEL differs between the stacks' services: no shared default, and it is said.
    assert result.draft.keys["LOG_LEVEL"].default is None
    assert [f.key for f in result.notes if "different values" in f.message] == ["LOG_LEVEL"]
    assert result.draft.keys["LOG_LEVEL"].services == ("myapp-api",)


def test_unknown_fields_are_reported_not_dropped() -> None:
    text = FIXTURE.read_text() + "autoscale: true\n"
    notes = [f.render() for f in parsed(text).notes]
    assert any("'retries'" in n and "QUEUE_NAME" in n and "myapp-worker" in n for n in notes)
    assert any("'autoscale'" in n for n in notes)


@pytest.mark.parametrize(("text", "expected"), [
    ("services:\n  - {type: web, name: a, envVars: [{key: A, value: 1}]}\n"
     "services: []\n", "duplicate key 'services'"),
    ("services:\n  - {type: web, name: a, envVars: [{key: lower, value: x}]}\n",
     "render.yaml: lower (a): error: is not an env key name"),
    ("services:\n  - {type: web, name: a, envVars: [{key: A, value: x}, {key: A, value: y}]}\n",
     "render.yaml: A (a): error: has two values in one service"),
    ("services:\n  - {type: static, name: docs, envVars: [{key: A, value: x}]}\n",
     "render.yaml (docs): error: has type static"),
    ("services:\n  - {type: web, name: a, envVars: [{key: D, fromDatabase: {name: nope}}]}\n",
     "render.yaml: D (a): error: fromDatabase names database 'nope'"),
    ("services:\n  - {type: web, name: a, envVars: [{key: A, sync: true}]}\n",
     "render.yaml: A (a): error: needs exactly one of value"),
])
def test_bad_input_is_an_error_naming_file_service_and_key(text: str, expected: str) -> None:
    errors = [f.render() for f in parsed(text).errors]
    assert any(expected in e for e in errors), errors


def test_merge_adds_new_declarations_and_refuses_to_overwrite_without_force() -> None:
    draft = parsed().draft
    first = merge_catalog(None, draft, stacks=STACKS, force=False)
    assert first.changed
    assert not first.conflicts
    again = merge_catalog(first.doc, draft, stacks=STACKS, force=False)
    assert not again.changed
    edited = dict(first.doc, keys={**first.doc["keys"],
                                   "UVICORN_WORKERS": {**first.doc["keys"]["UVICORN_WORKERS"],
                                                       "type": "string"}})
    refused = merge_catalog(edited, draft, stacks=STACKS, force=False)
    assert [f.key for f in refused.conflicts] == ["UVICORN_WORKERS"]
    assert refused.doc["keys"]["UVICORN_WORKERS"]["type"] == "string"
    forced = merge_catalog(edited, draft, stacks=STACKS, force=True)
    assert forced.replaced == ("key UVICORN_WORKERS",)
    assert forced.doc["keys"]["UVICORN_WORKERS"]["type"] == "int"
