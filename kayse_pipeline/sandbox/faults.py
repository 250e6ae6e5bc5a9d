"""Fault injection: throttling, server errors, lost answers and slow answers, seeded."""

from __future__ import annotations

import random
from dataclasses import dataclass, field, fields
from typing import Final, Literal

from kayse_pipeline.errors import SandboxError

Outcome = Literal["429", "500", "503", "lost"]
OUTCOMES: Final[tuple[Outcome, ...]] = ("429", "500", "503", "lost")

# spec key -> attribute
_KEYS: Final = {
    "429": "p429",
    "500": "p500",
    "503": "p503",
    "lost": "lost",
    "slow": "slow",
    "slow_seconds": "slow_seconds",
    "seed": "seed",
}


@dataclass(frozen=True)
class FaultSpec:
    """Probability of each fault per request, how slow "slow" is, and the random seed."""

    p429: float = 0.0
    p500: float = 0.0
    p503: float = 0.0
    lost: float = 0.0
    slow: float = 0.0
    slow_seconds: float = 1.0
    seed: int | None = None

    @classmethod
    def parse(cls, spec: str | None) -> FaultSpec:
        """``429=0.05,500=0.05,503=0.05,lost=0.05,slow=0.1,slow_seconds=2,seed=7``; ``off``."""
        text = (spec or "").strip()
        if text.lower() in ("", "off", "none"):
            return cls()
        numbers: dict[str, float] = {}
        seed: int | None = None
        for part in text.split(","):
            key, sep, raw = (s.strip() for s in part.partition("="))
            if not sep or key not in _KEYS:
                raise SandboxError(f"fault spec: unknown entry {key!r} (known: {', '.join(_KEYS)})")
            if _KEYS[key] in numbers or (key == "seed" and seed is not None):
                raise SandboxError(f"fault spec: {key} is given twice")
            try:
                if key == "seed":
                    seed = int(raw)
                else:
                    numbers[_KEYS[key]] = float(raw)
            except ValueError:
                kind = "an integer" if key == "seed" else "a number"
                raise SandboxError(f"fault spec: {key} must be {kind}") from None
        made = cls(
            p429=numbers.get("p429", 0.0),
            p500=numbers.get("p500", 0.0),
            p503=numbers.get("p503", 0.0),
            lost=numbers.get("lost", 0.0),
            slow=numbers.get("slow", 0.0),
            slow_seconds=numbers.get("slow_seconds", cls.slow_seconds),
            seed=seed,
        )
        made._check()
        return made

    def _check(self) -> None:
        for name in ("p429", "p500", "p503", "lost", "slow"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise SandboxError(f"fault spec: {self._key(name)} must be between 0 and 1")
        if self.p429 + self.p500 + self.p503 + self.lost > 1.0:
            raise SandboxError("fault spec: 429, 500, 503 and lost add up to more than 1")
        if not 0.0 <= self.slow_seconds <= 60.0:
            raise SandboxError("fault spec: slow_seconds must be between 0 and 60")

    @staticmethod
    def _key(name: str) -> str:
        return next(k for k, v in _KEYS.items() if v == name)

    @property
    def active(self) -> bool:
        """Whether any fault can happen."""
        return any((self.p429, self.p500, self.p503, self.lost, self.slow))

    def __str__(self) -> str:
        if not self.active:
            return "off"
        defaults = FaultSpec()
        parts = [
            f"{self._key(f.name)}={getattr(self, f.name):g}"
            for f in fields(self)
            if f.name != "seed" and getattr(self, f.name) != getattr(defaults, f.name)
        ]
        return ",".join(parts + ([f"seed={self.seed}"] if self.seed is not None else []))


@dataclass(frozen=True)
class Draw:
    """The faults that befall one request."""

    outcome: Outcome | None = None
    delay: float = 0.0


@dataclass
class FaultInjector:
    """Draws faults from a spec; the same seed gives the same sequence of draws."""

    spec: FaultSpec = field(default_factory=FaultSpec)

    def __post_init__(self) -> None:
        self._random = random.Random(self.spec.seed)

    def draw(self) -> Draw:
        """The faults for the next request: at most one outcome, and maybe a delay."""
        if not self.spec.active:
            return Draw()
        # Always two draws per request, so a request's fate depends only on its position.
        roll, slow_roll = self._random.random(), self._random.random()
        outcome: Outcome | None = None
        edge = 0.0
        for name, chance in zip(
            OUTCOMES, (self.spec.p429, self.spec.p500, self.spec.p503, self.spec.lost), strict=True
        ):
            edge += chance
            if roll < edge:
                outcome = name
                break
        delay = self.spec.slow_seconds if slow_roll < self.spec.slow else 0.0
        return Draw(outcome, delay)
