"""The message stage: the byte template parses like a message built by the email package; QP lines, dots,
DKIM; an issue's messages per subscriber and for tests; sign-up notices."""

from __future__ import annotations

import base64
import re
import threading
from collections.abc import Callable
from dataclasses import fields
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import formataddr
from pathlib import Path

import pytest

from digest.issue.message import DKIMSigner, IssueMessages, Letterhead, MessageTemplate, NoticeMessages, qp
from digest.issue.render import Personal, Rendered, Renderer, one_line, personalize
from digest.models import Issue, IssueStatus, NewIssue
from subscribers.model import Subscriber
from subscribers.service import Notice
from subscribers.tokens import Tokens

from .support.data import sample_issue

DATE = "Fri, 07 Mar 2025 12:00:00 GMT"
LONG = "https://digest.example.org/unsubscribe/" + "Ab3-_x" * 30


def variant() -> Rendered:
    r = Renderer("https://digest.example.org").render(sample_issue())
    assert r is not None
    # awkward content on purpose: leading dots, trailing spaces, long lines, non-ASCII, '=' signs
    extra = "\n.hidden line\n..two dots\ntrailing spaces   \n" + "x=y " * 60 + "\nÅberg — naïve ✓\n."
    return Rendered(
        subject="Weekly: Åberg’s patents",
        preheader=r.preheader,
        html=r.html + extra,
        text=r.text + extra,
        shown=r.shown,
        overflow=r.overflow,
    )


PEOPLE = [
    Personal(name="Bob Åberg", email="bob@example.net", unsubscribe_url=LONG, preferences_url=LONG + "p"),
    Personal(
        name='Smith, "Ann" <x>',
        email="ann@example.com",
        unsubscribe_url="https://d.example/u/1",
        preferences_url="https://d.example/p/1",
    ),
    Personal(name="", email="cy@example.org", unsubscribe_url="https://d.example/u/2", preferences_url=".p"),
]


def parsed(data: bytes) -> EmailMessage:
    return message_from_bytes(data, policy=policy.default)


def reference(
    *,
    sender: str,
    who: Personal,
    subject: str,
    text: str,
    html: str,
    list_id: str,
    unsubscribe_mailto: str,
    reply_to: str,
    message_id: str,
    date: str,
) -> bytes:
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
    tpl = MessageTemplate(
        v,
        sender="IP Digest <digest@example.org>",
        list_id="IP <weekly.example.org>",
        unsubscribe_mailto="unsub@example.org",
        reply_to="editor@example.org",
        date=DATE,
    )
    mine = tpl.fill(who, message_id="<fixed@example.org>")
    html, text = personalize(v, who)
    ref = reference(
        sender="IP Digest <digest@example.org>",
        who=who,
        subject=v.subject,
        text=text,
        html=html,
        list_id="IP <weekly.example.org>",
        unsubscribe_mailto="unsub@example.org",
        reply_to="editor@example.org",
        message_id="<fixed@example.org>",
        date=DATE,
    )
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


@pytest.mark.parametrize(
    "text", ["", ".", "a" * 75, "a" * 74 + "=", "é" * 40, "line \n.dot\n" + "b=" * 90, "x" * 74 + "\t", " " * 100]
)
def test_qp_pieces_decode_to_what_went_in(text: str) -> None:
    import quopri

    enc = qp(text.encode("utf-8"))
    assert quopri.decodestring(enc.replace(b"\r\n", b"\n")) == text.encode("utf-8")
    assert all(len(line) <= 76 and not line.startswith(b".") for line in enc.split(b"\r\n"))


