"""Retries, backoff, the retry budget, and that no key or value ever leaks on the way."""

from __future__ import annotations

import logging
import ssl

import httpx
import pytest
from client_fixtures import (
    CANARY_KEY,
    CANARY_VALUE,
    FakeClock,
    Script,
    env_server,
    make_client,
    reply,
)

from envparity.core.errors import (
    RenderApiError,
    RenderAuthError,
    RenderNotFound,
    RenderRateLimited,
    RenderUnavailable,
)
from envparity.core.secret import Secret

ENV = [("A", "1"), ("B", "2")]


def too_many(headers: dict[str, str] | None = None) -> httpx.Response:
    return reply(429, {"message": "rate limit exceeded"}, headers=headers)


def connect_error() -> httpx.ConnectError:
    return httpx.ConnectError("connection refused")


def test_429_storm_then_success_honours_retry_after() -> None:
    clock = FakeClock()
    storm = too_many({"Retry-After": "7", "Ratelimit-Reset": "50"})
    script = Script(storm, storm, storm, env_server(ENV))
    with make_client(script, clock) as client:
        got = client.list_env_vars("srv-1")
    assert [v.key for v in got] == ["A", "B"]
    assert len(script.requests) == 4
    assert clock.sleeps == [7.0, 7.0, 7.0]


def test_429_without_retry_after_uses_ratelimit_reset_as_seconds() -> None:
    clock = FakeClock()
    script = Script(too_many({"Ratelimit-Limit": "400", "Ratelimit-Reset": "12"}), env_server(ENV))
    with make_client(script, clock) as client:
        assert len(client.list_env_vars("srv-1")) == 2
    assert clock.sleeps == [12.0]


def test_429_without_any_hint_backs_off_exponentially() -> None:
    clock = FakeClock()
    script = Script(too_many(), too_many(), too_many(), env_server(ENV))
    with make_client(script, clock) as client:
        client.list_env_vars("srv-1")
    assert clock.sleeps == [0.25, 0.5, 1.0]


def test_jitter_spreads_waits_above_the_servers_ask() -> None:
    clock = FakeClock()
    script = Script(too_many({"Retry-After": "5"}), too_many(), env_server(ENV))
    with make_client(script, clock, jitter=lambda: 0.999) as client:
        client.list_env_vars("srv-1")
    # Retry-After 5 plus up to 10% (at most 1 s); backoff for attempt 2 is 0.5..1.0 s.
    assert clock.sleeps == [pytest.approx(5.4995), pytest.approx(0.9995)]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_then_success(status: int) -> None:
    clock = FakeClock()
    failing = reply(status, {"message": "upstream"}, headers={"Render-Request-Id": "rq-1"})
    script = Script(failing, failing, env_server(ENV))
    with make_client(script, clock) as client:
        assert len(client.list_env_vars("srv-1")) == 2
    assert len(script.requests) == 3
    assert clock.sleeps == [0.25, 0.5]


def test_connection_error_then_success() -> None:
    clock = FakeClock()
    script = Script(connect_error(), httpx.ReadTimeout("slow"), env_server(ENV))
    with make_client(script, clock) as client:
        assert len(client.list_env_vars("srv-1")) == 2
    assert len(script.requests) == 3
    assert clock.sleeps == [0.25, 0.5]


def test_5xx_exhausting_the_budget_gives_a_typed_error() -> None:
    clock = FakeClock()
    failing = reply(503, {"message": "service unavailable"},
                    headers={"Render-Request-Id": "rq-503"})
    script = Script(failing)
    with (
        make_client(script, clock, retry_budget_seconds=5.0, server_error_attempts=10) as client,
        pytest.raises(RenderUnavailable) as err,
    ):
        client.list_env_vars("srv-1")
    error = err.value
    assert (error.method, error.path, error.status, error.request_id) == (
        "GET", "/services/srv-1/env-vars", 503, "rq-503"
    )
    text = str(error)
    for part in ("GET", "/services/srv-1/env-vars", "HTTP 503", "service unavailable", "rq-503"):
        assert part in text
    # 0.25 + 0.5 + 1 + 2 = 3.75 s slept; the next wait (4 s) would overrun the 5 s budget.
    assert clock.sleeps == [0.25, 0.5, 1.0, 2.0]
    assert error.attempts == len(script.requests) == 5
    assert f"after {error.attempts} attempts" in text


