"""Property tests: malformed requests get a 4xx (never a 5xx) and leave the state untouched.

One emulator serves the whole module; `checked_emulator` also validates every answer given here
against Render's spec when the module ends.
"""

from __future__ import annotations

import base64
import json
import socket
import string
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from emulator_fixtures import API_ID, API_KEY, GROUP_ID, checked_emulator, client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from envparity.emulator import Emulator

# Each example is a round trip to a live emulator: at most 60, fewer in the fast lane's profile.
SETTINGS = settings(max_examples=min(60, settings.default.max_examples), deadline=None,
                    database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])
_B64 = set(string.ascii_letters + string.digits + "+/=")

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(),
                         st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=20))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12)
good_key = st.from_regex(r"[A-Z_][A-Z0-9_]{0,10}", fullmatch=True)
not_a_string = json_values.filter(lambda v: not isinstance(v, str))
not_true = json_values.filter(lambda v: v is not True)
bad_value_body = st.one_of(
    json_values.filter(lambda v: not isinstance(v, dict)),
    st.fixed_dictionaries({"value": not_a_string}),
    st.fixed_dictionaries({"generateValue": not_true}),
    st.fixed_dictionaries({"value": st.text(), "generateValue": st.just(True)}),
    st.dictionaries(st.sampled_from(["val", "Value", "generate"]), json_values, max_size=2),
)
bad_item = st.one_of(
    json_values.filter(lambda v: not isinstance(v, dict)),
    st.fixed_dictionaries({"value": st.text()}),
    st.fixed_dictionaries({"key": not_a_string, "value": st.text()}),
    st.fixed_dictionaries({"key": good_key, "value": not_a_string}),
    st.fixed_dictionaries({"key": good_key, "generateValue": not_true}),
    st.fixed_dictionaries({"key": good_key, "value": st.text(), "generateValue": st.just(True)}),
    st.fixed_dictionaries({"key": st.sampled_from(["", "1ABC", "A B", "A=B", "É"]),
                           "value": st.text()}),
)
good_item = st.fixed_dictionaries({"key": good_key, "value": st.text(max_size=10)})
bad_replace_body = st.one_of(
    json_values.filter(lambda v: not isinstance(v, list)),
    st.tuples(st.lists(good_item, max_size=3), bad_item, st.lists(good_item, max_size=3)).map(
        lambda t: [*t[0], t[1], *t[2]]),
)


def _not_json(data: bytes) -> bool:
    try:
        json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return True
    return False


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with checked_emulator() as emulator:
        yield emulator


@pytest.fixture(scope="module")
def api(emu: Emulator) -> Iterator[httpx.Client]:
    with client(emu) as c:
        yield c


def _refused(emu: Emulator, send: Any, *allowed: int) -> int:
    """Send one request; assert it was refused with a 4xx and changed nothing."""
    before = emu.snapshot()
    response = send()
    assert 400 <= response.status_code < 500, response.text
    if allowed:
        assert response.status_code in allowed
    assert response.json()["message"]
    assert emu.snapshot() == before
    return int(response.status_code)


WRITES = [
    ("PUT", f"/services/{API_ID}/env-vars"),
    ("PUT", f"/services/{API_ID}/env-vars/LOG_LEVEL"),
    ("PUT", f"/env-groups/{GROUP_ID}/env-vars/SENTRY_ENV"),
    ("POST", f"/services/{API_ID}/deploys"),
]


@SETTINGS
@given(target=st.sampled_from(WRITES), body=st.binary(max_size=64).filter(_not_json))
def test_malformed_json_is_400(emu: Emulator, api: httpx.Client, target: tuple[str, str],
                               body: bytes) -> None:
    method, path = target
    _refused(emu, lambda: api.request(method, path, content=body), 400)


@SETTINGS
@given(body=bad_replace_body)
def test_wrong_replace_bodies_are_400(emu: Emulator, api: httpx.Client, body: Any) -> None:
    _refused(emu, lambda: api.put(f"/services/{API_ID}/env-vars", json=body), 400)


@SETTINGS
@given(path=st.sampled_from(WRITES[1:3]), body=bad_value_body)
def test_wrong_single_value_bodies_are_400(emu: Emulator, api: httpx.Client, path: tuple[str, str],
                                           body: Any) -> None:
    _refused(emu, lambda: api.put(path[1], json=body), 400)


