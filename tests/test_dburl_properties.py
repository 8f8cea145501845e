"""Properties of the URL parser that must hold for any input, not just the examples."""

from __future__ import annotations

import ipaddress
from urllib.parse import quote

from hypothesis import assume, given
from hypothesis import strategies as st

from envparity.core.dburl import DbUrlError, PostgresUrl, classify, parse, redact
from envparity.core.secret import Secret

_NO_NUL = st.characters(exclude_characters="\x00", exclude_categories=["Cs"])
_text = st.text(_NO_NUL, min_size=1, max_size=12)
_label = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)
_hostname = st.lists(_label, min_size=1, max_size=4).map(".".join)
_ipv6 = st.ip_addresses(v=6).map(lambda a: str(ipaddress.IPv6Address(a)))
_ipv4 = st.ip_addresses(v=4).map(str)

urls = st.builds(
    PostgresUrl,
    scheme=st.sampled_from(["postgres", "postgresql"]),
    driver=st.none() | st.sampled_from(["asyncpg", "psycopg", "psycopg2", "pg8000"]),
    user=st.none() | _text,
    password=st.none() | _text.map(Secret),
    host=_hostname | _ipv4 | _ipv6,
    port=st.none() | st.integers(1, 65535),
    database=st.none() | _text,
    # Parameters that move the destination are tested against libpq in test_dburl_destination.
    params=st.dictionaries(
        _text.filter(lambda k: k not in ("host", "port", "hostaddr", "service", "user", "dbname")),
        st.text(_NO_NUL, max_size=8),
        max_size=4,
    ),
)

# Fragments that stress the grammar: separators, escapes, brackets, odd characters.
_fragments = st.sampled_from([
    "postgresql://", "postgres://", "postgresql+asyncpg://", "jdbc:", "mysql://", "://", "@",
    ":", "/", "?", "&", "=", "%", "%4", "%40", "%zz", "%ff", "%00", "[", "]", "::1", "[::1]",
    "host", "db.abc.supabase.co", "5432", "6543", "#", ",", " ", "\n", "é", "\udc80", "..",
])
urlish = st.lists(_fragments | st.text(max_size=3), max_size=14).map("".join)


@given(urls)
def test_any_built_url_round_trips(url: PostgresUrl) -> None:
    assert parse(url.unparse()) == url


@given(urlish | st.text())
def test_whatever_is_accepted_round_trips(text: str) -> None:
    try:
        url = parse(text)
    except DbUrlError:
        return
    assert parse(url.unparse()) == url
    assert parse(url.redacted()).host == url.host


@given(urlish | st.text())
def test_only_dburl_error_is_ever_raised(text: str) -> None:
    try:
        url = parse(text)
    except DbUrlError as exc:
        message = str(exc)
    else:
        message = url.redacted()
        classify(url)
    assert message
    assert redact(text)


# Passwords carry a marker no other generated part can contain (upper case and '!').
_passwords = st.text(_NO_NUL, max_size=16).map(lambda t: f"Pw!{t}")
_users = st.from_regex(r"[a-z][a-z0-9._]{0,10}", fullmatch=True)


@given(_users, _passwords, _hostname, st.none() | st.integers(1, 65535), _label, st.booleans())
def test_redaction_never_leaks_the_password(
    user: str, password: str, host: str, port: int | None, database: str, encode: bool
) -> None:
    written = quote(password, safe="") if encode else password
    where = host if port is None else f"{host}:{port}"
    text = f"postgresql://{user}:{written}@{where}/{database}?sslmode=require"
    assume(password not in text.replace(written, "", 1))
    shown = redact(text)
    leaked = password in shown or quote(password, safe="") in shown
    assert not leaked, "password leaked into the redacted URL"
    url: PostgresUrl | None = None
    try:
        parsed = parse(text)
    except DbUrlError as exc:
        message = str(exc)
    else:
        url, message = parsed, f"{parsed.redacted()} {parsed!r}"
    leaked = password in message or written in message
    assert not leaked, "password leaked into the parse error or the parsed URL's text"
    if encode:
        assert url is not None
        assert url.password == Secret(password)
