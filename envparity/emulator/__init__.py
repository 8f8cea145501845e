"""A Render API emulator: a real HTTP(S) server on loopback that follows Render's OpenAPI spec.

It is an independent reference for envparity's client and for the Pulumi provider, so it shares
no code with `envparity.render.client`.
"""

from envparity.core.errors import SeedError
from envparity.emulator.faults import Faults
from envparity.emulator.server import DEFAULT_API_KEY, Emulator, running_emulator
from envparity.emulator.wire import Exchange, RequestRecord

__all__ = [
    "DEFAULT_API_KEY",
    "Emulator",
    "Exchange",
    "Faults",
    "RequestRecord",
    "SeedError",
    "running_emulator",
]
