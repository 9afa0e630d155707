"""The environment file explained once: ``EXAMPLE`` is .env.example word for word (tests/test_config.py
holds the two together), and ``starter`` is the .env that `digest init` writes from it: the same
explanations, a fresh secret key, and every other variable commented out at its default."""

from __future__ import annotations

import re

EXAMPLE = """\
# IP Digest settings read from the environment (or this file copied to .env).
# digest.toml holds the newsletter, sources and topics; these hold the secrets and the servers.

# Mail server. With no SMTP_HOST, messages are written as .eml files into the outbox folder.
SMTP_HOST=
# Empty: 587 for starttls, 465 for ssl, 25 for none.
SMTP_PORT=
# AUTH is used when a username is set.
SMTP_USERNAME=
SMTP_PASSWORD=
# starttls (default; certificates verified), ssl (implicit TLS), or none (plain, for a trusted local relay only).
SMTP_SECURITY=starttls
# Seconds to wait for the mail server (decimals allowed, e.g. 2.5).
SMTP_TIMEOUT=30
# Messages over one connection before it is closed and reopened (fewer when the server closes it sooner).
SMTP_MAX_PER_CONNECTION=100
# Send MAIL FROM, RCPT TO and DATA in one write when the server offers PIPELINING (RFC 2920); false: one at a time.
SMTP_PIPELINING=true
# Tries per message on 4xx replies, dropped connections and timeouts before it is recorded as failed.
SMTP_MAX_ATTEMPTS=5
# First retry delay in seconds; doubled per attempt with +-50% jitter, at most 10 minutes.
SMTP_RETRY_SECONDS=5

# DKIM signing (optional; pip install 'ip-digest[dkim]'): all three or none.
# PEM private key file, the selector (its public key at SELECTOR._domainkey.DOMAIN) and the signing domain.
DKIM_KEY_FILE=
DKIM_SELECTOR=
DKIM_DOMAIN=

# Database. Default: sqlite:///digest.db in the working directory.
# PostgreSQL: postgresql+psycopg://user:password@host:5432/dbname (pip install 'ip-digest[postgres]').
DIGEST_DATABASE_URL=sqlite:///digest.db

# Key that signs unsubscribe, preferences and confirmation links (and, through a derived key, the web
# forms' CSRF cookie). Default: a random key made on first use and kept in the database. Set it when
# several machines share one list; changing it makes every link in past emails invalid.
DIGEST_SECRET_KEY=

# The digest.toml to read. Default: ./digest.toml, else the bundled sample sources.
DIGEST_CONFIG=

# Folder for .eml files and the HTML preview when no SMTP_HOST is set. Default: outbox
DIGEST_OUTBOX=outbox

# The editor's pages under /admin of `digest serve` (off while either is empty).
DIGEST_ADMIN_USER=
# A werkzeug password hash: run `digest admin-hash` and paste its output in single quotes (it holds $ signs).
DIGEST_ADMIN_PASSWORD_HASH=

# The password of the [bounces] mailbox of digest.toml (IMAP or POP3), where bounces and complaints arrive.
BOUNCE_PASSWORD=

# Event webhooks of `digest serve` (bounces and complaints from an email service); each is off while unset.
# Amazon SES through SNS: the topic ARN(s) whose notifications are accepted, comma-separated.
SES_TOPIC_ARN=
# Postmark: the basic-auth user and password set in the webhook's URL.
POSTMARK_WEBHOOK_USER=
POSTMARK_WEBHOOK_PASSWORD=
# Mailgun: the HTTP webhook signing key.
MAILGUN_WEBHOOK_SIGNING_KEY=
# SendGrid: the signed event webhook's verification key (base64).
SENDGRID_WEBHOOK_PUBLIC_KEY=
"""

_VARIABLE = re.compile(r"^([A-Z][A-Z0-9_]*)=(.*)$")


def starter(secret_key: str) -> str:
    """``EXAMPLE`` with DIGEST_SECRET_KEY set to ``secret_key`` and each other NAME=value line as a comment,
    so the defaults apply until the operator uncomments one."""
    lines = ["# IP Digest: secrets and servers, read with digest.toml beside it (the environment wins over this file)."]
    for line in EXAMPLE.splitlines()[1:]:
        found = _VARIABLE.match(line)
        if found is None:
            lines.append(line)
        elif found[1] == "DIGEST_SECRET_KEY":
            lines.append(f"DIGEST_SECRET_KEY={secret_key}")
        else:
            lines.append(f"# {line}")
    return "\n".join(lines) + "\n"
