"""`localise glossary`: the site's protected terms."""

from __future__ import annotations

import json
from pathlib import Path

import click

from service.cli.base import _db, cli
from service.cli.terminal import echo


@cli.group(help="Terms that must come through translation unchanged (or as given).")
def glossary() -> None:
    pass


@glossary.command("add", help="Protect TERM; with --lang and --rendering, show it as given.")
@click.argument("term")
@click.option("--lang", default=None, help="Only for this target language.")
@click.option("--rendering", default=None, help="What the target must show instead.")
def glossary_add(term: str, lang: str | None, rendering: str | None) -> None:
    from service.content.glossary import add_term
    from service.platform.errors import ServiceError
    try:
        with _db().session() as session:
            add_term(session, term, lang, rendering)
    except ServiceError as exc:
        raise click.ClickException(exc.message) from exc
    echo(f"added {term!r}" + (f" for {lang}" if lang else "")
               + (f" -> {rendering!r}" if rendering else ""))


@glossary.command("import", help="Add every entry of a JSON list of "
                                 '{"term", "language"?, "rendering"?} objects.')
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def glossary_import(path: Path) -> None:
    from service.content.glossary import add_term
    from service.platform.errors import ServiceError
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(entries, list):
            raise ValueError("the file must hold a JSON list")
        with _db().session() as session:
            for number, entry in enumerate(entries, 1):
                if not isinstance(entry, dict) or not isinstance(entry.get("term"), str):
                    raise ValueError(f"entry {number} needs a 'term' string")
                add_term(session, entry["term"], entry.get("language"),
                         entry.get("rendering"))
    except (ValueError, ServiceError) as exc:
        raise click.ClickException(f"{path}: {getattr(exc, 'message', exc)}; nothing imported") \
            from exc
    echo(f"imported {len(entries)} glossary entries")


@glossary.command("list", help="Show the glossary.")
@click.option("--json", "as_json", is_flag=True)
def glossary_list(as_json: bool) -> None:
    from service.content.glossary import all_terms
    with _db(must_exist=True).session() as session:
        rows = all_terms(session)
    if as_json:
        echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        echo(f"{row['term']:<30} {row['language'] or '*':<5} {row['rendering'] or ''}")


@glossary.command("remove", help="Remove TERM (the all-languages entry unless --lang).")
@click.argument("term")
@click.option("--lang", default=None)
def glossary_remove(term: str, lang: str | None) -> None:
    from service.content.glossary import remove_term
    from service.platform.errors import ServiceError
    try:
        with _db(must_exist=True).session() as session:
            remove_term(session, term, lang)
    except ServiceError as exc:
        raise click.ClickException(exc.message) from exc
    echo(f"removed {term!r}")
