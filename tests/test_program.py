"""The Pulumi program under Pulumi's mocks (no CLI): resources, ids, key sets, secrets, merge."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pulumi
import pytest
from model_fixtures import EXAMPLE_VALUES, REPO, SECRET_NAMES, example_config

from envparity.core.desired import DesiredService
from envparity.core.errors import CatalogError, EnvparityError, StackHasFindings
from envparity.core.findings import Severity
from envparity.core.plan import desired_state
from envparity.core.secret import Secret
from envparity.core.stackvalues import ConfigValue
from envparity.core.targets import RenderService
from envparity.plugins.provider.config import settings_from
from envparity.plugins.provider.props import Sealed
from envparity.stack import program
from envparity.stack.catalog import load_catalog
from envparity.stack.toolchain import RENDER_PLUGIN_VERSION

CATALOG = load_catalog(REPO)
# The wire marker of a Pulumi secret: {SECRET_KEY: SECRET_SIG, "value": ...}.
SECRET_KEY, SECRET_SIG = pulumi.runtime.rpc._special_sig_key, pulumi.runtime.rpc._special_secret_sig


@dataclass
class Recorder(pulumi.runtime.Mocks):
    resources: list[pulumi.runtime.MockResourceArgs] = field(default_factory=list)

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.resources.append(args)
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], None]:
        raise AssertionError(f"the program calls no provider functions, got {args.token}")


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.levelname}: {record.getMessage()}")


@dataclass
class Ran:
    resources: dict[str, pulumi.runtime.MockResourceArgs]
    logs: list[str]


@pytest.fixture(autouse=True)
def _plugin_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A plugin cache holding envparity's plugin, as `make setup` leaves it."""
    plugin = (tmp_path / "plugins" / f"resource-render-v{RENDER_PLUGIN_VERSION}"
              / "pulumi-resource-render")
    plugin.parent.mkdir(parents=True)
    plugin.write_text("#!/bin/sh\n")
    plugin.chmod(0o755)
    monkeypatch.setenv("PULUMI_HOME", str(tmp_path))


def run_program(stack: str, values: Mapping[str, object],
                live: program.LiveEnv | None = None,
                seen: Mapping[str, RenderService] | None = None, **options: Any) -> Ran:
    recorder, lines = Recorder(), Lines()
    logger = logging.getLogger(f"pulumi-mock-{id(recorder)}")
    logger.addHandler(lines)
    pulumi.runtime.set_mocks(recorder, project="envparity", stack=stack, preview=True,
                             logger=logger)
    pulumi.runtime.set_all_config(
        {k: json.dumps(v) if isinstance(v, dict) else str(v) for k, v in values.items()},
        secret_keys=[k for k in values if k in SECRET_NAMES],
    )

    def body() -> pulumi.Output[list[Any]]:
        reader = None if seen is None else (lambda _desired, _config: seen)
        created = program.run(live, **{"repo": REPO, "service_reader": reader, **options})
        return pulumi.Output.all(*[r.id for r in created.values()])

    # `runtime.test` drives the event loop until every registration is done.
    pulumi.runtime.test(body)()  # type: ignore[no-untyped-call]
    return Ran({r.name: r for r in recorder.resources if r.typ.startswith("render:")}, lines.lines)


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SECRET_KEY) == SECRET_SIG


