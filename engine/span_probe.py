"""Which kinds of protected span a model keeps, measured once on fixed probe sentences.

The engine translates a sentence whole and checks that its numbers, prices, model names
and addresses came through byte for byte; when one did not, the sentence is cut at its
spans and the pieces decoded again (``engine.document``).  For a model that never keeps a
kind of span (a model that writes Devanagari digits keeps no number; a random-weight model
keeps nothing) every whole attempt on such a sentence is decoding thrown away: a quarter of
all decoding on the bench's tech-news articles.  So, once per model route and process, the
job runner translates these probe sentences, three per kind, each with exactly one span of
its kind, and a kind the model kept in *none* of its probes sends sentences holding it
straight to the pieces.  One kept probe is enough to keep trying whole sentences, so a
model that mostly keeps a kind loses nothing.

Inline markup is probed the same way, as the pseudo-kind ``inline``: three one-sentence
paragraphs, each with one link or emphasis around words that hold no span, go through the
document logic itself, and a probe is kept when its element's own translation is found in
the sentence's (what ``engine.document`` needs to wrap the element around it).  See
docs/engine.md, "Span probe".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from engine.document import INLINE_KIND, ArticleText, SegmentedArticle
from engine.protected import find_spans, survives

# Three English tech-news sentences per kind; each holds exactly one span, of that kind
# (tests/engine/test_span_probe.py checks this against engine.protected).
PROBES: dict[str, tuple[str, ...]] = {
    "number": ("The company sold 4 million phones in India last year.",
               "More than 300 stores will open across the country.",
               "The update reached 12 countries on the first day."),
    "price": ("The phone costs Rs 23,999 in India.",
              "The base model is priced at ₹14,499 for the first sale.",
              "The tablet starts at $499 in the United States."),
    "measure": ("The battery lasts two days on a 5,000mAh cell.",
                "It has a 6.7-inch display with thin bezels.",
                "The laptop weighs only 1.2kg with the keyboard."),
    "model": ("Reviewers liked the Galaxy S24 Ultra camera.",
              "The OnePlus 12R is sold online and in stores.",
              "Buyers waited for the iPhone 15 Pro all week."),
    "code": ("The chip is built on a new process called N3E.",
             "Support for the X55 modem arrives next month.",
             "The band supports Wi-Fi 6E in most regions."),
    "domain": ("Orders open on amazon.in at noon on Friday.",
               "Details are on the official site, mi.com, from today.",
               "The form is available on uidai.gov.in for every resident."),
    "url": ("Read the full notice at https://example.com/notice today.",
            "The list is posted at https://www.example.in/phones for buyers.",
            "Updates appear at https://example.org/status every hour."),
    "email": ("Readers can write to support@example.com with questions.",
              "Send your tips to news@example.in before Monday.",
              "The team answers mail sent to help@example.org quickly."),
    "handle": ("The company announced the launch from @SamsungIndia on Monday.",
               "Fans can follow @XiaomiIndia for the sale dates.",
               "The news was first shared by @OnePlus_IN this morning."),
    "hashtag": ("The campaign runs under #MakeInIndia this year.",
                "Buyers posted photos with #NewPhoneDay all evening.",
                "The launch trended as #TechWeek across the country."),
}
PROBE_SENTENCES: tuple[str, ...] = tuple(s for probes in PROBES.values() for s in probes)

# One-sentence paragraphs, each with one inline element around words that hold no span
# (tests/engine/test_span_probe.py checks this against engine.protected and engine.document).
INLINE_PROBES: tuple[str, ...] = (
    '<p>Read our <a href="https://example.com/review">full review</a> before you buy '
    'the phone.</p>',
    "<p>The new tablet is <em>much lighter</em> than the model it replaces.</p>",
    "<p>The company said the <strong>cheaper version</strong> will reach stores soon.</p>",
)


def _inline_documents() -> list[SegmentedArticle]:
    return [SegmentedArticle(ArticleText("", "", [], body), "en") for body in INLINE_PROBES]


def probe_texts() -> list[str]:
    """Everything ``measure`` translates, in one call: the span probes, then the inline
    probes' sentences and their elements' words."""
    inline = [s for document in _inline_documents() for s in document.first_pass()]
    return list(dict.fromkeys([*PROBE_SENTENCES, *inline]))


@dataclass(frozen=True)
class SpanSurvival:
    """How many probes of each kind the model translated with the span intact."""

    kept: dict[str, int]
    tried: dict[str, int]

    def never_kept(self) -> frozenset[str]:
        """Kinds kept in none of their probes: whole sentences holding them are not tried."""
        return frozenset(kind for kind, tried in self.tried.items()
                         if tried and not self.kept.get(kind))

    def describe(self) -> str:
        return ", ".join(f"{kind} {self.kept.get(kind, 0)}/{tried}"
                         for kind, tried in self.tried.items())


def measure(translate: Callable[[list[str]], Sequence[str]]) -> SpanSurvival:
    """Translate the probes with ``translate`` (sentences in, translations out, in order).

    An inline probe is kept when its paragraph's whole translation is accepted: the
    document asks for no fallback pieces.
    """
    texts = probe_texts()
    translated = dict(zip(texts, translate(texts), strict=True))
    kept = {kind: sum(survives(find_spans(s), translated[s]) is not None for s in probes)
            for kind, probes in PROBES.items()}
    kept[INLINE_KIND] = sum(not document.second_pass(translated)
                            for document in _inline_documents())
    tried = {kind: len(probes) for kind, probes in PROBES.items()}
    tried[INLINE_KIND] = len(INLINE_PROBES)
    return SpanSurvival(kept, tried)
