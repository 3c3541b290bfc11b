"""`localise articles remove SLUG`: a takedown from the command line (legal, retraction)."""

from __future__ import annotations

import getpass

import click

from service.cli.base import _app, cli
from service.cli.terminal import echo


@cli.group(help="Articles: take one down with every language version.")
def articles() -> None:
    pass


@articles.command("remove", help="Take an article down (every language, pages, feeds, sitemap "
                                 "and cache at once); recorded with who and when. Readers get "
                                 "410 Gone; the slug cannot be posted again.")
@click.argument("slug")
@click.option("--reason", default="", help="Why (recorded with the takedown).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def articles_remove(slug: str, reason: str, yes: bool) -> None:
    from service.content.takedowns import take_down, takedown_dict
    from service.platform.errors import ServiceError
    if not yes:
        click.confirm(f"Take down {slug!r} and every language version? This is recorded and "
                      "cannot be undone silently", abort=True)
    app = _app(must_exist=True)
    try:
        with app.extensions["db"].session() as session:
            record = take_down(session, slug, f"{getpass.getuser()} (localise CLI)", reason)
            removed_at = record.removed_at.isoformat()
            erased = takedown_dict(session, record)["erased"]
    except ServiceError as exc:
        raise click.ClickException(exc.message) from exc
    app.extensions["page_cache"].invalidate(slug)
    echo(f"took down {slug} at {removed_at}; erased {erased['memory_entries']} "
               f"translation-memory entries and {erased['segments']} segments")
