"""The effective env, pure: Render's order, overrides, misplaced values, files by fingerprint."""

from __future__ import annotations

from envparity.core.desired import DesiredService
from envparity.core.groupdiff import LiveGroup, diff_placed, effective, live_layers
from envparity.core.groups import DesiredGroup
from envparity.core.secret import Secret

FP = b"fp-key"
SVC = DesiredService(name="api", service_id="srv-1", render_type="web_service",
                     env={"LOG_LEVEL": "INFO"})
GROUP = DesiredGroup(gid="shared", name="app-shared", services=("api",),
                     env={"JWT": Secret("j")}, files={})


def live(name: str, env: dict[str, str], created: str = "2026-01-01") -> LiveGroup:
    return LiveGroup(name=name, created_at=created,
                     env={k: Secret(v) for k, v in env.items()}, files={})


def kinds(service_env: dict[str, str], groups: list[LiveGroup], *,
          svc: DesiredService = SVC) -> set[tuple[str, str, str | None, str | None]]:
    layers = live_layers({k: Secret(v) for k, v in service_env.items()}, files={},
                         groups=groups)
    items = diff_placed(svc, files={}, groups=[GROUP], live=layers, live_groups=groups,
                        fingerprint_key=FP)
    return {(i.key, i.kind.value, i.lives, i.should) for i in items}


def test_service_vars_win_then_the_newest_group() -> None:
    layers = live_layers({"A": Secret("svc")}, files={},
                         groups=[live("old", {"A": "o", "B": "o"}, "2026-01"),
                                 live("new", {"B": "n"}, "2026-02")])
    assert {k: (v.reveal() if isinstance(v, Secret) else v, where)
            for k, (v, where) in effective(layers).items()} == {
        "A": ("svc", "service"), "B": ("n", "group new")}


def test_declared_layout_is_clean() -> None:
    assert kinds({"LOG_LEVEL": "INFO"}, [live("app-shared", {"JWT": "j"})]) == set()


def test_a_group_key_set_on_the_service_instead_is_misplaced() -> None:
    assert kinds({"LOG_LEVEL": "INFO", "JWT": "j"}, []) == {
        ("app-shared", "group-not-linked", None, "group app-shared"),
        ("JWT", "misplaced", "service", "group app-shared"),
    }


def test_shadowing_is_reported_unless_the_service_overrides_the_key() -> None:
    shadowing = {"LOG_LEVEL": "INFO", "JWT": "j"}
    assert kinds(shadowing, [live("app-shared", {"JWT": "j"})]) == {
        ("JWT", "shadowed", "service", "group app-shared")}
    overriding = DesiredService(name="api", service_id="srv-1", render_type="web_service",
                                env={"LOG_LEVEL": "INFO", "JWT": "j"})
    assert kinds(shadowing, [live("app-shared", {"JWT": "j"})], svc=overriding) == set()