@pytest.fixture
def signer(tmp_path: Path) -> tuple[DKIMSigner, Callable[..., bytes]]:
    """A DKIM signer for example.org (selector 'digest'), and the DNS lookup that publishes its key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    (tmp_path / "dkim.pem").write_bytes(pem)
    public = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)

    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"digest._domainkey.example.org."
        return record

    return DKIMSigner(tmp_path / "dkim.pem", "digest", "example.org"), dns


def test_dkim_signature_covers_list_unsubscribe_post_and_verifies(
    signer: tuple[DKIMSigner, Callable[..., bytes]],
) -> None:
    import dkim

    dkim_signer, dns = signer
    tpl = MessageTemplate(
        variant(), sender="IP Digest <digest@example.org>", list_id="x <y.example>", signer=dkim_signer
    )
    data = tpl.fill(PEOPLE[0]).data
    assert dkim.verify(data, dnsfunc=dns)
    header = parsed(data)["DKIM-Signature"]
    signed = re.search(r"h=([^;]+)", re.sub(r"\s+", "", str(header)))
    assert signed is not None
    names = signed.group(1).lower().split(":")
    assert {"list-unsubscribe", "list-unsubscribe-post", "from", "to", "subject", "message-id"} <= set(names)
    assert not dkim.verify(data.replace(b"One-Click", b"One-click"), dnsfunc=dns)


class CountingRenderer(Renderer):
    """The real renderer, counting the variants it renders."""

    def __init__(self) -> None:
        super().__init__("https://digest.example.org/")
        self.rendered: list[frozenset[str] | None] = []
        self.lock = threading.Lock()

    def render(
        self, issue: NewIssue, topics: frozenset[str] | None = None, places: frozenset[str] | None = None
    ) -> Rendered | None:
        with self.lock:
            self.rendered.append(topics)
        return super().render(issue, topics, places)


LETTERHEAD = Letterhead(
    sender="IP Digest <digest@example.org>",
    list_id="IP <weekly.example.org>",
    unsubscribe_mailto="leave@example.org",
    reply_to="editor@example.org",
)


def subscriber(n: int, *topics: str) -> Subscriber:
    return Subscriber(id=n, email=f"r{n}@example.com", name=f"Reader {n}", topics=frozenset(topics), status="active")


def test_issue_messages_render_each_variant_once_across_threads() -> None:
    renderer = CountingRenderer()
    tokens = Tokens("a test key")
    messages = IssueMessages(
        replace_issue_id(sample_issue(), 1),
        renderer,
        LETTERHEAD,
        tokens,
        "https://digest.example.org/",
        ("patents", "trademarks", "designs"),
    )
    subs = [
        subscriber(n, *topics)
        for n, topics in enumerate(
            [(), ("patents",), ("trademarks",), ("patents", "unknown"), ("designs",), ("unknown",)] * 10
        )
    ]
    start = threading.Barrier(8)
    got: dict[int, bytes | None] = {}

    def work(chunk: list[Subscriber]) -> None:
        start.wait()
        for sub in chunk:
            env = messages.for_subscriber(sub)
            got[sub.id] = env.data if env is not None else None

    threads = [threading.Thread(target=work, args=(subs[i::8],)) for i in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    # everything (no topic, or only unknown ones), patents, trademarks: one render each; designs, with
    # nothing in this issue, none
    assert sorted(map(sorted, (t or () for t in renderer.rendered))) == [[], ["patents"], ["trademarks"]]
    assert got[4] is None  # nothing on designs in this issue: that subscriber is skipped
    mail = parsed(got[1] or b"")
    assert mail["To"] == "Reader 1 <r1@example.com>" and mail["Reply-To"] == "editor@example.org"
    # The token carries the second it was made, so it is read back, not compared with one made now: the
    # threads may have crossed a second's boundary.
    listed = re.fullmatch(
        r"<(https://digest\.example\.org/unsubscribe/(\S+))>, <mailto:leave@example\.org\?subject=unsubscribe>",
        mail["List-Unsubscribe"],
    )
    assert listed is not None and tokens.read("unsubscribe", listed[2]) == 1
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = mail.get_body(("plain",))
    assert text is not None and listed[1] in text.get_content()
    assert "Story 6 about trademarks" not in text.get_content()
    assert tokens.read("preferences", re.findall(r"/preferences/(\S+)", text.get_content())[0]) == 1


def test_a_test_message_is_the_whole_issue_with_a_test_subject() -> None:
    messages = IssueMessages(
        replace_issue_id(sample_issue(), 1),
        Renderer("https://d.example"),
        LETTERHEAD,
        Tokens("k"),
        "https://d.example",
        ("patents",),
    )
    env = messages.for_test("editor@example.com")
    mail = parsed(env.data)
    assert str(mail["Subject"]).strip() == "[TEST] IP Protection Weekly: 10 stories"
    assert mail["List-Unsubscribe"].startswith("<https://d.example/unsubscribe/test>")
    assert env.recipient == "editor@example.com" and env.dot_safe
    body = mail.get_body(("plain",))
    assert body is not None and "Story 6 about trademarks" in body.get_content()
    assert messages.for_test("x@example.com").data.count(b"[TEST]") == 1  # the template is reused, not re-prefixed


@pytest.mark.parametrize("kind", ["confirm", "already"])
def test_notices_are_one_off_messages_signed_like_the_issues(
    kind: str, signer: tuple[DKIMSigner, Callable[..., bytes]]
) -> None:
    import dkim

    dkim_signer, dns = signer
    letterhead = Letterhead(sender="IP Digest <digest@example.org>", list_id="unused <x>", signer=dkim_signer)
    notices = NoticeMessages(Renderer("https://d.example").env, letterhead, "IP Weekly")
    sent = notices.envelope(Notice(kind, "ann@example.com", "Ann Åberg", "https://d.example/confirm/T?a=1&b=2"))
    mail = parsed(sent.data)
    subject = "Confirm your subscription" if kind == "confirm" else "You are already subscribed"
    assert mail["Subject"] == f"IP Weekly: {subject}" and mail["Auto-Submitted"] == "auto-generated"
    assert mail["To"] == "Ann Åberg <ann@example.com>" and mail["From"] == "IP Digest <digest@example.org>"
    assert mail["Message-ID"] == sent.message_id and mail["Date"]
    assert mail["List-Unsubscribe"] is None and mail["List-Id"] is None
    assert [p.get_content_type() for p in mail.iter_parts()] == ["text/plain", "text/html"]
    text = mail.get_body(("plain",))
    assert text is not None and "https://d.example/confirm/T?a=1&b=2" in text.get_content()
    html = mail.get_body(("html",))
    assert html is not None and "https://d.example/confirm/T?a=1&amp;b=2" in html.get_content()
    assert dkim.verify(sent.data, dnsfunc=dns)


def test_with_verp_each_copy_has_its_own_envelope_sender_and_still_verifies(
    signer: tuple[DKIMSigner, Callable[..., bytes]],
) -> None:
    import dkim

    from digest.bounces.verp import DeliveryRef, Verp

    dkim_signer, dns = signer
    verp = Verp("k", "bounces@example.org")
    letterhead = Letterhead(
        sender="IP Digest <digest@example.org>", list_id="IP <weekly.example.org>", signer=dkim_signer
    )
    issue = replace_issue_id(sample_issue(), 7)
    messages = IssueMessages(
        issue, Renderer("https://d.example"), letterhead, Tokens("k"), "https://d.example", ("patents",), verp=verp
    )
    one, two = messages.for_subscriber(subscriber(1)), messages.for_subscriber(subscriber(2))
    assert one is not None and two is not None
    assert verp.read(one.sender) == DeliveryRef(7, 1) and verp.read(two.sender) == DeliveryRef(7, 2)
    assert parsed(one.data)["From"] == "IP Digest <digest@example.org>"
    assert dkim.verify(one.data, dnsfunc=dns)
    plain = IssueMessages(
        issue, Renderer("https://d.example"), letterhead, Tokens("k"), "https://d.example", ("patents",)
    )
    other = plain.for_subscriber(subscriber(1))
    assert other is not None and other.sender == "digest@example.org"


def replace_issue_id(new: NewIssue, issue_id: int) -> Issue:
    return Issue(**{f.name: getattr(new, f.name) for f in fields(new)}, id=issue_id, status=IssueStatus.SENT)


@pytest.mark.parametrize(
    "name", ["Reader 7", "Dr. Who", "Smith, Jo", 'Jo "JJ" Lee', "O'Brien", "Zoë Ångström", "  A  B "]
)
def test_the_to_header_is_what_formataddr_writes(name: str) -> None:
    """A plain display name is written directly; a name that needs quoting or encoding goes through
    formataddr: either way the header is formataddr's, byte for byte."""
    tpl = MessageTemplate(variant(), sender="IP Digest <digest@example.org>", list_id="IP <weekly.example.org>")
    who = Personal(name=name, email="r@example.com", unsubscribe_url="https://x/u", preferences_url="https://x/p")
    head = tpl.fill(who).data.split(b"\r\n\r\n", 1)[0].decode("ascii")
    to = next(line for line in head.split("\r\n") if line.startswith("To: "))
    assert to == "To: " + formataddr((one_line(name), "r@example.com"), charset="utf-8")
