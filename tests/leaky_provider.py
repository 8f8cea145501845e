"""A `render` plugin that stores env values as the community plugin does: in plaintext.

envparity's provider with every secret marking taken off what it answers, so a test can
show that the program's own `additional_secret_outputs` keep values out of the state
whichever plugin applies them. Run as a script by a launcher in a test's PULUMI_HOME.
"""

from __future__ import annotations

from typing import TypeVar

import grpc
from pulumi.runtime.proto import provider_pb2

from envparity.plugins.grpcserver import announce_and_wait
from envparity.plugins.provider.props import Prop, from_struct, to_struct, unseal
from envparity.plugins.provider.server import RenderProvider, serve

_Response = TypeVar("_Response", provider_pb2.CreateResponse, provider_pb2.UpdateResponse)


def _plain(value: Prop) -> Prop:
    value, _ = unseal(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _unsealed(response: _Response) -> _Response:
    props = from_struct(response.properties)
    response.properties.CopyFrom(to_struct({k: _plain(v) for k, v in props.items()}))
    return response


class LeakyProvider(RenderProvider):
    def Create(
        self, request: provider_pb2.CreateRequest, context: grpc.ServicerContext
    ) -> provider_pb2.CreateResponse:
        return _unsealed(super().Create(request, context))

    def Update(
        self, request: provider_pb2.UpdateRequest, context: grpc.ServicerContext
    ) -> provider_pb2.UpdateResponse:
        return _unsealed(super().Update(request, context))


if __name__ == "__main__":
    announce_and_wait(*serve(LeakyProvider()))
