"""Post-edit analytics: how much of the machine's text editors change, per language and model.

What it counts, from what is already stored (no new table):

- **the sentences**: the segments of *published* translations that hold the model's text
  (``machine_text`` not empty; a segment a person wrote before any model saw it has none and
  is left out).  The period (``since``) is the translation's publication time.
- **unchanged / edited**: the published text (``current_text``) equal to the model's text,
  or not.  A sentence marked reviewed without a change is unchanged.
- **edit distance**: sacrebleu's sentence-level chrF and TER of the model's text (the
  hypothesis) against the published text (the reference), averaged over every sentence
  (an unchanged one is chrF 100, TER 0 by definition, not computed) and over the edited ones.
- **editing time per segment**: the segment history records when each save happened and by
  whom.  A save's editing time is the time since the same editor's previous save in the
  same translation, when that gap is at most :data:`IDLE_GAP_S` (longer: a break, not
  counted).  The first save of a sitting has no start and is not timed.  Only people's saves
  count (tokens), never the machine, memory or an XLIFF import.
- **model version**: the translation's model key (``route``, e.g. ``en-hi@1.0``); the
  versions of a language are listed in the order they were first published, so the list is
  the trend across model upgrades.

The suggestion per language reads the last :data:`RECENT_WINDOW` published sentences
(whatever ``since`` is): at least :data:`AUTO_SAFE_PERCENT` % unchanged over at least
:data:`MIN_SENTENCES` sentences says ``PUBLISH_POLICY`` auto is safe for it
(docs/editor-workflow.md, "Post-edit analytics", says why these numbers).
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.platform import languages
from service.platform.errors import ValidationError
from service.platform.models import SegmentChange, Translation, TranslationSegment

AUTO_SAFE_PERCENT = 95   # share of sentences published unchanged that makes auto safe
RECENT_WINDOW = 500      # the suggestion reads this many of a language's newest sentences
MIN_SENTENCES = 200      # no suggestion from fewer
IDLE_GAP_S = 600         # a longer gap between two saves is a break, not editing time
_HUMAN_ACTOR = " (token "  # service.platform.tokens.actor_name: "<name> (token <id>)"
_DAYS = re.compile(r"^(\d{1,5})d$")


@dataclass(frozen=True)
class Sentence:
    translation_id: int
    position: int
    language: str
    model: str
    published_at: datetime | None
    machine: str
    final: str

    @property
    def unchanged(self) -> bool:
        return self.machine == self.final


@dataclass(frozen=True)
class Save:
    """A person's save of a segment (from the segment history)."""
    translation_id: int
    position: int
    actor: str
    at: datetime


def parse_since(value: str | None, now: datetime | None = None) -> datetime | None:
    """``since`` as given to the API and the CLI: empty (no bound), ``<N>d`` (the last N
    days), an ISO date (midnight UTC) or an ISO date-time (UTC when it names no zone)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    now = now or datetime.now(UTC)
    if match := _DAYS.match(text):
        return now - timedelta(days=int(match.group(1)))
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        moment = datetime.fromisoformat(text)
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: year 1 east of UTC, 9999 west
        raise ValidationError("'since' must be an ISO date (2026-11-01), an ISO date-time or "
                              "a number of days such as 30d", field="since") from None


def editing_seconds(saves: Iterable[Save], idle_gap_s: float = IDLE_GAP_S
                    ) -> dict[tuple[int, int], float]:
    """Seconds of editing per (translation, position): each save gets the time since the
    same person's previous save in the same translation, if not longer than ``idle_gap_s``;
    a segment saved more than once adds its gaps up.  Segments with no timed save are
    absent (their time is unknown, not zero)."""
    previous: dict[tuple[int, str], datetime] = {}
    out: dict[tuple[int, int], float] = {}
    for save in sorted(saves, key=lambda s: (s.translation_id, s.at)):
        sitting = (save.translation_id, save.actor)
        before, previous[sitting] = previous.get(sitting), save.at
        if before is None:
            continue
        gap = (save.at - before).total_seconds()
        if 0 <= gap <= idle_gap_s:
            key = (save.translation_id, save.position)
            out[key] = out.get(key, 0.0) + gap
    return out


class _Scorer:
    """sacrebleu's sentence-level chrF and TER, made on the first edited sentence (the web
    process does not import sacrebleu until a report has one to score); each sentence is
    scored once however many groups it is in."""

    def __init__(self) -> None:
        self._metrics = None
        self._scored: dict[tuple[int, int], tuple[float, float]] = {}

    def scores(self, sentence: Sentence) -> tuple[float, float]:
        if sentence.unchanged:
            return 100.0, 0.0
        key = (sentence.translation_id, sentence.position)
        if key not in self._scored:
            if self._metrics is None:
                from sacrebleu.metrics import CHRF, TER
                self._metrics = CHRF(), TER()
            chrf, ter = self._metrics
            self._scored[key] = (chrf.sentence_score(sentence.machine, [sentence.final]).score,
                                 ter.sentence_score(sentence.machine, [sentence.final]).score)
        return self._scored[key]


def _mean(values: list[float]) -> float | None:
    return round(statistics.fmean(values), 4) if values else None


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def statistics_of(sentences: list[Sentence], seconds: dict[tuple[int, int], float],
                  scorer: _Scorer) -> dict:
    """The numbers of one group of sentences (a language, or one model version of it)."""
    scored = [(sentence, *scorer.scores(sentence)) for sentence in sentences]
    edited = [(chrf, ter) for sentence, chrf, ter in scored if not sentence.unchanged]
    timed = [seconds[key] for key in ((s.translation_id, s.position) for s in sentences)
             if key in seconds]
    return {
        "segments": len(sentences),
        "unchanged": len(sentences) - len(edited),
        "edited": len(edited),
        "share_unchanged": _share(len(sentences) - len(edited), len(sentences)),
        "share_edited": _share(len(edited), len(sentences)),
        "chrf": _mean([chrf for _, chrf, _ in scored]),
        "ter": _mean([ter for _, _, ter in scored]),
        "edited_chrf": _mean([chrf for chrf, _ in edited]),
        "edited_ter": _mean([ter for _, ter in edited]),
        "timed_segments": len(timed),
        "edit_seconds_mean": _mean(timed),
        "edit_seconds_median": round(statistics.median(timed), 4) if timed else None,
    }


def _published_sentences(query, language: str | None, since: datetime | None):
    query = query.join(TranslationSegment, TranslationSegment.translation_id == Translation.id
                       ).where(Translation.published.is_(True),
                               TranslationSegment.machine_text != "")
    if language is not None:
        query = query.where(Translation.target_lang == language)
    if since is not None:
        query = query.where(Translation.published_at >= since)
    return query


_COLUMNS = (Translation.id, TranslationSegment.position, Translation.target_lang,
            Translation.route, Translation.published_at, TranslationSegment.machine_text,
            TranslationSegment.current_text)


def sentences(session: Session, language: str | None = None, since: datetime | None = None,
              limit: int | None = None) -> list[Sentence]:
    """The published sentences with the model's text, newest publication first."""
    query = _published_sentences(select(*_COLUMNS), language, since).order_by(
        Translation.published_at.desc(), Translation.id.desc(), TranslationSegment.position)
    if limit is not None:
        query = query.limit(limit)
    return [Sentence(*row) for row in session.execute(query)]


