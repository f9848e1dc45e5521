"""Cancellation policy: time-based refund rules and a no-show fee, evaluated to an amount.

Stored as JSON on the clinic, e.g. ``{"rules": [{"hours_before": 24, "refund_percent": 100},
{"hours_before": 0, "refund_percent": 50}], "no_show_fee_minor": 2000}``: cancelling 24 hours
or more ahead refunds everything, later refunds half; a no-show owes the fee.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from clinicdesk.errors import ValidationError


@dataclass(frozen=True)
class RefundRule:
    hours_before: int
    refund_percent: int


@dataclass(frozen=True)
class CancellationPolicy:
    rules: tuple[RefundRule, ...] = ()
    no_show_fee_minor: int = 0

    def refund(self, fee_minor: int, starts_at: datetime, cancelled_at: datetime) -> int:
        """The refund for cancelling at ``cancelled_at``: the first rule whose notice is met."""
        notice = starts_at - cancelled_at
        for rule in sorted(self.rules, key=lambda r: -r.hours_before):
            if notice >= timedelta(hours=rule.hours_before):
                return fee_minor * rule.refund_percent // 100
        return 0

    def to_json(self) -> str:
        return json.dumps(
            {
                "rules": [
                    {"hours_before": r.hours_before, "refund_percent": r.refund_percent}
                    for r in self.rules
                ],
                "no_show_fee_minor": self.no_show_fee_minor,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> CancellationPolicy:
        if not text:
            return cls()
        data = json.loads(text)
        return cls(
            tuple(RefundRule(**r) for r in data.get("rules", [])),
            int(data.get("no_show_fee_minor", 0)),
        )

    def validated(self) -> CancellationPolicy:
        problems = {}
        for n, rule in enumerate(self.rules, start=1):
            if not 0 <= rule.refund_percent <= 100:
                problems[f"rule {n}"] = "refund must be 0 to 100 percent"
            elif rule.hours_before < 0:
                problems[f"rule {n}"] = "notice cannot be negative"
        if len({r.hours_before for r in self.rules}) != len(self.rules):
            problems["rules"] = "two rules have the same notice"
        if self.no_show_fee_minor < 0:
            problems["no_show_fee"] = "cannot be negative"
        if problems:
            raise ValidationError(problems)
        return self
