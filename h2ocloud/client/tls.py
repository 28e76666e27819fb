"""The client's TLS: verifying a node's certificate (verify=) and presenting one (cert=).

A node started with --tls-cert serves HTTPS on its web port and TLS on its gRPC port; the client
takes an https:// URL and uses TLS for both, with the same trust: `verify=True` the system's CA
certificates, `verify="ca.pem"` that CA file, `verify=False` no check of who signed the node's
certificate (for a self-signed certificate in a test: the certificate the node presents is then
trusted as it is, for REST and gRPC alike, and a warning says so). A node started with --tls-ca
requires a certificate signed by its CA on its gRPC port: `cert=("client.pem", "client.key")`.

Failures are TLSError (a ConnectionError) saying what went wrong and what to pass: a certificate
the CA does not verify, a node that wants a client certificate, an http:// URL to a node that
serves HTTPS, or the reverse.
"""

from __future__ import annotations

import os
import socket
import ssl
import warnings
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import grpc

from h2ocloud.errors import TLSError

CertArg = str | tuple[str, str] | None


def _pem_blocks(data: bytes, kind: bytes) -> bytes:
    """The PEM blocks of data whose type ends with kind (b"CERTIFICATE", b"PRIVATE KEY")."""
    out, rest = [], data
    while b"-----BEGIN " in rest:
        start = rest.index(b"-----BEGIN ")
        label = rest[start + 11:rest.index(b"-----", start + 11)]
        end_marker = b"-----END " + label + b"-----"
        end = rest.find(end_marker, start)
        if end < 0:
            break
        block, rest = rest[start:end + len(end_marker)], rest[end + len(end_marker):]
        if label.endswith(kind):
            out.append(block + b"\n")
    return b"".join(out)


@dataclass(frozen=True)
class ClientTLS:
    """How the client checks nodes' certificates and which certificate it presents."""

    verify: bool | str = True
    cert_file: str | None = None
    key_file: str | None = None

    @classmethod
    def from_args(cls, verify: bool | str | None, cert: CertArg) -> ClientTLS:
        """Check h2o.init's verify= and cert= (H2OValueError naming the one that is wrong)."""
        from h2ocloud.exceptions import H2OValueError

        verify = True if verify is None else verify
        if isinstance(verify, str):
            if not os.path.isfile(verify):
                raise H2OValueError(f"verify={verify!r}: no such CA file (pass a PEM file of the CA that "
                                    "signed the node's certificate, True for the system's CAs, or False)",
                                    var_name="verify")
        elif not isinstance(verify, bool):
            raise H2OValueError(f"verify={verify!r}: pass True, False or the path of a CA file", var_name="verify")
        if cert is None:
            return cls(verify)
        pair = (cert, cert) if isinstance(cert, str) else tuple(cert) if isinstance(cert, (tuple, list)) else ()
        if len(pair) != 2 or not all(isinstance(p, str) and os.path.isfile(p) for p in pair):
            raise H2OValueError(f"cert={cert!r}: pass (certificate file, key file) or one PEM file holding both",
                                var_name="cert")
        try:
            ssl.create_default_context().load_cert_chain(pair[0], pair[1])
        except ssl.SSLError as e:
            raise H2OValueError(f"cert={cert!r}: not a certificate and its key ({e.reason or e})",
                                var_name="cert") from None
        return cls(verify, pair[0], pair[1])

    # ---- REST (urllib) -------------------------------------------------------------------
    def ssl_context(self) -> ssl.SSLContext:
        """The context of the client's HTTPS calls."""
        if self.verify is False:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        else:
            ctx = ssl.create_default_context(cafile=self.verify if isinstance(self.verify, str) else None)
        if self.cert_file:
            ctx.load_cert_chain(self.cert_file, self.key_file)
        return ctx

    # ---- gRPC ----------------------------------------------------------------------------
    def _roots(self, address: str) -> bytes | None:
        if isinstance(self.verify, str):
            return _read(self.verify)
        if self.verify is False:
            # gRPC cannot skip verification: trust the certificate the node presents, as is.
            host, _, port = address.rpartition(":")
            warnings.warn(f"verify=False: the certificate of {address} is not checked", UserWarning, stacklevel=4)
            try:
                return ssl.get_server_certificate((host, int(port)), timeout=10).encode()
            except (OSError, ssl.SSLError) as e:
                raise TLSError(f"no TLS answer from the node's gRPC port {address}: {e}") from None
        cafile = ssl.get_default_verify_paths().cafile  # the system's CAs, as the REST calls use
        return _read(cafile) if cafile and os.path.isfile(cafile) else None  # None: grpc's own roots

    def channel(self, address: str, options: list[tuple[str, Any]]) -> grpc.Channel:
        """A TLS channel to a node's gRPC port."""
        key = chain = None
        if self.cert_file:
            chain = _pem_blocks(_read(self.cert_file), b"CERTIFICATE")
            key = _pem_blocks(_read(self.key_file or self.cert_file), b"PRIVATE KEY")
        creds = grpc.ssl_channel_credentials(root_certificates=self._roots(address), private_key=key,
                                             certificate_chain=chain)
        return grpc.secure_channel(address, creds, options=options)


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def grpc_channel(address: str, tls: ClientTLS | None, options: list[tuple[str, Any]],
                 status: dict[str, Any] | None = None) -> grpc.Channel:
    """The channel to a node's gRPC port: TLS when the client reached the node over HTTPS.
    TLSError when the node (its /3/Cloud `status`) wants a client certificate the client lacks."""
    if tls is None:
        return grpc.insecure_channel(address, options=options)
    need = bool(((status or {}).get("tls") or {}).get("client_certificate_required"))
    if need and not tls.cert_file:
        raise TLSError(f"the node's gRPC port {address} requires a client certificate signed by its CA (it was "
                       "started with --tls-ca): pass h2o.init(..., cert=('client.pem', 'client.key'))")
    return tls.channel(address, options)


def explain(url: str, reason: BaseException) -> TLSError | None:
    """The TLSError behind a failed REST call to url, or None when TLS is not what failed."""
    parts = urlsplit(url)
    host, port = parts.hostname or "localhost", parts.port or (443 if parts.scheme == "https" else 80)
    if isinstance(reason, ssl.SSLCertVerificationError):
        return TLSError(f"the certificate of the node at {url} is not verified: {reason.verify_message} (pass "
                        "h2o.init(verify='ca.pem') with the CA that signed it; verify=False skips the check)")
    if isinstance(reason, ssl.SSLError):
        if parts.scheme == "https" and "WRONG_VERSION_NUMBER" in str(reason):
            return TLSError(f"the node at {url} does not speak TLS ({reason.reason}): it was started without "
                            f"--tls-cert, connect with http://{parts.netloc}")
        return TLSError(f"TLS with the node at {url} failed: {reason.reason or reason}")
    if parts.scheme == "http" and isinstance(reason, (ConnectionError, OSError)) and _speaks_tls(host, port):
        return TLSError(f"the node at {url} serves HTTPS (it was started with --tls-cert): connect with "
                        f"https://{parts.netloc} (and verify= its CA)")
    return None


def _speaks_tls(host: str, port: int) -> bool:
    """Whether host:port completes a TLS handshake (the certificate is not checked here)."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        with socket.create_connection((host, port), timeout=5) as raw, ctx.wrap_socket(raw, server_hostname=host):
            return True
    except (OSError, ssl.SSLError):
        return False
