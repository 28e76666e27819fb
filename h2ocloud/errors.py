"""Errors shared by the node and the client, and how they map onto gRPC status codes.

A node operation raises a plain Python exception (ValueError for bad input, KeyError-like
NotFound for an unknown key, ...); the gRPC and REST adapters turn it into a status code with
the message, and the client turns the status back into the same kind of exception. So the user
sees `ValueError: epochs must be >= 0`, not a transport error.
"""

from __future__ import annotations

import grpc


class H2OCloudError(Exception):
    """Base class for h2ocloud errors that are not plain ValueErrors."""


class NotFound(H2OCloudError, KeyError):
    """An unknown key: a frame, model or job id that does not exist."""

    def __str__(self) -> str:  # KeyError quotes its message; we want it plain.
        return str(self.args[0]) if self.args else "not found"


class OutOfMemory(H2OCloudError):
    """A put that would take a node's store past its --max-mem."""


class Cancelled(H2OCloudError):
    """A job was cancelled."""


class Unauthenticated(H2OCloudError, PermissionError):
    """A client call without the node's token, or with a wrong one (HTTP 401, gRPC UNAUTHENTICATED)."""


class LimitExceeded(H2OCloudError, ValueError):
    """A request past one of the node's bounds (an upload over --max-upload, a body too large, too
    many columns, ...); the message names the limit. HTTP 413, gRPC INVALID_ARGUMENT (a
    ValueError to the client)."""


class TooBusy(LimitExceeded):
    """A node at its bound of running jobs (--max-jobs): HTTP 429, a ValueError to the client."""


class NodeUnavailable(H2OCloudError, ConnectionError):
    """A peer or the node the client talks to does not answer."""


class TLSError(H2OCloudError, ConnectionError):
    """The client and a node could not agree on TLS: the node's certificate is not verified by
    the client's CA (verify=), the node wants a client certificate (cert=), or one side speaks
    TLS and the other plain text. The message says which and what to pass."""


class H2OResponseError(H2OCloudError):
    """The cloud refused or failed a request (h2o-py's H2OResponseError). The client raises a
    subclass that is also the plain Python kind (ValueError, NotFound, ...), so both
    `except H2OResponseError` (h2o-py scripts) and `except ValueError` work."""


def _response_kind(cls: type[Exception]) -> type[Exception]:
    """A class both `cls` and H2OResponseError, made once per kind."""
    kind = _RESPONSE_KINDS.get(cls)
    if kind is None:
        kind = type(cls.__name__, (cls, H2OResponseError), {"__module__": cls.__module__,
                                                             "__doc__": cls.__doc__})
        _RESPONSE_KINDS[cls] = kind
    return kind


_RESPONSE_KINDS: dict[type[Exception], type[Exception]] = {}


# exception class -> (grpc status, HTTP status). Order matters: first match wins.
_MAPPING: list[tuple[type[BaseException], grpc.StatusCode, int]] = [
    (NotFound, grpc.StatusCode.NOT_FOUND, 404),
    (OutOfMemory, grpc.StatusCode.RESOURCE_EXHAUSTED, 507),
    (Cancelled, grpc.StatusCode.CANCELLED, 409),
    (NodeUnavailable, grpc.StatusCode.UNAVAILABLE, 503),
    (Unauthenticated, grpc.StatusCode.UNAUTHENTICATED, 401),
    (FileNotFoundError, grpc.StatusCode.NOT_FOUND, 404),
    (FileExistsError, grpc.StatusCode.ALREADY_EXISTS, 409),
    (IsADirectoryError, grpc.StatusCode.INVALID_ARGUMENT, 400),
    (PermissionError, grpc.StatusCode.PERMISSION_DENIED, 403),
    (TooBusy, grpc.StatusCode.INVALID_ARGUMENT, 429),
    (LimitExceeded, grpc.StatusCode.INVALID_ARGUMENT, 413),
    (ValueError, grpc.StatusCode.INVALID_ARGUMENT, 400),
    (TypeError, grpc.StatusCode.INVALID_ARGUMENT, 400),
    (KeyError, grpc.StatusCode.NOT_FOUND, 404),
    (TimeoutError, grpc.StatusCode.DEADLINE_EXCEEDED, 504),
]

_FROM_GRPC: dict[grpc.StatusCode, type[Exception]] = {
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.ALREADY_EXISTS: FileExistsError,
    grpc.StatusCode.RESOURCE_EXHAUSTED: OutOfMemory,
    grpc.StatusCode.CANCELLED: Cancelled,
    grpc.StatusCode.UNAVAILABLE: NodeUnavailable,
    grpc.StatusCode.INVALID_ARGUMENT: ValueError,
    grpc.StatusCode.PERMISSION_DENIED: PermissionError,
    grpc.StatusCode.UNAUTHENTICATED: Unauthenticated,
    grpc.StatusCode.DEADLINE_EXCEEDED: TimeoutError,
}


def error_message(exc: BaseException) -> str:
    """The message a user should see for exc (KeyError's quoting removed)."""
    if isinstance(exc, KeyError) and not isinstance(exc, NotFound) and exc.args:
        return str(exc.args[0])
    return str(exc) or type(exc).__name__


def status_for(exc: BaseException) -> tuple[grpc.StatusCode, int]:
    """(gRPC status, HTTP status) for an exception raised by a node operation."""
    for cls, code, http in _MAPPING:
        if isinstance(exc, cls):
            return code, http
    return grpc.StatusCode.INTERNAL, 500


def exception_from_status(code: grpc.StatusCode, message: str) -> Exception:
    """The Python exception a client raises for a gRPC status."""
    cls = _FROM_GRPC.get(code)
    return _response_kind(cls)(message) if cls is not None else H2OResponseError(message)
