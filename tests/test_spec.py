"""The catalog: the worked example loads, and every kind of catalog mistake is reported."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from model_fixtures import REPO

from envparity.core.errors import CatalogError, EnvparityError
from envparity.core.spec import CATALOG_FILE, KeyRules, KeySpec, value_problem
from envparity.stack.catalog import load_catalog

BOTH = {"SUPABASE_URL", "SUPABASE_ANON_KEY", "SUPABASE_SERVICE_ROLE_KEY", "DATABASE_URL",
        "DATABASE_SCHEMA", "JWT_SECRET_KEY", "DOCUMENT_ENCRYPTION_KEY", "ANTHROPIC_API_KEY",
        "ENVIRONMENT", "LOG_LEVEL", "ASYNCPG_DISABLE_PREPARED_STATEMENTS", "PYTHONUNBUFFERED"}
API = {"API_BASE_URL", "SECURITY_BYPASS_ENABLED", "UVICORN_WORKERS", "STARTUP_TIMEOUT",
       "KEEP_ALIVE", "MAX_REQUESTS", "MAX_REQUESTS_JITTER"}
WORKER = {"OPENAI_API_KEY", "OPENAI_MODEL", "LLAMAPARSE_API_KEY", "LLAMAPARSE_BASE_URL",
          "WEBHOOK_BASE_URL", "WORKER_POLL_INTERVAL", "WORKER_MAX_JOBS", "WORKER_MAX_RETRIES",
          "WORKER_RETRY_BASE_DELAY", "SERVICE_MODE", "USE_MOCK_STORAGE"}


def test_example_catalog_declares_the_apps_services_and_keys() -> None:
    catalog = load_catalog(REPO)
    assert catalog.stacks == ("staging", "production")
    assert {n: s.render_type for n, s in catalog.services.items()} == {
        "api": "web_service", "worker": "background_worker"}
    assert set(catalog.keys_for("api")) == BOTH | API
    assert set(catalog.keys_for("worker")) == BOTH | WORKER
    assert catalog.key("ENVIRONMENT").derived == "stack"
    assert catalog.key("WORKER_MAX_RETRIES").type == "int"
    assert catalog.key("DATABASE_URL").type == "postgres_url"
    assert catalog.is_secret("DATABASE_URL")
    assert not catalog.is_secret("LOG_LEVEL")
    assert all(spec.description for spec in catalog.keys.values())


def _broken(tmp_path: Path, edit: object) -> Path:
    """A copy of the catalog with `edit(raw_dict)` applied."""
    (tmp_path / "stacks").mkdir()
    raw = yaml.safe_load((REPO / CATALOG_FILE).read_text())
    assert callable(edit)
    edit(raw)
    (tmp_path / CATALOG_FILE).write_text(yaml.safe_dump(raw, sort_keys=False))
    return tmp_path


def _problems(repo: Path) -> set[tuple[str | None, str]]:
    with pytest.raises(CatalogError) as caught:
        load_catalog(repo)
    assert all(f.location == CATALOG_FILE for f in caught.value.findings)
    return {(f.key, f.rule) for f in caught.value.findings}


def test_every_catalog_mistake_is_collected_with_its_key(tmp_path: Path) -> None:
    def edit(raw: dict[str, dict[str, dict[str, object]]]) -> None:
        keys = raw["keys"]
        keys["LOG_LEVEL"]["rules"] = {}                        # enum without allowed values
        keys["JWT_SECRET_KEY"]["default"] = "x"                 # secret with a default
        keys["KEEP_ALIVE"]["default"] = "1.5"                   # default not an int
        keys["OPENAI_MODEL"]["services"] = ["wroker"]           # unknown service
        keys["lower_case"] = {"services": ["api"], "type": "string", "description": "d"}
        raw["services"]["api"]["preserve"] = ["UVICORN_WORKERS"]  # preserving a declared key

    problems = _problems(_broken(tmp_path, edit))
    assert problems >= {("LOG_LEVEL", "catalog-key"), ("JWT_SECRET_KEY", "catalog-key"),
                        ("KEEP_ALIVE", "catalog-key"), ("OPENAI_MODEL", "catalog-key"),
                        ("lower_case", "catalog-key"), ("UVICORN_WORKERS", "catalog-service")}


def test_a_database_url_key_must_be_secret(tmp_path: Path) -> None:
    def edit(raw: dict[str, dict[str, dict[str, object]]]) -> None:
        raw["keys"]["DATABASE_URL"]["secret"] = False

    with pytest.raises(CatalogError) as caught:
        load_catalog(_broken(tmp_path, edit))
    (finding,) = [f for f in caught.value.findings if f.key == "DATABASE_URL"]
    assert finding.message == "a postgres_url key must be secret"


def test_unknown_field_is_refused_naming_the_key(tmp_path: Path) -> None:
    def edit(raw: dict[str, dict[str, dict[str, object]]]) -> None:
        raw["keys"]["LOG_LEVEL"]["secert"] = True

    assert ("LOG_LEVEL", "catalog-schema") in _problems(_broken(tmp_path, edit))


def test_non_bool_secret_flag_is_refused(tmp_path: Path) -> None:
    def edit(raw: dict[str, dict[str, dict[str, object]]]) -> None:
        raw["keys"]["LOG_LEVEL"]["secret"] = "yes"

    assert ("LOG_LEVEL", "catalog-schema") in _problems(_broken(tmp_path, edit))


def test_duplicate_yaml_key_and_syntax_errors_name_the_line(tmp_path: Path) -> None:
    (tmp_path / "stacks").mkdir()
    text = (REPO / CATALOG_FILE).read_text()
    dup = text.replace("  LOG_LEVEL:\n", "  LOG_LEVEL:\n    type: enum\n    type: string\n", 1)
    (tmp_path / CATALOG_FILE).write_text(dup)
    with pytest.raises(CatalogError, match=r"duplicate key 'type' at line \d+"):
        load_catalog(tmp_path)
    (tmp_path / CATALOG_FILE).write_text("keys: [unclosed\n")
    with pytest.raises(CatalogError, match="line"):
        load_catalog(tmp_path)


def test_missing_catalog_is_a_could_not_run_error(tmp_path: Path) -> None:
    with pytest.raises(EnvparityError) as caught:
        load_catalog(tmp_path)
    assert not isinstance(caught.value, CatalogError)
    assert "ENVPARITY_REPO" in caught.value.hint


def test_catalog_copy_loads(tmp_path: Path) -> None:
    shutil.copytree(REPO / "stacks", tmp_path / "stacks")
    assert load_catalog(tmp_path) == load_catalog(REPO)


def _spec(kind: str, **rules: object) -> KeySpec:
    return KeySpec(services=("api",), type=kind,  # type: ignore[arg-type]
                   rules=KeyRules.model_validate(rules), description="d")


@pytest.mark.parametrize(("kind", "text", "rule"), [
    ("int", "1.0", "bad-type"),
    ("int", "3s", "bad-type"),
    ("float", "nan", "bad-type"),
    ("float", "1e999", "bad-type"),
    ("bool", "True", "bad-type"),
    ("bool", "1", "bad-type"),
    ("url", "ftp://example.com", "bad-type"),
    ("url", "https://", "bad-type"),
    ("string", "", "empty-value"),
    ("string", " padded", "whitespace"),
])
def test_values_that_do_not_parse_as_their_type(kind: str, text: str, rule: str) -> None:
    problem = value_problem(_spec(kind), text)
    assert problem is not None
    assert problem[0] == rule
    if text.strip():
        assert text.strip() not in problem[1]


@pytest.mark.parametrize(("kind", "text"), [
    ("int", "-3"), ("int", "40"), ("float", "0.5"), ("float", "2"), ("bool", "false"),
    ("url", "https://api.example.com/x"), ("string", "anything at all"),
])
def test_values_that_parse(kind: str, text: str) -> None:
    assert value_problem(_spec(kind), text) is None


def test_allowed_range_and_per_stack_rules() -> None:
    assert value_problem(_spec("enum", allowed=("a", "b")), "c") is not None
    assert value_problem(_spec("enum", allowed=("a", "b")), "b") is None
    ranged = _spec("int", min=1, max=4)
    problem = value_problem(ranged, "5")
    assert problem is not None
    assert problem[0] == "out-of-range"
    assert "1..4" in problem[1]
    assert value_problem(ranged, "4") is None
    gated = _spec("bool", allowed_per_stack={"production": ("false",)})
    assert value_problem(gated, "true", stack="staging") is None
    problem = value_problem(gated, "true", stack="production")
    assert problem is not None
    assert problem[0] == "not-allowed"


def test_a_default_holding_credentials_needs_a_secret_key(tmp_path: Path) -> None:
    def edit(raw: dict[str, dict[str, dict[str, object]]]) -> None:
        raw["keys"]["LLAMAPARSE_BASE_URL"]["default"] = "https://admin:hunter22@api.example.com"

    with pytest.raises(CatalogError) as caught:
        load_catalog(_broken(tmp_path, edit))
    (finding,) = [f for f in caught.value.findings if f.key == "LLAMAPARSE_BASE_URL"]
    assert "holds a credential" in finding.message
    assert "hunter22" not in finding.render()
