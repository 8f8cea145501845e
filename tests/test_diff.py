"""The pure declared-versus-live diff: kinds, scope, what values may be shown."""

from __future__ import annotations

import dataclasses
import json

import pytest
from drift_fixtures import CANARY, FP_KEY, desired_stack, pooler_url
from hypothesis import given
from hypothesis import strategies as st

from envparity.core.desired import DesiredService
from envparity.core.diff import DiffKind, diff_env, url_side
from envparity.core.secret import Secret, fingerprint, reveal
from envparity.emulator.scenarios import direct_host_url


def _worker(stack: str = "production") -> DesiredService:
    return desired_stack(stack).service("worker")


def _live(svc: DesiredService) -> dict[str, Secret]:
    return {k: Secret(reveal(v)) for k, v in svc.env.items()}


def test_identical_env_has_no_drift() -> None:
    svc = _worker()
    assert diff_env(svc, _live(svc), fingerprint_key=FP_KEY) == ()


def test_missing_secret_key_shows_declared_fingerprint_only() -> None:
    svc = _worker()
    live = _live(svc)
    del live["DOCUMENT_ENCRYPTION_KEY"]
    (item,) = diff_env(svc, live, fingerprint_key=FP_KEY)
    assert (item.key, item.kind, item.secret) == ("DOCUMENT_ENCRYPTION_KEY", DiffKind.MISSING, True)
    assert item.declared == fingerprint(Secret("doc-key-production"), key=FP_KEY)
    assert item.live is None
    assert "not set on Render" in item.message


def test_changed_plain_key_shows_both_values() -> None:
    svc = _worker()
    live = _live(svc) | {"LOG_LEVEL": Secret("DEBUG")}
    (item,) = diff_env(svc, live, fingerprint_key=FP_KEY)
    assert (item.kind, item.secret, item.declared, item.live) == (
        DiffKind.CHANGED, False, "INFO", "DEBUG"
    )


def test_changed_secret_shows_two_different_fingerprints() -> None:
    svc = _worker()
    live = _live(svc) | {"JWT_SECRET_KEY": Secret("rotated-by-hand")}
    (item,) = diff_env(svc, live, fingerprint_key=FP_KEY)
    assert item.kind is DiffKind.CHANGED
    assert item.secret
    assert item.declared is not None
    assert item.live is not None
    assert item.declared.startswith("fp:")
    assert item.live.startswith("fp:")
    assert item.declared != item.live
    assert item.declared == fingerprint(Secret(CANARY), key=FP_KEY)


def test_live_only_keys_unmanaged_unless_preserved_or_retired() -> None:
    svc = _worker()
    live = _live(svc) | {
        "PYTHON_VERSION": Secret("3.11.9"),
        "FEATURE_X": Secret("on"),
        "SUPABASE_DB_URL": Secret(pooler_url("production")),
    }
    items = {i.key: i for i in diff_env(svc, live, fingerprint_key=FP_KEY)}
    assert set(items) == {"FEATURE_X", "SUPABASE_DB_URL"}
    assert items["FEATURE_X"].kind is DiffKind.UNMANAGED
    # Undeclared: its secret-ness is unknown, so only a fingerprint is shown.
    assert items["FEATURE_X"].live == fingerprint(Secret("on"), key=FP_KEY)
    assert items["SUPABASE_DB_URL"].kind is DiffKind.RETIRED_PRESENT
    assert items["SUPABASE_DB_URL"].live_url is not None
    assert items["SUPABASE_DB_URL"].live_url.kind == "supabase-pooler-transaction"


def test_retired_key_gone_from_render_is_not_drift() -> None:
    svc = _worker()
    assert "SUPABASE_DB_URL" in svc.retired
    assert diff_env(svc, _live(svc), fingerprint_key=FP_KEY) == ()


def test_postgres_url_change_names_both_classes_and_hosts_never_password() -> None:
    svc = _worker()
    declared = reveal(svc.env["DATABASE_URL"])
    live = _live(svc) | {"DATABASE_URL": Secret(direct_host_url(declared))}
    (item,) = diff_env(svc, live, fingerprint_key=FP_KEY)
    data = item.to_dict()
    assert data["declared_class"] == "supabase-pooler-transaction"
    assert data["live_class"] == "supabase-direct"
    assert data["declared_host"] == "aws-0-us-east-1.pooler.supabase.com:6543"
    assert data["live_host"] == "db.prodref0000000000002.supabase.co:5432"
    assert item.message.endswith(
        "(supabase-pooler-transaction declared, supabase-direct on Render)"
    )
    assert "pw-production" not in json.dumps(data) + repr(item)


