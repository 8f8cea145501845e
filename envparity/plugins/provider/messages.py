"""Between the engine's gRPC messages and envparity's values: errors to status codes,
diffs and check failures to responses. Failures name the service and Render's status;
the values being written never appear.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Final, TypeVar

import grpc
from google.protobuf import any_pb2, struct_pb2
from google.rpc import status_pb2  # type: ignore[import-untyped]
from pulumi.runtime.proto import provider_pb2

from envparity.core.errors import (
    EnvparityError,
    RenderApiError,
    RenderAuthError,
    RenderNotFound,
    RenderRateLimited,
    RenderUnavailable,
)
from envparity.plugins.provider import envvars
from envparity.plugins.provider.envvars import ChangeKind, EnvDiff, EnvSpec
from envparity.plugins.provider.groupdeploys import ChangeNotDeployed
from envparity.plugins.provider.operations import DeployIncomplete
from envparity.plugins.provider.props import Prop, to_struct

__all__ = ["check_response", "diff_response", "guarded", "valid_spec"]

Req = TypeVar("Req")
Resp = TypeVar("Resp")
Handler = Callable[[Any, Req, grpc.ServicerContext], Resp]

_KINDS: Final = {
    (ChangeKind.ADD, False): provider_pb2.PropertyDiff.ADD,
    (ChangeKind.ADD, True): provider_pb2.PropertyDiff.ADD_REPLACE,
    (ChangeKind.DELETE, False): provider_pb2.PropertyDiff.DELETE,
    (ChangeKind.DELETE, True): provider_pb2.PropertyDiff.DELETE_REPLACE,
    (ChangeKind.UPDATE, False): provider_pb2.PropertyDiff.UPDATE,
    (ChangeKind.UPDATE, True): provider_pb2.PropertyDiff.UPDATE_REPLACE,
}
_CODES: Final = (
    (RenderAuthError, grpc.StatusCode.UNAUTHENTICATED),
    (RenderNotFound, grpc.StatusCode.NOT_FOUND),
    (RenderRateLimited, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (RenderUnavailable, grpc.StatusCode.UNAVAILABLE),
)


def _status(exc: EnvparityError) -> grpc.StatusCode:
    for kind, code in _CODES:
        if isinstance(exc, kind):
            return code
    return grpc.StatusCode.UNKNOWN if isinstance(exc, RenderApiError) else (
        grpc.StatusCode.FAILED_PRECONDITION
    )


class _PartialStatus(grpc.Status):
    """A failed Create/Update that still changed Render: the engine keeps these outputs."""

    def __init__(self, text: str, detail: provider_pb2.ErrorResourceInitFailed) -> None:
        code = grpc.StatusCode.UNKNOWN
        packed = any_pb2.Any()
        packed.Pack(detail)
        status = status_pb2.Status(code=code.value[0], message=text, details=[packed])
        self.code = code
        self.details = text
        self.trailing_metadata = (("grpc-status-details-bin", status.SerializeToString()),)


def _partial(exc: DeployIncomplete | ChangeNotDeployed, request: object) -> _PartialStatus:
    inputs = getattr(request, "news", None) or getattr(request, "properties", None)
    if isinstance(exc, DeployIncomplete):
        rid, outputs = exc.applied.spec.service_id or "", exc.applied.props()
    else:
        rid, outputs = exc.rid, exc.outputs
    return _PartialStatus(
        f"{exc}; fix: {exc.hint}",
        provider_pb2.ErrorResourceInitFailed(
            id=rid, properties=to_struct(outputs), inputs=inputs, reasons=[str(exc)],
            refresh_before_update=True,
        ),
    )


def guarded(method: Handler[Req, Resp]) -> Handler[Req, Resp]:
    """Turn envparity errors into gRPC errors; anything else is named by type only."""

    @functools.wraps(method)
    def call(self: Any, request: Req, context: grpc.ServicerContext) -> Resp:
        try:
            return method(self, request, context)
        except (DeployIncomplete, ChangeNotDeployed) as exc:
            context.abort_with_status(_partial(exc, request))
        except EnvparityError as exc:
            text = f"{exc}; fix: {exc.hint}" if exc.hint else str(exc)
            context.abort(_status(exc), text)
        except Exception as exc:  # its text could hold a value
            context.abort(grpc.StatusCode.INTERNAL, f"provider error ({type(exc).__name__})")

    return call


def _ignored(path: str, ignore: Iterable[str]) -> bool:
    return any(path == i or path.startswith((f"{i}.", f"{i}[")) for i in ignore)


def diff_response(found: EnvDiff, ignore: Sequence[str]) -> provider_pb2.DiffResponse:
    changes = [c for c in found.changes if not _ignored(c.path, ignore)]
    replaces = [r for r in found.replaces if not _ignored(r, ignore)]
    detailed = {
        c.path: provider_pb2.PropertyDiff(
            kind=_KINDS[(c.kind, c.path in replaces)], inputDiff=not c.output
        )
        for c in changes
    }
    return provider_pb2.DiffResponse(
        changes=provider_pb2.DiffResponse.DIFF_SOME if changes else
        provider_pb2.DiffResponse.DIFF_NONE,
        replaces=replaces,
        deleteBeforeReplace=False,
        diffs=sorted({p.split(".")[0].split("[")[0] for p in detailed}),
        detailedDiff=detailed,
        hasDetailedDiff=True,
    )


def check_response(
    inputs: struct_pb2.Struct, failures: Sequence[envvars.CheckFailure]
) -> provider_pb2.CheckResponse:
    return provider_pb2.CheckResponse(
        inputs=inputs,
        failures=[provider_pb2.CheckFailure(property=f.property, reason=f.reason)
                  for f in failures],
    )


def valid_spec(props: dict[str, Prop]) -> EnvSpec:
    spec, failures = envvars.parse(props)
    if failures:
        raise EnvparityError("; ".join(f"{f.property}: {f.reason}" for f in failures))
    return spec
