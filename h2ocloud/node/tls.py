"""The node's TLS: --tls-cert/--tls-key give TLS on the gRPC port and HTTPS on the web port;
--tls-ca adds mutual TLS on the gRPC port.

With a CA, the gRPC port requires every caller's certificate to be signed by it: peers present
their node certificate when they call, so a node without one is never admitted. grpcio offers
no "ask for a certificate but do not require it" mode, so clients' gRPC calls need a
CA-signed certificate too (h2o.init(cert=...)); /3/Cloud says so, and the client says what to
pass before it tries. The web port stays server-authenticated only (browsers, curl, probes),
guarded by the token. Outgoing peer calls verify the other node's certificate against the CA
(without one, against grpc's default roots) and the address it is called at.

The files are read once, at startup, and checked here (a key that does not match its
certificate, a CA file with no certificate), each error naming its flag.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass

import grpc


class TLSConfigError(ValueError):
    """A TLS file the node cannot use; the message names its flag."""


def _read(path: str, flag: str) -> bytes:
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise TLSConfigError(f"cannot read {flag} {path}: {e.strerror or e}") from None
    if b"-----BEGIN " not in data:
        raise TLSConfigError(f"{flag} {path} is not a PEM file")
    return data


@dataclass(frozen=True)
class NodeTLS:
    """The node's certificate, key and (for mutual TLS) CA, as PEM bytes and paths."""

    cert_path: str
    key_path: str
    ca_path: str | None
    cert: bytes
    key: bytes
    ca: bytes | None

    @property
    def mutual(self) -> bool:
        """Whether callers of the gRPC port must present a certificate signed by the CA."""
        return self.ca is not None

    @classmethod
    def load(cls, cert: str | None, key: str | None, ca: str | None) -> NodeTLS | None:
        """The node's TLS from the three flags' paths (None: no TLS); TLSConfigError names a
        missing partner flag or a file that cannot serve."""
        if not cert and not key:
            if ca:
                raise TLSConfigError("--tls-ca needs --tls-cert and --tls-key (the node's own certificate)")
            return None
        if not cert or not key:
            raise TLSConfigError("--tls-cert and --tls-key go together: give both or neither")
        tls = cls(cert, key, ca, _read(cert, "--tls-cert"), _read(key, "--tls-key"), _read(ca, "--tls-ca") if ca else None)
        tls.web_ssl_context()  # fails now, naming the flags, rather than at the first client
        if ca:
            try:
                ssl.create_default_context(cafile=ca)
            except ssl.SSLError as e:
                raise TLSConfigError(f"--tls-ca {ca} holds no usable certificate: {e.reason or e}") from None
        return tls

    def web_ssl_context(self) -> ssl.SSLContext:
        """The web port's context: HTTPS with the node's certificate; no client certificate
        asked for (browsers and probes connect with the token, not a certificate)."""
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            ctx.load_cert_chain(self.cert_path, self.key_path)
        except ssl.SSLError as e:
            raise TLSConfigError(f"--tls-cert {self.cert_path} and --tls-key {self.key_path} cannot serve: "
                                 f"{e.reason or e} (is the key the certificate's?)") from None
        return ctx

    def server_credentials(self) -> grpc.ServerCredentials:
        """The gRPC port's credentials: TLS, requiring a CA-signed client certificate with a CA."""
        return grpc.ssl_server_credentials([(self.key, self.cert)], root_certificates=self.ca,
                                           require_client_auth=self.ca is not None)

    def channel_credentials(self) -> grpc.ChannelCredentials:
        """Credentials of this node's calls to peers: verify the peer against the CA (grpc's
        default roots without one) and present our own certificate (the peer's mutual TLS)."""
        return grpc.ssl_channel_credentials(root_certificates=self.ca, private_key=self.key,
                                            certificate_chain=self.cert)

    def status_json(self) -> dict[str, bool]:
        """What a client needs to know to connect (in /3/Cloud): TLS, and whether its gRPC
        calls must present a certificate."""
        return {"enabled": True, "client_certificate_required": self.mutual}
