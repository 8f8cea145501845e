"""Shared helpers for tests that talk to the Render API emulator.

`checked_emulator` starts an emulator that records every exchange and, on exit, validates each
response against Render's published OpenAPI document with openapi-core; any test that uses it
therefore also checks conformance. Other streams may import these helpers.
"""

from __future__ import annotations

import copy
import json
import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import httpx
from openapi_core import Config, OpenAPI
from openapi_core.templating.paths.exceptions import PathError
from openapi_core.templating.responses.exceptions import ResponseFinderError
from openapi_core.testing import MockRequest, MockResponse
from openapi_schema_validator import OAS30Validator

from envparity.emulator import Emulator, Exchange, Faults, running_emulator
from envparity.render.endpoint import tls_verify

API_KEY = "rnd_test_key"
OWNER_ID = "tea-cs0q4hbtq21c73anb7k0"
API_ID = "srv-d0v2nqvdiees73cejf0g"
WORKER_ID = "srv-d2h5mr8dl3ps73fvvlog"
PREVIEW_ID = "srv-preview0000000000000"
CRON_ID = "srv-cron00000000000000000"
GROUP_ID = "evg-shared000000000000000"
POSTGRES_ID = "dpg-main0000000000000000-a"

# Where Render's spec lives: beside the repository, or wherever RENDER_OPENAPI_SPEC points.
SPEC_PATH = Path(
    os.environ.get(
        "RENDER_OPENAPI_SPEC",
        Path(__file__).resolve().parents[2] / "shared" / "render-api" / "openapi.json",
    )
)
_SERVER = "https://api.render.com"
_DETAILS_SCHEMA = {
    "static_site": "staticSiteDetails",
    "web_service": "webServiceDetails",
    "private_service": "privateServiceDetails",
    "background_worker": "backgroundWorkerDetails",
    "cron_job": "cronJobDetails",
}


def app_seed() -> dict[str, Any]:
    """The worked example: api + worker in one workspace, plus the odd cases lists must handle."""
    return {
        "apiKeys": [API_KEY],
        "owners": [{"id": OWNER_ID, "name": "acme", "email": "ops@example.com", "type": "team"}],
        "user": {"name": "Ops", "email": "ops@example.com"},
        "services": [
            {"id": API_ID, "name": "api", "type": "web_service", "ownerId": OWNER_ID,
             "envVars": {"LOG_LEVEL": "info", "ENVIRONMENT": "production"},
             "deploys": [{"status": "live", "createdAt": "2026-01-01T10:00:00Z",
                          "finishedAt": "2026-01-01T10:05:00Z"}]},
            {"id": WORKER_ID, "name": "worker", "type": "background_worker", "ownerId": OWNER_ID,
             "envVars": {"LOG_LEVEL": "info"},
             "deploys": [{"status": "live", "createdAt": "2026-01-01T10:00:00Z"},
                         {"status": "build_failed", "createdAt": "2026-01-02T10:00:00Z"}]},
            {"id": PREVIEW_ID, "name": "api-pr-7", "type": "web_service", "ownerId": OWNER_ID,
             "parentServer": {"id": API_ID, "name": "api"}},
            {"id": CRON_ID, "name": "nightly", "type": "cron_job", "ownerId": OWNER_ID,
             "suspended": "suspended", "runtime": "docker"},
        ],
        "envGroups": [{"id": GROUP_ID, "name": "shared", "ownerId": OWNER_ID,
                       "envVars": {"SENTRY_ENV": "production"}, "serviceIds": [API_ID]}],
        "postgres": [{"id": POSTGRES_ID, "name": "main", "databaseName": "app",
                      "databaseUser": "app", "password": "pg-secret-canary"}],
    }


def seed_with_env(count: int, service_id: str = API_ID) -> dict[str, Any]:
    """`app_seed` with `count` env vars on one service, keys in a known order."""
    seed = app_seed()
    service = next(s for s in seed["services"] if s["id"] == service_id)
    service["envVars"] = {f"KEY_{i:04d}": f"value-{i}" for i in range(count)}
    return seed


def client(emu: Emulator, *, key: str | None = API_KEY, **kwargs: Any) -> httpx.Client:
    headers = {"Accept": "application/json"}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    verify = tls_verify(str(emu.ca_file) if emu.ca_file else True)
    return httpx.Client(base_url=emu.base_url, headers=headers, verify=verify, timeout=10,
                        **kwargs)


