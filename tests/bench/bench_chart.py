"""Opening a heavy chart: ``ChartService.open`` for a patient with 200 visits and 50 documents.

The patient has 200 signed visits (notes of a few hundred words), 50 documents of 100 KB to 2 MB
(the listing must not read them), 300 vital-sign readings, 100 prescriptions of one to three
items signed through ``PrescriptionService.write``, allergies, conditions, surgeries, family
history and lifestyle. The clinic around them holds thousands of other patients with charts of
their own (visits, vitals, prescriptions, a few documents), so that every query must find the
patient's rows through an index.

Two clinics are built with the same content from the seed and kept under the bench directory: the
SQLCipher clinic and its plain-SQLite twin (``make_engine(path, None)``, same migrations, same
services). Each run works on copies, since opening a chart appends to the audit log. Timed,
alternating: ``ChartService.open`` signed in as the doctor on SQLCipher (the value), the same
call on plain SQLite (the baseline: what encryption costs), and the same rows read with plain
SQL through ``sqlite3`` on the plain copy (the floor: what the ORM and the audit entry cost).

    uv run python tests/bench/bench_chart.py [--patients 5000] [--reps 50] [--rebuild]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import sqlite3
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    BENCH_KDF,
    PASSWORD,
    Stopwatch,
    _staff_actor,
    bench_root,
    cached_build,
    copy_clinic,
    create_plain_clinic,
    fingerprint_with,
    machine_note,
    median,
    percentile,
    ratio,
    remove_folder,
    summary,
    table,
    verdict,
)
from sqlalchemy import event, select

from clinicdesk.demo.clinic import create_demo_clinic
from clinicdesk.demo.clinical import ChartBuilder, Person, signed_visit
from clinicdesk.demo.encounters import ACUTE_ADULT, REVIEWS, Encounter
from clinicdesk.demo.people import PeopleGenerator
from clinicdesk.ids import new_id, utcnow
from clinicdesk.permissions import Actor
from clinicdesk.rx import reference
from clinicdesk.services.access import sign_in
from clinicdesk.services.chart import ChartService
from clinicdesk.services.formulary import seed as seed_formulary
from clinicdesk.services.patients import PatientService, age_on
from clinicdesk.services.prescriptions import PrescriptionService
from clinicdesk.services.schedule_setup import ScheduleSetup
from clinicdesk.services.signing import ensure_clinic_key
from clinicdesk.store import audit, outbox
from clinicdesk.store.database import DB_FILE, Store
from clinicdesk.store.engine import make_engine
from clinicdesk.store.models import (
    Allergy,
    ChartChange,
    ChartDocument,
    Condition,
    DoctorProfile,
    Patient,
    Prescription,
    PrescriptionItem,
    User,
    Visit,
)

TARGET_MS = 200.0
DOCTOR = "dr.okafor"
HEAVY = {"visits": 200, "documents": 50, "vitals": 300, "prescriptions": 100}
BUILD_VERSION = "1"  # raise when the building code below changes what a clinic holds
# long-form history a doctor adds to a note for a patient with several problems
HISTORY = (
    "Known to the practice for many years. Lives with partner, independent in all activities, "
    "drives. Reviewed the medication list with the patient: taking everything as prescribed, no "
    "side effects reported, no over-the-counter medicines. Discussed the results of the recent "
    "blood tests in detail, including kidney function and cholesterol, and what they mean for "
    "the treatment plan. Agreed goals for the next three months: walk 30 minutes a day, cut "
    "down on salt, weigh weekly. Safety-netting advice given and understood; written "
    "information provided. Patient's questions answered; they are happy with the plan."
)


# ---------------------------------------------------------------- building


def _doctor(store: Store) -> tuple[Actor, str]:
    with store.read() as s:
        user = s.scalar(select(User).where(User.username == DOCTOR))
        doctor_id = s.scalar(select(DoctorProfile.id).where(DoctorProfile.user_id == user.id))
        return _staff_actor(user), doctor_id


def _encounter(rng: random.Random, long: bool) -> Encounter:
    e = rng.choice([*ACUTE_ADULT, *REVIEWS.values()])
    if not long:
        return e
    return Encounter(e.complaint, f"{e.findings} {HISTORY}", e.diagnosis, f"{e.plan} {HISTORY}")


def _file(rng: random.Random, size: int, pdf: bool) -> tuple[str, bytes]:
    """A file of the given size: a PDF or PNG header and incompressible bytes, as scans are."""
    head = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" if pdf else b"\x89PNG\r\n\x1a\n"
    return ("application/pdf" if pdf else "image/png"), head + rng.randbytes(size - len(head))


def _document(builder: ChartBuilder, author: Actor, pid: str, size: int, n: int) -> None:
    rng = builder.rng
    media, content = _file(rng, size, pdf=n % 3 != 2)
    dated = builder.today - timedelta(days=rng.randint(1, 3000))
    suffix = "pdf" if media == "application/pdf" else "png"
    builder.add(
        ChartDocument, author, pid, "documents",
        kind="lab" if suffix == "pdf" else "image", title=f"Document {n + 1}",
        file_name=f"document-{n + 1}.{suffix}", media_type=media, size_bytes=len(content),
        sha256=hashlib.sha256(content).hexdigest(), dated=dated, content=content,
    )  # fmt: skip


def _prescription_rows(
    rng: random.Random, template: Prescription, items: list[PrescriptionItem], visit: dict
) -> tuple[dict, list[dict]]:
    """Another patient's prescription, in the shape ``write`` stores (a real code's size)."""
    rx = {
        "id": new_id(),
        "reference": reference.new_reference(),
        "patient_id": visit["patient_id"],
        "doctor_id": visit["doctor_id"],
        "visit_id": visit["id"],
        "issued_at": visit["signed_at"],
        "valid_until": visit["signed_at"].date() + timedelta(days=30),
        "status": "active",
        "cancel_reason": "",
        "cancelled_by_name": "",
        "cancelled_at": None,
        "kid": template.kid,
        "code": template.code,
        "acknowledged": "[]",
    }
    lines = []
    for n, item in enumerate(items[: rng.randint(1, len(items))], start=1):
        values = {c.key: getattr(item, c.key) for c in PrescriptionItem.__table__.columns}
        for key in ("created_at", "updated_at", "version", "deleted_at"):
            values.pop(key)
        lines.append({**values, "id": new_id(), "prescription_id": rx["id"], "line": n})
    return rx, lines


def populate(store: Store, owner: Actor, patients: int, seed: int) -> str:
    """Patients, the doctor, every chart; returns the heavy patient's id."""
    rng = random.Random(seed)
    with store.write(owner) as s:
        ensure_clinic_key(s)
        seed_formulary(s)
    setup = ScheduleSetup(store)
    spec = setup.add_specialization(owner, "General practice")
    service = setup.add_service(owner, "Consultation", 15, 5, 4500)
    with store.read() as s:
        user_id = s.scalar(select(User.id).where(User.username == DOCTOR))
    setup.make_doctor(owner, user_id, spec, "GMC 7034512", {service.id}, room="Room 1")
    doctor, doctor_id = _doctor(store)
    ids = PatientService(store).import_many(owner, PeopleGenerator(seed).patients(patients))
    today = datetime.now(UTC).date()
    with store.read() as s:
        people = {
            p.id: Person(
                p.id, f"{p.given_name} {p.family_name}", p.date_of_birth, p.sex, p.national_id,
                age_on(p.date_of_birth, today) or 0,
            )
            for p in s.scalars(select(Patient))
        }  # fmt: skip
    heavy = max(ids, key=lambda i: (people[i].age < 80, people[i].age))  # the oldest under 80
    heavy_visits = _heavy_chart(store, owner, doctor, doctor_id, people[heavy], rng)
    _heavy_prescriptions(store, doctor, heavy_visits, rng)  # first: the clock only goes forward
    _other_charts(store, owner, doctor, doctor_id, people, heavy, rng, today)
    return heavy


