"""digest bounces: read the bounce mailbox once; and the per-issue feedback lines of `digest status`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from .context import Context, handle_errors, pass_ctx

if TYPE_CHECKING:
    from ..facade import Digest


@click.command()
@pass_ctx
@handle_errors
def bounces(c: Context) -> None:
    """Read the bounce mailbox of [bounces] once: apply each bounce and complaint, then move or delete it.

    Hard bounces (the address or domain is gone) mark the subscriber bounced, soft ones about their
    mailbox after [bounces] soft_limit in soft_days, and a complaint unsubscribes for good. A refusal
    about our side (blocked IP, spam, size, rate) changes nobody and shows as an alert in `digest status`.
    Only a report with our VERP token or a Message-ID we sent changes a subscriber. A message that cannot
    be read is set aside (folder Unreadable). `digest daemon` does this every [bounces] every (15 minutes).

    \b
    Example:
      digest bounces        # with mailbox = "imaps://bounces@mail.example.org/INBOX" and BOUNCE_PASSWORD
    """
    c.say(c.digest.bounces().line())


def feedback_lines(digest: Digest, limit: int = 5) -> list[str]:
    """Per issue sent (newest first): sent, bounces by kind (the counts of `digest report`), complaints,
    unsubscribes, and what came back per reason; a warning line when complaints pass 0.1 % of its
    deliveries; then an alert line per provider that refused our mail for a reason on our side lately."""
    from ..bounces.summary import ALERT_HINT, alert_line, groups

    out = []
    for week, fb in digest.recent_feedback(limit):
        b = fb.bounces
        out.append(
            f"  {week}: {fb.sent} sent, {b.total} bounced ({b.refused} refused at send (5xx), {b.hard} hard and "
            f"{b.soft} soft reported after delivery), {fb.complaints} complaints, {fb.unsubscribes} unsubscribes"
        )
        per = ", ".join(f"{n} {name}" for name, n in groups(fb).items() if n)
        if per:
            out.append(f"    by reason: {per}")
        if fb.too_many_complaints:
            out.append(
                f"  warning: {week}: complaints are {fb.complaint_rate:.2%} of its deliveries, over "
                "0.1 %; mailbox providers block senders past 0.3 %. Check who is on the list and how "
                "they joined"
            )
    refusals = digest.refusals()
    for r in refusals:
        out.append(f"  alert: {alert_line(r)}")
    if refusals:
        out.append(f"  ({ALERT_HINT})")
    return out


COMMANDS = {"bounces": bounces}
