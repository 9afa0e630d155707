"""digest search: the stories of sent issues that match."""

from __future__ import annotations

import json
from datetime import datetime

import click

from .context import Context, handle_errors, pass_ctx


@click.command()
@click.argument("text", required=False, default="")
@click.option("--topic", help="Only stories of this topic (its code, such as patents).")
@click.option("--jurisdiction", help="Only stories about this jurisdiction (a code such as upc, eu, us).")
@click.option("--source", help="Only stories from this source (its name).")
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), help="Stories dated on or after this day.")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), help="Stories dated on or before this day.")
@click.option("--limit", type=click.IntRange(1, 500), default=20, show_default=True, help="At most this many.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@pass_ctx
@handle_errors
def search(
    c: Context,
    text: str,
    topic: str | None,
    jurisdiction: str | None,
    source: str | None,
    start: datetime | None,
    end: datetime | None,
    limit: int,
    as_json: bool,
) -> None:
    """The stories of sent issues whose title, summary, source, topics, jurisdictions or register numbers
    match TEXT (every word must begin a word of the story), newest sent first, each with its link in the
    web archive.

    \b
    Example:
      digest search "standard essential" --topic patents --jurisdiction upc
      digest search "EP 3 512 904"
    """
    c.digest.complete_archive()
    hits = c.digest.search_archive(
        text,
        topic=topic,
        jurisdiction=jurisdiction,
        source=source,
        start=start.date() if start else None,
        end=end.date() if end else None,
        limit=limit,
    )
    base = c.settings.base_url.rstrip("/")
    for hit in hits:
        link = f"{base}/issues/{hit.issue_id}#a{hit.article_id}"
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "title": hit.title,
                        "source": hit.source,
                        "published": hit.published.isoformat(),
                        "sent": hit.sent.isoformat(),
                        "topics": list(hit.topics),
                        "jurisdictions": list(hit.jurisdictions),
                        "archive_url": link,
                        "url": hit.url,
                    }
                )
            )
        else:
            click.echo(f"{hit.published:%Y-%m-%d}  {hit.source}: {hit.title}\n            {link}")
    if not hits and not as_json:
        click.echo("no sent story matches", err=True)


COMMANDS = {"search": search}
