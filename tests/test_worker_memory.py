"""Memory stays flat: a worker process's RSS after 1,000 jobs is within 10 % of its RSS
after 100, and every job records the peak of its batch.

The jobs are real: 1,000 distinct tiny articles, each an editor job run one at a time by
the real job runner on a real CTranslate2 package (the session's tiny synthetic en->hi
one) in a fresh Python process (tests/worker_memory_probe.py), as a worker runs them:
one engine and one loaded model for the process's life, translation memory growing with
every job.  Tiny articles keep 1,000 jobs inside the suite's time budget.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT, service_env


@pytest.mark.timeout(600)
def test_rss_after_1000_jobs_is_within_10_percent_of_rss_after_100(tmp_path, models_dir):
    env = service_env(data_dir=tmp_path / "instance", models_dir=models_dir)
    completed = subprocess.run(
        [sys.executable, "-m", "tests.worker_memory_probe",
         f"sqlite:///{tmp_path / 'memory.db'}", str(models_dir), "1000", "100", "500", "1000"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=580)
    assert completed.returncode == 0, completed.stderr[-4000:]
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    rss = {int(jobs): value for jobs, value in report["rss"].items()}
    assert rss[1000] <= rss[100] * 1.10, rss
    assert report["model_calls"] >= 1000  # every job really reached the model
    assert report["last_job_decoded_tokens"] > 0
    # The last job's recorded peak is its batch's: about the process's size, not a
    # lifetime maximum from start-up.
    assert rss[1000] * 0.9 <= report["last_job_peak_rss"] <= rss[1000] * 1.2, report
