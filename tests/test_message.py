"""The message stage: the byte template parses like a message built by the email package; QP lines, dots,
DKIM; an issue's messages per subscriber and for tests; sign-up notices."""

from __future__ import annotations

import base64
import re
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import formataddr
from pathlib import Path

import pytest

from digest.message import DKIMSigner, MessageTemplate, qp
from digest.render import Personal, Rendered, Renderer, one_line, personalize

from .smtp_faults import sample_issue

DATE = "Fri, 07 Mar 2025 12:00:00 GMT"
LONG = "https://digest.example.org/unsubscribe/" + "Ab3-_x" * 30


def variant() -> Rendered:
    r = Renderer("https://digest.example.org").render(sample_issue())
    assert r is not None
    # awkward content on purpose: leading dots, trailing spaces, long lines, non-ASCII, '=' signs
    extra = "\n.hidden line\n..two dots\ntrailing spaces   \n" + "x=y " * 60 + "\nÅberg — naïve ✓\n."
    return Rendered(subject="Weekly: Åberg’s patents", preheader=r.preheader, html=r.html + extra,
                    text=r.text + extra, shown=r.shown, overflow=r.overflow)


PEOPLE = [
    Personal(name="Bob Åberg", email="bob@example.net", unsubscribe_url=LONG, preferences_url=LONG + "p"),
    Personal(name='Smith, "Ann" <x>', email="ann@example.com", unsubscribe_url="https://d.example/u/1",
             preferences_url="https://d.example/p/1"),
    Personal(name="", email="cy@example.org", unsubscribe_url="https://d.example/u/2", preferences_url=".p"),
]


def parsed(data: bytes) -> EmailMessage:
    return message_from_bytes(data, policy=policy.default)  # type: ignore[return-value]


def reference(*, sender: str, who: Personal, subject: str, text: str, html: str, list_id: str,
              unsubscribe_mailto: str, reply_to: str, message_id: str, date: str) -> bytes:
    """The same message built the slow, well-trodden way: the email package, field by field."""
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = sender
    msg["To"] = formataddr((one_line(who.name), who.email)) if one_line(who.name) else who.email
    msg["Subject"] = subject
    msg["Date"] = date
    msg["Message-ID"] = message_id
    msg["List-Id"] = list_id
    msg["List-Unsubscribe"] = f"<{who.unsubscribe_url}>, <mailto:{unsubscribe_mailto}?subject=unsubscribe>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg["Reply-To"] = reply_to
    msg.set_content(text, cte="quoted-printable")
    msg.add_alternative(html, subtype="html", cte="quoted-printable")
    return msg.as_bytes()


@pytest.mark.parametrize("who", PEOPLE, ids=["accents", "quotes", "no-name"])
def test_template_parses_like_the_email_package_message(who: Personal) -> None:
    v = variant()
    tpl = MessageTemplate(v, sender="IP Digest <digest@example.org>", list_id="IP <weekly.example.org>",
                          unsubscribe_mailto="unsub@example.org", reply_to="editor@example.org", date=DATE)
    mine = tpl.fill(who, message_id="<fixed@example.org>")
    html, text = personalize(v, who)
    ref = reference(sender="IP Digest <digest@example.org>", who=who, subject=v.subject, text=text, html=html,
                    list_id="IP <weekly.example.org>", unsubscribe_mailto="unsub@example.org",
                    reply_to="editor@example.org", message_id="<fixed@example.org>", date=DATE)
    a, b = parsed(mine.data), parsed(ref)
    assert sorted(a.keys()) == sorted(b.keys())
    for key in b:
        if key != "Content-Type":  # the boundary differs
            # the email package sometimes folds right after the colon: the same value, one leading space
            assert str(a[key]).strip() == str(b[key]).strip(), key
    assert a.get_content_type() == b.get_content_type() == "multipart/alternative"
    for kind in ("plain", "html"):
        pa, pb = a.get_body((kind,)), b.get_body((kind,))
        assert pa is not None and pb is not None
        assert pa.get_content() == pb.get_content()
        assert pa["Content-Transfer-Encoding"] == "quoted-printable"
        assert pa.get_content_charset() == "utf-8"
    assert (mine.sender, mine.recipient, mine.message_id) == ("digest@example.org", who.email, "<fixed@example.org>")


def test_template_bytes_need_no_dot_stuffing_and_keep_lines_short() -> None:
    tpl = MessageTemplate(variant(), sender="digest@example.org", list_id="x <y.example>")
    data = tpl.fill(PEOPLE[0]).data
    lines = data.split(b"\r\n")
    assert not any(line.startswith(b".") for line in lines)
    assert b"\n" not in data.replace(b"\r\n", b"")
    body = data.split(b"\r\n\r\n", 1)[1]
    assert max(len(line) for line in body.split(b"\r\n")) <= 76


@pytest.mark.parametrize("text", ["", ".", "a" * 75, "a" * 74 + "=", "é" * 40, "line \n.dot\n" + "b=" * 90,
                                  "x" * 74 + "\t", " " * 100])
def test_qp_pieces_decode_to_what_went_in(text: str) -> None:
    import quopri

    enc = qp(text.encode("utf-8"))
    assert quopri.decodestring(enc.replace(b"\r\n", b"\n")) == text.encode("utf-8")
    assert all(len(line) <= 76 and not line.startswith(b".") for line in enc.split(b"\r\n"))


def test_dkim_signature_covers_list_unsubscribe_post_and_verifies(tmp_path: Path) -> None:
    import dkim
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption())
    (tmp_path / "dkim.pem").write_bytes(pem)
    public = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)

    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"digest._domainkey.example.org."
        return record

    signer = DKIMSigner(tmp_path / "dkim.pem", "digest", "example.org")
    tpl = MessageTemplate(variant(), sender="IP Digest <digest@example.org>", list_id="x <y.example>", signer=signer)
    data = tpl.fill(PEOPLE[0]).data
    assert dkim.verify(data, dnsfunc=dns)
    header = parsed(data)["DKIM-Signature"]
    signed = re.search(r"h=([^;]+)", re.sub(r"\s+", "", str(header)))
    assert signed is not None
    names = signed.group(1).lower().split(":")
    assert {"list-unsubscribe", "list-unsubscribe-post", "from", "to", "subject", "message-id"} <= set(names)
    assert not dkim.verify(data.replace(b"One-Click", b"One-click"), dnsfunc=dns)
