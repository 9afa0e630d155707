"""SMTP PIPELINING (RFC 2920) and throttling replies, against a real aiosmtpd server on loopback: each
message's own replies are read and recorded, a refusal belongs to its message only, the next message's
commands go with a final dot without ever delivering a message twice or one cut short, and a server that
says "too many connections" or "slow down" slows the send down without failing a message."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from sqlalchemy import select

from digest.config import SMTPConfig
from digest.db import tables as t
from digest.delivery.outbox import SendOptions
from digest.delivery.transport import SMTPTransport
from digest.issue.message import Envelope

from .support.sending import prepared
from .support.smtp import PipeliningSink, envelope_to, smtp_server


def outcomes(d: object) -> dict[str, tuple[str, int, str, int]]:
    """email → (status, reply code, reply text, attempts) of each delivery row."""
    q = select(
        t.subscribers.c.email,
        t.deliveries.c.status,
        t.deliveries.c.reply_code,
        t.deliveries.c.reply_text,
        t.deliveries.c.attempts,
    ).join(t.deliveries, t.deliveries.c.subscriber_id == t.subscribers.c.id)
    with d.db.begin() as conn:  # type: ignore[attr-defined]
        return {r[0]: (r[1], r[2], r[3], r[4]) for r in conn.execute(q)}


def test_each_message_records_its_own_reply_when_commands_are_pipelined(tmp_path: Path) -> None:
    sink = PipeliningSink()
    with smtp_server(sink) as port:
        d = prepared(f"sqlite:///{tmp_path}/d.db", tmp_path, port, 30)
        rep = d.deliver(options=SendOptions(concurrency=3, batch=4))
    assert (rep.sent, rep.failed, rep.deferred) == (30, 0, 0)
    assert len(sink.together) == 30 and all(sink.together)  # MAIL, RCPT, DATA in one write every time
    rows = outcomes(d)
    assert sorted(rows) == sorted(f"sub{i}@example.com" for i in range(30))
    for email, (status, code, text, attempts) in rows.items():
        assert (status, code, attempts) == ("sent", 250, 1)
        assert text == f"2.0.0 queued as Q-{email}"  # this message's reply, not a neighbour's
    assert set(sink.delivered.values()) == {1}


def test_without_pipelining_offered_or_wanted_commands_go_one_at_a_time(tmp_path: Path) -> None:
    for offer, wanted in ((False, True), (True, False)):
        sink = PipeliningSink(offer=offer)
        with smtp_server(sink) as port:
            d = prepared(f"sqlite:///{tmp_path}/{offer}.db", tmp_path, port, 6, pipelining=wanted)
            rep = d.deliver(options=SendOptions(concurrency=2))
        assert rep.sent == 6 and sink.together == [False] * 6
        assert {text for _, _, text, _ in outcomes(d).values()} == {
            f"2.0.0 queued as Q-sub{i}@example.com" for i in range(6)
        }


def test_the_next_messages_commands_go_with_the_final_dot_up_to_the_connections_limit() -> None:
    """Each final dot carries the next message's MAIL, RCPT and DATA, except where the connection ends
    (SMTP_MAX_PER_CONNECTION=5), after the last message, and where the next message is another than the
    one announced (the connection is then dropped and a new one carries it). Every reply is its message's."""
    envelopes = [envelope_to(f"r{i}@example.com") for i in range(12)]
    sink = PipeliningSink()
    with smtp_server(sink) as port:
        transport = SMTPTransport(
            SMTPConfig(host="127.0.0.1", port=port, security="none", timeout=10, max_per_connection=5)
        )
        following: list[Envelope | None] = [*envelopes[1:], None]
        results = [transport.send(e, then=partial(following.__getitem__, i)) for i, e in enumerate(envelopes)]
        announced = transport.send(envelopes[0], then=lambda: envelopes[1])  # its commands went ahead ...
        other = transport.send(envelopes[2])  # ... but another message comes next
        transport.close()
    assert [r.text for r in results] == [f"2.0.0 queued as Q-r{i}@example.com" for i in range(12)]
    assert sink.ahead == [True] * 4 + [False] + [True] * 4 + [False] + [True, False] + [True, False]
    assert announced.ok and other.ok and sink.delivered["r1@example.com"] == 1
    assert sink.greeted == 4  # 5 + 5 + the rest, and one more for the message that came unannounced
    assert sink.delivered["r0@example.com"] == sink.delivered["r2@example.com"] == 2  # sent twice on purpose