def saves(session: Session, language: str | None = None, since: datetime | None = None
          ) -> list[Save]:
    """People's saves of the segments of the translations :func:`sentences` reads."""
    query = select(SegmentChange.translation_id, SegmentChange.position, SegmentChange.actor,
                   SegmentChange.changed_at).join(
        Translation, Translation.id == SegmentChange.translation_id).where(
        Translation.published.is_(True), SegmentChange.actor.contains(_HUMAN_ACTOR))
    if language is not None:
        query = query.where(Translation.target_lang == language)
    if since is not None:
        query = query.where(Translation.published_at >= since)
    return [Save(*row) for row in session.execute(query)]


def suggestion(language: str, recent: list[Sentence], policy: str) -> dict:
    """What the last :data:`RECENT_WINDOW` sentences say about ``PUBLISH_POLICY`` auto."""
    count = len(recent)
    unchanged = sum(1 for sentence in recent if sentence.unchanged)
    percent = unchanged * 100 // count if count else None
    safe = count >= MIN_SENTENCES and unchanged * 100 >= AUTO_SAFE_PERCENT * count
    setting = f"PUBLISH_POLICY_{language.upper()}"
    head = f"{language}: {percent} % of the last {count} sentences published unchanged"
    if count < MIN_SENTENCES:
        suggested = None
        text = (f"{language}: {count} published sentences with the model's text so far; a "
                f"suggestion needs at least {MIN_SENTENCES}")
    elif policy == "auto":
        suggested = "auto" if safe else "review"
        text = (f"{head} — PUBLISH_POLICY is auto already (a sentence no one edited counts "
                "as unchanged)" if safe else
                f"{head} — under {AUTO_SAFE_PERCENT} %: consider {setting}=review")
    elif safe:
        suggested = "auto"
        text = f"{head} — PUBLISH_POLICY auto is safe ({setting}=auto)"
    else:
        suggested = policy
        text = (f"{head} — keep PUBLISH_POLICY {policy} (auto needs "
                f"{AUTO_SAFE_PERCENT} %)")
    return {"sentences": count, "unchanged": unchanged,
            "share_unchanged": _share(unchanged, count), "policy": policy,
            "suggested_policy": suggested, "text": text}


def edit_report(session: Session, language: str | None, since: datetime | None,
                policy_of: Callable[[str], str]) -> dict:
    """The report of ``GET /api/v1/reports/edits``, the desk's analytics page and
    ``localise report edits``: per language its numbers, its model versions in the order
    they were first published, and the suggestion.  ``policy_of(code)`` is the language's
    publish policy now (service.platform.config.publish_policy)."""
    found = sentences(session, language, since)
    seconds = editing_seconds(saves(session, language, since))
    scorer = _Scorer()
    by_language: dict[str, list[Sentence]] = {}
    for sentence in found:
        by_language.setdefault(sentence.language, []).append(sentence)
    if language is not None:
        by_language.setdefault(language, [])
    report = []
    for code in sorted(by_language):
        rows = by_language[code]
        versions: dict[str, list[Sentence]] = {}
        for sentence in sorted(rows, key=lambda s: (s.published_at or datetime.min.replace(
                tzinfo=UTC), s.translation_id)):
            versions.setdefault(sentence.model, []).append(sentence)
        policy = policy_of(code)
        report.append({
            "language": code, "name": languages.english_name(code), "publish_policy": policy,
            **statistics_of(rows, seconds, scorer),
            "versions": [{"model": model,
                          "first_published_at": _iso(min(
                              (s.published_at for s in group if s.published_at),
                              default=None)),
                          **statistics_of(group, seconds, scorer)}
                         for model, group in versions.items()],
            "suggestion": suggestion(code, sentences(session, code, limit=RECENT_WINDOW),
                                     policy)})
    return {"language": language, "since": _iso(since),
            "rule": {"auto_safe_percent": AUTO_SAFE_PERCENT, "window": RECENT_WINDOW,
                     "minimum": MIN_SENTENCES, "idle_gap_s": IDLE_GAP_S},
            "languages": report}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