def env_of(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    """The env list as the mock monitor decoded it.

    The wire carries each secret value marked on its own (a real preview shows `[secret]` for
    exactly those keys); the mock's decoder lifts the marker to the whole list.
    """
    items = args.inputs["envVars"]
    assert is_secret(items), "env with secrets must reach the engine as a secret"
    return {item["key"]: item["value"] for item in items["value"]}


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_one_env_resource_per_service_with_its_id_and_exact_keys(stack: str) -> None:
    ran = run_program(stack, EXAMPLE_VALUES[stack])
    ids = EXAMPLE_VALUES[stack]["envparity:serviceIds"]
    assert isinstance(ids, dict)
    assert set(ran.resources) == {"api", "worker"}
    for name, args in ran.resources.items():
        assert args.typ == "render:services:EnvVarsForService"
        assert args.inputs["serviceId"] == ids[name]
        assert list(env_of(args)) == sorted(CATALOG.keys_for(name))


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_shared_keys_fan_out_and_secrets_stay_secret(stack: str) -> None:
    ran = run_program(stack, EXAMPLE_VALUES[stack])
    api, worker = env_of(ran.resources["api"]), env_of(ran.resources["worker"])
    shared = set(api) & set(worker)
    assert {"DATABASE_URL", "JWT_SECRET_KEY", "DOCUMENT_ENCRYPTION_KEY", "ENVIRONMENT"} <= shared
    for key in shared:
        assert api[key] == worker[key]
    assert api["DOCUMENT_ENCRYPTION_KEY"] == f"fake-{stack}-document-encryption-key"
    assert api["ENVIRONMENT"] == stack
    assert worker["WORKER_MAX_RETRIES"] == EXAMPLE_VALUES[stack]["envparity:WORKER_MAX_RETRIES"]


def test_broken_stack_fails_the_program_with_checks_messages() -> None:
    values = dict(EXAMPLE_VALUES["production"])
    values["envparity:WORKER_MAX_RETRIES"] = "1.0"
    values["envparity:DATABASE_URL"] = (
        "postgresql://postgres:fake-pw@db.fakeproductionrefxyz.supabase.co:5432/postgres")
    del values["envparity:DOCUMENT_ENCRYPTION_KEY"]
    with pytest.raises(pulumi.RunError) as caught:
        run_program("production", values)
    expected = desired_state(CATALOG, "production", example_config(
        "production", WORKER_MAX_RETRIES="1.0", DOCUMENT_ENCRYPTION_KEY=None,
        DATABASE_URL=values["envparity:DATABASE_URL"]), location="Pulumi.production.yaml")[1]
    errors = [f for f in expected if f.severity.value == "error"]
    assert len(errors) >= 3
    for finding in errors:
        assert finding.render() in str(caught.value)
    assert "fake-pw" not in str(caught.value)


def test_a_refused_stack_hands_checks_findings_over_after_one_config_read() -> None:
    values = dict(EXAMPLE_VALUES["production"])
    values["envparity:WORKER_MAX_RETRIES"] = "1.0"
    del values["envparity:DOCUMENT_ENCRYPTION_KEY"]
    reads: list[Mapping[str, ConfigValue]] = []

    def read_config() -> Mapping[str, ConfigValue]:
        reads.append(program.runtime_config())
        return reads[-1]

    refusals: list[EnvparityError] = []
    with pytest.raises(pulumi.RunError) as caught:
        run_program("production", values, read_config=read_config, refused=refusals.append)
    assert len(reads) == 1
    [refusal] = refusals
    assert isinstance(refusal, StackHasFindings)
    assert refusal.exit_code == 2
    check = desired_state(CATALOG, "production", example_config(
        "production", WORKER_MAX_RETRIES="1.0", DOCUMENT_ENCRYPTION_KEY=None),
        location="Pulumi.production.yaml")[1]
    assert list(refusal.findings) == [f for f in check if f.severity is Severity.ERROR]
    assert str(refusal) == str(caught.value)


def test_a_broken_catalog_is_handed_over_as_the_catalog_error(tmp_path: Path) -> None:
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "catalog.yaml").write_text("version: 1\nstacks: []\n")
    refusals: list[EnvparityError] = []
    with pytest.raises(pulumi.RunError) as caught:
        run_program("staging", EXAMPLE_VALUES["staging"], repo=tmp_path, refused=refusals.append)
    [refusal] = refusals
    assert isinstance(refusal, CatalogError)
    assert refusal.findings
    assert str(caught.value) == refusal.render()


def test_live_keys_are_preserved_retired_or_named_before_removal() -> None:
    live = {"worker": {"PYTHON_VERSION": Secret("3.11.9"), "SUPABASE_DB_URL": Secret("x"),
                       "FOO": Secret("bar"), "JWT_SECRET_KEY": Secret("old")},
            "api": {}}
    ran = run_program("production", EXAMPLE_VALUES["production"], live=live)
    worker = env_of(ran.resources["worker"])
    assert worker["PYTHON_VERSION"] == "3.11.9"
    assert "FOO" not in worker
    assert "SUPABASE_DB_URL" not in worker
    assert worker["JWT_SECRET_KEY"] == "fake-production-jwt-secret-key"
    assert ("WARNING: worker: FOO is on Render but not declared; this update removes it; "
            "add it to preserve to keep it") in ran.logs
    assert not any("SUPABASE_DB_URL" in line and "WARNING" in line for line in ran.logs)
    assert not any("bar" in line or "3.11.9" in line for line in ran.logs)