def test_the_connection_opened_ahead_carries_the_next_messages_or_is_let_go_at_the_end() -> None:
    """At SMTP_MAX_PER_CONNECTION=3 the connection that follows is opened while the last messages of the
    one before are carried: it carries the next messages (7 messages, 3 connections, none wasted), and
    one opened ahead but not needed is let go at the end (6 messages, the third connection unused)."""
    for count, greeted in ((7, 3), (6, 3)):
        sink = PipeliningSink()
        with smtp_server(sink) as port:
            transport = SMTPTransport(
                SMTPConfig(host="127.0.0.1", port=port, security="none", timeout=10, max_per_connection=3)
            )
            results = [transport.send(envelope_to(f"r{i}@example.com")) for i in range(count)]
            transport.close()
        assert all(r.ok for r in results)
        assert set(sink.delivered.values()) == {1} and len(sink.delivered) == count
        assert sink.greeted == greeted


def test_a_send_stopped_with_the_next_messages_commands_sent_delivers_it_later_once(tmp_path: Path) -> None:
    """The send stops after the third message, whose final dot carried the fourth's commands (both are in
    the second claim of two rows): the server is left in DATA mode and the connection is dropped, so the
    fourth is not delivered; it stays pending and the next send delivers it and the rest once each."""
    sink = PipeliningSink()
    with smtp_server(sink) as port:
        d = prepared(f"sqlite:///{tmp_path}/d.db", tmp_path, port, 8)
        first = d.deliver(options=SendOptions(concurrency=1), should_stop=lambda: sum(sink.delivered.values()) >= 3)
        assert first.stopped and first.sent == 3
        assert sink.ahead[-1] and len(sink.delivered) == 3  # the third's final dot carried the fourth's commands
        assert sorted(status for status, _, _, _ in outcomes(d).values()) == ["pending"] * 5 + ["sent"] * 3
        second = d.deliver(options=SendOptions(concurrency=1))
    assert second.sent == 5 and second.already == 3
    assert set(sink.delivered.values()) == {1} and len(sink.delivered) == 8


def test_a_refused_recipient_in_a_pipelined_batch_fails_that_message_only(tmp_path: Path) -> None:
    sink = PipeliningSink(refuse={"sub3@example.com", "sub7@example.com"})
    with smtp_server(sink) as port:
        d = prepared(f"sqlite:///{tmp_path}/d.db", tmp_path, port, 12)
        rep = d.deliver(options=SendOptions(concurrency=1))
    assert (rep.sent, rep.failed, rep.deferred) == (10, 2, 0)
    assert all(sink.together)
    rows = outcomes(d)
    for email, (status, code, text, _) in rows.items():
        if email in sink.refuse:
            assert (status, code, text) == ("failed", 550, "5.1.1 no such user")
        else:
            assert (status, code, text) == ("sent", 250, f"2.0.0 queued as Q-{email}")
    assert sorted(sink.delivered) == sorted(set(rows) - sink.refuse)
    bounced = {s.email for s in d.subscribers.iter() if s.status == "bounced"}
    assert bounced == sink.refuse


def test_too_many_connections_and_slow_down_replies_slow_the_send_without_failing_a_message(tmp_path: Path) -> None:
    """The first 3 EHLOs get 421 "too many connections", then the first 4 MAIL FROMs 421 "slow down", and
    the server closes every connection after 5 messages: everyone gets the issue once, at the first try."""
    sink = PipeliningSink(busy=3, throttle=4, per_connection=5)
    with smtp_server(sink) as port:
        d = prepared(f"sqlite:///{tmp_path}/d.db", tmp_path, port, 40)
        rep = d.deliver(options=SendOptions(concurrency=2, retry_seconds=0.01))
    assert (rep.sent, rep.failed, rep.deferred) == (40, 0, 0)
    assert sink.refused_connections == 3 and sink.throttled == 4
    assert set(sink.delivered.values()) == {1} and len(sink.delivered) == 40
    assert {(status, attempts) for status, _, _, attempts in outcomes(d).values()} == {("sent", 1)}


def test_meanwhile_comes_after_the_final_dot_and_before_its_reply_is_read() -> None:
    """``then`` makes the next message once this one's content is written, ``ready`` waits for the last
    outcome before the dot, and ``meanwhile`` has the round trip of the dot's reply: a worker makes the
    message after the next one there."""
    envelopes = [envelope_to(f"r{i}@example.com") for i in range(3)]
    sink = PipeliningSink()
    calls: list[str] = []

    def then(i: int) -> Envelope | None:
        calls.append("then")
        return envelopes[i + 1] if i + 1 < len(envelopes) else None

    with smtp_server(sink) as port:
        transport = SMTPTransport(SMTPConfig(host="127.0.0.1", port=port, security="none", timeout=10))
        results = [
            transport.send(
                e,
                ready=lambda: calls.append("ready"),
                then=partial(then, i),
                meanwhile=lambda: calls.append("meanwhile"),
            )
            for i, e in enumerate(envelopes)
        ]
        transport.close()
    assert [r.ok for r in results] == [True] * 3 and set(sink.delivered.values()) == {1}
    assert calls == ["then", "ready", "meanwhile"] * 3
    assert sink.ahead == [True, True, False]  # the next message's commands still went with each dot
