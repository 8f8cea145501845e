"""`make demo` runs the incident from start to fix and prints no secret."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from envparity.cli import demo
from envparity.core.secret import Secret, reveal
from envparity.stack.loader import load_desired
from envparity.stack.toolchain import repo_root

pytestmark = pytest.mark.engine  # runs the pinned pulumi CLI


def test_demo_finds_the_incident_fixes_it_and_shows_no_secret(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PULUMI_BACKEND_URL", raising=False)
    assert demo.run() == 0
    out = capsys.readouterr().out

    before, _, after = out.partition("pulumi up: apply it")
    assert "DOCUMENT_ENCRYPTION_KEY  missing" in before
    assert "supabase-direct on Render" in before
    assert "worker's last deploy failed" in before
    comment = before.partition("The pull request's preview of the fix")[2]
    assert "## envparity preview of `production`" in comment
    assert "4 changes in 1 service; no review signal" in comment
    assert "`supabase-direct` @" in comment
    assert "Unchanged: `api`" in comment
    assert "UNEXPECTED" not in out
    assert "Drift of stack production: clean" in after
    assert out.rstrip().endswith("demo finished: Render matches the declaration")
    scratch = re.search(r"its own Pulumi backend: (\S+)", out)
    assert scratch is not None
    assert not Path(scratch.group(1)).exists()

    secrets = [
        reveal(value)
        for stack in ("staging", "production")
        for service in (load_desired(stack, repo=repo_root())[0] or pytest.fail(stack)).services
        for value in service.env.values()
        if isinstance(value, Secret)
    ]
    assert secrets
    assert not [s for s in secrets if s in out]


def test_demo_with_groups_finds_the_unlinked_worker_and_links_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PULUMI_BACKEND_URL", raising=False)
    assert demo.run(groups=True) == 0
    out = capsys.readouterr().out
    before, _, after = out.partition("pulumi up: apply it")
    assert "worker (srv-d2h5mr8dl3ps73fvvlog): 19 keys, groups: none" in before
    assert "app-shared-production  group-not-linked" in before
    assert "JWT_SECRET_KEY  one-sided: set on staging, not on production" in before
    assert "UNEXPECTED" not in out
    assert "groups: app-shared-production, last deploy live" in after
    assert out.count("groups: app-shared-production,") == 3
    assert "fake CA bundle" not in out