def _heavy_chart(store, owner, doctor, doctor_id, p: Person, rng) -> list[dict]:
    builder = ChartBuilder(rng, utcnow().date())
    now = utcnow()
    starts = sorted(
        now - timedelta(days=rng.randint(1, 3650), minutes=rng.randint(0, 600))
        for _ in range(HEAVY["visits"])
    )
    visits, changes = [], []
    for at in starts:
        row, change = signed_visit(
            p.id, doctor_id, doctor, at, at + timedelta(minutes=12), _encounter(rng, True)
        )
        visits.append(row)
        changes.append(change)
    for substance, reaction, severity in (
        ("Penicillin", "Facial swelling and wheeze", "severe"),
        ("Latex", "Contact dermatitis", "mild"),
    ):
        builder.add(
            Allergy, doctor, p.id, "allergies",
            substance=substance, reaction=reaction, severity=severity, note="",
        )  # fmt: skip
    for name, onset in (
        ("Essential hypertension", 2011),
        ("Type 2 diabetes mellitus", 2015),
        ("Hypercholesterolaemia", 2015),
        ("Osteoarthritis of the knee", 2019),
    ):
        p.conditions.add(name)
        builder.add(
            Condition, doctor, p.id, "conditions",
            name=name, status="active", onset=date(onset, 3, 1), resolved_on=None, note="",
        )  # fmt: skip
    # a reading at every visit and more between them (home readings brought in)
    between = [starts[0] + (now - starts[0]) * rng.random() for _ in range(HEAVY["vitals"] - 205)]
    builder.history(p, doctor, [at + timedelta(minutes=3) for at in starts] + between)
    for n in range(HEAVY["documents"]):
        size = int(min(2_000_000, max(100_000, rng.lognormvariate(12.8, 0.8))))
        _document(builder, doctor, p.id, size, n)
    with store.write(owner) as s:
        outbox.bulk_insert(s, Visit, visits)
        outbox.bulk_insert(s, ChartChange, changes)
        audit.append(s, owner, "visit.import", "visits", None, count=len(visits))
    builder.write(store, owner)
    return visits


