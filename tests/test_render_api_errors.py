"""What the client keeps of Render's answers when they are errors or the wrong shape."""

from __future__ import annotations

import pytest
from client_fixtures import CANARY_KEY, CANARY_VALUE, Script, env_server, make_client, reply

from envparity.core.errors import RenderApiError
from envparity.core.secret import Secret
from envparity.render.models import WITHHELD_MESSAGE


def _put_error(message: str, value: str = CANARY_VALUE) -> RenderApiError:
    script = Script(reply(400, {"message": message}, headers={"Render-Request-Id": "rq-echo"}))
    with make_client(script) as client, pytest.raises(RenderApiError) as err:
        client.put_env_var("srv-1", "SECRET", Secret(value))
    return err.value


def _leaks(error: RenderApiError, *values: str) -> bool:
    """Whether any 8-character run of `values` shows in any text form of `error`."""
    texts = [str(error), repr(error), error.render(), error.render_message]
    return any(
        value[i : i + 8] in text
        for value in values
        for i in range(len(value) - 7)
        for text in texts
    )


@pytest.mark.parametrize(
    "message",
    [
        pytest.param(f"invalid value {CANARY_VALUE[:10]}... for key SECRET", id="prefix"),
        pytest.param(f"bad character in '{CANARY_VALUE[5:13]}'", id="8-from-the-middle"),
        pytest.param(f"value {CANARY_VALUE[-9:]} rejected", id="tail"),
        pytest.param(f"invalid {CANARY_VALUE} (starts {CANARY_VALUE[:12]})", id="whole-and-part"),
        pytest.param(f"key {CANARY_KEY[4:20]} is not allowed here", id="part-of-api-key"),
    ],
)
def test_partial_echo_of_a_sent_value_withholds_the_message(message: str) -> None:
    error = _put_error(message)
    assert error.render_message == WITHHELD_MESSAGE
    assert error.status == 400
    assert error.path == "/services/srv-1/env-vars/SECRET"
    assert error.request_id == "rq-echo"
    text = str(error)
    assert "PUT /services/srv-1/env-vars/SECRET" in text
    assert "HTTP 400" in text
    assert "rq-echo" in text
    assert WITHHELD_MESSAGE in text
    leaked = _leaks(error, CANARY_VALUE, CANARY_KEY)
    assert not leaked, "part of a sent value leaked into the error"


def test_partial_echo_of_any_value_in_a_list_write_is_withheld() -> None:
    script = Script(reply(422, {"message": f"entry 2: '{CANARY_VALUE[3:14]}' too long"}))
    with make_client(script) as client, pytest.raises(RenderApiError) as err:
        client.replace_env_vars("srv-1", [("A", "plain-value-one"), ("B", Secret(CANARY_VALUE))])
    assert err.value.render_message == WITHHELD_MESSAGE
    assert err.value.status == 422
    leaked = _leaks(err.value, CANARY_VALUE)
    assert not leaked, "part of a sent value leaked into the error"


def test_message_without_any_part_of_a_sent_value_is_kept() -> None:
    error = _put_error("value must be at most 1024 characters")
    assert error.render_message == "value must be at most 1024 characters"
    assert "value must be at most 1024 characters" in str(error)


def test_seven_characters_in_common_are_not_an_echo() -> None:
    error = _put_error(f"rejected near '{CANARY_VALUE[:7]}'")
    assert error.render_message == f"rejected near '{CANARY_VALUE[:7]}'"


def test_whole_copy_of_a_short_value_is_masked_and_the_message_kept() -> None:
    error = _put_error("value abc12 is too short for SECRET", value="abc12")
    assert error.render_message == "value *** is too short for SECRET"


@pytest.mark.parametrize(
    "item", [{"cursor": "c-1"}, {"envVar": None, "cursor": "c-1"}, {"deploy": {}, "cursor": "c"}]
)
def test_page_item_without_its_record_is_an_error_not_a_short_read(item: object) -> None:
    page = [{"envVar": {"key": "A", "value": "1"}, "cursor": "c-0"}, item]
    script = Script(reply(200, page, headers={"Render-Request-Id": "rq-page"}))
    with make_client(script) as client, pytest.raises(RenderApiError) as err:
        client.list_env_vars("srv-1")
    assert "GET /services/srv-1/env-vars" in str(err.value)
    assert err.value.status == 200
    assert err.value.request_id == "rq-page"
    assert "no envVar" in err.value.render_message


def test_deploy_page_item_without_a_deploy_is_an_error() -> None:
    good = {"deploy": {"id": "dep-1", "status": "live"}, "cursor": "c-0"}
    script = Script(reply(200, [good, {"cursor": "c-1"}]))
    with make_client(script) as client, pytest.raises(RenderApiError, match="no deploy"):
        client.list_deploys("srv-1")


def test_well_formed_pages_still_read_in_full() -> None:
    env = [(f"K{i}", f"v{i}") for i in range(130)]
    with make_client(Script(env_server(env))) as client:
        assert [(v.key, v.value.reveal()) for v in client.list_env_vars("srv-1")] == env
