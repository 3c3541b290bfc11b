"""`localise report`: numbers about the newsroom's translations (post-edit analytics)."""

from __future__ import annotations

import json

import click

from service.cli.base import _app, cli
from service.cli.terminal import echo


@cli.group(help="Reports on the translations: how much editors change the machine's text.")
def report() -> None:
    pass


def _number(value: float | None, unit: str = "") -> str:
    return "-" if value is None else f"{value:.1f}{unit}"


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f} %"


def _line(label: str, stats: dict) -> str:
    timed = ("not timed" if stats["edit_seconds_mean"] is None else
             f"{_number(stats['edit_seconds_mean'], ' s')} per segment "
             f"({stats['timed_segments']} timed)")
    return (f"{label}: {stats['segments']} sentences, {_share(stats['share_unchanged'])} "
            f"unchanged, {_share(stats['share_edited'])} edited; chrF "
            f"{_number(stats['chrf'])}, TER {_number(stats['ter'])}; {timed}")


@report.command("edits", help=(
    "Post-edit analytics: per language and model version (oldest first), the published "
    "sentences left unchanged or edited, chrF and TER of the model's text against the "
    "published text, editing time per segment, and whether PUBLISH_POLICY auto is safe "
    "(see docs/editor-workflow.md)."))
@click.option("--lang", default=None, help="Only this language (e.g. hi).")
@click.option("--since", default=None,
              help="Translations published since: an ISO date (2026-11-01), an ISO "
                   "date-time or a number of days (30d). Default: all.")
@click.option("--json", "as_json", is_flag=True, help="The API's JSON instead of text.")
def report_edits(lang: str | None, since: str | None, as_json: bool) -> None:
    from service.content import edit_report, intake
    from service.platform.config import publish_policy
    from service.platform.errors import ServiceError
    app = _app(must_exist=True)
    try:
        if lang is not None:
            intake.language_code(lang, "lang")
        moment = edit_report.parse_since(since)
        with app.extensions["db"].session() as session:
            found = edit_report.edit_report(
                session, lang, moment, lambda code: publish_policy(app.config, code))
    except ServiceError as exc:
        raise click.ClickException(exc.message.replace("'lang'", "--lang")
                                   .replace("'since'", "--since")) from exc
    if as_json:
        echo(json.dumps(found, ensure_ascii=False, indent=2))
        return
    if not found["languages"]:
        echo("no published sentences with the model's text"
             + (f" since {found['since']}" if found["since"] else ""))
        return
    for entry in found["languages"]:
        echo(_line(f"{entry['language']} ({entry['name']}, PUBLISH_POLICY "
                   f"{entry['publish_policy']})", entry))
        for version in entry["versions"]:
            echo("  " + _line(version["model"], version))
        echo(f"  suggestion: {entry['suggestion']['text']}")