def _heavy_prescriptions(store, doctor, visits: list[dict], rng) -> None:
    """Signed through the service, in time order, as the doctor wrote them."""
    clock = [utcnow()]
    service = PrescriptionService(store, clock=lambda: clock[0])
    chosen = sorted(rng.sample(visits, HEAVY["prescriptions"]), key=lambda v: v["started_at"])
    encounters = [*REVIEWS.values(), ACUTE_ADULT[2], ACUTE_ADULT[4]]  # 1 or 2 items
    for n, visit in enumerate(chosen):
        items = [i for e in rng.sample(encounters, 1 + n % 2) for i in e.items][:3]
        clock[0] = visit["started_at"] + timedelta(minutes=8)
        warnings = service.check(doctor, visit["patient_id"], items)
        service.write(doctor, visit["id"], items, {w.key: "intended" for w in warnings})


def _other_charts(store, owner, doctor, doctor_id, people, heavy, rng, today) -> None:
    """Everyone else: history and vitals, 0-8 visits, prescriptions for some, a few files."""
    others = [pid for pid in people if pid != heavy]
    # one real prescription gives the others a code of the real size
    visit, change = signed_visit(
        others[0], doctor_id, doctor, utcnow() - timedelta(days=1), utcnow(), ACUTE_ADULT[2]
    )
    with store.write(owner) as s:
        outbox.bulk_insert(s, Visit, [visit])
        outbox.bulk_insert(s, ChartChange, [change])
    written = PrescriptionService(store).write(doctor, visit["id"], list(ACUTE_ADULT[2].items))
    with store.read() as s:
        template = s.get(Prescription, written.id)
        items = list(
            s.scalars(
                select(PrescriptionItem).where(PrescriptionItem.prescription_id == template.id)
            )
        )
    for start in range(0, len(others), 1000):  # a transaction per thousand patients
        builder = ChartBuilder(rng, today)
        visits, changes, rxs, lines = [], [], [], []
        for pid in others[start : start + 1000]:
            p = people[pid]
            builder.history(p, doctor, [])
            if rng.random() < 0.2:
                _document(builder, doctor, pid, rng.randint(20_000, 80_000), 0)
            for _ in range(rng.choice((0, 1, 2, 3, 4, 5, 6, 8))):
                at = utcnow() - timedelta(days=rng.randint(1, 2000))
                row, change = signed_visit(
                    pid, doctor_id, doctor, at, at + timedelta(minutes=12), _encounter(rng, False)
                )
                visits.append(row)
                changes.append(change)
                if rng.random() < 0.5:
                    rx, rx_lines = _prescription_rows(rng, template, items, row)
                    rxs.append(rx)
                    lines += rx_lines
        with store.write(owner) as s:
            outbox.bulk_insert(s, Visit, visits)
            outbox.bulk_insert(s, ChartChange, changes)
            outbox.bulk_insert(s, Prescription, rxs)
            outbox.bulk_insert(s, PrescriptionItem, lines)
            audit.append(s, owner, "visit.import", "visits", None, count=len(visits))
        builder.write(store, owner)


def build_cipher(folder: Path, patients: int, seed: int) -> dict:
    clinic = folder / "clinic"
    with Stopwatch() as whole:
        create_demo_clinic(clinic, patients=0, seed=seed, kdf=BENCH_KDF)
        session = sign_in(clinic, "owner", PASSWORD)
        try:
            heavy = populate(session.store, session.actor, patients, seed)
        finally:
            session.close()
    return {"build_s": whole.seconds, "heavy": heavy}