@SETTINGS
@given(body=st.one_of(json_values.filter(lambda v: not isinstance(v, dict)),
                      st.fixed_dictionaries({"clearCache": json_values.filter(
                          lambda v: v not in ("clear", "do_not_clear"))}),
                      st.fixed_dictionaries({"commitId": not_a_string}),
                      st.fixed_dictionaries({"imageUrl": not_a_string})))
def test_wrong_deploy_bodies_are_400(emu: Emulator, api: httpx.Client, body: Any) -> None:
    _refused(emu, lambda: api.post(f"/services/{API_ID}/deploys", json=body), 400)


@SETTINGS
@given(path=st.sampled_from(["/services", f"/services/{API_ID}/env-vars", "/owners",
                             f"/services/{API_ID}/deploys", "/env-groups"]),
       limit=st.one_of(st.integers().filter(lambda i: not 1 <= i <= 100).map(str),
                       st.text(max_size=8).filter(lambda t: not (t.isascii() and t.isdigit()))))
def test_bad_limits_are_400(emu: Emulator, api: httpx.Client, path: str, limit: str) -> None:
    if limit == "":
        return  # an empty limit means the default, which is fine
    _refused(emu, lambda: api.get(path, params={"limit": limit}), 400)


@SETTINGS
@given(path=st.sampled_from(["/services", f"/services/{API_ID}/env-vars", "/owners",
                             f"/services/{API_ID}/deploys"]),
       cursor=st.one_of(
           st.text(min_size=1, max_size=20).filter(lambda t: any(c not in _B64 for c in t)),
           st.binary(max_size=20).filter(lambda b: len(b) != 8).map(
               lambda b: base64.b64encode(b).decode()).filter(bool)))
def test_bad_cursors_are_400(emu: Emulator, api: httpx.Client, path: str, cursor: str) -> None:
    _refused(emu, lambda: api.get(path, params={"cursor": cursor}), 400)


@SETTINGS
@given(method=st.sampled_from(["GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS"]),
       segments=st.lists(st.one_of(
           st.sampled_from(["services", "env-vars", "env-groups", "deploys", API_ID, GROUP_ID,
                            "..", ".", "", "%", "v1", "restart", "users"]),
           st.text(max_size=12)), min_size=0, max_size=5),
       body=st.one_of(st.none(), st.binary(max_size=32)))
def test_odd_requests_never_fail_the_server(emu: Emulator, api: httpx.Client, method: str,
                                            segments: list[str], body: bytes | None) -> None:
    path = "/".join(quote(s, safe="") for s in segments)
    before = emu.snapshot()
    response = api.request(method, f"{api.base_url}{path}", content=body)
    assert response.status_code < 500, response.text
    assert "Render-Request-Id" in response.headers
    if response.status_code >= 400:
        assert emu.snapshot() == before
    assert emu.unexpected_errors == []


@SETTINGS
@given(key=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1,
                   max_size=30))
def test_unknown_keys_are_401(emu: Emulator, key: str) -> None:
    if key == API_KEY:
        return
    with client(emu, key=None) as anonymous:
        _refused(emu, lambda: anonymous.put(f"/services/{API_ID}/env-vars", json=[],
                                            headers={"Authorization": f"Bearer {key}"}), 401)


def _raw(emu: Emulator, request: bytes) -> bytes:
    host, port = emu.host_port.split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize("request_bytes", [
    b"GARBAGE\r\n\r\n",
    b"GET /v1/users HTTP/9.9\r\n\r\n",
    b"PUT /v1/services/" + API_ID.encode() + b"/env-vars HTTP/1.1\r\nHost: x\r\n"
    b"Authorization: Bearer " + API_KEY.encode() + b"\r\nContent-Length: 999999999\r\n"
    b"Connection: close\r\n\r\n",
    b"PUT /v1/services/" + API_ID.encode() + b"/env-vars HTTP/1.1\r\nHost: x\r\n"
    b"Content-Length: -5\r\nConnection: close\r\n\r\n",
    b"PUT /v1/services/" + API_ID.encode() + b"/env-vars HTTP/1.1\r\nHost: x\r\n"
    b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\nZZ\r\n",
    b"GET /v1/services/%ff%fe HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
    + API_KEY.encode() + b"\r\nConnection: close\r\n\r\n",
])
def test_broken_http_gets_a_json_400(emu: Emulator, request_bytes: bytes) -> None:
    before = emu.snapshot()
    answer = _raw(emu, request_bytes)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.split(b" ")[1] == b"400"
    assert json.loads(body)["message"]
    assert emu.snapshot() == before
