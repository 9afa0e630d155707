"""Canonical URLs: one form per article, whatever tracking parameters a source added."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

TRACKING_PREFIXES = ("utm_", "mc_", "_hs", "pk_", "mtm_")
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gclsrc",
        "msclkid",
        "yclid",
        "igshid",
        "twclid",
        "ttclid",
        "li_fat_id",
        "_ga",
        "_gl",
        "mkt_tok",
        "oly_enc_id",
        "oly_anon_id",
        "vero_id",
        "wickedid",
        "rb_clickid",
        "s_cid",
        "ref_src",
        "ref_url",
        "spm",
        "share",
    }
)
DEFAULT_PORTS = {"http": 80, "https": 443}


def is_tracking(param: str) -> bool:
    p = param.lower()
    return p in TRACKING_PARAMS or p.startswith(TRACKING_PREFIXES)


def canonical_url(url: str) -> str:
    """Lower-case scheme and host, no default port, no fragment, no tracking parameters."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if parts.port and parts.port != DEFAULT_PORTS.get(scheme):
        host = f"{host}:{parts.port}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not is_tracking(k)])
    return urlunsplit((scheme, host, parts.path or "/", query, ""))


def without_tracking(url: str) -> str:
    """``url`` as the reader should see it: the tracking parameters a feed added taken out, the rest as it was."""
    parts = urlsplit(url.strip())
    if not parts.query:
        return url.strip()
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    kept = [(k, v) for k, v in pairs if not is_tracking(k)]
    if len(kept) == len(pairs):
        return url.strip()
    return urlunsplit(parts._replace(query=urlencode(kept)))


def with_campaign(url: str, source: str, campaign: str) -> str:
    """``url`` with the newsletter's own utm_source, utm_medium=email and utm_campaign (replacing any)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return url
    pairs = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not k.lower().startswith("utm_")]
    pairs += [("utm_source", source), ("utm_medium", "email"), ("utm_campaign", campaign)]
    return urlunsplit(parts._replace(query=urlencode(pairs)))
