"""Lighthouse's four scores for the reader pages a publisher ships, default and themed.

    make audit-tools && .venv/bin/python bench/lighthouse.py [--synthetic] [--keep DIR]

Builds a site like the demo's in a temporary data folder (SQLite, the sample article
translated into Hindi and Urdu by the real job runner and engine), serves it with gunicorn
twice on loopback (the default layout, and docs/theme-example with SITE_THEME_COLOR and
SITE_NAME, as a newsroom would theme it), each with ``SITE_URL`` = its own address (as
``localise serve`` sets it), and runs Lighthouse (npm, pinned in audit-tools/package.json,
``make audit-tools``) with Debian's Chromium (``CHROME_PATH``) on ``/``, ``/hi/``, the
English, Hindi and Urdu article: mobile emulation with Lighthouse's default simulated
throttling, the four categories.  Prints the scores and whether every one is >= 98; exits
1 when not.  Nothing leaves loopback: Chromium runs with background networking off.

The models are built here (no download): a synthetic model's pages are ``noindex`` by
design (its output is gibberish, search engines must not index it), which Lighthouse's SEO
category scores as "blocked from indexing".  So by default the package is installed as a
stand-in for a real one (its ``metadata.json`` says ``"synthetic": false``); the pages then
are what a real model's translation gets.  ``--synthetic`` measures the demo's own pages.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from articles import article_set  # noqa: E402

LIGHTHOUSE = ROOT / "audit-tools" / "node_modules" / "lighthouse" / "cli" / "index.js"
CHROME = "/usr/bin/chromium"
CHROME_FLAGS = ("--headless=new --no-sandbox --disable-gpu --disable-quic --no-first-run "
                "--disable-background-networking --disable-component-update --disable-sync")
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
THEMED = {"THEME_DIR": str(ROOT / "docs" / "theme-example"), "SITE_THEME_COLOR": "#c4161c",
          "SITE_NAME": "Dainik Samachar"}
TARGETS = ("hi", "ur")
GOAL = 98


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def as_real_package(path: Path) -> Path:
    """A copy of a built package whose metadata says it is not synthetic (see above)."""
    copy = path.with_name(path.stem + "-stand-in.argosmodel")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(copy, "w",
                                                          zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename.endswith("/metadata.json"):
                metadata = json.loads(data)
                metadata["synthetic"] = False
                data = json.dumps(metadata, indent=2).encode()
            target.writestr(item, data)
    return copy


def prepare(data_dir: Path, synthetic: bool) -> str:
    """Install models, store and translate the sample article; return its slug."""
    from engine.model_builder import build_package
    from engine.translator import Engine
    from service import create_app
    from service.content.articles import submit_article
    from service.content.intake import parse_article
    from service.jobs.runner import JobRunner
    app = create_app()
    store = app.extensions["packages"]
    for target in TARGETS:
        package = build_package(data_dir / "packages", "en", target)
        store.install(package if synthetic else as_real_package(package))
    article = article_set(1)[0]
    data = parse_article(article, default_source="en", max_body_chars=200_000)
    with app.extensions["db"].session() as session:
        job_ids = [job.id for job in submit_article(session, data, list(TARGETS)).new_jobs]
    runner = JobRunner(app.extensions["db"], store, Engine())
    for job_id in job_ids:
        assert runner.run(job_id).status == "done"
    return article["slug"]


def start_server(env: dict[str, str], extra: dict[str, str]) -> tuple[subprocess.Popen, str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--threads", "8", "--worker-class", "gthread", "--log-level", "warning",
         "service:create_app()"], cwd=ROOT, env={**env, **extra, "SITE_URL": base})
    for _ in range(150):
        try:
            urllib.request.urlopen(f"{base}/api/v1/health", timeout=1)
            return server, base
        except OSError:
            time.sleep(0.1)
    server.terminate()
    raise SystemExit(f"the server on {base} did not start")


def lighthouse(url: str, report: Path) -> dict[str, int]:
    """Run Lighthouse once (mobile, the default); the four scores out of 100."""
    subprocess.run(
        ["node", str(LIGHTHOUSE), url, "--quiet", "--output=json", f"--output-path={report}",
         f"--only-categories={','.join(CATEGORIES)}", f"--chrome-flags={CHROME_FLAGS}"],
        check=True, env={**os.environ, "CHROME_PATH": CHROME})
    result = json.loads(report.read_text())
    return {name: round(100 * (result["categories"][name]["score"] or 0))
            for name in CATEGORIES}


def failing_audits(report: Path) -> list[str]:
    """The audits that cost points: what to fix next."""
    result = json.loads(report.read_text())
    lost = []
    for name in CATEGORIES:
        for ref in result["categories"][name]["auditRefs"]:
            audit = result["audits"][ref["id"]]
            if ref["weight"] and audit["score"] is not None and audit["score"] < 1:
                lost.append(f"{name}: {ref['id']} ({audit['score']:.2f})")
    return lost


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--synthetic", action="store_true",
                        help="measure the demo's synthetic-model pages (noindex) as they are")
    parser.add_argument("--keep", type=Path, help="write each page's JSON report here")
    parser.add_argument("--pages", help="comma-separated page names to run (default: all)")
    parser.add_argument("--themes", default="default,themed")
    args = parser.parse_args()
    if not LIGHTHOUSE.is_file():
        sys.exit("Lighthouse is not installed: run `make audit-tools`")
    if not Path(CHROME).exists():
        sys.exit("Debian's Chromium is not installed: run `make browser`")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        env = {k: v for k, v in os.environ.items()
               if k not in ("DATABASE_URL", "MODELS_DIR", "REDIS_URL", "SITE_URL",
                            *THEMED)}
        env.update({"LOCALISER_DATA_DIR": str(data_dir), "RATE_LIMITS_ENABLED": "false"})
        os.environ.update({"LOCALISER_DATA_DIR": str(data_dir)})
        slug = prepare(data_dir, args.synthetic)
        reports = args.keep or data_dir / "reports"
        reports.mkdir(parents=True, exist_ok=True)
        pages = {"/": "/", "/hi/": "/hi/", "article en": f"/articles/{slug}",
                 "article hi": f"/hi/articles/{slug}", "article ur": f"/ur/articles/{slug}"}
        if args.pages:
            pages = {name: path for name, path in pages.items()
                     if name in args.pages.split(",")}
        for theme, extra in (("default", {}), ("themed", THEMED)):
            if theme not in args.themes.split(","):
                continue
            server, base = start_server(env, extra)
            try:
                for name, path in pages.items():
                    report = reports / f"{theme}-{name.replace('/', '_').replace(' ', '-')}.json"
                    scores = lighthouse(base + path, report)
                    rows.append((theme, name, scores, failing_audits(report)))
                    print(f"{theme:<8} {name:<11} " + "  ".join(
                        f"{category} {scores[category]:>3}" for category in CATEGORIES),
                        flush=True)
            finally:
                server.terminate()
                server.wait(timeout=30)
    passed = all(score >= GOAL for _, _, scores, _ in rows for score in scores.values())
    for theme, name, scores, lost in rows:
        if lost and min(scores.values()) < 100:
            print(f"  {theme} {name}: " + "; ".join(lost))
    print(f"Lighthouse mobile, {len(rows)} pages; every score >= {GOAL}: "
          f"{'yes' if passed else 'no'}")
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
