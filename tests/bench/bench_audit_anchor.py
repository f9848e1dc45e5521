"""What anchoring the audit log outside the database costs: one anchor, and verification.

(1) ``AuditService.anchor`` (the check that the log still holds this workstation's newest
anchor, the head read, the private witness file written with fsync), as at sign-in, lock,
sign-out and every few minutes while working; baseline: the smallest unit of work a desk
commits (one audit entry), alternating. (2) ``audit.verify`` of the whole log with a year of
anchors (366, spread over the log) against the same verification with none, alternating.

    uv run python tests/bench/bench_audit_anchor.py [--entries N] [--reps N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from clinicdesk.ids import utcnow
from clinicdesk.permissions import SYSTEM
from clinicdesk.services.access import AdminAccount, create_clinic, sign_in
from clinicdesk.services.audit_log import AuditService
from clinicdesk.store import audit
from clinicdesk.store.audit_witness import LocalWitness
from clinicdesk.store.models import AuditEntry
from tests.bench.common import (
    BENCH_KDF,
    DETAILS,
    PASSWORD,
    Stopwatch,
    machine_note,
    median,
    percentile,
    ratio,
    summary,
    verdict,
)

TARGET_ANCHOR_MS = 20.0
TARGET_VERIFY_RATIO = 1.1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=200_000, help="audit entries (200,000)")
    parser.add_argument("--reps", type=int, default=50, help="anchors timed (50)")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="clinicdesk-bench-anchor-"))
    create_clinic(root / "clinic", DETAILS, AdminAccount("admin", "Ada", PASSWORD), BENCH_KDF)
    session = sign_in(root / "clinic", "admin", PASSWORD)
    with Stopwatch() as filling:
        for start in range(0, args.entries, 5000):
            with session.store.write(SYSTEM) as s:
                for i in range(start, min(start + 5000, args.entries)):
                    audit.append(s, SYSTEM, "patient.view", "patients", None, n=i)
    print(f"{args.entries:,} audit entries written in {filling.seconds:.1f} s. {machine_note()}")

    service = AuditService(session.store, LocalWitness(root / "state"))
    anchoring, committing = [], []
    for _ in range(args.reps):
        with Stopwatch() as w:
            service.anchor(session.actor)
        anchoring.append(w.seconds * 1000)
        with Stopwatch() as w, session.store.write(SYSTEM) as s:
            audit.append(s, SYSTEM, "patient.view", "patients", None)
        committing.append(w.seconds * 1000)

    with session.store.read() as s:
        newest = s.query(AuditEntry.seq).order_by(AuditEntry.seq.desc()).first()[0]
        step = max(1, newest // 366)
        now = utcnow()
        anchors = [
            audit.Anchor(e.seq, e.hash, now - timedelta(days=366 - i), seen="a workstation saw it")
            for i, e in enumerate(s.query(AuditEntry).filter(AuditEntry.seq % step == 0).limit(366))
        ]
    with_anchors, without = [], []
    for _ in range(5):
        with Stopwatch() as w, session.store.read() as s:
            assert audit.verify(s, anchors).intact
        with_anchors.append(w.seconds)
        with Stopwatch() as w, session.store.read() as s:
            assert audit.verify(s).intact
        without.append(w.seconds)
    session.close()

    a, c = median(anchoring), median(committing)
    v, b = median(with_anchors), median(without)
    print()
    print(
        summary(
            [
                (
                    "anchor p50, ms",
                    f"{a:.2f}",
                    f"{c:.2f}",
                    ratio(a, c),
                    f"<= {TARGET_ANCHOR_MS:.0f} ms",
                    verdict(a <= TARGET_ANCHOR_MS),
                ),
                (
                    "anchor p95, ms",
                    f"{percentile(anchoring, 95):.2f}",
                    f"{percentile(committing, 95):.2f}",
                    ratio(percentile(anchoring, 95), percentile(committing, 95)),
                    "",
                    "",
                ),
                (
                    f"verify {newest:,} entries, {len(anchors)} anchors, s",
                    f"{v:.2f}",
                    f"{b:.2f}",
                    ratio(v, b),
                    f"<= {TARGET_VERIFY_RATIO}x",
                    verdict(v <= b * TARGET_VERIFY_RATIO),
                ),
            ]
        )
    )


if __name__ == "__main__":
    main()
