"""What a job run carries from step to step: the translations to produce (one per job, or a
rebuild), grouped by language and route, what each pass learned, and the outcome."""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.document import SegmentedArticle
from engine.packages import Hop
from service.content import memory


@dataclass
class PassState:
    """What one localisation learned about each sentence (for segments and counts)."""

    known: dict[str, memory.Known] = field(default_factory=dict)
    hits: int = 0
    translated: int = 0


@dataclass
class Work:
    """One translation to produce: of a revision, for a job (or a rebuild, job None)."""

    revision_id: int
    job_id: str | None
    document: SegmentedArticle | None = None
    # The translation's segments as they were before memory was read: (state, text) by
    # position.  A person's row that differs at store time was corrected while this ran.
    seen: dict[int, tuple[str, str]] = field(default_factory=dict)
    # Set at store time: a correction landed while this ran (see JobRunner._store).
    overtaken: bool = False


@dataclass
class Group:
    """Jobs (or a rebuild) of one language, with the route that translates them."""

    source: str
    target: str
    works: list[Work]
    route: list[Hop]
    model_key: str
    # When its run began (time.monotonic()): both passes keep this place in the decode
    # queue, so a group's fallback is not queued behind groups that came after it.
    since: float
    state: PassState = field(default_factory=PassState)

    def outcome(self, work: Work | None = None) -> JobOutcome:
        overtaken = work is not None and work.overtaken
        return JobOutcome("done", translated=self.state.translated,
                          memory_hits=self.state.hits, rebuild_pending=overtaken)


@dataclass(frozen=True)
class JobOutcome:
    status: str
    translated: int = 0
    memory_hits: int = 0
    # A correction landed while the job ran: its text was kept and a rebuild request
    # recorded, which the caller sends (dispatch.send_pending_rebuilds).
    rebuild_pending: bool = False
