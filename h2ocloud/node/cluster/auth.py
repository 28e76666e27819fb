"""Proof that a peer knows the cloud's shared secret, without the secret crossing the wire.

Each peer call carries metadata `x-h2ocloud-auth: <unix_ms>:<hex hmac>:<cloud name>` where the
HMAC-SHA256 is keyed by the secret over "<unix_ms>:<method>:<cloud name>". The receiver refuses
another cloud's name as such (not as a wrong secret, so the status says the real reason),
recomputes the HMAC, and refuses stale timestamps (replays older than MAX_SKEW_S). A node that
accepts a heartbeat signs its reply the same way, and the caller checks it before it takes the
responder for a member. Without a secret, nothing is added or checked,
but a secret-less node refuses a caller that does carry a proof: their secrets differ, and both
sides must refuse.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterable

HEADER = "x-h2ocloud-auth"
MAX_SKEW_S = 120.0
# The "method" a heartbeat's acceptance is signed for (in its trailing metadata): not a request
# method, so a request's proof cannot be replayed as a reply's.
HEARTBEAT_REPLY = "Heartbeat/reply"


def _mac(secret: str, stamp: str, method: str, cloud: str) -> str:
    msg = f"{stamp}:{method}:{cloud}".encode()
    return hmac.new(secret.encode(), msg, hashlib.sha256).hexdigest()


def header_value(metadata: Iterable[tuple[str, str]] | None) -> str | None:
    """The auth header's value in call metadata, or None."""
    for k, v in metadata or ():
        if k == HEADER:
            return v if isinstance(v, str) else v.decode()
    return None


def sign(secret: str | None, method: str, cloud: str) -> list[tuple[str, str]]:
    """Metadata to attach to a peer call."""
    if not secret:
        return []
    stamp = str(int(time.time() * 1000))
    return [(HEADER, f"{stamp}:{_mac(secret, stamp, method, cloud)}:{cloud}")]


def verify(secret: str | None, metadata, method: str, cloud: str) -> str | None:
    """None when the call is authentic, else the reason it is refused."""
    value = header_value(metadata)
    if not secret:
        if value:
            return "the peer uses a shared secret and this node has none"
        return None
    if not value:
        return "the cloud requires a shared secret and the peer sent no proof"
    stamp, _, rest = value.partition(":")
    mac, _, their_cloud = rest.partition(":")
    if their_cloud != cloud:
        return f"cloud name {their_cloud!r} is not {cloud!r}"
    try:
        age = abs(time.time() - int(stamp) / 1000.0)
    except ValueError:
        return "malformed authentication metadata"
    if age > MAX_SKEW_S:
        return "authentication timestamp too old"
    if not hmac.compare_digest(mac, _mac(secret, stamp, method, cloud)):
        return "wrong shared secret"
    return None


# ---- client tokens (--auth-token-file): what REST, the console and the client gRPC need -------
# A client sends `Authorization: Bearer <token>` (an HTTP header, or the gRPC metadata key
# "authorization"). Unlike the peers' proof, the token itself crosses the wire: it is a bearer
# credential, as an API key is, and TLS is what keeps it private on the network.
BEARER_HEADER = "authorization"


def bearer_value(metadata: Iterable[tuple[str, str]] | None) -> str | None:
    """The authorization value in call metadata, or None."""
    for k, v in metadata or ():
        if k.lower() == BEARER_HEADER:
            return v if isinstance(v, str) else v.decode()
    return None


def token_refusal(expected: str | None, authorization: str | None) -> str | None:
    """None when a client call may proceed, else why it is refused. `authorization` is the
    header's value ("Bearer <token>"); the token is compared in constant time."""
    if not expected:
        return None
    if not authorization:
        return "this node requires a token: send `Authorization: Bearer <token>` (h2o.init(token=...) or H2OCLOUD_AUTH_TOKEN)"
    scheme, _, given = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return "the Authorization header is not `Bearer <token>`"
    if not hmac.compare_digest(given.strip().encode(), expected.encode()):
        return "wrong token"
    return None


def session_cookie_value(token: str) -> str:
    """The console's session cookie for a token: an HMAC of it, so the cookie is not the token."""
    return hmac.new(token.encode(), b"h2ocloud console session", hashlib.sha256).hexdigest()
