"""A throwaway certificate authority for serving the emulator over HTTPS on loopback.

The Pulumi provider only speaks https to `RENDER_API_HOST`; Go trusts the CA through
`SSL_CERT_FILE`, Python clients through `verify=`.
"""

from __future__ import annotations

import ssl
from pathlib import Path

import trustme

__all__ = ["make_server_context"]

_NAMES = ("127.0.0.1", "localhost", "::1")


def make_server_context(ca_file: Path) -> ssl.SSLContext:
    """A server context with a fresh certificate for loopback; writes the CA PEM to `ca_file`."""
    ca = trustme.CA(organization_name="envparity emulator")
    cert = ca.issue_cert(*_NAMES)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    cert.configure_cert(context)
    ca_file.parent.mkdir(parents=True, exist_ok=True)
    ca.cert_pem.write_to_path(str(ca_file))
    return context
