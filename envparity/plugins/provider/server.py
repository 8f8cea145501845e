"""The gRPC face of the provider: what the Pulumi engine calls, mapped onto envvars/operations.

The engine starts the plugin, reads the port from its first line of stdout and then
speaks the `ResourceProvider` service to it. Failures reach the engine as gRPC errors
whose text names the service and Render's status; the values being written never appear.
"""

from __future__ import annotations

import argparse
import functools
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Final

import grpc
from google.protobuf import empty_pb2
from pulumi.runtime.proto import plugin_pb2, provider_pb2, provider_pb2_grpc

from envparity.core.errors import (
    EnvparityError,
)
from envparity.plugins.grpcserver import announce_and_wait, start
from envparity.plugins.provider import envvars, groupkeys, groups
from envparity.plugins.provider.config import check_config, settings_from
from envparity.plugins.provider.enginelog import EngineLog
from envparity.plugins.provider.envvars import TYPE_TOKEN, ChangeKind, EnvSpec
from envparity.plugins.provider.groupdeploys import ChangeNotDeployed, DeployBatches
from envparity.plugins.provider.messages import check_response, diff_response, guarded, valid_spec
from envparity.plugins.provider.operations import (
    Applied,
    ClientFactory,
    EnvVarsOperations,
    render_client,
)
from envparity.plugins.provider.props import UNKNOWN, PropMap, from_struct, to_struct, unseal
from envparity.plugins.provider.rollout import LAST_DEPLOY, is_final, rollout_from
from envparity.plugins.provider.schema import VERSION, schema_json

__all__ = ["RenderProvider", "main", "serve"]


_MAX_MESSAGE: Final = 256 * 1024 * 1024
_REDEPLOY: Final = ("see the deploy's logs on Render, then deploy the service again from the "
                    "dashboard: a later `up` sees nothing left to change")


