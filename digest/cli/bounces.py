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

    Hard bounces mark the subscriber bounced, soft ones after [bounces] soft_limit in soft_days, and a
    complaint unsubscribes for good. `digest daemon` does this every [bounces] every (15 minutes).

    \b
    Example:
      digest bounces        # with mailbox = "imaps://bounces@mail.example.org/INBOX" and BOUNCE_PASSWORD
    """
    c.say(c.digest.bounces().line())


def feedback_lines(digest: Digest, limit: int = 5) -> list[str]:
    """Per issue sent (newest first): sent, bounces by kind (the counts of `digest report`), complaints,
    unsubscribes; a warning line when complaints pass 0.1 % of its deliveries."""
    out = []
    for week, fb in digest.recent_feedback(limit):
        b = fb.bounces
        out.append(
            f"  {week}: {fb.sent} sent, {b.total} bounced ({b.refused} refused at send (5xx), {b.hard} hard and "
            f"{b.soft} soft reported after delivery), {fb.complaints} complaints, {fb.unsubscribes} unsubscribes"
        )
        if fb.too_many_complaints:
            out.append(
                f"  warning: {week}: complaints are {fb.complaint_rate:.2%} of its deliveries, over "
                "0.1 %; mailbox providers block senders past 0.3 %. Check who is on the list and how "
                "they joined"
            )
    return out


COMMANDS = {"bounces": bounces}
