"""Keep the embedded service's processes (web, worker, beat) running, and stop them together.

``localise serve`` and ``localise demo`` start three children.  Before this module the
command waited for the first to exit and then stopped: a killed worker took the service down
while the worker's own beat lived on (two beats after a restart).  Now beat is a child of
its own, a worker or beat that dies is started again (with a hook to hand back its jobs),
and leaving stops every child and every process they started.

Each child runs in its own session (process group): Ctrl-C in the terminal reaches only the
supervisor, which stops the children in order, and stopping a child's group also ends the
pool processes a prefork worker leaves behind when it is killed.

``localise serve`` prepares (tables, the lock, the banner) with the whole application
loaded, then replaces itself (``exec``) with ``python -m service.platform.supervisor``:
the process that only watches its children holds the standard library and this module,
not every wing (issue 33).  The lock's file stays open across the ``exec``.  What to do
when a worker dies is a command of its own (``recover``), run in a short-lived process.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

STOP_TIMEOUT_S = 20
# A child that dies this many times within the window is broken, not unlucky: give up.
MAX_RESTARTS = 5
RESTART_WINDOW_S = 60.0


@dataclass
class ChildSpec:
    """One process to keep running: its name (``web``, ``worker``, ``beat``) and command."""

    name: str
    argv: list[str]
    restart: bool
    env: dict[str, str] | None = None


@dataclass
class Child:
    spec: ChildSpec
    process: subprocess.Popen
    log: IO[str] | None
    restarts: list[float] = field(default_factory=list)


class GaveUp(Exception):
    """A child could not be kept running; the message says which and where its log is."""


class Supervisor:
    """Start children, restart the ones that may be restarted, stop all of them on exit.

    ``log_dir``: each child's output goes to ``<log_dir>/<name>.log``; None lets it reach
    the console (``--verbose``).  ``run_dir``: ``<name>.pid`` files, for operators and tests.
    ``say``: one line for the person at the console.  ``on_exit``: called with the child's
    name when it died on its own, before it is started again.
    """

    def __init__(self, specs: list[ChildSpec], log_dir: Path | None, run_dir: Path,
                 say: Callable[[str], None],
                 on_exit: Callable[[str], None] | None = None) -> None:
        self.specs = specs
        self.log_dir = log_dir
        self.run_dir = run_dir
        self.say = say
        self.on_exit = on_exit
        self.children: dict[str, Child] = {}
        self._stop_signal: int | None = None

    def log_path(self, name: str) -> Path | None:
        return self.log_dir / f"{name}.log" if self.log_dir else None

    def start(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        if self.log_dir:
            self.log_dir.mkdir(parents=True, exist_ok=True)
        for spec in self.specs:
            self.children[spec.name] = self._spawn(spec, [])

    def _spawn(self, spec: ChildSpec, restarts: list[float]) -> Child:
        path = self.log_path(spec.name)
        log = open(path, "a", encoding="utf-8") if path else None  # noqa: SIM115 (kept open)
        process = subprocess.Popen(spec.argv, env=spec.env, stdout=log,
                                   stderr=subprocess.STDOUT if log else None,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
        (self.run_dir / f"{spec.name}.pid").write_text(f"{process.pid}\n")
        return Child(spec, process, log, restarts)

    def install_signal_handlers(self) -> None:
        """SIGTERM and SIGINT (Ctrl-C) end :meth:`run`, which then stops every child."""
        def _stop(signum: int, _frame: object) -> None:
            self._stop_signal = signum
        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)

    @property
    def stopping(self) -> bool:
        return self._stop_signal is not None

    def check(self) -> None:
        """Restart children that died; raise :class:`GaveUp` for one that may not be."""
        for name, child in list(self.children.items()):
            code = child.process.poll()
            if code is None or self.stopping:
                continue
            _kill_group(child.process.pid, signal.SIGKILL)  # what it left behind
            if child.log:
                child.log.close()
            how = f"signal {-code}" if code < 0 else f"exit status {code}"
            where = f"; see {self.log_path(name)}" if self.log_dir else ""
            if not child.spec.restart:
                raise GaveUp(f"the {name} process stopped ({how}){where}")
            now = time.monotonic()
            recent = [t for t in child.restarts if now - t < RESTART_WINDOW_S] + [now]
            if len(recent) > MAX_RESTARTS:
                raise GaveUp(f"the {name} process keeps stopping ({how}, {len(recent)} times "
                             f"in {RESTART_WINDOW_S:.0f}s){where}")
            self.say(f"the {name} process stopped ({how}); starting it again{where}")
            if self.on_exit:
                self.on_exit(name)
            self.children[name] = self._spawn(child.spec, recent)

    def run(self, poll_s: float = 0.5) -> None:
        """Watch the children until a stop signal; raises :class:`GaveUp` when one is lost."""
        while not self.stopping:
            self.check()
            time.sleep(poll_s)

    def stop(self) -> None:
        """Stop every child (its whole process group): SIGTERM, then SIGKILL after a wait."""
        for child in self.children.values():
            _kill_group(child.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for child in self.children.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            _kill_group(child.process.pid, signal.SIGKILL)
            child.process.wait()
            if child.log:
                child.log.close()
            (self.run_dir / f"{child.spec.name}.pid").unlink(missing_ok=True)


def _kill_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def exec_supervisor(specs: list[ChildSpec], log_dir: Path | None, run_dir: Path,
                    recover: list[str] | None = None) -> None:
    """Replace this process with the lean supervisor of ``specs`` (it never returns).

    The children inherit this process's environment (``ChildSpec.env`` is not passed);
    ``recover``, when given, runs after a worker died and before it is started again.
    """
    plan = {"children": [{"name": s.name, "argv": s.argv, "restart": s.restart}
                         for s in specs],
            "log_dir": str(log_dir) if log_dir else None, "run_dir": str(run_dir),
            "recover": recover}
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, "-m", "service.platform.supervisor",
                              json.dumps(plan)])


def _say(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def main(argv: list[str]) -> int:
    """The exec'd supervisor: start the plan's children, keep them running until Ctrl-C or
    SIGTERM (0), or until one cannot be kept running (1)."""
    plan = json.loads(argv[0])
    specs = [ChildSpec(c["name"], c["argv"], c["restart"]) for c in plan["children"]]
    recover = plan.get("recover")

    def worker_lost(name: str) -> None:
        if name == "worker" and recover:
            subprocess.run(recover, stdin=subprocess.DEVNULL, check=False)

    supervisor = Supervisor(specs, Path(plan["log_dir"]) if plan["log_dir"] else None,
                            Path(plan["run_dir"]), say=_say, on_exit=worker_lost)
    supervisor.install_signal_handlers()
    try:
        supervisor.start()
        supervisor.run()
        return 0
    except GaveUp as exc:
        _say(f"Error: {exc}")
        return 1
    finally:
        supervisor.stop()


if __name__ == "__main__":
    sys.stderr.reconfigure(errors="replace")
    sys.exit(main(sys.argv[1:]))
