"""The operator's endpoints: liveness, readiness and Prometheus metrics.

GET /healthz    200 "ok": the process answers (it touches nothing else)
GET /readyz     200 when every check of digest.ops.health holds, else 503; JSON {"ready", "checks": [...]}
GET /metrics    Prometheus text format (digest.ops.metrics), to clients on this machine that come
                without a proxy's X-Forwarded-For, or to a signed-in editor; others get 404
"""

from __future__ import annotations

import ipaddress

from flask import Blueprint, Response, abort, jsonify, request
from flask.typing import ResponseReturnValue
from prometheus_client.exposition import choose_encoder

from ..ops.health import readiness
from ..ops.metrics import registry
from .admin import auth
from .extensions import digests

bp = Blueprint("health", __name__)


@bp.route("/healthz")
def healthz() -> ResponseReturnValue:
    return Response("ok\n", mimetype="text/plain")


@bp.route("/readyz")
def readyz() -> ResponseReturnValue:
    d = digests.digest
    checks = readiness(d.health, d.settings.schedule.collect_every)
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
