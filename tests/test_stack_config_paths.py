"""`check` and the Pulumi program read one stack's config the same way.

The CLI path gets what `pulumi config --json --show-secrets` prints; the program gets the
settings the engine hands the runtime (`set_all_config(config, secret_keys)`, as the SDK's
Automation API server does). Measured with the pinned CLI: the runtime gets each entry's
`value` text unchanged, objects as compact JSON, and no `objectValue`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pulumi
import pytest
from model_fixtures import EXAMPLE_VALUES, REPO, SECRET_NAMES

from envparity.core.plan import desired_state
from envparity.core.secret import Secret
from envparity.core.stackvalues import config_value
from envparity.stack.catalog import load_catalog
from envparity.stack.config import parse_cli_config
from envparity.stack.program import runtime_config

CATALOG = load_catalog(REPO)
STACK = "production"
# name -> (value as written in the stack file, secret, written as a YAML object)
ENTRIES: dict[str, tuple[object, bool, bool]] = {
    **{name: (value, name in SECRET_NAMES, isinstance(value, dict))
       for name, value in EXAMPLE_VALUES[STACK].items()},
    # Per-service values: plain, and secret (a `secure:` leaf makes the whole entry secret).
    "envparity:UVICORN_WORKERS": ("6", False, False),
    "envparity:ANTHROPIC_API_KEY": ({"api": "fake-anthropic-api", "worker": "fake-anthropic-wrk"},
                                    True, True),
    # A string that holds a JSON object: a program cannot tell it from an object.
    "envparity:LOG_LEVEL": ('{"api": "WARNING", "worker": "DEBUG"}', False, False),
    "envparity:OPENAI_API_KEY": ('{"worker": "fake-openai-worker"}', True, False),
}


def _text(value: object) -> str:
    return json.dumps(value, separators=(",", ":")) if isinstance(value, dict) else str(value)


def cli_json() -> str:
    """The shape `pulumi config --json --show-secrets` prints."""
    printed: dict[str, dict[str, object]] = {}
    for name, (value, secret, is_object) in ENTRIES.items():
        printed[name] = {"value": _text(value), "secret": secret}
        if is_object:
            printed[name]["objectValue"] = value
    return json.dumps(printed, indent=2)


@pytest.fixture
def runtime_settings() -> Iterator[None]:
    pulumi.runtime.set_all_config(
        {name: _text(value) for name, (value, _, _) in ENTRIES.items()},
        secret_keys=[name for name, (_, secret, _) in ENTRIES.items() if secret],
    )
    yield
    pulumi.runtime.set_all_config({}, secret_keys=[])


def test_cli_and_runtime_give_the_same_config_and_desired_state(runtime_settings: None) -> None:
    from_cli = parse_cli_config(cli_json(), stack=STACK)
    from_runtime = runtime_config()
    assert from_cli == from_runtime

    cli_desired, cli_findings = desired_state(CATALOG, STACK, from_cli, location="x")
    runtime_desired, runtime_findings = desired_state(CATALOG, STACK, from_runtime, location="x")
    assert cli_findings == runtime_findings
    assert cli_desired is not None
    assert cli_desired == runtime_desired

    api, worker = cli_desired.service("api"), cli_desired.service("worker")
    ids = EXAMPLE_VALUES[STACK]["envparity:serviceIds"]
    assert isinstance(ids, dict)
    assert (api.service_id, worker.service_id) == (ids["api"], ids["worker"])
    assert (api.env["LOG_LEVEL"], worker.env["LOG_LEVEL"]) == ("WARNING", "DEBUG")
    assert api.env["ANTHROPIC_API_KEY"] == Secret("fake-anthropic-api")
    assert worker.env["ANTHROPIC_API_KEY"] == Secret("fake-anthropic-wrk")
    assert worker.env["OPENAI_API_KEY"] == Secret("fake-openai-worker")
    assert api.env["UVICORN_WORKERS"] == "6"
    assert isinstance(api.env["DATABASE_URL"], Secret)


def test_a_secret_object_is_secret_in_every_item() -> None:
    value = config_value('{"api": "a", "worker": 3}', secret=True)
    assert value.items == {"api": Secret("a"), "worker": Secret("3")}
    assert isinstance(value.value, Secret)


@pytest.mark.parametrize("text", [
    '{"api": {"nested": "x"}}', '["a", "b"]', '{"api": ', " plain {",
    '{"a":' * 100_000 + "1" + "}" * 100_000,
], ids=["nested", "list", "broken", "not-leading", "too-deep"])
def test_anything_but_a_flat_object_stays_text(text: str) -> None:
    value = config_value(text, secret=False)
    assert value.items is None
    assert value.value == text
