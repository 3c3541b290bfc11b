"""`localise tokens`: API tokens for editors and admins."""

from __future__ import annotations

import click

from service.cli.base import _db, cli
from service.cli.terminal import echo


@cli.group(help="API tokens: editors write articles and translations, admins manage.")
def tokens() -> None:
    pass


@tokens.command("create", help="Create a token and print it (it is shown only once).")
@click.argument("name")
@click.option("--role", type=click.Choice(["editor", "admin"]), default="editor",
              show_default=True)
@click.option("--languages", default="",
              help="A language desk: the only languages this editor token may change, "
                   "comma-separated (e.g. hi,mr). Default: every language.")
def tokens_create(name: str, role: str, languages: str) -> None:
    from service.platform.errors import ServiceError
    from service.platform.tokens import create_token, parse_scope
    try:
        with _db().session() as session:
            token, secret = create_token(session, name, role, parse_scope(languages))
            desk = f" for {', '.join(token.languages)}" if token.languages else ""
    except ServiceError as exc:
        raise click.ClickException(exc.message) from exc
    echo(f"created {role} token {token.id}{desk} for {name!r}:\n{secret}")


@tokens.command("list", help="Show tokens (never their secrets).")
def tokens_list() -> None:
    from service.platform.tokens import list_tokens
    with _db(must_exist=True).session() as session:
        rows = list_tokens(session)
    for row in rows:
        state = "revoked" if row["revoked"] else "active"
        desk = f" [{','.join(row['languages'])}]" if row["languages"] else ""
        echo(f"{row['id']}  {row['role']:<7} {state:<8} {row['name']}{desk}  "
                   f"last used {row['last_used_at'] or 'never'}")


@tokens.command("revoke", help="Revoke a token by id; it stops working at once.")
@click.argument("token_id")
def tokens_revoke(token_id: str) -> None:
    from service.platform.errors import ServiceError
    from service.platform.tokens import revoke_token
    try:
        with _db(must_exist=True).session() as session:
            revoke_token(session, token_id)
    except ServiceError as exc:
        raise click.ClickException(exc.message) from exc
    echo(f"revoked {token_id}")