def test_connection_errors_exhausted_have_no_status() -> None:
    clock = FakeClock()
    with (
        make_client(Script(connect_error()), clock, retry_budget_seconds=2.0) as client,
        pytest.raises(RenderUnavailable) as err,
    ):
        client.delete_env_var("srv-1", "A")
    assert err.value.status is None
    assert err.value.request_id is None
    assert "DELETE /services/srv-1/env-vars/A failed: no response" in str(err.value)
    assert "ConnectError" in str(err.value)


def test_429_asking_for_more_than_the_budget_fails_at_once() -> None:
    clock = FakeClock()
    script = Script(too_many({"Retry-After": "120", "Render-Request-Id": "rq-429"}))
    with (
        make_client(script, clock, retry_budget_seconds=60.0) as client,
        pytest.raises(RenderRateLimited) as err,
    ):
        client.list_env_vars("srv-1")
    assert clock.sleeps == []
    assert len(script.requests) == 1
    assert err.value.status == 429
    assert err.value.request_id == "rq-429"
    assert "rate limit exceeded" in str(err.value)


def test_429_storm_longer_than_the_budget_is_rate_limited_error() -> None:
    clock = FakeClock()
    script = Script(too_many({"Retry-After": "10"}))
    with (
        make_client(script, clock, retry_budget_seconds=35.0) as client,
        pytest.raises(RenderRateLimited),
    ):
        client.get_service("srv-1")
    assert clock.sleeps == [10.0, 10.0, 10.0]
    assert len(script.requests) == 4


def test_attempts_are_capped_even_when_waits_are_zero() -> None:
    clock = FakeClock()
    script = Script(too_many({"Retry-After": "0"}))
    with (
        make_client(script, clock, max_attempts=4) as client,
        pytest.raises(RenderRateLimited) as err,
    ):
        client.get_service("srv-1")
    assert err.value.attempts == 4
    assert len(script.requests) == 4


def test_writes_are_retried_with_the_same_body() -> None:
    clock = FakeClock()
    ok = reply(200, {"key": "A", "value": "new"})
    script = Script(reply(500), connect_error(), ok)
    with make_client(script, clock) as client:
        assert client.put_env_var("srv-1", "A", "new").value == Secret("new")
    assert [r.content for r in script.requests] == [b'{"value":"new"}'] * 3


def test_canary_never_reaches_logs_errors_or_reprs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    clock = FakeClock()
    echoing = reply(400, {"message": f"invalid value {CANARY_VALUE} for key {CANARY_KEY}"},
                    headers={"Render-Request-Id": "rq-echo"})
    script = Script(
        env_server([("SECRET", CANARY_VALUE)]),
        reply(503, {"message": "down"}), reply(200, [{"envVar": {"key": "SECRET",
                                                                 "value": CANARY_VALUE},
                                                      "cursor": "x"}]),
        echoing,
        reply(401, {"message": "bad key"}),
    )
    seen: list[str] = []
    with make_client(script, clock) as client:
        got = client.list_env_vars("srv-1")
        seen += [repr(got), str(got), repr(client)]
        replaced = client.replace_env_vars("srv-1", [("SECRET", Secret(CANARY_VALUE))])
        seen += [repr(replaced), f"{replaced[0].value}"]
        with pytest.raises(RenderApiError) as bad:
            client.put_env_var("srv-1", "SECRET", Secret(CANARY_VALUE))
        seen += [str(bad.value), repr(bad.value), bad.value.render(), bad.value.render_message]
        with pytest.raises(RenderAuthError) as auth:
            client.get_service("srv-1")
        seen += [str(auth.value), auth.value.render()]
    assert got[0].value.reveal() == CANARY_VALUE  # the value was really read
    assert "rq-echo" in str(bad.value)
    assert "***" in bad.value.render_message
    assert caplog.records, "the client logs its requests"
    seen += [caplog.text, *(str(r.__dict__) for r in caplog.records)]
    for text in seen:
        leaked = CANARY_VALUE in text or CANARY_KEY in text
        assert not leaked, "canary value or API key leaked into a repr, an error or the logs"


