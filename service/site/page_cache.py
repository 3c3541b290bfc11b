"""Rendered reader pages cached in Redis, invalidated whenever an article's translations change.

Keys carry a per-article generation number: invalidating an article is one ``INCR`` (the old
pages simply stop being read and expire), so the worker that finishes a translation and the
web process that stores a revision never have to know which pages exist.  Without Redis
(the embedded deployment) nothing is cached and every call is a no-op.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from dataclasses import dataclass

import redis

log = logging.getLogger(__name__)
PAGE_TTL_S = 600
# Pages listing many articles (front pages, the sitemap, feeds) are cached under this name,
# which no slug can take (slugs have no "~"); every article's invalidation renews them too.
SITE_LISTINGS = "~listings"


@dataclass(frozen=True)
class CachedPage:
    html: str
    etag: str
    status: int
    cache_control: str
    robots: str = ""  # X-Robots-Tag ("noindex" for pages of a synthetic model, notices)


def etag_for(html: str) -> str:
    return hashlib.sha256(html.encode("utf-8")).hexdigest()[:32]


class PageCache:
    def __init__(self, redis_url: str, prefix: str = "localiser:page") -> None:
        self.prefix = prefix
        self._client = redis.Redis.from_url(redis_url, socket_timeout=0.5,
                                            socket_connect_timeout=0.5) if redis_url else None
        self.hits = 0
        self.misses = 0

    @property
    def enabled(self) -> bool:
        return self._client is not None

    def ping(self) -> bool:
        """Open the connection now (a web process's warm-up); False when Redis is away.
        Without a cache there is nothing to reach."""
        if not self.enabled:
            return True
        try:
            return bool(self._client.ping())
        except redis.RedisError:
            return False

    def _key(self, slug: str, page: str) -> str | None:
        generation = self._client.get(f"{self.prefix}:gen:{slug}") or b"0"
        return f"{self.prefix}:{slug}:{generation.decode()}:{page}"

    def get(self, slug: str, page: str) -> CachedPage | None:
        if not self.enabled:
            return None
        try:
            pipe = self._client.pipeline(transaction=False)
            pipe.hmget(self._key(slug, page), "html", "etag", "status", "cc", "robots")
            pipe.hincrby(f"{self.prefix}:stats", "lookups", 1)  # shared, for /metrics
            values, _ = pipe.execute()
        except redis.RedisError as exc:  # a cache outage must never break reading
            log.warning("page cache unavailable: %s", exc)
            return None
        if values[0] is None:
            self.misses += 1
            self._count("misses")
            return None
        self.hits += 1
        return CachedPage(values[0].decode(), values[1].decode(), int(values[2]),
                          values[3].decode(), (values[4] or b"").decode())

    def _count(self, field: str) -> None:
        """Shared counters for /metrics (every web process adds to the same)."""
        with contextlib.suppress(redis.RedisError):
            self._client.hincrby(f"{self.prefix}:stats", field, 1)

    def put(self, slug: str, page: str, cached: CachedPage) -> None:
        if not self.enabled:
            return
        try:
            key = self._key(slug, page)
            pipe = self._client.pipeline()
            pipe.hset(key, mapping={"html": cached.html, "etag": cached.etag,
                                    "status": cached.status, "cc": cached.cache_control,
                                    "robots": cached.robots})
            pipe.expire(key, PAGE_TTL_S)
            pipe.execute()
        except redis.RedisError as exc:
            log.warning("page cache unavailable: %s", exc)

    def invalidate(self, slug: str) -> None:
        """Drop every cached page of ``slug`` and every listing page (front pages, sitemap,
        feeds).  The one call for any change a reader could see: a translation published,
        changed or withdrawn, a new revision, or the article taken down."""
        if not self.enabled:
            return
        try:
            pipe = self._client.pipeline(transaction=False)
            pipe.incr(f"{self.prefix}:gen:{slug}")
            pipe.incr(f"{self.prefix}:gen:{SITE_LISTINGS}")
            pipe.execute()
        except redis.RedisError as exc:
            log.warning("could not invalidate cached pages of %s: %s", slug, exc)