def test_unparseable_live_url_is_classed_not_echoed() -> None:
    svc = _worker()
    live = _live(svc) | {"DATABASE_URL": Secret("postgresql://u:p@ss@wrong host/db")}
    (item,) = diff_env(svc, live, fingerprint_key=FP_KEY)
    assert item.live_url is not None
    assert item.live_url.kind == "unparseable"
    assert item.live_url.host is None
    assert "p@ss" not in json.dumps(item.to_dict())


def test_url_side_of_direct_host() -> None:
    side = url_side(direct_host_url(pooler_url("staging")))
    assert (side.kind, side.host) == ("supabase-direct", "db.stagingref0000000001.supabase.co:5432")


def test_items_are_immutable_and_sorted() -> None:
    svc = _worker()
    live = {k: v for k, v in _live(svc).items() if k not in ("WORKER_MAX_JOBS", "ENVIRONMENT")}
    items = diff_env(svc, live | {"AAA": Secret("x")}, fingerprint_key=FP_KEY)
    assert [i.key for i in items] == ["AAA", "ENVIRONMENT", "WORKER_MAX_JOBS"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        items[0].key = "B"  # type: ignore[misc]


def test_canary_secret_never_in_any_item() -> None:
    svc = _worker()
    live = {k: v for k, v in _live(svc).items() if k != "JWT_SECRET_KEY"}
    live["UNDECLARED"] = Secret(CANARY)
    items = diff_env(svc, live, fingerprint_key=FP_KEY)
    assert {i.key for i in items} == {"JWT_SECRET_KEY", "UNDECLARED"}
    text = json.dumps([i.to_dict() for i in items]) + repr(items) + str(items)
    assert CANARY not in text


_keys = st.sampled_from([f"K{i}" for i in range(8)])
_vals = st.sampled_from(["a", "b", "c"])


@given(
    declared=st.dictionaries(_keys, _vals),
    live=st.dictionaries(_keys, _vals),
    preserve=st.frozensets(_keys),
)
def test_kinds_match_set_arithmetic(
    declared: dict[str, str], live: dict[str, str], preserve: frozenset[str]
) -> None:
    svc = DesiredService("s", "srv-x", "web_service", declared, preserve=preserve)
    items = diff_env(svc, {k: Secret(v) for k, v in live.items()}, fingerprint_key=FP_KEY)
    by_kind = {kind: {i.key for i in items if i.kind is kind} for kind in DiffKind}
    assert by_kind[DiffKind.MISSING] == declared.keys() - live.keys()
    assert by_kind[DiffKind.UNMANAGED] == live.keys() - declared.keys() - preserve
    assert by_kind[DiffKind.CHANGED] == {
        k for k in declared.keys() & live.keys() if declared[k] != live[k]
    }
    assert by_kind[DiffKind.RETIRED_PRESENT] == set()


def test_postgres_url_in_a_plain_key_is_still_fingerprinted() -> None:
    url = pooler_url("production", password=CANARY)
    svc = DesiredService("api", "srv-a", "web_service", {"REPLICA_URL": url})
    live = {"REPLICA_URL": Secret(url + "?sslmode=require")}
    (item,) = diff_env(svc, live, fingerprint_key=FP_KEY)
    assert item.secret
    assert CANARY not in json.dumps(item.to_dict())
    assert item.to_dict()["live_class"] == "supabase-pooler-transaction"


@pytest.mark.parametrize(
    "pasted",
    ["doc-key-production", CANARY, "level doc-key-production", "sk-openai-production"],
)
def test_a_secret_pasted_into_a_plain_key_is_a_fingerprint(pasted: str) -> None:
    svc = _worker()
    (item,) = diff_env(svc, _live(svc) | {"LOG_LEVEL": Secret(pasted)}, fingerprint_key=FP_KEY,
                       stack_secrets=frozenset({Secret(CANARY)}))
    assert item.secret
    assert item.live == fingerprint(Secret(pasted), key=FP_KEY)
    assert item.declared == "INFO"


def test_a_short_secret_is_matched_only_whole() -> None:
    svc = _worker()
    live = _live(svc) | {"LOG_LEVEL": Secret("DEBUG true")}
    (item,) = diff_env(svc, live, fingerprint_key=FP_KEY, stack_secrets=frozenset({Secret("true")}))
    assert item.live == "DEBUG true"


def test_url_credentials_in_a_plain_value_are_masked() -> None:
    svc = _worker()
    live = _live(svc) | {"LOG_LEVEL": Secret("https://admin:pw-0d1e@logs.example.com/x")}
    (item,) = diff_env(svc, live, fingerprint_key=FP_KEY)
    assert item.live == "https://admin:***@logs.example.com/x"