def build_plain(folder: Path, patients: int, seed: int) -> dict:
    clinic = folder / "clinic"
    with Stopwatch() as whole:
        create_plain_clinic(clinic)
        store = Store(clinic, make_engine(clinic / DB_FILE, None))
        try:
            with store.read() as s:
                owner = _staff_actor(s.scalar(select(User).where(User.username == "owner")))
            heavy = populate(store, owner, patients, seed)
        finally:
            store.close()
    return {"build_s": whole.seconds, "heavy": heavy}


# ---------------------------------------------------------------- plain SQL


PLAIN_SQL = {
    "patient": "SELECT * FROM patients WHERE id = ?",
    **{
        table: f"SELECT * FROM {table} WHERE patient_id = ? AND deleted_at IS NULL ORDER BY {order}"
        for table, order in (
            ("allergies", "created_at"),
            ("conditions", "created_at"),
            ("surgeries", "created_at"),
            ("family_history", "created_at"),
            ("lifestyle", "created_at"),
            ("vital_signs", "taken_at DESC"),
        )
    },
    "documents": "SELECT id, kind, title, file_name, media_type, size_bytes, dated, created_at "
    "FROM chart_documents WHERE patient_id = ? AND deleted_at IS NULL "
    "ORDER BY dated DESC, created_at DESC",
    "visits": "SELECT v.id, v.started_at, u.display_name, v.complaint, v.diagnosis, v.status, "
    "v.signed_at FROM visits v JOIN doctors d ON d.id = v.doctor_id JOIN users u "
    "ON u.id = d.user_id WHERE v.patient_id = ? AND v.deleted_at IS NULL "
    "ORDER BY v.started_at DESC",
    "prescriptions": "SELECT * FROM prescriptions WHERE patient_id = ? ORDER BY issued_at DESC",
    "items": "SELECT i.prescription_id, i.drug, i.strength FROM prescription_items i "
    "JOIN prescriptions p ON p.id = i.prescription_id WHERE p.patient_id = ? "
    "ORDER BY i.prescription_id, i.line",
}


def plain_sql(conn: sqlite3.Connection, patient_id: str) -> int:
    return sum(len(conn.execute(q, (patient_id,)).fetchall()) for q in PLAIN_SQL.values())


