"""Memory of the embedded service, and of ten languages under a model memory budget.

    .venv/bin/python bench/memory_footprint.py [--part 1,2] [--articles 11] [--jobs 100]
        [--budget-models 4] [--budget-only] [--beam 2] [--compute-type int8] [--inter-threads 2]
        [--intra-threads 1] [--max-batch 64] [--port 18300]

1. **Embedded footprint.**  ``localise serve`` (SQLite, the file-system broker) with one
   transformer-base en->hi package: the proportional set size (PSS: a page shared by n
   processes counts 1/n in each, so the sum is what the service really holds) of every
   process, idle after the model is loaded (one warm-up article translated), and the peak
   of the total while ``--articles`` articles are posted at once and translated.
   Targets (issue 33): idle <= 400 MiB in all, under load <= 500 MiB.
2. **Ten languages under a budget.**  Ten synthetic transformer-base packages, en->each of
   hi bn ur ta te mr gu kn ml pa, installed; ``--jobs`` editor jobs, one article each,
   the languages in rotation (article i % set size into language i % 10: no pair twice,
   so translation memory shortcuts nothing), posted one after another and run by the
   worker's threads.  Run twice on fresh services: ``MODEL_MEMORY_BUDGET`` at
   ``--budget-models`` models (their loaded size, engine.model_size), then unlimited.
   Printed: the worker's peak RSS (VmHWM), the loads and unloads (``/metrics``), the wall
   time of each run and the seconds the reloads cost.  Target: peak RSS <= budget +
   250 MiB, every job done.

The packages are synthetic (random weights, real CTranslate2 format, the shape of Argos
Translate's transformer-base models; built once into bench/.cache): memory and decoding
work do not depend on the weights.  Both sides of part 2 use the same packages, settings
(beam, compute type, threads, batch size: printed) and article set.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from articles import article_set  # noqa: E402
from decoding_options import add_decoding_arguments  # noqa: E402
from engine_speed import BASE_SHAPE, CACHE, synthetic_base_package  # noqa: E402
from service_process import Service, http  # noqa: E402

from engine.model_builder import build_package  # noqa: E402
from engine.model_size import loaded_bytes  # noqa: E402
from engine.packages import PackageStore  # noqa: E402

LANGUAGES = ("hi", "bn", "ur", "ta", "te", "mr", "gu", "kn", "ml", "pa")
MIB = 2**20


def _children(pid: int) -> list[int]:
    found = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            found += [int(c) for c in (task / "children").read_text().split()]
    except OSError:
        pass
    return found


def _role(pid: int) -> str:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return "gone"
    if "service.platform.supervisor" in command or (" serve" in command
                                                      and "localise" in command):
        return "supervisor"
    if "gunicorn" in command:
        return "web"
    if " beat" in command:
        return "beat"
    if " worker" in command:
        return "worker"
    return command.split(" ", 2)[1].rsplit("/", 1)[-1] if " " in command else command


def _pss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def process_tree(root: int) -> list[int]:
    pids, stack = [], [root]
    while stack:
        pid = stack.pop()
        pids.append(pid)
        stack += _children(pid)
    return pids


def pss_by_process(root: int) -> dict[str, float]:
    """PSS in MiB of every process under ``root``, labelled by role (``web #2``...)."""
    sizes: dict[str, float] = {}
    for pid in process_tree(root):
        role = _role(pid)
        label, n = role, 1
        while label in sizes:
            n += 1
            label = f"{role} #{n}"
        sizes[label] = _pss_kib(pid) / 1024
    return sizes


def _status_kib(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_and_backend() -> str:
    """The CPU, and whether CTranslate2 multiplies through Intel MKL on it: by default only
    on an Intel CPU (``CT2_USE_MKL`` overrides)."""
    name, vendor = "unknown CPU", ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = (part.strip() for part in line.partition(":"))
            if key == "model name" and name == "unknown CPU":
                name = value
            elif key == "vendor_id" and not vendor:
                vendor = value
    except OSError:
        pass
    forced = os.environ.get("CT2_USE_MKL")
    mkl = forced not in ("0", "false") if forced is not None else vendor == "GenuineIntel"
    return f"{name}, CTranslate2 {'with' if mkl else 'without'} MKL" + \
        (f" (CT2_USE_MKL={forced})" if forced is not None else "")


def _worker_pid(service: Service) -> int:
    return int((service.log_dir / "run" / "worker.pid").read_text())


def _post(service: Service, article: dict, language: str) -> str:
    return http("POST", f"{service.base}/api/v1/articles", service.token,
                {**article, "languages": [language]})["jobs"][0]["id"]


def _metric_sum(service: Service, name: str) -> float:
    with urllib.request.urlopen(f"{service.base}/metrics", timeout=30) as response:
        text = response.read().decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith(name + "{"))


def _start(args, models: Path, work: Path, budget: str) -> Service:
    os.environ["MODEL_MEMORY_BUDGET"] = budget
    return Service("embedded", args, models, work)


def part_one(args, work: Path) -> list[str]:
    articles = article_set(args.articles)
    models = work / "models-one"
    PackageStore(models).install(synthetic_base_package(articles))
    service = _start(args, models, work, "none")
    try:
        service.wait([_post(service, {**articles[0], "slug": "warm-up"}, "hi")])
        time.sleep(5)  # the worker's idle trim (engine.process_memory) has run
        root = service.processes[0].pid
        idle = pss_by_process(root)
        peak = {"total": 0.0}
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                sizes = pss_by_process(root)
                if sum(sizes.values()) > peak["total"]:
                    peak.update(sizes, total=sum(sizes.values()))
                time.sleep(0.2)

        sampler = threading.Thread(target=sample)
        sampler.start()
        try:
            service.wait([_post(service, article, "hi") for article in articles])
        finally:
            done.set()
            sampler.join()
    finally:
        service.stop()
    print("\n1. embedded `localise serve`, one transformer-base model, PSS (MiB):")
    print(f"   {'process':<14}{'idle':>8}{'peak load':>11}")
    for label in idle:
        print(f"   {label:<14}{idle[label]:>8.0f}{peak.get(label, 0.0):>11.0f}")
    idle_total = sum(idle.values())
    print(f"   {'total':<14}{idle_total:>8.0f}{peak['total']:>11.0f}  "
          f"({args.articles} articles posted at once)")
    return [_verdict("idle total PSS <= 400 MiB", idle_total <= 400, f"{idle_total:.0f} MiB"),
            _verdict("loaded total PSS <= 500 MiB", peak["total"] <= 500,
                     f"{peak['total']:.0f} MiB")]


def ten_packages(articles: list[dict]) -> list[Path]:
    CACHE.mkdir(parents=True, exist_ok=True)
    paths = []
    for seed, code in enumerate(LANGUAGES, start=31):
        built = CACHE / f"translate-en_{code}-0_1-base.argosmodel"
        if not built.exists():
            print(f"building a synthetic transformer-base en->{code} package (once)...",
                  flush=True)
            path = build_package(CACHE, "en", code, package_version="0.1", shape=BASE_SHAPE,
                                 weights="int8", seed=seed,
                                 extra_source_lines=[a["title"] for a in articles])
            path.rename(built)
        paths.append(built)
    return paths


def budget_run(args, models: Path, work: Path, budget: str, articles: list[dict]) -> dict:
    service = _start(args, models, work, budget)
    try:
        worker = _worker_pid(service)
        started = time.monotonic()
        jobs = [_post(service, {**articles[i % len(articles)], "slug": f"job-{i}"},
                      LANGUAGES[i % len(LANGUAGES)]) for i in range(args.jobs)]
        service.wait(jobs, timeout_s=3600)
        seconds = time.monotonic() - started
        return {"seconds": seconds, "peak_rss_mib": _status_kib(worker, "VmHWM") / 1024,
                "loads": _metric_sum(service, "localiser_model_loads_total"),
                "unloads": _metric_sum(service, "localiser_model_unloads_total"),
                "jobs": len(jobs)}
    finally:
        service.stop()


def part_two(args, work: Path) -> list[str]:
    articles = article_set(11)
    models = work / "models-ten"
    store = PackageStore(models)
    for path in ten_packages(articles):
        store.install(path)
    size = max(loaded_bytes(p.path / "model", args.compute_type) for p in store.installed())
    budget = args.budget_models * size
    print(f"\n2. ten languages, {args.jobs} jobs in rotation; each model {size / MIB:.0f} MiB "
          f"loaded ({args.compute_type}); budget {args.budget_models} models = "
          f"{budget / MIB:.0f} MiB")
    limited = budget_run(args, models, work, str(budget), articles)
    runs = [("budget", limited)]
    if not args.budget_only:
        runs.append(("unlimited", budget_run(args, models, work, "none", articles)))
    for name, run in runs:
        print(f"   {name:<10} {run['seconds']:7.1f} s  worker peak RSS "
              f"{run['peak_rss_mib']:6.0f} MiB  loads {run['loads']:.0f}  unloads "
              f"{run['unloads']:.0f}  jobs done {run['jobs']}")
    if not args.budget_only:
        unlimited = runs[1][1]
        extra = limited["seconds"] - unlimited["seconds"]
        print(f"   reloads cost {extra:+.1f} s ({limited['seconds'] / unlimited['seconds']:.2f}x "
              f"the unlimited run's time; {limited['loads'] - unlimited['loads']:.0f} extra "
              f"loads)")
    ceiling = budget / MIB + 250
    return [_verdict(f"worker peak RSS <= budget + 250 MiB ({ceiling:.0f} MiB)",
                     limited["peak_rss_mib"] <= ceiling,
                     f"{limited['peak_rss_mib']:.0f} MiB"),
            _verdict("every job done", limited["jobs"] == args.jobs,
                     f"{limited['jobs']} of {args.jobs}")]


def _verdict(target: str, met: bool, value: str) -> str:
    return f"   {'met' if met else 'NOT MET':<8} {target}: {value}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", default="1,2")
    parser.add_argument("--articles", type=int, default=11)
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--budget-models", type=int, default=4)
    parser.add_argument("--budget-only", action="store_true",
                        help="part 2 without the unlimited run (no reload cost printed)")
    add_decoding_arguments(parser)
    parser.add_argument("--port", type=int, default=18300)
    args = parser.parse_args()
    # What bench/service_process.Service reads: the shipped service defaults.
    args.worker_concurrency, args.worker_pool, args.window_ms = 8, "threads", 50
    args.span_probe, args.reuse_freed_memory, args.job_wait, args.poll_s = "on", "on", 20, 0.2
    args.redis_db, args.procfile_processes = 8, ""
    print(f"settings (all runs): beam {args.beam}, {args.compute_type}, inter_threads "
          f"{args.inter_threads}, intra_threads {args.intra_threads}, max batch "
          f"{args.max_batch}; worker pool threads x 8; synthetic transformer-base packages")
    print(f"cpu: {cpu_and_backend()} (the figures differ between the two: "
          f"docs/operations.md, \"Memory\")")
    verdicts: list[str] = []
    with tempfile.TemporaryDirectory(prefix="memory-footprint-") as tmp:
        parts = args.part.split(",")
        if "1" in parts:
            verdicts += part_one(args, Path(tmp))
        if "2" in parts:
            verdicts += part_two(args, Path(tmp))
    print("\ntargets:")
    print("\n".join(verdicts))


if __name__ == "__main__":
    main()