def test_without_live_env_preserved_keys_are_flagged() -> None:
    ran = run_program("staging", EXAMPLE_VALUES["staging"])
    assert any(line.startswith("WARNING: api: Render's current env was not read")
               and "PYTHON_VERSION" in line for line in ran.logs)


class Render:
    """A Render that has no env for anyone, and the key every request came with."""

    def __init__(self) -> None:
        self.keys: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.keys.append(request.headers["Authorization"].removeprefix("Bearer "))
        return httpx.Response(200, json=[])


def read_with(environ: Mapping[str, str], render: Render) -> program.LiveReader:
    return functools.partial(program.read_render, environ=environ,
                             transport=httpx.MockTransport(render))


def provider_key(values: Mapping[str, object], environ: Mapping[str, str]) -> Secret | None:
    """The key the provider writes with, configured as the engine configures it."""
    args = {"apiKey": Sealed(str(values["render:apiKey"]))} if "render:apiKey" in values else {}
    return settings_from(args, {}, environ).api_key


@pytest.mark.parametrize("environ", [
    {"RENDER_APIKEY": "rnd_community_name"},
    {"RENDER_API_KEY": "rnd_exported", "RENDER_APIKEY": "rnd_exported"},
], ids=["community-variable", "both-variables-agree"])
def test_without_a_stack_key_the_program_reads_with_the_providers_key(
    environ: dict[str, str],
) -> None:
    values = {k: v for k, v in EXAMPLE_VALUES["staging"].items() if k != "render:apiKey"}
    render = Render()
    run_program("staging", values, live_reader=read_with(environ, render))
    assert render.keys
    assert {Secret(key) for key in render.keys} == {provider_key(values, environ)}


def test_the_stacks_key_wins_for_both_and_an_exported_other_key_is_named() -> None:
    values = EXAMPLE_VALUES["production"]
    environ = {"RENDER_API_KEY": "rnd_exported_other"}
    render = Render()
    ran = run_program("production", values, live_reader=read_with(environ, render))
    assert set(render.keys) == {values["render:apiKey"]}
    assert provider_key(values, environ) == Secret(str(values["render:apiKey"]))
    [warning] = [line for line in ran.logs if "render:apiKey" in line]
    assert warning.startswith("WARNING: render:apiKey of stack production is the key")
    assert "RENDER_API_KEY holds a different key, ignored here" in warning
    assert "rnd_" not in warning


def test_two_exported_keys_that_differ_stop_the_program_before_any_read() -> None:
    values = {k: v for k, v in EXAMPLE_VALUES["staging"].items() if k != "render:apiKey"}
    environ = {"RENDER_API_KEY": "rnd_one", "RENDER_APIKEY": "rnd_other"}
    render = Render()
    with pytest.raises(pulumi.RunError, match="RENDER_API_KEY and RENDER_APIKEY hold different"):
        run_program("staging", values, live_reader=read_with(environ, render))
    assert render.keys == []
    with pytest.raises(EnvparityError, match="RENDER_API_KEY and RENDER_APIKEY hold different"):
        provider_key(values, environ)


SERVICE = DesiredService(name="worker", service_id="srv-x", render_type="background_worker",
                         env={"A": "1", "S": Secret("s")}, preserve=frozenset({"KEEP"}),
                         retired=frozenset({"OLD"}))


def test_each_secret_value_is_a_pulumi_secret_and_plain_values_stay_plain() -> None:
    desired = desired_state(CATALOG, "staging", example_config("staging"),
                            location="Pulumi.staging.yaml")[0]
    assert desired is not None
    for service in desired.services:
        args = program.env_var_args(service.env)
        assert [a.key for a in args] == sorted(service.env)
        for arg in args:
            if CATALOG.is_secret(str(arg.key)):
                assert isinstance(arg.value, pulumi.Output)
                assert pulumi.runtime.sync_await._sync_await(arg.value.is_secret())
            else:
                assert arg.value == service.env[str(arg.key)]


