"""The transport stage: SMTP over TLS with verified certificates, never a silent downgrade."""

from __future__ import annotations

import ssl

import pytest

from digest.config import Security, SMTPConfig
from digest.delivery.transport import SMTPTransport
from digest.errors import SMTPConnectionError

from .support.smtp import FaultSink, envelope_to, smtp_server


@pytest.fixture(scope="module")
def certs() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(server)
    client = ssl.create_default_context()
    ca.configure_trust(client)
    return server, client


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_delivers_with_a_trusted_certificate(
    security: Security, certs: tuple[ssl.SSLContext, ssl.SSLContext]
) -> None:
    server, client = certs
    sink = FaultSink()
    kw = {"tls_context": server, "require_starttls": True} if security == "starttls" else {"ssl_context": server}
    with smtp_server(sink, **kw) as port:
        transport = SMTPTransport(SMTPConfig(host="127.0.0.1", port=port, security=security, timeout=10), client)
        result = transport.send(envelope_to("a@example.com"))
        transport.close()
    assert result.ok and [r for r, _ in sink.accepted] == ["a@example.com"]


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_an_untrusted_certificate_is_a_clear_error_never_a_downgrade(
    security: Security, certs: tuple[ssl.SSLContext, ssl.SSLContext]
) -> None:
    server, _ = certs
    sink = FaultSink()
    kw = {"tls_context": server} if security == "starttls" else {"ssl_context": server}
    with smtp_server(sink, **kw) as port:
        transport = SMTPTransport(SMTPConfig(host="127.0.0.1", port=port, security=security, timeout=10))
        with pytest.raises(SMTPConnectionError, match="certificate failed verification"):
            transport.send(envelope_to("a@example.com"))
    assert sink.accepted == [] and sum(sink.tries.values()) == 0


def test_no_starttls_offered_is_an_error_not_plain_text() -> None:
    sink = FaultSink()
    with smtp_server(sink) as port:
        transport = SMTPTransport(SMTPConfig(host="127.0.0.1", port=port, security="starttls", timeout=10))
        with pytest.raises(SMTPConnectionError, match="does not offer STARTTLS"):
            transport.send(envelope_to("a@example.com"))
    assert sink.accepted == []
