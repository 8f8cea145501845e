"""The postgres URL parser and classifier: every provider form, every syntax corner."""

from __future__ import annotations

import pytest

from envparity.core.dburl import Classification, DbUrlError, PostgresUrl, classify, parse, redact
from envparity.core.secret import Secret

REF = "abcdefghijklmnopqrst"
PW = "Sup3r-s3cret-pw"


@pytest.mark.parametrize(
    ("url", "kind", "ref", "region", "pooled", "ipv6_only", "internal"),
    [
        (f"postgresql://postgres:{PW}@db.{REF}.supabase.co:5432/postgres",
         "supabase-direct", REF, None, False, True, False),
        (f"postgresql://postgres:{PW}@db.{REF}.supabase.co/postgres",
         "supabase-direct", REF, None, False, True, False),
        (f"postgresql://postgres.{REF}:{PW}@aws-0-eu-central-1.pooler.supabase.com:5432/postgres",
         "supabase-pooler-session", REF, "eu-central-1", True, False, False),
        (f"postgresql://postgres.{REF}:{PW}@aws-1-us-east-2.pooler.supabase.com:6543/postgres",
         "supabase-pooler-transaction", REF, "us-east-2", True, False, False),
        (f"postgresql://app_rw.{REF}:{PW}@aws-0-ap-southeast-1.pooler.supabase.com:6543/app",
         "supabase-pooler-transaction", REF, "ap-southeast-1", True, False, False),
        (f"postgresql://postgres:{PW}@aws-0-eu-west-2.pooler.supabase.com:6543/postgres",
         "supabase-pooler-transaction", None, "eu-west-2", True, False, False),
        (f"postgresql://postgres.{REF}:{PW}@aws-0-eu-west-2.pooler.supabase.com:7777/postgres",
         "supabase-pooler-other-port", REF, "eu-west-2", True, False, False),
        (f"postgresql://postgres:{PW}@db.{REF}.supabase.co:6543/postgres",
         "supabase-dedicated-pooler", REF, None, True, True, False),
        (f"postgresql://alex:{PW}@ep-cool-darkness-123456.us-east-2.aws.neon.tech/neondb",
         "neon-direct", "ep-cool-darkness-123456", "us-east-2", False, False, False),
        (f"postgresql://alex:{PW}@ep-cool-darkness-123456-pooler.us-east-2.aws.neon.tech/neondb",
         "neon-pooled", "ep-cool-darkness-123456", "us-east-2", True, False, False),
        (f"postgresql://app:{PW}@dpg-d0abc123def456ghi789-a/app_db",
         "render-internal", "dpg-d0abc123def456ghi789", None, False, False, True),
        (f"postgresql://app:{PW}@dpg-d0abc123def456ghi789-a.oregon-postgres.render.com/app_db",
         "render-external", "dpg-d0abc123def456ghi789", "oregon", False, False, False),
        (f"postgresql://app:{PW}@orders.proxy-c1a2b3c4d5e6.eu-west-1.rds.amazonaws.com:5432/db",
         "rds-proxy", None, "eu-west-1", True, False, False),
        (f"postgresql://app:{PW}@db.example.com:5432/app", "generic", None, None, False, False,
         False),
        (f"postgresql://app:{PW}@127.0.0.1:5432/app", "generic", None, None, False, False, True),
        (f"postgresql://app:{PW}@[2a05:d014:1c06:5f00::10]:5432/app",
         "generic", None, None, False, True, False),
        (f"postgresql://app:{PW}@postgres:5432/app", "generic", None, None, False, False, True),
    ],
)
def test_every_form_is_labelled(
    url: str, kind: str, ref: str | None, region: str | None, pooled: bool, ipv6_only: bool,
    internal: bool,
) -> None:
    cls = classify(url)
    assert (cls.kind, cls.project_ref, cls.region) == (kind, ref, region)
    assert (cls.pooled, cls.ipv6_only, cls.internal) == (pooled, ipv6_only, internal)
    assert cls.facts, "every class explains itself"
    assert all(PW not in fact for fact in cls.facts)


def test_classify_accepts_a_parsed_url_and_ignores_host_case() -> None:
    parsed = parse(f"postgresql://postgres:{PW}@DB.{REF.upper()}.Supabase.CO:5432/postgres")
    assert classify(parsed).kind == "supabase-direct"
    assert classify(parsed).project_ref == REF


def test_direct_host_facts_name_the_errno() -> None:
    facts = " ".join(classify(f"postgresql://postgres:x@db.{REF}.supabase.co/postgres").facts)
    assert "[Errno 101] Network is unreachable" in facts
    assert "IPv4 add-on" in facts


def test_pooler_without_ref_says_so_in_facts() -> None:
    cls = classify("postgresql://postgres:x@aws-0-us-east-1.pooler.supabase.com:6543/postgres")
    assert any("project-ref" in fact for fact in cls.facts)


def test_percent_encoded_password_is_decoded() -> None:
    url = parse("postgresql://user:p%40ss%2Fw%3Ard%25@db.example.com/app")
    assert url.password == Secret("p@ss/w:rd%")
    assert url.user == "user"
    assert url.database == "app"


def test_raw_colon_in_password_belongs_to_the_password() -> None:
    assert parse("postgresql://user:a:b:c@h/db").password == Secret("a:b:c")


def test_ipv6_literals_parse_with_and_without_port() -> None:
    with_port = parse("postgresql://u:p@[::1]:6543/db")
    assert (with_port.host, with_port.port) == ("::1", 6543)
    bare = parse("postgresql://u:p@[2001:DB8:0:0::1]/db")
    assert (bare.host, bare.port, bare.effective_port) == ("2001:db8::1", None, 5432)
    assert bare.unparse() == "postgresql://u:p@[2001:db8::1]/db"