class RenderProvider(provider_pb2_grpc.ResourceProviderServicer):
    """The `render` resource provider: `render:services:EnvVarsForService`, and env groups,
    their vars, links and secret files (`groups`)."""

    def __init__(
        self, *, client_factory: ClientFactory = render_client, log: EngineLog | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._factory = client_factory
        self._log = log or EngineLog(None)
        self._sleep = sleep
        self._ops: EnvVarsOperations | None = None
        self._batches: DeployBatches | None = None
        self._cancelled = threading.Event()

    def _operations(self, type_token: str) -> EnvVarsOperations:
        if type_token and type_token != TYPE_TOKEN and groups.kind_of(type_token) is None:
            raise EnvparityError(f"resource type {type_token} is not served by this provider",
                                 hint=f"available: {', '.join([TYPE_TOKEN, *groups.KINDS])}")
        if self._cancelled.is_set():
            raise EnvparityError("the operation was cancelled")
        if self._ops is None:
            raise EnvparityError("the provider was used before Configure")
        return self._ops

    def _apply_group(
        self, kind: groups.Kind, props: PropMap, rid: str | None, *, urn: str,
        extras: list[groupkeys.Extra],
    ) -> groups.Done:
        done = kind.apply(self._operations(kind.token).client(), props, rid, extras)
        failed = self._deploy(done.touched, urn=urn)
        if failed:
            raise ChangeNotDeployed("; ".join(failed) + "; the change is in place but the "
                                    "service does not run it", hint=_REDEPLOY, rid=done.rid,
                                    outputs=done.outputs or props)
        return done

    def _deploy(self, services: tuple[str, ...], *, urn: str) -> list[str]:
        """Deploy the services a group, link or file change reached, and wait: what failed."""
        if not services or self._batches is None or not self._deploying():
            return []
        return self._batches.deploy(services, progress=functools.partial(self._log.info, urn))

    @guarded
    def GetPluginInfo(
        self, _request: empty_pb2.Empty, _context: grpc.ServicerContext
    ) -> plugin_pb2.PluginInfo:
        return plugin_pb2.PluginInfo(version=VERSION)

    @guarded
    def Handshake(
        self, _request: provider_pb2.ProviderHandshakeRequest, _context: grpc.ServicerContext
    ) -> provider_pb2.ProviderHandshakeResponse:
        return provider_pb2.ProviderHandshakeResponse(accept_secrets=True)

    @guarded
    def GetSchema(
        self, _request: provider_pb2.GetSchemaRequest, _context: grpc.ServicerContext
    ) -> provider_pb2.GetSchemaResponse:
        return provider_pb2.GetSchemaResponse(schema=schema_json())

    @guarded
    def CheckConfig(
        self, request: provider_pb2.CheckRequest, _context: grpc.ServicerContext
    ) -> provider_pb2.CheckResponse:
        return check_response(request.news, check_config(from_struct(request.news)))

    @guarded
    def DiffConfig(
        self, request: provider_pb2.DiffRequest, _context: grpc.ServicerContext
    ) -> provider_pb2.DiffResponse:
        olds, news = from_struct(request.olds), from_struct(request.news)
        changed = sorted(
            k for k in olds.keys() | news.keys() if unseal(olds.get(k))[0] != unseal(news.get(k))[0]
        )
        return provider_pb2.DiffResponse(
            changes=provider_pb2.DiffResponse.DIFF_SOME if changed else
            provider_pb2.DiffResponse.DIFF_NONE,
            diffs=changed,
        )

    @guarded
    def Configure(
        self, request: provider_pb2.ConfigureRequest, _context: grpc.ServicerContext
    ) -> provider_pb2.ConfigureResponse:
        settings = settings_from(from_struct(request.args), dict(request.variables))
        if self._ops is not None:
            self._ops.close()
        self._ops = EnvVarsOperations(settings, client_factory=self._factory, sleep=self._sleep,
                                      cancelled=self._cancelled)
        self._batches = DeployBatches(self._ops)
        self._ops.share_deploys(self._batches.run)
        return provider_pb2.ConfigureResponse(acceptSecrets=True, supportsPreview=True)

    @guarded
    def Check(
        self, request: provider_pb2.CheckRequest, _context: grpc.ServicerContext
    ) -> provider_pb2.CheckResponse:
        kind = groups.kind_of(request.type)
        if kind is not None:
            props, failed = groups.check(kind, from_struct(request.news))
            return check_response(request.news if failed else to_struct(props), failed)
        spec, failures = envvars.parse(from_struct(request.news))
        if not failures and spec.entries is not None:
            before, _ = envvars.parse(from_struct(request.olds))
            spec = replace(spec, entries=envvars.aligned(spec.entries, before))
        return check_response(request.news if failures else to_struct(spec.props()), failures)

    @guarded
    def Diff(
        self, request: provider_pb2.DiffRequest, _context: grpc.ServicerContext
    ) -> provider_pb2.DiffResponse:
        kind = groups.kind_of(request.type)
        if kind is not None:
            found = groups.diff(kind, from_struct(request.olds), from_struct(request.old_inputs),
                                from_struct(request.news))
            return diff_response(found, list(request.ignoreChanges))
        # Old inputs, not outputs, for the same reason as in Read: per-key secrecy. After
        # the refresh that precedes every update both hold the live env.
        olds = from_struct(request.olds)
        old, _ = envvars.parse(from_struct(request.old_inputs) or olds)
        new, _ = envvars.parse(from_struct(request.news))
        found = envvars.diff(old, new)
        rollout = rollout_from(olds)
        if self._deploying() and rollout.pending(old):
            # The env in the state is not the one the service runs: the update deploys it.
            found = replace(found, changes=(
                *found.changes, envvars.Change(LAST_DEPLOY, ChangeKind.UPDATE, output=True),
            ))
            verb = "ended" if is_final(rollout.last_status) else "was still"
            last = (f"its last deploy {rollout.last_id} {verb} {rollout.last_status}"
                    if rollout.last_id else "no deploy of it was seen")
            self._log.warn(request.urn, f"{request.urn.rsplit('::', 1)[-1]}: the env on "
                                        f"Render is not the one the service runs ({last}); "
                                        "this update deploys it")
        return diff_response(found, list(request.ignoreChanges))

    def _deploying(self) -> bool:
        return self._ops is None or self._ops.settings.deploy_on_change

    @guarded
    def Create(
        self, request: provider_pb2.CreateRequest, _context: grpc.ServicerContext
    ) -> provider_pb2.CreateResponse:
        kind = groups.kind_of(request.type)
        if kind is not None:
            if request.preview:
                return provider_pb2.CreateResponse(properties=request.properties)
            done = self._apply_group(kind, from_struct(request.properties), None,
                                     urn=request.urn, extras=[])
            return provider_pb2.CreateResponse(
                id=done.rid, properties=to_struct(done.outputs) if done.outputs is not None
                else request.properties, refresh_before_update=kind.token == groups.GROUP)
        spec = valid_spec(from_struct(request.properties))
        if request.preview:
            return provider_pb2.CreateResponse(properties=to_struct(spec.props()))
        applied = self._apply(request.type, request.urn, spec, olds={})
        return provider_pb2.CreateResponse(
            id=spec.service_id or "", properties=to_struct(applied.props()),
            refresh_before_update=True,
        )

    @guarded
    def Update(
        self, request: provider_pb2.UpdateRequest, _context: grpc.ServicerContext
    ) -> provider_pb2.UpdateResponse:
        kind = groups.kind_of(request.type)
        if kind is not None:
            if request.preview:
                return provider_pb2.UpdateResponse(properties=request.news)
            news = from_struct(request.news)
            done = self._apply_group(kind, news, request.id, urn=request.urn, extras=(
                groupkeys.extras(from_struct(request.olds), from_struct(request.old_inputs), news)))
            return provider_pb2.UpdateResponse(
                properties=to_struct(done.outputs) if done.outputs is not None else request.news,
                refresh_before_update=kind.token == groups.GROUP)
        spec = valid_spec(from_struct(request.news))
        olds = from_struct(request.olds)
        if request.preview:
            props = {**spec.props(), **rollout_from(olds).props()}
            if self._deploying():
                # Which deploy, and how it ends, is known only once it has run.
                props[LAST_DEPLOY] = {"id": UNKNOWN, "status": UNKNOWN, "env": UNKNOWN}
        else:
            props = self._apply(request.type, request.urn, spec, olds=olds).props()
        return provider_pb2.UpdateResponse(properties=to_struct(props), refresh_before_update=True)

    def _apply(self, type_token: str, urn: str, spec: EnvSpec, *, olds: PropMap) -> Applied:
        name = urn.rsplit("::", 1)[-1] or (spec.service_id or "")
        old, _ = envvars.parse(olds) if olds else (None, [])
        applied = self._operations(type_token).apply(
            spec, old=old, rollout=rollout_from(olds) if olds else None, label=name,
            progress=functools.partial(self._log.info, urn),
        )
        for key in applied.carried:
            self._log.warn(urn, f"{name}: {key} appeared on Render after this update was "
                                "planned; it was kept, not deleted. The next preview proposes "
                                "removing it unless it is declared or preserved")
        return applied

    @guarded
    def Read(
        self, request: provider_pb2.ReadRequest, _context: grpc.ServicerContext
    ) -> provider_pb2.ReadResponse:
        kind = groups.kind_of(request.type)
        if kind is not None:
            seen = groups.read(kind, self._operations(request.type).client(), request.id,
                               outputs=from_struct(request.properties),
                               inputs=from_struct(request.inputs))
            if seen is None:
                return provider_pb2.ReadResponse(id="")
            return provider_pb2.ReadResponse(
                id=request.id, properties=to_struct(seen[0]), inputs=to_struct(seen[1]),
                refresh_before_update=kind.token == groups.GROUP)
        # The inputs say which keys are secret one by one; the outputs' `envVars` is one
        # secret as a whole (the program's additional_secret_outputs) and would make
        # every key secret, so every plain value would then differ from the program's.
        # Which deploy ran which env is kept only in the outputs. `pulumi import` reads with
        # no state at all: there is no old env then, not an empty one.
        outputs = from_struct(request.properties)
        state = from_struct(request.inputs) or outputs
        old = envvars.parse(state)[0] if state else None
        service_id = (old and old.service_id) or request.id
        found = self._operations(request.type).read(service_id, old, rollout_from(outputs))
        if found is None:
            return provider_pb2.ReadResponse(id="")
        live, rollout = found
        return provider_pb2.ReadResponse(
            id=request.id or service_id, properties=to_struct({**live.props(), **rollout.props()}),
            inputs=to_struct(live.props()), refresh_before_update=True,
        )

    @guarded
    def Delete(
        self, request: provider_pb2.DeleteRequest, _context: grpc.ServicerContext
    ) -> empty_pb2.Empty:
        ops = self._operations(request.type)
        kind = groups.kind_of(request.type)
        if kind is not None:
            failed = self._deploy(kind.delete(ops.client(), request.id), urn=request.urn)
            if failed:
                raise EnvparityError("; ".join(failed) + "; the deletion is done but the "
                                     "service does not run it", hint=_REDEPLOY)
        # EnvVarsForService deliberately leaves the service's env untouched (see operations).
        return empty_pb2.Empty()

    @guarded
    def Cancel(self, _request: empty_pb2.Empty, _context: grpc.ServicerContext) -> empty_pb2.Empty:
        self._cancelled.set()
        return empty_pb2.Empty()

    def close(self) -> None:
        if self._ops is not None:
            self._ops.close()


def serve(provider: RenderProvider, *, host: str = "127.0.0.1") -> tuple[grpc.Server, int]:
    return start(
        functools.partial(provider_pb2_grpc.add_ResourceProviderServicer_to_server, provider),
        host=host, workers=8,
        options=[("grpc.max_receive_message_length", _MAX_MESSAGE),
                 ("grpc.max_send_message_length", _MAX_MESSAGE)],
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `pulumi-resource-render`: serve until the engine stops the process."""
    parser = argparse.ArgumentParser(
        prog="pulumi-resource-render",
        description="envparity's Pulumi resource provider for Render env vars "
        "(render:services:EnvVarsForService). Started by the Pulumi engine; prints its port.",
    )
    parser.add_argument("engine", nargs="?",
                        help="engine address (passed by Pulumi; deploy progress is logged there)")
    args, _ = parser.parse_known_args(argv)
    provider = RenderProvider(log=EngineLog(args.engine))
    try:
        announce_and_wait(*serve(provider))
    finally:
        provider.close()
    return 0