class SpecValidator:
    """Validates emulator answers against Render's OpenAPI document with openapi-core.

    One known defect in the document is patched: `service.serviceDetails` is a `oneOf` without a
    discriminator whose branches overlap (a web service's details also satisfy the private
    service and background worker branches), so no real web service can pass it. We use `anyOf`
    there and check the branch named by the service's `type` separately, which is stricter.
    """

    def __init__(self, spec_path: Path = SPEC_PATH) -> None:
        spec = json.loads(spec_path.read_text(encoding="utf-8"))
        self.raw_spec = copy.deepcopy(spec)
        details = spec["components"]["schemas"]["service"]["properties"]["serviceDetails"]
        details["anyOf"] = details.pop("oneOf")
        # The document is Render's, fixed, and not under test: validating the document itself
        # on every load costs seconds per test process, so only answers are validated.
        self.openapi = OpenAPI.from_dict(spec, config=Config(spec_validator_cls=None))
        self._lock = threading.Lock()
        self._validators: dict[str, OAS30Validator] = {}

    def _schema_problems(self, name: str, instance: Any) -> list[str]:
        validator = self._validators.get(name)
        if validator is None:
            # The $ref resolves inside the whole document, so nested refs work unchanged.
            schema = {"$ref": f"#/components/schemas/{name}", **{
                k: self.raw_spec[k] for k in ("components", "paths")}}
            validator = self._validators[name] = OAS30Validator(schema)
        return [e.message[:300] for e in validator.iter_errors(instance)]

    def problems(self, ex: Exchange) -> list[str]:
        """What is wrong with one exchange; empty when it conforms."""
        if ex.status == 0:
            return []  # a dropped connection has no answer to validate
        where = f"{ex.method} {ex.path} -> {ex.status}"
        found: list[str] = []
        if "Render-Request-Id" not in ex.response_headers:
            found.append(f"{where}: no Render-Request-Id header")
        body = _parse(ex.response_body)
        if ex.status >= 400:
            found += [f"{where}: error body: {p}" for p in self._schema_problems("error", body)]
            if not isinstance(body, dict) or not body.get("message"):
                found.append(f"{where}: error body has no message")
        request = MockRequest(_SERVER, ex.method.lower(), ex.path,
                              args=_query_args(ex.query), headers={"Authorization": "Bearer x"})
        response = MockResponse(ex.response_body, status_code=ex.status,
                                content_type=ex.response_headers.get("Content-Type", "")
                                .split(";")[0] or "application/json")
        with self._lock:
            try:
                self.openapi.validate_response(request, response)
            except (PathError, ResponseFinderError) as exc:
                # The spec does not list this status (or path) for the operation: acceptable
                # only for errors, whose body was checked against the `error` schema above.
                if ex.status < 400:
                    found.append(f"{where}: not in the spec ({type(exc).__name__})")
            except Exception as exc:
                found.append(f"{where}: {type(exc).__name__}: {str(exc)[:500]}")
        for service in _services_in(ex, body):
            schema = _DETAILS_SCHEMA[service["type"]]
            found += [f"{where}: serviceDetails for {service['type']}: {p}"
                      for p in self._schema_problems(schema, service["serviceDetails"])]
        return found


@lru_cache(maxsize=1)
def spec_validator() -> SpecValidator:
    """One validator per test process."""
    return SpecValidator()


class Recorder:
    """Collects every exchange of an emulator, for conformance checks after the fact."""

    def __init__(self) -> None:
        self.exchanges: list[Exchange] = []
        self._lock = threading.Lock()

    def __call__(self, exchange: Exchange) -> None:
        with self._lock:
            self.exchanges.append(exchange)

    def problems(self, validator: SpecValidator | None = None) -> list[str]:
        validator = validator or spec_validator()
        with self._lock:
            exchanges = list(self.exchanges)
        return [p for ex in exchanges for p in validator.problems(ex)]


@contextmanager
def checked_emulator(
    seed: Mapping[str, Any] | None = None, **kwargs: Any
) -> Iterator[Emulator]:
    """`running_emulator` whose every answer must conform to the spec and never be a 500."""
    recorder = Recorder()
    with running_emulator(seed if seed is not None else app_seed(), **kwargs) as emu:
        emu.add_observer(recorder)
        yield emu
        unexpected = emu.unexpected_errors
    assert unexpected == [], f"the emulator failed unexpectedly: {unexpected}"
    problems = recorder.problems()
    assert problems == [], "responses that do not conform:\n" + "\n".join(problems[:20])


def _parse(data: bytes) -> Any:
    if not data:
        return None
    try:
        return json.loads(data)
    except ValueError:
        return None


def _query_args(query: str) -> dict[str, Any]:
    from urllib.parse import parse_qsl

    args: dict[str, Any] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        args[name] = value
    return args


def _services_in(ex: Exchange, body: Any) -> list[dict[str, Any]]:
    if ex.method != "GET" or ex.status != 200 or not ex.path.startswith("/v1/services"):
        return []
    parts = ex.path.strip("/").split("/")
    if len(parts) == 2 and isinstance(body, list):
        return [i["service"] for i in body if isinstance(i, dict) and "service" in i]
    if len(parts) == 3 and isinstance(body, dict):
        return [body]
    return []


__all__ = [
    "API_ID",
    "API_KEY",
    "CRON_ID",
    "GROUP_ID",
    "OWNER_ID",
    "POSTGRES_ID",
    "PREVIEW_ID",
    "SPEC_PATH",
    "WORKER_ID",
    "Faults",
    "Recorder",
    "SpecValidator",
    "app_seed",
    "checked_emulator",
    "client",
    "seed_with_env",
    "spec_validator",
]
