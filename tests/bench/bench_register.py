"""The write path: registering patients one by one through PatientService.register.

Each registration is what the front desk's Save does: validation, the duplicate check, the MRN,
the patient row, its search terms, the audit entry and the outbox row, in one transaction
(BEGIN IMMEDIATE ... COMMIT, synchronous=FULL). SQLCipher against plain SQLite, both starting from
an empty clinic, registering the same people in blocks that alternate between the two so that the
machine's noise falls on both alike.

    uv run python tests/bench/bench_register.py [--count 10000] [--quick]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    BENCH_KDF,
    PASSWORD,
    RECEPTION,
    bench_root,
    create_plain_clinic,
    machine_note,
    median,
    open_plain_clinic,
    percentile,
    ratio,
    summary,
    table,
    verdict,
)

from clinicdesk.demo.clinic import create_demo_clinic
from clinicdesk.demo.people import PeopleGenerator
from clinicdesk.services.access import sign_in

TARGET_RATIO = 1.5
QUICK_COUNT = 1000
BLOCK = 100


def run(args: argparse.Namespace) -> int:
    count = QUICK_COUNT if args.quick else args.count
    print(f"Write-path benchmark: {count:,} registrations, one transaction each, seed {args.seed}")
    print(machine_note())
    work = bench_root() / f"register-{time.strftime('%Y%m%d-%H%M%S')}"
    try:
        create_demo_clinic(work / "cipher", patients=0, kdf=BENCH_KDF)
        session = sign_in(work / "cipher", RECEPTION, PASSWORD)
        create_plain_clinic(work / "plain")
        plain = open_plain_clinic(work / "plain")
        # A different seed from the demo clinic's, so nobody here is already registered.
        people = PeopleGenerator(args.seed + 7).patients(count)
        sides = {
            "cipher": (session.patients, session.actor),
            "plain": (plain.patients, plain.reception),
        }
        times: dict[str, list[float]] = {"cipher": [], "plain": []}
        wall = {"cipher": 0.0, "plain": 0.0}
        try:
            for block, first in enumerate(range(0, count, BLOCK)):
                order = ("cipher", "plain") if block % 2 == 0 else ("plain", "cipher")
                for side in order:
                    service, actor = sides[side]
                    block_start = time.perf_counter()
                    for person in people[first : first + BLOCK]:
                        t0 = time.perf_counter()
                        service.register(actor, person, not_a_duplicate=True)
                        times[side].append((time.perf_counter() - t0) * 1000)
                    wall[side] += time.perf_counter() - block_start
                done = first + BLOCK
                if done % (count // 10 or BLOCK) == 0:
                    print(
                        f"  {done:>6,} registered on each; cipher {wall['cipher']:.1f} s, "
                        f"plain {wall['plain']:.1f} s",
                        flush=True,
                    )
            counted = (session.patients.count(session.actor), plain.patients.count(plain.owner))
        finally:
            session.close()
            plain.close()
        db_sizes = {
            side: sum(f.stat().st_size for f in (work / side).glob("clinic.db*"))
            for side in ("cipher", "plain")
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    slow = [side for side, seconds in wall.items() if seconds > 300]
    if slow:
        print(
            f"Note: {count:,} registrations took over 5 minutes on {' and '.join(slow)} here; "
            f"--quick registers {QUICK_COUNT:,}."
        )

    c, p = times["cipher"], times["plain"]
    tenth = max(1, count // 10)
    rows = []
    for label, part in (
        ("first 10%", slice(0, tenth)),
        ("last 10%", slice(-tenth, None)),
        ("all", slice(None)),
    ):
        cs, ps = c[part], p[part]
        rows.append(
            (
                label,
                len(cs),
                f"{median(cs):.2f}",
                f"{percentile(cs, 95):.2f}",
                f"{percentile(cs, 99):.2f}",
                f"{median(ps):.2f}",
                f"{percentile(ps, 95):.2f}",
                f"{percentile(ps, 99):.2f}",
                ratio(median(cs), median(ps)),
            )
        )
    print()
    print(
        table(
            (
                "registrations",
                "n",
                "cipher p50",
                "p95",
                "p99",
                "plain p50",
                "p95",
                "p99",
                "p50 ratio",
            ),
            rows,
            "Per registration, ms",
        )
    )
    print(f"Patients counted afterwards: SQLCipher {counted[0]:,}, plain SQLite {counted[1]:,}")
    print(
        f"Database + WAL size: SQLCipher {db_sizes['cipher'] / 2**20:.1f} MiB, "
        f"plain SQLite {db_sizes['plain'] / 2**20:.1f} MiB"
    )
    total_ratio = wall["cipher"] / wall["plain"]
    print()
    print(
        summary(
            [
                (
                    f"register {count:,}: total s",
                    f"{wall['cipher']:.1f}",
                    f"{wall['plain']:.1f}",
                    ratio(wall["cipher"], wall["plain"]),
                    f"<= {TARGET_RATIO}x",
                    verdict(total_ratio <= TARGET_RATIO),
                ),
                (
                    "per registration p50, ms",
                    f"{median(c):.2f}",
                    f"{median(p):.2f}",
                    ratio(median(c), median(p)),
                    "",
                    "",
                ),
                (
                    "per registration p95, ms",
                    f"{percentile(c, 95):.2f}",
                    f"{percentile(p, 95):.2f}",
                    ratio(percentile(c, 95), percentile(p, 95)),
                    "",
                    "",
                ),
                (
                    "registrations per second",
                    f"{count / wall['cipher']:.0f}",
                    f"{count / wall['plain']:.0f}",
                    ratio(wall["plain"], wall["cipher"]),
                    "",
                    "",
                ),
            ],
            "SUMMARY: write path (value = SQLCipher, baseline = plain SQLite)",
        )
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="registrations on each side")
    parser.add_argument(
        "--quick", action="store_true", help=f"only {QUICK_COUNT:,} registrations on each side"
    )
    parser.add_argument("--seed", type=int, default=2026)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
