"""Score every installed package on FLORES-200 and write the table into docs/models.md.

    .venv/bin/python bench/quality.py [--limit N] [--dry-run]

For every (source, target) an installed package serves, runs `localise models evaluate
--json` (the job path with the configured CT2_* settings, the route the job runner picks)
on the FLORES-200 devtest in EVAL_DATA_DIR, one process per pair so that each peak RSS is
that model's alone, and replaces the table between
the quality markers of docs/models.md (the section is added when it is missing; nothing
else in the file is touched).  Pairs without FLORES files are listed as skipped.  A
synthetic package's row says that its score measures nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.evaluation import EvaluationError, flores_files  # noqa: E402
from engine.packages import PackageStore  # noqa: E402
from engine.translator import EngineSettings  # noqa: E402
from service.platform.config import load_config  # noqa: E402

LOCALISE = Path(sys.executable).parent / "localise"

MODELS_DOC = ROOT / "docs" / "models.md"
START, END = "<!-- quality-table:start -->", "<!-- quality-table:end -->"
SECTION = f"""## Quality on FLORES-200

`bench/quality.py` writes this table: every installed package, scored by `localise models
evaluate` on the FLORES-200 devtest (`../shared/eval/`, en → xx unless the package goes the
other way). chrF is the number to compare with the published scores in
`../shared/eval/README.md`; BLEU uses sacrebleu's `13a` tokenizer (spBLEU's tokenizers need a
download), so it is not comparable with published spBLEU. Speed and peak RSS are this
machine's, with the settings shown (peak RSS: the whole `localise` process with one
model loaded). A synthetic package's score measures nothing; rows of real packages appear
when real packages are installed and the bench is run again.

{START}
{END}
"""


def rows(limit: int | None) -> tuple[list[str], list[str]]:
    config = load_config()
    settings = EngineSettings.from_config(config)
    store = PackageStore(config["MODELS_DIR"])
    table, skipped = [], []
    for package in store.installed():
        for target in package.to_codes:
            pair = f"{package.from_code}→{target}"
            try:
                flores_files(Path(config["EVAL_DATA_DIR"]), package.from_code, target)
            except EvaluationError as exc:
                skipped.append(f"{pair} ({package.key}): {exc}")
                continue
            command = [str(LOCALISE), "models", "evaluate", package.from_code, target,
                       "--json", *(["--limit", str(limit)] if limit else [])]
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode != 0:
                skipped.append(f"{pair} ({package.key}): {done.stderr.strip()[-300:]}")
                continue
            result = json.loads(done.stdout)
            note = "synthetic: measures nothing" if result["synthetic"] else ""
            print(f"{pair:8} {result['model']:24} chrF {result['chrf']:6.2f}  chrF++ "
                  f"{result['chrf++']:6.2f}  BLEU {result['bleu']:6.2f}  "
                  f"{result['sentences_per_s']:6.1f} sent/s  {note}", flush=True)
            table.append(f"| {pair} | `{result['model']}` | {result['sentences']} | "
                         f"{result['chrf']:.1f} | {result['chrf++']:.1f} | "
                         f"{result['bleu']:.1f} | {result['sentences_per_s']:.1f} | "
                         f"{result['peak_rss_mib']:.0f} | {note or 'real model'} |")
    header = [f"Measured {datetime.now(UTC):%Y-%m-%d}; {os.cpu_count()} CPUs; "
              f"compute {settings.compute_type}, beam {settings.beam_size}, batch "
              f"{settings.max_batch_size}, intra threads {settings.intra_threads or 'all'}.",
              "",
              "| pair | package | sentences | chrF | chrF++ | BLEU (13a) | sentences/s "
              "| peak RSS MiB | note |",
              "|---|---|---|---|---|---|---|---|---|"]
    if not table:
        table = ["| — | no installed package could be scored | | | | | | | |"]
    return header + table, skipped


def write_table(lines: list[str], skipped: list[str]) -> None:
    text = MODELS_DOC.read_text(encoding="utf-8") if MODELS_DOC.exists() else "# Models\n"
    if START not in text:
        text = text.rstrip("\n") + "\n\n" + SECTION
    before, rest = text.split(START, 1)
    after = rest.split(END, 1)[1]
    body = lines + ([""] + [f"Skipped: {line}" for line in skipped] if skipped else [])
    MODELS_DOC.write_text(before + START + "\n" + "\n".join(body) + "\n" + END + after,
                          encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, help="first N sentences only (a quick look)")
    parser.add_argument("--dry-run", action="store_true", help="print, do not write")
    args = parser.parse_args()
    lines, skipped = rows(args.limit)
    for line in skipped:
        print(f"skipped {line}")
    if not args.dry_run:
        write_table(lines, skipped)
        print(f"wrote {MODELS_DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
