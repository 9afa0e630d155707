"""The operator's endpoints: liveness, readiness and Prometheus metrics.

GET /healthz    200 "ok": the process answers (it touches nothing else)
GET /readyz     200 when every check of digest.ops.health holds, else 503; JSON {"ready", "checks": [...]};
                the answer is kept READYZ_CACHE_SECONDS (1 s), so clients polling it cost the database little
GET /metrics    Prometheus text format (digest.ops.metrics), to clients on this machine that come
                without a proxy's X-Forwarded-For, or to a signed-in editor; others get 404
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time

from flask import Blueprint, Response, abort, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from prometheus_client.exposition import choose_encoder

from ..ops.health import Check, readiness
from ..ops.metrics import registry
from .admin import auth
from .extensions import digests

bp = Blueprint("health", __name__)
CACHE_SECONDS = 1.0


@bp.route("/healthz")
def healthz() -> ResponseReturnValue:
    return Response("ok\n", mimetype="text/plain")


class Kept:
    """The last readiness answer and when it was made (monotonic seconds)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.at = -math.inf
        self.checks: list[Check] = []


def _checks() -> list[Check]:
    kept: Kept = current_app.extensions.setdefault("digest_readyz", Kept())
    seconds = float(current_app.config.get("READYZ_CACHE_SECONDS", CACHE_SECONDS))
    with kept.lock:  # one request reads the database; the others wait for its answer
        if time.monotonic() - kept.at >= seconds:
            d = digests.digest
            kept.checks = readiness(d.health, d.settings.schedule.collect_every)
            kept.at = time.monotonic()
        return kept.checks


@bp.route("/readyz")
def readyz() -> ResponseReturnValue:
    checks = _checks()
    ready = all(c.ok for c in checks)
    body = jsonify(ready=ready, checks=[{"name": c.name, "ok": c.ok, "detail": c.detail} for c in checks])
    return body, 200 if ready else 503


def local_request() -> bool:
    """From this machine, and not relayed by a proxy on it (which would make every visitor look local)."""
    if request.headers.get("X-Forwarded-For") or request.headers.get("Forwarded"):
        return False
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


@bp.route("/metrics")
def metrics() -> ResponseReturnValue:
    if not (local_request() or auth.signed_in()):
        abort(404)
    # The format the scraper asks for, as the daemon's metrics port answers it; content_type is sent as
    # given (a mimetype would get a second charset from Flask).
    encode, content_type = choose_encoder(request.headers.get("Accept", ""))
    return Response(encode(registry(digests.digest.health)), content_type=content_type)
