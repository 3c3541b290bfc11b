"""Load-test a cached translated page against a static file on the same server stack.

    .venv/bin/python bench/page_load.py [--seconds 10] [--connections 4,8,16] [--workers 2]

Starts gunicorn (gthread workers) on the real app with Redis page caching (Redis on
127.0.0.1:6379, database 14, flushed), SQLite and a synthetic en->hi package; translates
the sample article with the real engine; then drives two URLs from a second process, wrk,
over loopback:

  page:   /hi/articles/<slug>            (served from the Redis page cache)
  static: /bench-static/page.html        (the same HTML bytes, a file sent by Flask)

Both go through the same gunicorn + Flask stack (rate limits off: all load comes from one
address); the ratio isolates what the page path costs over sending a file.  Targets: page
p99 under 20 ms, throughput within 3x of static.  Needs `wrk` (Debian package) and a running
Redis.  The machine is shared with wrk and noisy: run it twice before believing a number.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from articles import article_set  # noqa: E402

REDIS_URL = "redis://127.0.0.1:6379/14"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wrk(url: str, seconds: int, connections: int) -> dict[str, float]:
    output = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url],
        capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p99_value, p99_unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", output).groups()
    p99_ms = float(p99_value) * {"us": 0.001, "ms": 1, "s": 1000}[p99_unit]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {"rps": rps, "p99_ms": p99_ms, "non_2xx": int(errors.group(1)) if errors else 0}


def prepare(data_dir: Path) -> str:
    """Install a model, store and translate the sample article; return its slug."""
    from engine.model_builder import build_package
    from engine.translator import Engine
    from service import create_app
    from service.content.articles import submit_article
    from service.content.intake import parse_article
    from service.jobs.runner import JobRunner
    app = create_app()
    store = app.extensions["packages"]
    store.install(build_package(data_dir / "packages", "en", "hi"))
    article = article_set(1)[0]
    data = parse_article(article, default_source="en", max_body_chars=200_000)
    with app.extensions["db"].session() as session:
        job_ids = [job.id for job in submit_article(session, data, ["hi"]).new_jobs]
    runner = JobRunner(app.extensions["db"], store, Engine())
    for job_id in job_ids:
        assert runner.run(job_id).status == "done"
    return article["slug"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", default="4,8,16",
                        help="comma-separated concurrency levels to run")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install wrk)")
    import redis
    redis.Redis.from_url(REDIS_URL).flushdb()

    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        # One load generator on one address: the per-address rate limit would answer 429.
        env = {**os.environ, "LOCALISER_DATA_DIR": str(data_dir), "REDIS_URL": REDIS_URL,
               "BENCH_STATIC_DIR": str(data_dir / "static"), "RATE_LIMITS_ENABLED": "false"}
        env.pop("DATABASE_URL", None)
        env.pop("MODELS_DIR", None)
        for name in ("SECRET_KEY", "WEBHOOK_SECRET"):  # given, as with Redis they must be
            env.setdefault(name, f"bench-{name.lower()}-{os.getpid()}")
        os.environ.update({k: env[k] for k in ("LOCALISER_DATA_DIR", "REDIS_URL",
                                               "SECRET_KEY", "WEBHOOK_SECRET")})
        slug = prepare(data_dir)
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers",
             str(args.workers), "--threads", str(args.threads), "--worker-class", "gthread",
             "--log-level", "warning", "bench.page_load_app:app"],
            cwd=ROOT, env=env)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(100):
                try:
                    urllib.request.urlopen(f"{base}/api/v1/health", timeout=1)
                    break
                except OSError:
                    time.sleep(0.1)
            page_url = f"{base}/hi/articles/{slug}"
            html = urllib.request.urlopen(page_url).read()  # fills the cache
            (data_dir / "static").mkdir()
            (data_dir / "static" / "page.html").write_bytes(html)
            static_url = f"{base}/bench-static/page.html"
            assert urllib.request.urlopen(static_url).read() == html
            print(f"gunicorn gthread, {args.workers} workers x {args.threads} threads; wrk 2 "
                  f"threads, {args.seconds} s per URL and level; page and static file both "
                  f"{len(html)} bytes", flush=True)
            wrk(static_url, 1, 4)  # warm both paths (connections, caches) before measuring
            wrk(page_url, 1, 4)
            results = []
            for connections in [int(c) for c in args.connections.split(",")]:
                static = wrk(static_url, args.seconds, connections)
                page = wrk(page_url, args.seconds, connections)
                results.append({"connections": connections, "static": static, "page": page})
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"{'connections':>11}{'static rps':>12}{'static p99':>12}{'page rps':>10}"
          f"{'page p99':>10}{'static/page':>13}{'non-2xx':>9}")
    for r in results:
        static, page = r["static"], r["page"]
        print(f"{r['connections']:>11}{static['rps']:>12.0f}{static['p99_ms']:>10.2f}ms"
              f"{page['rps']:>10.0f}{page['p99_ms']:>8.2f}ms{static['rps'] / page['rps']:>13.2f}"
              f"{static['non_2xx'] + page['non_2xx']:>9}")
    print("targets: page p99 < 20 ms; static/page throughput <= 3")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
