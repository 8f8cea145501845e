"""Shared helpers for the model tests: example stack values, config builders, project copies.

`EXAMPLE_VALUES` mirrors Pulumi.staging.yaml / Pulumi.production.yaml; test_check proves
through the real CLI that the committed files decrypt to exactly these values, so the pure
tests that use them cannot drift from the files.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from envparity.cli.demo import PROJECT_FILES
from envparity.core.stackvalues import ConfigValue, config_value
from envparity.stack.toolchain import pulumi_bin, pulumi_env, repo_root

REPO = repo_root()
SECRET_NAMES = frozenset({
    "envparity:SUPABASE_ANON_KEY", "envparity:SUPABASE_SERVICE_ROLE_KEY",
    "envparity:DATABASE_URL", "envparity:JWT_SECRET_KEY", "envparity:DOCUMENT_ENCRYPTION_KEY",
    "envparity:ANTHROPIC_API_KEY", "envparity:OPENAI_API_KEY", "envparity:LLAMAPARSE_API_KEY",
    "render:apiKey",
})


def _values(stack: str, ref: str, pooler: str, ids: tuple[str, str], base: str,
            tuning: Mapping[str, str]) -> dict[str, object]:
    return {
        "envparity:serviceIds": {"api": ids[0], "worker": ids[1]},
        "envparity:SUPABASE_URL": f"https://{ref}.supabase.co",
        "envparity:ASYNCPG_DISABLE_PREPARED_STATEMENTS": "true",
        "envparity:API_BASE_URL": base,
        "envparity:WEBHOOK_BASE_URL": f"{base}/webhooks",
        **{f"envparity:{k}": v for k, v in tuning.items()},
        "envparity:SUPABASE_ANON_KEY": f"fake-{stack}-supabase-anon-key",
        "envparity:SUPABASE_SERVICE_ROLE_KEY": f"fake-{stack}-supabase-service-role-key",
        "envparity:DATABASE_URL": (
            f"postgresql://postgres.{ref}:fake-{stack}-db-password@{pooler}-us-east-1"
            ".pooler.supabase.com:6543/postgres?sslmode=require"
        ),
        "envparity:JWT_SECRET_KEY": f"fake-{stack}-jwt-secret-key",
        "envparity:DOCUMENT_ENCRYPTION_KEY": f"fake-{stack}-document-encryption-key",
        "envparity:ANTHROPIC_API_KEY": f"fake-{stack}-anthropic-api-key",
        "envparity:OPENAI_API_KEY": f"fake-{stack}-openai-api-key",
        "envparity:LLAMAPARSE_API_KEY": f"fake-{stack}-llamaparse-api-key",
        "render:apiKey": f"rnd_fake_{stack}_render_api_key",
    }


EXAMPLE_VALUES: dict[str, dict[str, object]] = {
    "staging": _values(
        "staging", "fakestagingrefabcdef", "aws-0",
        ("srv-d1stagingapi00fake01", "srv-d1stagingwrk00fake02"), "https://api.staging.example.com",
        {"LOG_LEVEL": "DEBUG", "UVICORN_WORKERS": "2", "WORKER_POLL_INTERVAL": "5.0",
         "WORKER_MAX_JOBS": "2", "WORKER_MAX_RETRIES": "3", "WORKER_RETRY_BASE_DELAY": "2.0"},
    ),
    "production": _values(
        "production", "fakeproductionrefxyz", "aws-1",
        ("srv-d0v2nqvdiees73cejf0g", "srv-d2h5mr8dl3ps73fvvlog"), "https://api.example.com",
        {"LOG_LEVEL": "INFO", "UVICORN_WORKERS": "4", "WORKER_POLL_INTERVAL": "2.0",
         "WORKER_MAX_JOBS": "4", "WORKER_MAX_RETRIES": "5", "WORKER_RETRY_BASE_DELAY": "2.0"},
    ),
}


def make_config(values: Mapping[str, object], secret: frozenset[str] = SECRET_NAMES
                ) -> dict[str, ConfigValue]:
    """ConfigValues as the CLI reader builds them; `secret` names the `secure:` entries."""
    config = {}
    for name, value in values.items():
        text = json.dumps(value) if isinstance(value, dict) else str(value)
        config[name] = config_value(text, secret=name in secret)
    return config


def example_config(stack: str, **changes: object) -> dict[str, ConfigValue]:
    """An example stack's config with entries changed (value) or removed (None)."""
    values = dict(EXAMPLE_VALUES[stack])
    for name, value in changes.items():
        full = name if ":" in name else f"envparity:{name}"
        if value is None:
            values.pop(full, None)
        else:
            values[full] = value
    return make_config(values)


def clean_environ() -> dict[str, str]:
    """The test process's env without any PULUMI_* setting, so each copy uses its own backend."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")}


def copy_project(template: Path | None, dest: Path) -> Path:
    """A copy of the project's declaration (and, from a template, its initialised backend)."""
    source = template or REPO
    dest.mkdir(parents=True, exist_ok=True)
    for name in (*PROJECT_FILES, ".state") if template else PROJECT_FILES:
        src = source / name
        if src.is_dir():
            shutil.copytree(src, dest / name)
        elif src.exists():
            shutil.copy2(src, dest / name)
    return dest


def pulumi(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the pinned CLI against a copy's own backend (used to break copies on purpose)."""
    env = pulumi_env(repo, environ=clean_environ())
    return subprocess.run([str(pulumi_bin(REPO)), *args, "--non-interactive"], cwd=repo, env=env,
                          capture_output=True, text=True, check=True, timeout=120)
