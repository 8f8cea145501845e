"""The import file `envparity import render` hands to `pulumi import`: every service under
the explicit provider the program declares, so the next preview proposes nothing."""

from __future__ import annotations

import json

from envparity.core.secret import Secret
from envparity.core.stackvalues import ConfigValue
from envparity.stack.importer import RESOURCE_TYPE, import_spec
from envparity.stack.pinning import PROVIDER_NAME, provider_inputs
from envparity.stack.toolchain import RENDER_PLUGIN_VERSION

CANARY = "canary-render-api-key-9d1e"
CONFIG = {
    "render:apiKey": ConfigValue(Secret(CANARY), secret=True),
    "render:baseUrl": ConfigValue("https://127.0.0.1:8443/v1", secret=False),
    "envparity:LOG_LEVEL": ConfigValue("info", secret=False),
}
SERVICES = {"worker": "srv-worker01", "api": "srv-api01"}


def test_a_first_import_declares_the_programs_provider_and_puts_each_service_under_it() -> None:
    spec = import_spec(SERVICES, config=CONFIG, provider_urn=None)
    provider, *services = spec["resources"]
    assert provider["type"] == "pulumi:providers:render"
    assert (provider["name"], provider["version"]) == (PROVIDER_NAME, RENDER_PLUGIN_VERSION)
    assert services == [
        {"type": RESOURCE_TYPE, "name": "api", "id": "srv-api01", "provider": PROVIDER_NAME},
        {"type": RESOURCE_TYPE, "name": "worker", "id": "srv-worker01",
         "provider": PROVIDER_NAME},
    ]
    # The program's inputs exactly: its `render:*` config and the pinned version.
    inputs = provider["inputs"]
    assert inputs.keys() == {*provider_inputs(CONFIG), "version"} == {"apiKey", "baseUrl",
                                                                      "version"}
    assert inputs["baseUrl"] == "https://127.0.0.1:8443/v1"
    assert inputs["version"] == RENDER_PLUGIN_VERSION
    # The key goes to pulumi as a secret, which the state then encrypts.
    assert inputs["apiKey"] == {"4dabf18193072939515e22adb298388d":
                                "1b47061264138c4ac30d75fd1eb44270",
                                "plaintext": json.dumps(CANARY)}


def test_a_later_import_names_the_provider_already_in_the_state() -> None:
    urn = f"urn:pulumi:staging::myapp::pulumi:providers:render::{PROVIDER_NAME}"
    spec = import_spec({"api": "srv-api01"}, config=CONFIG, provider_urn=urn)
    assert spec == {"nameTable": {PROVIDER_NAME: urn}, "resources": [
        {"type": RESOURCE_TYPE, "name": "api", "id": "srv-api01", "provider": PROVIDER_NAME},
    ]}
    assert CANARY not in json.dumps(spec)