def test_log_records_say_method_path_status_attempt_and_request_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="envparity.render.client")
    failing = reply(503, {"message": "down"}, headers={"Render-Request-Id": "rq-a"})
    script = Script(failing, env_server(ENV))
    with make_client(script) as client:
        client.list_env_vars("srv-1")
    ours = [r.getMessage() for r in caplog.records if r.name == "envparity.render.client"]
    assert any(
        "GET /services/srv-1/env-vars -> 503 attempt 1 request_id rq-a" in m for m in ours
    )
    assert any("retrying in 0.25s" in m for m in ours)
    assert any("-> 200 attempt 2 request_id req-0" in m for m in ours)


def test_untrusted_certificate_is_not_retried() -> None:
    clock = FakeClock()
    rejected = httpx.ConnectError("certificate verify failed")
    rejected.__cause__ = ssl.SSLCertVerificationError("unable to get local issuer certificate")
    script = Script(rejected)
    with make_client(script, clock) as client, pytest.raises(RenderUnavailable) as err:
        client.list_env_vars("srv-1")
    assert len(script.requests) == 1
    assert clock.sleeps == []
    assert "TLS certificate not trusted" in str(err.value)
    assert "SSL_CERT_FILE" in err.value.hint


DEPLOY = {"id": "dep-1", "status": "created", "trigger": "api"}


def test_a_deploy_that_may_have_started_is_not_sent_twice() -> None:
    for failure in (reply(503, {"message": "unavailable"}), httpx.ReadTimeout("no answer")):
        script = Script(failure, reply(201, DEPLOY))
        with make_client(script, FakeClock()) as client, pytest.raises(RenderUnavailable):
            client.trigger_deploy("srv-1")
        assert len(script.requests) == 1


def test_a_deploy_that_never_left_is_retried() -> None:
    script = Script(connect_error(), reply(201, DEPLOY))
    with make_client(script, FakeClock()) as client:
        deploy = client.trigger_deploy("srv-1")
    assert deploy is not None
    assert deploy.id == "dep-1"
    assert len(script.requests) == 2


def test_an_env_replace_is_idempotent_and_retried_after_5xx() -> None:
    script = Script(reply(503, {"message": "unavailable"}), env_server(ENV))
    with make_client(script, FakeClock()) as client:
        assert [v.key for v in client.replace_env_vars("srv-1", ENV)] == ["A", "B"]
    assert len(script.requests) == 2


def test_a_persistent_server_error_gives_up_within_seconds() -> None:
    """Drift in a PR check waits on this: four attempts, at most 3.5 s of waiting."""
    clock = FakeClock()
    script = Script(reply(500, {"message": "internal error"}))
    with (
        make_client(script, clock, jitter=lambda: 0.999) as client,
        pytest.raises(RenderUnavailable) as err,
    ):
        client.list_env_vars("srv-1")
    assert err.value.attempts == len(script.requests) == 4
    assert sum(clock.sleeps) <= 3.5


def test_server_errors_between_429s_count_only_themselves() -> None:
    script = Script(too_many({"Retry-After": "1"}), too_many({"Retry-After": "1"}),
                    reply(503, {"message": "unavailable"}), too_many({"Retry-After": "1"}),
                    reply(503, {"message": "unavailable"}), env_server(ENV))
    with make_client(script, FakeClock(), server_error_attempts=3) as client:
        assert [v.key for v in client.list_env_vars("srv-1")] == ["A", "B"]


@pytest.mark.parametrize("lost", [reply(503, {"message": "unavailable"}),
                                  httpx.ReadTimeout("no answer")])
def test_a_retried_delete_that_already_succeeded_is_done(
    lost: httpx.Response | Exception,
) -> None:
    script = Script(lost, reply(404, {"message": "not found: A"}))
    with make_client(script, FakeClock()) as client:
        client.delete_env_var("srv-1", "A")
    assert len(script.requests) == 2


def test_a_first_delete_of_a_missing_key_is_still_not_found() -> None:
    script = Script(reply(404, {"message": "not found: A"}))
    with make_client(script, FakeClock()) as client, pytest.raises(RenderNotFound):
        client.delete_env_var("srv-1", "A")


def test_a_delete_refused_before_sending_then_404_is_not_found() -> None:
    script = Script(connect_error(), reply(404, {"message": "not found: A"}))
    with make_client(script, FakeClock()) as client, pytest.raises(RenderNotFound):
        client.delete_env_var("srv-1", "A")