def test_merge_live_is_pure_and_sorted() -> None:
    merged = program.merge_live(SERVICE, {"KEEP": Secret("k"), "OLD": Secret("o"),
                                          "ZED": Secret("z"), "A": Secret("9")})
    assert list(merged.env) == ["A", "KEEP", "S"]
    assert merged.env["A"] == "1"
    assert merged.env["KEEP"] == Secret("k")
    assert (merged.carried, merged.undeclared, merged.retiring) == (("KEEP",), ("ZED",), ("OLD",))
    assert program.removal_warnings("worker", merged) == [
        "worker: ZED is on Render but not declared; this update removes it; "
        "add it to preserve to keep it"]


def test_merge_without_live_sends_the_declaration_only() -> None:
    merged = program.merge_live(SERVICE, None)
    assert dict(merged.env) == {"A": "1", "S": Secret("s")}
    assert merged.undeclared == merged.carried == merged.retiring == ()


def test_every_env_resource_goes_through_the_pinned_provider() -> None:
    ran = run_program("staging", EXAMPLE_VALUES["staging"])
    for args in ran.resources.values():
        assert args.provider is not None
        assert "pulumi:providers:render::envparity-render::" in args.provider


def test_a_cache_without_envparitys_plugin_stops_the_program(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PULUMI_HOME", str(tmp_path / "empty-home"))
    monkeypatch.setenv("PATH", str(tmp_path / "no-plugins-here"))
    with pytest.raises(pulumi.RunError, match="make setup"):
        run_program("staging", EXAMPLE_VALUES["staging"])


def on_render(stack: str, **changes: RenderService) -> dict[str, RenderService]:
    """What Render says the stack's services are: as declared, unless changed."""
    ids = EXAMPLE_VALUES[stack]["envparity:serviceIds"]
    assert isinstance(ids, dict)
    declared = {name: RenderService(id=ids[name], name=name, type=spec.render_type)
                for name, spec in CATALOG.services.items()}
    return {**declared, **changes}


def test_services_as_declared_on_render_pass() -> None:
    ran = run_program("staging", EXAMPLE_VALUES["staging"], seen=on_render("staging"))
    assert set(ran.resources) == {"api", "worker"}


def test_an_id_of_another_stack_stops_the_program_before_any_resource() -> None:
    prod = EXAMPLE_VALUES["production"]["envparity:serviceIds"]
    assert isinstance(prod, dict)
    values = {**EXAMPLE_VALUES["staging"],
              "envparity:serviceIds": {"api": prod["worker"],
                                       "worker": "srv-d1stagingwrk00fake02"}}
    with pytest.raises(pulumi.RunError) as raised:
        run_program("staging", values)
    text = str(raised.value)
    assert "refuses to write" in text
    assert f"same Render service ({prod['worker']}) as production's worker" in text
    assert "fix:" in text


def test_swapped_ids_are_caught_by_the_service_type_on_render() -> None:
    ids = EXAMPLE_VALUES["staging"]["envparity:serviceIds"]
    assert isinstance(ids, dict)
    seen = on_render("staging",
                     api=RenderService(id=ids["api"], name="worker", type="background_worker"),
                     worker=RenderService(id=ids["worker"], name="api", type="web_service"))
    with pytest.raises(pulumi.RunError) as raised:
        run_program("staging", EXAMPLE_VALUES["staging"], seen=seen)
    text = str(raised.value)
    assert "(api): error: points at" in text
    assert "a background_worker on Render; the catalog declares api a web_service" in text
    assert "[render-type]" in text


def test_a_service_render_names_after_another_stack_is_refused() -> None:
    ids = EXAMPLE_VALUES["staging"]["envparity:serviceIds"]
    assert isinstance(ids, dict)
    seen = on_render("staging", worker=RenderService(
        id=ids["worker"], name="worker-production", type="background_worker"))
    with pytest.raises(pulumi.RunError, match=r"names stack production, not staging"):
        run_program("staging", EXAMPLE_VALUES["staging"], seen=seen)
    fine = on_render("staging", worker=RenderService(
        id=ids["worker"], name="worker-staging", type="background_worker"))
    assert set(run_program("staging", EXAMPLE_VALUES["staging"], seen=fine).resources) == {
        "api", "worker"}
