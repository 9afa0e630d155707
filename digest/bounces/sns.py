"""Amazon SNS's URLs and signing certificates, fetched only from Amazon and trusted only when they are Amazon's.

    parse_url     a SigningCertURL or SubscribeURL, parsed once: https, no user part, no backslash, no fragment, no port
                  but 443, a host of the form sns.<region>.amazonaws.com(.cn); anything else is refused
    SnsFetcher    GETs a parsed URL from the host that was checked (TLS verified against the CA file, SNI
                  and the host name check on that host), no redirects, at most MAX_BYTES
    certificate   the signing certificate at a parsed URL, verified: its chain (the PEM's other
                  certificates as intermediates) ends at a root of the CA file, it is valid now, and it
                  is issued to SIGNER; kept (by URL) for the next message, which signs with the same one

The CA file is the system's (the one OpenSSL uses) unless one is given. Failures raise FetchFailed, whose
text is for the log: a caller never shows it to whoever sent the request (it would tell a stranger what
answers on which port).
"""

from __future__ import annotations

import re
import ssl
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import urllib3
from cryptography import x509
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

SNS_HOST = re.compile(r"sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?")
SIGNER = "sns.amazonaws.com"  # the name SNS's signing certificates are issued to, in every region
MAX_BYTES = 64 * 1024
MAX_URL = 2048
CACHED = 32


class BadUrl(ValueError):
    """A URL that is not an SNS URL; the text says which rule it breaks."""


class FetchFailed(Exception):
    """The URL could not be fetched, or what it held is not Amazon's certificate (text for the log only)."""


@dataclass(frozen=True)
class SnsUrl:
    host: str  # checked against SNS_HOST; the only host a fetch connects to
    target: str  # the path and query

    @property
    def url(self) -> str:
        return f"https://{self.host}{self.target}"


def parse_url(raw: str) -> SnsUrl:
    """``raw`` as an SnsUrl, or BadUrl."""
    if not raw or len(raw) > MAX_URL:
        raise BadUrl("no URL, or one too long")
    if "\\" in raw or any(not (" " < c < "\x7f") for c in raw):
        raise BadUrl("a backslash, space or control character in the URL")
    parts = urlsplit(raw)
    if parts.scheme != "https":
        raise BadUrl("not an https URL")
    if "@" in parts.netloc:
        raise BadUrl("a user part in the URL")
    if "#" in raw:
        raise BadUrl("a fragment in the URL")
    try:
        port = parts.port
    except ValueError:
        raise BadUrl("a port that is not a number") from None
    if port not in (None, 443):
        raise BadUrl("a port other than 443")
    host = parts.hostname or ""
    if not SNS_HOST.fullmatch(host) or parts.netloc.lower() not in (host, f"{host}:443"):
        raise BadUrl("not an SNS host (https://sns.<region>.amazonaws.com)")
    path = parts.path or "/"
    if not path.startswith("/"):
        raise BadUrl("a path that does not start with /")
    return SnsUrl(host, path + (f"?{parts.query}" if parts.query else ""))


def system_ca_file() -> str:
    """The CA file OpenSSL trusts on this system (certifi's when the system has none)."""
    paths = ssl.get_default_verify_paths()
    for candidate in (paths.cafile, paths.openssl_cafile):
        if candidate and Path(candidate).is_file():
            return candidate
    import certifi

    return str(certifi.where())


def verify_certificate(pem: bytes, roots: Store, now: datetime) -> x509.Certificate:
    """The first certificate of ``pem`` once its chain to ``roots`` and its name (SIGNER) are verified."""
    try:
        found = x509.load_pem_x509_certificates(pem)
    except ValueError as exc:
        raise FetchFailed(f"not a PEM certificate: {exc}") from None
    leaf, intermediates = found[0], found[1:]
    verifier = PolicyBuilder().store(roots).time(now).build_server_verifier(x509.DNSName(SIGNER))
    try:
        verifier.verify(leaf, intermediates)
    except VerificationError as exc:
        raise FetchFailed(f"the certificate is not one issued to {SIGNER} by a trusted CA: {exc}") from None
    return leaf


@dataclass
class SnsFetcher:
    """Fetches SNS URLs. ``ca_file`` holds the trusted roots (the system's by default); ``connect`` maps a
    checked host to the (address, port) to connect to instead, as curl's --resolve does (tests)."""

    ca_file: str = field(default_factory=system_ca_file)
    connect: Mapping[str, tuple[str, int]] = field(default_factory=dict)
    timeout: float = 10.0
    _roots: Store | None = field(default=None, init=False, repr=False)
    _cache: OrderedDict[str, x509.Certificate] = field(default_factory=OrderedDict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def get(self, url: SnsUrl) -> bytes:
        address, port = self.connect.get(url.host, (url.host, 443))
        pool = urllib3.HTTPSConnectionPool(
            address,
            port,
            cert_reqs="CERT_REQUIRED",
            ca_certs=self.ca_file,
            server_hostname=url.host,
            assert_hostname=url.host,
            timeout=urllib3.Timeout(total=self.timeout),
            retries=False,
            maxsize=1,
        )
        try:
            reply = pool.urlopen("GET", url.target, headers={"Host": url.host}, redirect=False, preload_content=False)
            try:
                if reply.status != 200:
                    raise FetchFailed(f"{url.url} answered {reply.status}")
                body = reply.read(MAX_BYTES + 1)
            finally:
                reply.release_conn()
        except urllib3.exceptions.HTTPError as exc:
            raise FetchFailed(f"{url.url}: {exc}") from None
        finally:
            pool.close()
        if len(body) > MAX_BYTES:
            raise FetchFailed(f"{url.url} held more than {MAX_BYTES} bytes")
        return body

    def roots(self) -> Store:
        with self._lock:
            if self._roots is None:
                self._roots = Store(x509.load_pem_x509_certificates(Path(self.ca_file).read_bytes()))
            return self._roots

    def certificate(self, url: SnsUrl, now: datetime) -> x509.Certificate:
        """The verified signing certificate at ``url``, from the cache while it is still valid."""
        with self._lock:
            cert = self._cache.get(url.url)
            if cert is not None:
                self._cache.move_to_end(url.url)
        if cert is not None and cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            return cert
        cert = verify_certificate(self.get(url), self.roots(), now)
        with self._lock:
            self._cache[url.url] = cert
            while len(self._cache) > CACHED:
                self._cache.popitem(last=False)
        return cert
