from __future__ import annotations

from pathlib import Path

import pytest

from envparity.stack.toolchain import DEMO_PASSPHRASE, pulumi_env, redacted_backend, repo_root


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgres://u:SECRETPW@db.example.com:5432/state", "postgres://***@db.example.com:5432/state"),
        ("s3://bucket/prefix?region=eu-west-1&secret=x", "s3://bucket/prefix"),
        ("file:///work/main/.state", "file:///work/main/.state"),
        ("https://api.pulumi.com", "https://api.pulumi.com"),
    ],
)
def test_backend_urls_are_printed_without_credentials(url: str, shown: str) -> None:
    assert redacted_backend(url) == shown


def test_empty_ci_variables_count_as_unset(tmp_path: Path) -> None:
    env = pulumi_env(tmp_path, environ={"PULUMI_BACKEND_URL": "", "PULUMI_CONFIG_PASSPHRASE": ""})
    assert env["PULUMI_BACKEND_URL"] == (tmp_path / ".state").as_uri()
    assert env["PULUMI_CONFIG_PASSPHRASE"] == DEMO_PASSPHRASE


def test_a_set_passphrase_file_disables_the_demo_passphrase(tmp_path: Path) -> None:
    env = pulumi_env(tmp_path, environ={"PULUMI_CONFIG_PASSPHRASE_FILE": "/run/secret"})
    assert "PULUMI_CONFIG_PASSPHRASE" not in env
    assert env["PULUMI_SKIP_UPDATE_CHECK"] == "true"
    assert env["PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION"] == "true"


def test_repo_root_is_found_from_a_subdirectory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "catalog.yaml").write_text("version: 1\n")
    (tmp_path / "app" / "src").mkdir(parents=True)
    monkeypatch.delenv("ENVPARITY_REPO", raising=False)
    monkeypatch.chdir(tmp_path / "app" / "src")
    assert repo_root() == tmp_path
    monkeypatch.setenv("ENVPARITY_REPO", "/elsewhere")
    assert repo_root() == Path("/elsewhere")
