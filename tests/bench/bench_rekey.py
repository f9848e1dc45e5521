"""Changing the clinic's key at 100,000 patients: how long the staff wait, and how it compares.

The demo clinic (cached between runs, see common.cached_build) is copied, the owner signs in,
and ``UserService.change_clinic_key`` runs end to end: seal the new key to every slot, checkpoint,
``PRAGMA rekey`` (every page decrypted and encrypted again), checkpoint, promote, plus the audit
entry. The baseline, alternating with it in the same run, is a plain copy of the same database
file (``shutil.copyfile`` + fsync): the least any rewrite of every page can cost here. The
re-encrypting stage alone is timed from the progress reports the UI shows.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    BENCH_KDF,
    PASSWORD,
    Stopwatch,
    bench_root,
    cached_build,
    code_fingerprint,
    copy_clinic,
    machine_note,
    median,
    ratio,
    remove_folder,
    summary,
    table,
    verdict,
)

from clinicdesk.demo.clinic import DEMO_STAFF, create_demo_clinic
from clinicdesk.services.access import sign_in

TARGET_S = 10.0  # staff wait for a removal at 100,000 patients


def build(folder: Path, patients: int, seed: int) -> dict:
    with Stopwatch() as whole:
        create_demo_clinic(folder / "clinic", patients=patients, seed=seed, kdf=BENCH_KDF)
    return {"demo_s": whole.seconds}


def change_key(clinic: Path) -> tuple[float, float]:
    """Seconds for the whole change, and for its re-encrypting stage."""
    owner = DEMO_STAFF[0][1]
    session = sign_in(clinic, owner, PASSWORD)
    stamps: list[tuple[str, float]] = []
    try:
        with Stopwatch() as whole:
            session.users.change_clinic_key(
                session.actor, progress=lambda stage: stamps.append((stage, time.perf_counter()))
            )
    finally:
        session.close()
    start = next(t for s, t in stamps if s.startswith("Re-encrypting"))
    end = next(t for s, t in stamps if s.startswith("Saving"))
    return whole.seconds, end - start


def plain_copy(db: Path, dest: Path) -> float:
    with Stopwatch() as copy:
        shutil.copyfile(db, dest)
        fd = os.open(dest, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    dest.unlink()
    return copy.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()

    name = f"rekey-{args.patients}-{args.seed}-{code_fingerprint()}"
    built = cached_build(name, lambda f: build(f, args.patients, args.seed), args.rebuild)
    work = copy_clinic(built.folder / "clinic", bench_root() / f"{name}-work")
    try:
        db = work / "clinic.db"
        size_mb = db.stat().st_size / 1e6
        wholes, stages, copies = [], [], []
        for _ in range(args.runs):
            whole, stage = change_key(work)
            wholes.append(whole)
            stages.append(stage)
            copies.append(plain_copy(db, work.parent / f"{name}-copy.db"))
    finally:
        remove_folder(work)

    print(machine_note())
    print(f"clinic: {args.patients:,} patients, database {size_mb:.1f} MB")
    rows = [
        (f"run {n + 1}", f"{w:.2f} s", f"{s:.2f} s", f"{c:.2f} s")
        for n, (w, s, c) in enumerate(zip(wholes, stages, copies, strict=True))
    ]
    print(table(("run", "key change", "re-encrypting", "plain copy"), rows, "RUNS"))
    whole, stage, copy = median(wholes), median(stages), median(copies)
    print(
        summary(
            [
                (
                    "key change, median",
                    f"{whole:.2f} s",
                    f"{copy:.2f} s",
                    ratio(whole, copy),
                    f"<= {TARGET_S:.0f} s",
                    verdict(whole <= TARGET_S),
                ),
                (
                    "re-encrypting stage, median",
                    f"{stage:.2f} s",
                    f"{copy:.2f} s",
                    ratio(stage, copy),
                    "",
                    "",
                ),
                (
                    "re-encrypting, MB/s",
                    f"{size_mb / stage:.0f}",
                    f"{size_mb / copy:.0f}",
                    "",
                    "",
                    "",
                ),
            ]
        )
    )


if __name__ == "__main__":
    main()