def query_plans(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    rows = []
    for name, query in PLAIN_SQL.items():
        plan = conn.execute(f"EXPLAIN QUERY PLAN {query}", ("x",)).fetchall()
        rows.append((name, "; ".join(r[-1] for r in plan)))
    return rows


# ---------------------------------------------------------------- measuring


def record_statements(store: Store) -> list[str]:
    """The SQL the engine runs from now on (to count the queries of one open)."""
    seen: list[str] = []
    event.listen(store.engine, "before_cursor_execute", lambda _c, _k, sql, *_a: seen.append(sql))
    return seen


def timed_open(chart: ChartService, actor: Actor, patient_id: str) -> tuple[float, object]:
    start = time.perf_counter()
    opened = chart.open(actor, patient_id)
    return (time.perf_counter() - start) * 1000, opened


def run(args: argparse.Namespace) -> int:
    print(f"Chart benchmark: {args.patients:,} patients with charts; one with {HEAVY}")
    print(machine_note())
    demo = Path(__file__).parents[2] / "clinicdesk"
    key = f"chart-n{args.patients}-seed{args.seed}-" + fingerprint_with(
        demo / "demo" / "clinical.py", demo / "demo" / "encounters.py",
        demo / "services" / "prescriptions.py", extra=BUILD_VERSION,
    )  # fmt: skip
    builds = {
        "cipher": cached_build(
            f"{key}/cipher", lambda f: build_cipher(f, args.patients, args.seed), args.rebuild
        ),
        "plain": cached_build(
            f"{key}/plain", lambda f: build_plain(f, args.patients, args.seed), args.rebuild
        ),
    }
    for label, build in builds.items():
        state = "reused" if build.reused else "built now"
        print(f"{label}: {build.folder / 'clinic'} ({state}, build {build.info['build_s']:.0f} s)")
    work = bench_root() / f"chart-work-{os.getpid()}"
    cipher_dir = copy_clinic(builds["cipher"].folder / "clinic", work / "cipher")
    plain_dir = copy_clinic(builds["plain"].folder / "clinic", work / "plain")
    session = sign_in(cipher_dir, DOCTOR, PASSWORD)
    plain_store = Store(plain_dir, make_engine(plain_dir / DB_FILE, None))
    conn = sqlite3.connect(plain_dir / DB_FILE)
    try:
        doctor_plain, _ = _doctor(plain_store)
        plain_chart = ChartService(plain_store)
        heavy = {"cipher": builds["cipher"].info["heavy"], "plain": builds["plain"].info["heavy"]}
        with session.store.read() as s:
            typical_c = s.scalar(
                select(Visit.patient_id).where(Visit.patient_id != heavy["cipher"])
            )
        with plain_store.read() as s:
            typical_p = s.scalar(select(Visit.patient_id).where(Visit.patient_id != heavy["plain"]))
        statements = record_statements(session.store)
        runs = {
            "cipher": lambda pid: timed_open(session.chart, session.actor, pid),
            "plain": lambda pid: timed_open(plain_chart, doctor_plain, pid),
        }
        for _ in range(5):  # warm: statements compiled, pages cached, as on a working desk
            for which, open_ in runs.items():
                open_(heavy[which])
            plain_sql(conn, heavy["plain"])
        statements.clear()
        _, chart = runs["cipher"](heavy["cipher"])
        statements = list(statements)
        times: dict[str, list[float]] = {"cipher": [], "plain": [], "sql": []}
        typical: dict[str, list[float]] = {"cipher": [], "plain": []}
        for n in range(args.reps):
            order = ["cipher", "plain", "sql"]
            for which in order[n % 3 :] + order[: n % 3]:  # rotate against drift
                if which == "sql":
                    start = time.perf_counter()
                    plain_sql(conn, heavy["plain"])
                    times["sql"].append((time.perf_counter() - start) * 1000)
                else:
                    times[which].append(runs[which](heavy[which])[0])
            typical["cipher"].append(runs["cipher"](typical_c)[0])
            typical["plain"].append(runs["plain"](typical_p)[0])
        plans = query_plans(conn)
        sizes = conn.execute(
            "SELECT count(*), sum(size_bytes) FROM chart_documents WHERE patient_id = ?",
            (heavy["plain"],),
        ).fetchone()
        totals = {
            t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("patients", "visits", "vital_signs", "prescriptions", "chart_documents")
        }
    finally:
        conn.close()
        session.close()
        plain_store.close()
        remove_folder(work)

    print()
    print(
        "Heavy chart: "
        + ", ".join(f"{k} {len(v)}" for k, v in chart.sections.items())
        + f", documents {len(chart.documents)} ({sizes[1] / 1e6:.1f} MB, not read), "
        f"visits {len(chart.visits)}, prescriptions {len(chart.prescriptions)}"
    )
    print("Clinic: " + ", ".join(f"{k} {v:,}" for k, v in totals.items()))
    reads_files = any("chart_documents.content" in sql for sql in statements)
    print(f"SQL statements per open (SQLCipher, incl. the audit entry): {len(statements)}")
    print(f"Document bytes read by the listing: {'YES' if reads_files else 'none'}")
    print()
    print("Query plans (plain copy):")
    for name, plan in plans:
        print(f"  {name:<15} {plan}")
    print()
    rows = [
        (label, f"{median(v):.1f}", f"{percentile(v, 95):.1f}")
        for label, v in (
            ("ChartService.open, SQLCipher (heavy chart)", times["cipher"]),
            ("ChartService.open, plain SQLite (heavy chart)", times["plain"]),
            ("plain SQL via sqlite3, plain copy (heavy chart)", times["sql"]),
            ("ChartService.open, SQLCipher (typical chart)", typical["cipher"]),
            ("ChartService.open, plain SQLite (typical chart)", typical["plain"]),
        )
    ]
    print(table(("what", "median ms", "p95 ms"), rows, f"Opening a chart ({args.reps} reps)"))
    print()
    c, p, q = times["cipher"], times["plain"], times["sql"]
    print(
        summary(
            [
                (
                    "open heavy chart, median ms",
                    f"{median(c):.1f}",
                    f"{median(p):.1f}",
                    ratio(median(c), median(p)),
                    "",
                    "",
                ),
                (
                    "open heavy chart, p95 ms",
                    f"{percentile(c, 95):.1f}",
                    f"{percentile(p, 95):.1f}",
                    ratio(percentile(c, 95), percentile(p, 95)),
                    f"<= {TARGET_MS:.0f} ms",
                    verdict(percentile(c, 95) <= TARGET_MS),
                ),
                (
                    "open heavy chart vs plain SQL, median ms",
                    f"{median(c):.1f}",
                    f"{median(q):.1f}",
                    ratio(median(c), median(q)),
                    "",
                    "",
                ),
            ],
            "SUMMARY: chart open (value = SQLCipher; baseline = plain SQLite, same services; "
            "last row: plain SQL)",
        )
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=5000)
    parser.add_argument("--reps", type=int, default=50)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached clinics")
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
