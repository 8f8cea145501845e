"""`import render` planned in pure code: guesses, reuse of the catalog, safety."""

from __future__ import annotations

import pytest

from envparity.core.importplan import catalog_service_name, guess_secret, guess_type
from envparity.core.secret import Secret
from envparity.core.stackimport import ObservedService, plan_stack_import
from envparity.core.stackvalues import config_value

CANARY = "canary-plan-secret-77aa"


def svc(name: str, stack: str, env: dict[str, str], sid: str = "srv-a") -> ObservedService:
    return ObservedService(name=name, render_name=f"{name}-{stack}", service_id=sid,
                           render_type="web_service",
                           env={k: Secret(v) for k, v in env.items()})


@pytest.mark.parametrize(("value", "kind"), [
    ("postgresql://u:p@h/db", "postgres_url"), ("https://x.example.com", "url"),
    ("https://", "string"), ("3", "int"), ("007", "string"), ("0.5", "float"),
    ("true", "bool"), ("True", "string"), ("hello", "string"),
])
def test_types_are_guessed_from_the_value(value: str, kind: str) -> None:
    assert guess_type(value) == kind


def test_secrets_are_guessed_by_name_and_by_shape() -> None:
    assert guess_secret("STRIPE_API_KEY", "x")
    assert guess_secret("DATABASE_URL", "postgres://u:p@h/db")
    assert guess_secret("OPAQUE", "a8F3kd9Qz0xLw2Pq7Rt5Yu1V")
    assert not guess_secret("LOG_LEVEL", "info")
    assert not guess_secret("API_BASE_URL", "https://api.example.com")


def test_stack_parts_of_render_names_are_dropped() -> None:
    stacks = ("staging", "production")
    assert catalog_service_name("api-staging", stacks) == "api"
    assert catalog_service_name("myapp-staging-api", stacks) == "myapp-api"
    assert catalog_service_name("myapp-api", stacks) == "myapp-api"


def test_first_import_drafts_the_catalog_and_secret_writes() -> None:
    plan = plan_stack_import("staging", [svc("api", "staging", {
        "JWT_SECRET_KEY": CANARY, "LOG_LEVEL": "debug", "ENVIRONMENT": "staging"})],
        catalog_doc=None, config={})
    keys = plan.catalog.doc["keys"]
    assert keys["JWT_SECRET_KEY"]["secret"]
    assert not keys["LOG_LEVEL"]["secret"]
    assert keys["ENVIRONMENT"]["derived"] == "stack"
    writes = {w.path: w for w in plan.writes}
    assert isinstance(writes["envparity:JWT_SECRET_KEY"].value, Secret)
    assert writes["envparity:JWT_SECRET_KEY"].secret
    assert "envparity:ENVIRONMENT" not in writes
    assert writes["envparity:serviceIds.api"].value == "srv-a"
    assert CANARY not in repr(plan)


def test_a_second_stack_reuses_the_catalog_and_reports_one_sided_keys() -> None:
    first = plan_stack_import("staging", [svc("api", "staging", {"A_FLAG": "true", "B": "x"})],
                              catalog_doc=None, config={})
    second = plan_stack_import("production",
                               [svc("api", "production", {"A_FLAG": "false", "ONLY_PROD": "1"})],
                               catalog_doc=first.catalog.doc, config={})
    assert not second.catalog.changed
    assert "ONLY_PROD" not in second.catalog.doc["keys"]
    notes = {(f.key, f.service) for f in second.notes}
    assert notes == {("ONLY_PROD", "api"), ("B", "api")}
    assert second.errors == ()


def test_a_held_value_is_kept_unless_forced_and_an_equal_one_is_not_rewritten() -> None:
    first = plan_stack_import("staging", [svc("api", "staging", {"LOG_LEVEL": "debug"})],
                              catalog_doc=None, config={})
    doc = first.catalog.doc
    observed = [svc("api", "staging", {"LOG_LEVEL": "debug"})]
    same = {"envparity:LOG_LEVEL": config_value("debug", secret=False),
            "envparity:serviceIds": config_value('{"api": "srv-a"}', secret=False)}
    rerun = plan_stack_import("staging", observed, catalog_doc=doc, config=same)
    assert rerun.writes == ()
    assert rerun.errors == ()
    assert rerun.unchanged == 2
    other = {**same, "envparity:LOG_LEVEL": config_value("info", secret=False)}
    refused = plan_stack_import("staging", observed, catalog_doc=doc, config=other)
    assert [(f.key, f.location) for f in refused.errors] == [("LOG_LEVEL", "Pulumi.staging.yaml")]
    forced = plan_stack_import("staging", observed, catalog_doc=doc, config=other, force=True)
    assert [w.path for w in forced.writes] == ["envparity:LOG_LEVEL"]


def test_two_render_services_onto_one_catalog_service_and_bad_keys_are_errors() -> None:
    plan = plan_stack_import("staging", [
        svc("api", "staging", {"A": "1"}, "srv-a"),
        svc("api", "staging", {"bad key": "1"}, "srv-b"),
    ], catalog_doc=None, config={})
    rendered = [f.render() for f in plan.errors]
    assert any("both map onto catalog service api" in r for r in rendered)
    assert any("bad key (api-staging): error: is not an env key name" in r for r in rendered)


def test_widen_adds_what_the_catalog_lacks_on_purpose() -> None:
    first = plan_stack_import("staging", [svc("api", "staging", {"A_FLAG": "true"})],
                              catalog_doc=None, config={})
    widened = plan_stack_import("production",
                                [svc("api", "production", {"A_FLAG": "true", "ONLY_PROD": "1"})],
                                catalog_doc=first.catalog.doc, config={}, widen=True)
    assert widened.catalog.added == ("key ONLY_PROD",)
    assert widened.catalog.doc["stacks"] == ["staging", "production"]
    assert "envparity:ONLY_PROD" in {w.path for w in widened.writes}


def test_a_blueprint_catalog_is_filled_with_values_by_the_render_import() -> None:
    from envparity.core.blueprint import parse_blueprint
    from envparity.core.importplan import merge_catalog

    text = ("services:\n  - type: web\n    name: api-staging\n    envVars:\n"
            "      - {key: LOG_LEVEL, value: debug}\n      - {key: WORKERS, value: 4}\n"
            "      - {key: STRIPE_KEY, sync: false}\n")
    draft = parse_blueprint(text, file="render.yaml", stacks=("staging",)).draft
    doc = merge_catalog(None, draft, stacks=("staging",), force=False).doc
    plan = plan_stack_import("staging", [svc("api", "staging", {
        "LOG_LEVEL": "info", "WORKERS": "4", "STRIPE_KEY": CANARY})], catalog_doc=doc, config={})
    assert not plan.catalog.changed
    writes = {w.path: w for w in plan.writes}
    # WORKERS equals the Blueprint's default: nothing to write; the rest are set.
    assert set(writes) == {"envparity:LOG_LEVEL", "envparity:STRIPE_KEY",
                           "envparity:serviceIds.api"}
    assert writes["envparity:STRIPE_KEY"].secret
