"""Env groups and secret files in the catalog and the stack files: rules, values, layout."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from model_fixtures import EXAMPLE_VALUES, make_config

from envparity.checks.envcheck import check_environment
from envparity.core.errors import CatalogError
from envparity.core.findings import Severity
from envparity.core.groups import build_layout, file_sources, group_values
from envparity.core.rules import multi_stack_findings, stack_findings
from envparity.core.secret import Secret
from envparity.core.spec import Catalog, parse_catalog
from envparity.stack.secretfiles import read_named_files

CANARY = "group-file-canary-3b9e"


def catalog_text(**changes: object) -> str:
    """A small catalog with one group linked to api and worker and one file in it."""
    raw: dict[str, Any] = {
        "version": 1,
        "stacks": ["staging", "production"],
        "services": {
            "api": {"render_type": "web_service", "description": "API."},
            "worker": {"render_type": "background_worker", "description": "Worker."},
        },
        "groups": {"shared": {"name": "app-shared-{stack}", "services": ["api", "worker"],
                              "description": "Keys every service shares."}},
        "keys": {
            "JWT_SECRET": {"groups": ["shared"], "type": "string", "secret": True,
                           "description": "Signs tokens."},
            "LOG_LEVEL": {"services": ["api", "worker"], "type": "enum", "default": "INFO",
                          "description": "Logging.", "rules": {"allowed": ["INFO", "DEBUG"]}},
            "REGION": {"groups": ["shared"], "type": "string", "default": "eu",
                       "description": "Region."},
        },
        "secret_files": {"ca.pem": {"group": "shared", "config_key": "CA_PEM",
                                    "description": "CA bundle."}},
    }
    for dotted, value in changes.items():
        *path, last = dotted.split("__")
        node = raw
        for part in path:
            node = node[part]
        if value is None:
            node.pop(last)
        else:
            node[last] = value
    return yaml.safe_dump(raw)


def catalog(**changes: object) -> Catalog:
    return parse_catalog(catalog_text(**changes))


def problems(**changes: object) -> list[str]:
    with pytest.raises(CatalogError) as err:
        parse_catalog(catalog_text(**changes))
    return [f.message for f in err.value.findings]


def config(**values: object) -> dict[str, object]:
    base: dict[str, object] = {
        "envparity:serviceIds": {"api": "srv-" + "a" * 20, "worker": "srv-" + "b" * 20},
        "envparity:JWT_SECRET": "jwt-staging", "envparity:CA_PEM": CANARY,
        "envparity:ownerId": "tea-" + "c" * 20,
    }
    base.update({f"envparity:{k}": v for k, v in values.items()})
    return {k: v for k, v in base.items() if v is not None}


def findings(values: dict[str, object], secret: frozenset[str] = frozenset(
        {"envparity:JWT_SECRET", "envparity:CA_PEM"})) -> list[tuple[str | None, str]]:
    found = stack_findings(catalog(), "staging", make_config(values, secret),
                           location="Pulumi.staging.yaml")
    return [(f.key, f.rule) for f in found]


def test_a_catalog_with_a_group_and_a_file_loads() -> None:
    loaded = catalog()
    assert loaded.groups["shared"].services == ("api", "worker")
    assert loaded.keys_for("api") == ("LOG_LEVEL",)
    assert loaded.secret_files["ca.pem"].group == "shared"


def test_a_key_two_linked_groups_hold_is_refused() -> None:
    other = {"name": "app-other-{stack}", "services": ["worker"], "description": "Other."}
    found = problems(groups__other=other, keys__REGION__groups=["shared", "other"])
    assert any("held by groups shared and other, both linked to worker" in m for m in found)


def test_two_groups_holding_a_key_for_different_services_are_fine() -> None:
    groups = {"a": {"name": "a-{stack}", "services": ["api"], "description": "A."},
              "b": {"name": "b-{stack}", "services": ["worker"], "description": "B."}}
    loaded = catalog(groups=groups, keys__JWT_SECRET__groups=["a", "b"],
                     keys__REGION__groups=["a"], secret_files={})
    assert loaded.keys["JWT_SECRET"].groups == ("a", "b")


def test_a_key_in_a_group_and_on_a_linked_service_needs_an_override() -> None:
    found = problems(keys__REGION__services=["api"])
    assert any("held by group shared and also set on api" in m for m in found)
    loaded = catalog(keys__REGION__services=["api"], services__api__overrides=["REGION"])
    assert loaded.services["api"].overrides == ("REGION",)


def test_a_stale_override_is_refused() -> None:
    found = problems(services__worker__overrides=["LOG_LEVEL"])
    assert any("overrides a key that is not both set on it" in m for m in found)


@pytest.mark.parametrize(("changes", "expected"), [
    ({"groups__shared__services": ["api", "cron"]}, "unknown: ['cron']"),
    ({"groups__shared__name": "bad name {env}"}, "at most the placeholder {stack}"),
    ({"groups__shared__description": ""}, "description must be one non-empty line"),
    ({"keys__REGION__groups": ["nope"]}, "unknown: ['nope']"),
    ({"keys__REGION__groups": []}, "services is empty"),
    ({"secret_files__ca.pem__services": ["api"]}, "give either services or a group"),
    ({"secret_files__ca.pem__group": "nope"}, "group nope is not declared"),
    ({"secret_files__ca.pem__config_key": "JWT_SECRET"}, "config_key must be an upper case"),
    ({"secret_files__../x": {"services": ["api"], "config_key": "X", "description": "X."}},
     "name must be letters"),
])
def test_catalog_mistakes(changes: dict[str, object], expected: str) -> None:
    assert any(expected in m for m in problems(**changes)), problems(**changes)


def test_two_groups_with_one_name_in_a_stack_are_refused() -> None:
    twin = {"name": "app-shared-{stack}", "services": ["api"], "description": "Twin."}
    assert any("both named app-shared-staging" in m for m in problems(groups__twin=twin))


def test_a_clean_stack_with_a_group_and_a_file() -> None:
    assert findings(config()) == []


def test_group_values_and_layout() -> None:
    loaded = catalog()
    cfg = make_config(config(), frozenset({"envparity:JWT_SECRET", "envparity:CA_PEM"}))
    values = group_values(loaded, "production", cfg)
    assert values == {"shared": {"JWT_SECRET": Secret("jwt-staging"), "REGION": "eu"}}
    sources = file_sources(loaded, cfg)
    assert sources["ca.pem"].content == Secret(CANARY)
    layout = build_layout(loaded, "production", cfg, contents={"ca.pem": Secret(CANARY)})
    (group,) = layout.groups
    assert (group.name, group.services) == ("app-shared-production", ("api", "worker"))
    assert group.files == {"ca.pem": Secret(CANARY)}
    assert layout.service_files == {"api": {}, "worker": {}}
    assert CANARY not in repr(layout)
    assert layout.owner_id == "tea-" + "c" * 20


def test_group_key_and_file_problems_in_a_stack() -> None:
    assert ("envparity:JWT_SECRET", "missing-key") in findings(config(JWT_SECRET=None))
    assert ("envparity:CA_PEM", "missing-file") in findings(config(CA_PEM=None))
    assert ("envparity:CA_PEM", "plaintext-secret") in findings(
        config(), frozenset({"envparity:JWT_SECRET"}))
    assert ("envparity:JWT_SECRET", "plaintext-secret") in findings(
        config(), frozenset({"envparity:CA_PEM"}))
    assert ("envparity:REGION", "whitespace") in findings(config(REGION=" eu"))
    assert ("envparity:CA_PEM", "file-path") in findings(config(CA_PEM={"path": "../up"}))
    assert findings(config(CA_PEM={"path": "secrets/ca.pem"})) == []
    assert ("envparity:ownerId", "owner-id") in findings(config(ownerId=None))
    assert ("envparity:ownerId", "owner-id") in findings(config(ownerId="srv-x"))


def test_file_contents_never_reach_findings() -> None:
    found = stack_findings(catalog(), "staging", make_config(config(), frozenset()),
                           location="Pulumi.staging.yaml")
    assert found
    assert all(CANARY not in f.render() for f in found)


def test_files_named_by_path_are_read_from_the_repository(tmp_path: Path) -> None:
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "ca.pem").write_text(CANARY, encoding="utf-8")
    (tmp_path / "link.pem").symlink_to("/etc/hostname")
    read = [read_named_files(catalog(), make_config(config(CA_PEM={"path": path})),
                             repo=tmp_path, location="Pulumi.staging.yaml")
            for path in ("secrets/ca.pem", "secrets/missing.pem", "link.pem")]
    assert read[0] == ({"ca.pem": Secret(CANARY)}, [])
    assert [f.rule for f in read[1][1]] == ["file-unreadable"]
    assert "secrets/missing.pem" in read[1][1][0].message
    assert [f.rule for f in read[2][1]] == ["file-path"]


def test_env_check_expects_the_keys_of_linked_groups() -> None:
    # A worker not linked to its group starts without the group's keys: env-check says so.
    found = check_environment("worker", {"LOG_LEVEL": "INFO"}, catalog())
    assert {(f.key, f.rule) for f in found} == {("JWT_SECRET", "missing-key"),
                                                ("REGION", "missing-default-key")}
    assert check_environment("worker", {"LOG_LEVEL": "INFO", "JWT_SECRET": "j",
                                        "REGION": "eu"}, catalog()) == []


def test_check_all_compares_group_values_between_stacks() -> None:
    # A group holding DATABASE_URL and a must-differ secret: equal in both stacks is refused,
    # named at the production stack file and the group.
    loaded = catalog(keys__JWT_SECRET__rules={"differ_between_stacks": True}, keys__DATABASE_URL={
        "groups": ["shared"], "type": "postgres_url", "secret": True, "description": "Database.",
        "rules": {"differ_between_stacks": True}})
    secret = frozenset({"envparity:JWT_SECRET", "envparity:CA_PEM", "envparity:DATABASE_URL"})
    url = str(EXAMPLE_VALUES["staging"]["envparity:DATABASE_URL"])
    prod_ids = {"api": "srv-" + "d" * 20, "worker": "srv-" + "e" * 20}
    locations = {"staging": "Pulumi.staging.yaml", "production": "Pulumi.production.yaml"}

    def found(**production: object) -> list[tuple[str, str | None, str]]:
        configs = {"staging": make_config(config(DATABASE_URL=url), secret),
                   "production": make_config(config(serviceIds=prod_ids, **production), secret)}
        result = multi_stack_findings(loaded, configs, locations=locations)
        assert not any(url in f.render() or "jwt-staging" in f.render() for f in result)
        return [(f.location, f.key, f.rule) for f in result if f.severity is Severity.ERROR]

    where = "Pulumi.production.yaml (group shared)"
    assert sorted(found(DATABASE_URL=url)) == [
        (where, "envparity:DATABASE_URL", "db-shared-across-stacks"),
        (where, "envparity:JWT_SECRET", "must-differ"),
    ]
    other_url = str(EXAMPLE_VALUES["production"]["envparity:DATABASE_URL"])
    assert found(DATABASE_URL=other_url, JWT_SECRET="jwt-production") == []
