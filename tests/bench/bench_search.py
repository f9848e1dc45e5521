"""Patient search as reception types it, through PatientService, at 100,000 patients.

SQLCipher (the real clinic, signed in as the receptionist) against the same people imported the
same way into plain SQLite. Both folders are built once and kept under the bench directory while
the seed, the size and the code that decides their contents stay the same.

    uv run python tests/bench/bench_search.py [--patients 100000] [--sample 200] [--rebuild]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    BENCH_KDF,
    PASSWORD,
    RECEPTION,
    Stopwatch,
    cached_build,
    code_fingerprint,
    create_plain_clinic,
    fill_plain_clinic,
    machine_note,
    open_plain_clinic,
    percentile,
    ratio,
    summary,
    table,
    verdict,
)
from sqlalchemy import select

from clinicdesk.demo.clinic import create_demo_clinic
from clinicdesk.demo.people import PeopleGenerator
from clinicdesk.services.access import sign_in
from clinicdesk.services.patients import PatientRecord, to_record
from clinicdesk.store.models import Patient
from clinicdesk.text import digits

TARGET_P95_MS = 25.0
TARGET_DEMO_S = 60.0
WARMUP_PATIENTS = 30


@dataclass(frozen=True)
class Query:
    kind: str
    text: str
    patient: PatientRecord


# ---------------------------------------------------------------- building the two clinics


def build_cipher(folder: Path, patients: int, seed: int) -> dict:
    clinic = folder / "clinic"
    with Stopwatch() as people:
        PeopleGenerator(seed).patients(patients)  # the generator alone, for the breakdown
    with Stopwatch() as whole:
        create_demo_clinic(clinic, patients=patients, seed=seed, kdf=BENCH_KDF)
    return {"people_s": people.seconds, "demo_s": whole.seconds}


def build_plain(folder: Path, patients: int, seed: int) -> dict:
    clinic = folder / "clinic"
    with Stopwatch() as whole:
        create_plain_clinic(clinic)
        people = PeopleGenerator(seed)
        records = people.patients(patients)
        plain = open_plain_clinic(clinic)
        try:
            fill_plain_clinic(plain, people, records)
        finally:
            plain.close()
    return {"demo_s": whole.seconds}


# ---------------------------------------------------------------- what reception types


def sample_patients(plain, count: int, seed: int) -> list[PatientRecord]:
    with plain.store.read() as s:
        mrns = list(s.scalars(select(Patient.mrn).order_by(Patient.mrn)))
        chosen = random.Random(seed).sample(mrns, count)
        rows = {
            p.mrn: to_record(p) for p in s.scalars(select(Patient).where(Patient.mrn.in_(chosen)))
        }
    return [rows[m] for m in chosen]


def queries_for(patient: PatientRecord, rng: random.Random) -> list[Query]:
    family, given = patient.family_name, patient.given_name
    out = [Query("family prefix", family[:k], patient) for k in range(2, len(family) + 1)]
    out.append(Query("family + given prefix", f"{family} {given[: rng.randint(1, 3)]}", patient))
    phone = digits(patient.phone)
    if len(phone) >= 7:
        out.append(Query("phone suffix", phone[-rng.randint(4, 7) :], patient))
    out.append(Query("MRN", patient.mrn, patient))
    out.append(Query("birth date", f"{patient.date_of_birth:%d/%m/%Y}", patient))
    return out


# ---------------------------------------------------------------- measuring


def timed_search(patients, actor, text: str) -> tuple[float, list[str]]:
    start = time.perf_counter()
    found = patients.search(actor, text)
    elapsed = (time.perf_counter() - start) * 1000
    return elapsed, [r.mrn for r in found]


def run(args: argparse.Namespace) -> int:
    print(f"Patient search benchmark: {args.patients:,} patients, seed {args.seed}")
    print(machine_note())
    key = f"search-n{args.patients}-seed{args.seed}-{code_fingerprint()}"
    cipher_build = cached_build(
        f"{key}/cipher", lambda f: build_cipher(f, args.patients, args.seed), args.rebuild
    )
    plain_build = cached_build(
        f"{key}/plain", lambda f: build_plain(f, args.patients, args.seed), args.rebuild
    )
    for label, build in (("SQLCipher", cipher_build), ("plain SQLite", plain_build)):
        state = "reused from an earlier run" if build.reused else "built now"
        print(f"{label} clinic: {build.folder / 'clinic'} ({state})")

    session = sign_in(cipher_build.folder / "clinic", RECEPTION, PASSWORD)
    plain = open_plain_clinic(plain_build.folder / "clinic")
    try:
        chosen = sample_patients(plain, args.sample + WARMUP_PATIENTS, args.seed + 1)
        rng = random.Random(args.seed + 2)
        warmup = [q for p in chosen[:WARMUP_PATIENTS] for q in queries_for(p, rng)]
        measured = [q for p in chosen[WARMUP_PATIENTS:] for q in queries_for(p, rng)]
        services = [(session.patients, session.actor), (plain.patients, plain.reception)]
        for q in warmup:  # a running front desk has its page cache warm
            for service, actor in services:
                service.search(actor, q.text)

        times: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        slowest: list[tuple[float, float, Query]] = []
        differ, found = 0, defaultdict(lambda: [0, 0])
        for i, q in enumerate(measured):
            order = (0, 1) if i % 2 == 0 else (1, 0)  # alternate so drift hits both alike
            result: dict[int, tuple[float, list[str]]] = {}
            for which in order:
                service, actor = services[which]
                result[which] = timed_search(service, actor, q.text)
            (c_ms, c_mrns), (p_ms, p_mrns) = result[0], result[1]
            for kind in (q.kind, "all queries"):
                times[kind]["cipher"].append(c_ms)
                times[kind]["plain"].append(p_ms)
            slowest.append((c_ms, p_ms, q))
            differ += c_mrns != p_mrns
            if q.kind != "family prefix":
                tally = found[q.kind]
                tally[0] += q.patient.mrn in c_mrns
                tally[1] += 1
    finally:
        session.close()
        plain.close()

    rows = []
    for kind, t in times.items():
        c, p = t["cipher"], t["plain"]
        hit = found.get(kind)
        rows.append(
            (
                kind,
                len(c),
                f"{percentile(c, 50):.2f}",
                f"{percentile(c, 95):.2f}",
                f"{percentile(c, 99):.2f}",
                f"{percentile(p, 50):.2f}",
                f"{percentile(p, 95):.2f}",
                f"{percentile(p, 99):.2f}",
                ratio(percentile(c, 95), percentile(p, 95)),
                f"{100 * hit[0] / hit[1]:.0f}%" if hit else "",
            )
        )
    rows.sort(key=lambda r: r[0] == "all queries")
    print()
    print(
        table(
            (
                "query kind",
                "n",
                "cipher p50",
                "p95",
                "p99",
                "plain p50",
                "p95",
                "p99",
                "p95 ratio",
                "patient found",
            ),
            rows,
            f"Search latency, ms ({args.sample} sampled patients, {len(measured)} queries)",
        )
    )
    print(
        "'patient found': the sampled patient is among the results shown (at most 50 are shown,"
        " so a common name with a short given-name prefix can push them out)."
    )
    print(f"Result lists that differ between SQLCipher and plain SQLite: {differ}")
    slowest.sort(key=lambda x: -x[0])
    print()
    print(
        table(
            ("query", "kind", "cipher ms", "plain ms"),
            [(repr(q.text), q.kind, f"{c:.1f}", f"{p:.1f}") for c, p, q in slowest[:8]],
            "Slowest queries on SQLCipher",
        )
    )

    allc, allp = times["all queries"]["cipher"], times["all queries"]["plain"]
    demo_c, demo_p = cipher_build.info["demo_s"], plain_build.info["demo_s"]
    cached = " (timed when the cache was built)" if cipher_build.reused else ""
    print()
    print(f"Demo generation{cached}: people alone {cipher_build.info['people_s']:.1f} s")
    print()
    p95c, p95p = percentile(allc, 95), percentile(allp, 95)
    print(
        summary(
            [
                (
                    "search p50, ms",
                    f"{percentile(allc, 50):.2f}",
                    f"{percentile(allp, 50):.2f}",
                    ratio(percentile(allc, 50), percentile(allp, 50)),
                    "",
                    "",
                ),
                (
                    "search p95, ms",
                    f"{p95c:.2f}",
                    f"{p95p:.2f}",
                    ratio(p95c, p95p),
                    f"<= {TARGET_P95_MS:.0f} ms",
                    verdict(p95c <= TARGET_P95_MS),
                ),
                (
                    "search p99, ms",
                    f"{percentile(allc, 99):.2f}",
                    f"{percentile(allp, 99):.2f}",
                    ratio(percentile(allc, 99), percentile(allp, 99)),
                    "",
                    "",
                ),
                (
                    "search mean, ms",
                    f"{sum(allc) / len(allc):.2f}",
                    f"{sum(allp) / len(allp):.2f}",
                    ratio(sum(allc), sum(allp)),
                    "",
                    "",
                ),
                (
                    f"demo clinic, {args.patients:,} patients, s{'*' if cached else ''}",
                    f"{demo_c:.1f}",
                    f"{demo_p:.1f}",
                    ratio(demo_c, demo_p),
                    f"< {TARGET_DEMO_S:.0f} s",
                    verdict(demo_c < TARGET_DEMO_S),
                ),
            ],
            f"SUMMARY: patient search at {args.patients:,} patients "
            "(value = SQLCipher, baseline = plain SQLite)",
        )
    )
    if cached:
        print("* demo times were measured when the cached clinics were built; --rebuild re-times.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=200, help="patients whose queries are timed")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached clinics")
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
