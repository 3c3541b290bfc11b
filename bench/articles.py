"""Article sets for the benchmarks: the real sample article plus generated ones.

Generated articles are built from templates with varied names, places and numbers, so
their sentences are distinct (translation memory cannot shortcut a cold run) while their
shape (title, highlights, paragraphs, a heading, a quote, a link) matches the site's.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

SAMPLE = Path(__file__).resolve().parent.parent.parent / "shared" / "samples" / \
    "article-xiaomi-dixon.json"

COMPANIES = ["Xiaomi", "Samsung", "Realme", "Oppo", "Vivo", "OnePlus", "Lava", "Micromax",
             "Nokia", "Motorola", "Apple", "Google", "Tata Electronics", "Foxconn"]
PRODUCTS = ["smartphones", "laptops", "earbuds", "smart TVs", "tablets", "smartwatches",
            "power banks", "routers", "chargers", "speakers"]
CITIES = ["Noida", "Chennai", "Bengaluru", "Hyderabad", "Pune", "Gurugram", "Ahmedabad",
          "Kolkata", "Mumbai", "Sriperumbudur"]
SENTENCES = [  # every template varies, so a cold run meets (almost) no repeated sentence
    "{a} has partnered with {b} to manufacture {p} in {c}.",
    "{a} expects production of {p} to begin within {n} months.",
    "According to analysts, the move could add {n} percent to value addition in {c}.",
    "{a} already assembles most of its {p} in India for the domestic market, {b} said.",
    "The new plant in {c} will employ about {m} people when {a} runs it at full capacity.",
    "Executives at {a} said the incentive scheme made the {p} investment attractive.",
    "Shares of {b} rose {n} percent after the announcement on {d}.",
    "The partnership with {b} also covers exports of {p} to Africa and the Middle East.",
    "{a} said it would source more components for {p} from local suppliers over {n} years.",
    "The government has been pushing {a} and {b} to move supply chains to India.",
    "Prices of {p} from {a} are not expected to change before {d}.",
    "Retailers in {c} reported strong demand for {p} from {b} during the festive season.",
]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]


def _sentence(rng: random.Random) -> str:
    a, b = rng.sample(COMPANIES, 2)
    return rng.choice(SENTENCES).format(a=a, b=b, p=rng.choice(PRODUCTS), c=rng.choice(CITIES),
                                        n=rng.randint(2, 90), m=rng.randint(200, 9000),
                                        d=rng.choice(DAYS))


def generated_article(index: int) -> dict:
    rng = random.Random(index)
    company, partner = rng.sample(COMPANIES, 2)
    paragraphs = [" ".join(_sentence(rng) for _ in range(rng.randint(2, 4))) for _ in range(6)]
    paragraphs[0] += (f' Read more about <a href="https://example.com/{index}">{partner}</a> '
                      "on our site.")
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs[:3])
    body += f"\n<h2>{company} and {partner} in {rng.choice(CITIES)}</h2>\n"
    body += f"<blockquote><p>“{_sentence(rng)}” an executive said.</p></blockquote>\n"
    body += "\n".join(f"<p>{p}</p>" for p in paragraphs[3:])
    return {
        "slug": f"generated-article-{index}",
        "title": f"{company} teams up with {partner} to make {rng.choice(PRODUCTS)} in India",
        "summary": _sentence(rng) + " " + _sentence(rng),
        "highlights": [_sentence(rng) for _ in range(3)],
        "body_html": body,
        "author": "Desk",
        "published_at": f"2024-0{1 + index % 9}-1{index % 10}T10:00:00+05:30",
    }


def article_set(count: int) -> list[dict]:
    """``count`` articles: the shared sample first (when present), then generated ones."""
    articles = [json.loads(SAMPLE.read_text(encoding="utf-8"))] if SAMPLE.exists() else []
    index = 0
    while len(articles) < count:
        articles.append(generated_article(index))
        index += 1
    return articles[:count]


def edit_one_sentence(article: dict) -> dict:
    """The same article with exactly one sentence changed (the first highlight)."""
    edited = json.loads(json.dumps(article))
    edited["highlights"][0] = edited["highlights"][0].rstrip(".") + ", the company said."
    return edited