def test_query_parameters_are_kept_in_order() -> None:
    url = parse("postgresql://u:p@h/db?sslmode=require&application_name=my%20app&options=-c%20x%3Dy")
    assert dict(url.params) == {
        "sslmode": "require", "application_name": "my app", "options": "-c x=y"
    }
    assert list(url.params) == ["sslmode", "application_name", "options"]


@pytest.mark.parametrize(
    ("text", "scheme", "driver"),
    [
        ("postgres://u:p@h/db", "postgres", None),
        ("postgresql://u:p@h/db", "postgresql", None),
        ("postgresql+asyncpg://u:p@h/db", "postgresql", "asyncpg"),
        ("postgresql+psycopg://u:p@h/db", "postgresql", "psycopg"),
        ("PostgreSQL+Psycopg2://u:p@h/db", "postgresql", "psycopg2"),
    ],
)
def test_schemes_and_driver_suffixes(text: str, scheme: str, driver: str | None) -> None:
    url = parse(text)
    assert (url.scheme, url.driver) == (scheme, driver)
    assert parse(url.unparse()) == url


def test_unparse_round_trips_every_field() -> None:
    url = parse("postgresql+asyncpg://r%C3%A9my:p%40%2F%3F%23%25@[fe80::1]:7000/d%2Fb?a=1&b=%26")
    again = parse(url.unparse())
    assert again == url
    assert again.password == Secret("p@/?#%")
    assert again.user == "rémy"
    assert again.database == "d/b"


def test_optional_parts_may_be_absent() -> None:
    url = parse("postgresql://h")
    assert url == PostgresUrl("postgresql", None, None, None, "h", None, None, {})
    assert url.unparse() == "postgresql://h"
    only_password = parse("postgresql://:pw@h/db")
    assert only_password.user is None
    assert only_password.redacted() == "postgresql://:***@h/db"


def test_redacted_masks_password_and_secret_parameters() -> None:
    url = parse(f"postgresql://app:{PW}@h:5432/db?sslmode=require&password={PW}x")
    assert url.redacted() == "postgresql://app:***@h:5432/db?sslmode=require&password=***"
    assert PW not in repr(url)
    assert repr(url) == f"PostgresUrl({url.redacted()!r})"


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("mysql://u:pw@h/db", "unsupported scheme 'mysql'"),
        ("jdbc:postgresql://h/db", "JDBC"),
        ("just-a-string", "not a URL"),
        ("postgresql+://u:pw@h/db", "driver suffix"),
        ("postgresql://u:pw@/db", "no host"),
        ("postgresql://u:pw@h:0/db", "port"),
        ("postgresql://u:pw@h:99999/db", "port"),
        ("postgresql://u:pw@h:54x/db", "port"),
        ("postgresql://u:pw@h1,h2/db", "several hosts"),
        ("postgresql://u:pw@::1/db", "brackets"),
        ("postgresql://u:pw@[::1/db", "not closed"),
        ("postgresql://u:pw@[nothex]/db", "IPv6"),
        ("postgresql://u:pw@hö.com/db", "ASCII"),
        ("postgresql://u:pw@h/db/extra", "more than one '/'"),
        ("postgresql://u:pw@h/db?sslmode", "key=value"),
        ("postgresql://u:pw@h/db?a=1&a=2", "given twice"),
        ("postgresql://u:pw@h/db#frag", "'#'"),
        (" postgresql://u:pw@h/db", "whitespace"),
        ("postgresql://u:pw@h/db\n", "whitespace"),
        ("postgresql://u:p w@h/db", "whitespace"),
        ("postgresql://u:p%zzw@h/db", "two hex digits"),
        ("postgresql://u:p%ffw@h/db", "UTF-8"),
        ("postgresql://u:p%00w@h/db", "NUL"),
    ],
)
def test_bad_urls_are_refused_with_a_reason(text: str, phrase: str) -> None:
    with pytest.raises(DbUrlError, match=phrase) as info:
        parse(text)
    assert "pw" not in str(info.value)


@pytest.mark.parametrize(
    "text",
    [
        f"postgresql://user:{PW}@with@h/db",        # raw '@' in the password
        f"postgresql://user:{PW}/x@h/db",           # raw '/'
        f"postgresql://user:{PW}?x@h/db",           # raw '?'
        f"postgresql://user:{PW}#x@h/db",           # raw '#'
        f"postgresql://user:{PW}%4@h/db",           # stray '%'
        f"postgresql://user:{PW}",                  # password where the port goes
        f"postgresql://user:{PW}@h:{PW}/db",
    ],
)
def test_errors_and_redaction_never_show_the_password(text: str) -> None:
    with pytest.raises(DbUrlError) as info:
        parse(text)
    assert PW not in str(info.value)
    assert PW not in redact(text)
    assert "***" in redact(text)


def test_raw_at_sign_gets_the_encoding_hint() -> None:
    with pytest.raises(DbUrlError, match="%40"):
        parse("postgresql://user:p@ss@h/db")


def test_redact_of_unparseable_input_keeps_only_scheme_and_host() -> None:
    assert redact("postgresql://user:p@ss@db.example.com:5432/db") == (
        "postgresql://***@db.example.com (unparseable)"
    )
    assert redact("hunter2") == "***@… (unparseable)"
    assert redact("") == "***@… (unparseable)"


def test_non_string_input_is_a_dburl_error() -> None:
    with pytest.raises(DbUrlError):
        parse(None)  # type: ignore[arg-type]
    assert redact(None) == "***@… (unparseable)"  # type: ignore[arg-type]


def test_classification_defaults_are_conservative() -> None:
    assert Classification(kind="generic") == Classification(
        kind="generic", project_ref=None, region=None, pooled=False, ipv6_only=False,
        internal=False,
    )
