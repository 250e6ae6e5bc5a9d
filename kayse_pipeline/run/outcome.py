"""What a run did to each record: one outcome type for apply, destroy and refresh."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, Literal, NoReturn, TypeVar

from kayse_pipeline.model import Kind

ApplyAction = Literal["created", "updated", "unchanged", "failed", "skipped", "unknown"]
DestroyAction = Literal["deleted", "gone", "left-behind", "failed", "skipped", "unknown"]
RefreshAction = Literal[
    "in-sync", "drifted", "gone", "unconfirmed", "unreadable", "skipped", "unknown"
]
A = TypeVar("A", ApplyAction, DestroyAction, RefreshAction)


@dataclass(frozen=True, slots=True)
class Outcome(Generic[A]):
    """What a run did to one record (apply, destroy), or found of it (refresh)."""

    kind: Kind
    symbol: str
    id: int | None
    action: A
    message: str | None = None
    fields: tuple[str, ...] = ()  # refresh's drifted: the names of the fields that differ


class Halt(Exception):
    """Stop sending: the reason is already recorded in the result."""


@dataclass
class RunResult(Generic[A]):
    """Every outcome of one run, and why it stopped early, if it did."""

    outcomes: list[Outcome[A]] = field(default_factory=list)
    stopped: str | None = None

    def halt(self, reason: str) -> NoReturn:
        """Record why the run stops, and stop sending (the runner catches ``Halt``)."""
        self.stopped = reason
        raise Halt(reason)

    def counts_by_action(self) -> dict[str, int]:
        table: dict[str, int] = {}
        for o in self.outcomes:
            table[o.action] = table.get(o.action, 0) + 1
        return table


@dataclass
class SendingResult(RunResult[A]):
    """The result of a run that sends writes (apply, destroy): with memberships and requests."""

    membership_changes: list[str] = field(default_factory=list)
    membership_failures: list[str] = field(default_factory=list)
    requests: int = 0
