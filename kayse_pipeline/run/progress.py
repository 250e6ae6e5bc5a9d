"""What a run tells about its progress, for people; the run itself never prints."""

from __future__ import annotations

from typing import Protocol

from kayse_pipeline.run.outcome import ApplyAction, Outcome


class Progress(Protocol):
    """Progress for people; the executor never prints."""

    def begin(self, total: int) -> None: ...

    def step(self, description: str, count: int) -> None: ...

    def done(self, outcome: Outcome[ApplyAction]) -> None: ...

    def progress(self, records_done: int, requests: int, budget_left: int | None) -> None: ...


class NoProgress:
    """Progress that shows nothing."""

    def begin(self, total: int) -> None:
        pass

    def step(self, description: str, count: int) -> None:
        pass

    def done(self, outcome: Outcome[ApplyAction]) -> None:
        pass

    def progress(self, records_done: int, requests: int, budget_left: int | None) -> None:
        pass
