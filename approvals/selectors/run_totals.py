"""Runs' tokens, duration and cost added up: the one definition every page's totals use."""

from collections.abc import Iterable
from dataclasses import dataclass, fields
from decimal import Decimal

from approvals.models import Run


@dataclass(frozen=True)
class RunTotals:
    """Sums over runs. A run without a cost or duration adds nothing to those (the pipeline may not know them)."""

    runs: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    duration_ms: int = 0
    cost_usd: Decimal = Decimal(0)

    @classmethod
    def of(cls, runs: Iterable[Run]) -> "RunTotals":
        return cls.total(
            cls(
                runs=1,
                prompt_tokens=run.prompt_tokens,
                completion_tokens=run.completion_tokens,
                total_tokens=run.total_tokens or 0,
                duration_ms=run.duration_ms or 0,
                cost_usd=run.cost_usd or Decimal(0),
            )
            for run in runs
        )

    @classmethod
    def total(cls, parts: Iterable["RunTotals"]) -> "RunTotals":
        result = cls()
        for part in parts:
            result = result + part
        return result

    def __add__(self, other: "RunTotals") -> "RunTotals":
        return RunTotals(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})
