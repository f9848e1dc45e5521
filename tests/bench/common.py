"""Shared pieces of the benchmarks: statistics, tables, the plain-SQLite twin of a clinic, caches.

The plain-SQLite baseline is the same clinic built the same way (same schema through the Alembic
migrations, same meta and clinic rows as ``create_clinic`` writes, same services and the same
import path), only on an engine without a key: ``make_engine(path, None)`` applies the same
pragmas. The difference between the two is what encryption costs.
"""

from __future__ import annotations

import hashlib
import json
import os
import statistics
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from clinicdesk.demo.clinic import DEMO_CLINIC, DEMO_PASSWORD, DEMO_STAFF, _demo_edits
from clinicdesk.ids import new_id, utcnow
from clinicdesk.permissions import SYSTEM, Actor, Role
from clinicdesk.services.appointments import AppointmentService
from clinicdesk.services.clinic import ClinicDetails, mrn_prefix
from clinicdesk.services.patients import PatientService
from clinicdesk.services.schedule_setup import ScheduleSetup
from clinicdesk.services.users import ACTIVE
from clinicdesk.store import audit, migrate
from clinicdesk.store.database import DB_FILE, Store
from clinicdesk.store.engine import make_engine
from clinicdesk.store.keyslots import KdfParams
from clinicdesk.store.models import ClinicProfile, Meta, User

REPO = Path(__file__).resolve().parents[2]
# 64 MiB as in production, one pass: the KDF is not what these benchmarks measure.
BENCH_KDF = KdfParams(time_cost=1)
RECEPTION = "reception"
PASSWORD = DEMO_PASSWORD
# a clinic of its own for the benchmarks that build one from nothing
DETAILS = ClinicDetails("Bench Clinic", "1 Bench Road", "+44 20 7946 0001", "Europe/London", "GBP")


# ---------------------------------------------------------------- statistics and tables


def percentile(values: Sequence[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def ratio(value: float, baseline: float) -> str:
    return f"{value / baseline:.2f}x" if baseline > 0 else "n/a"


def table(headers: Sequence[str], rows: Iterable[Sequence[object]], title: str = "") -> str:
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        first = row[0].ljust(widths[0])
        rest = (c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True))
        return "  ".join([first, *rest]).rstrip()

    out = [title, "=" * len(title)] if title else []
    out += [line(cells[0]), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in cells[1:]]
    return "\n".join(out)


def summary(rows: Iterable[Sequence[object]], title: str = "SUMMARY") -> str:
    return table(("figure", "value", "baseline", "ratio", "target", "verdict"), rows, title)


def verdict(ok: bool) -> str:
    return "meets" if ok else "MISSES"


def machine_note() -> str:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{os.cpu_count()} CPUs, load average {load} (shared machine: figures are noisy)"


class Stopwatch:
    def __enter__(self) -> Stopwatch:
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.start


# ---------------------------------------------------------------- cached folders


def bench_root() -> Path:
    """Where built clinics are kept between runs (on disk, not tmpfs: fsync must be real)."""
    root = Path(os.environ.get("CLINICDESK_BENCH_DIR") or Path(tempfile.gettempdir()))
    path = root / "clinicdesk-bench"
    path.mkdir(parents=True, exist_ok=True)
    return path


def code_fingerprint() -> str:
    """Changes whenever code that decides what a built clinic holds changes."""
    digest = hashlib.sha256()
    sources = [
        *sorted((REPO / "clinicdesk").glob("demo*.py")),
        REPO / "clinicdesk" / "text.py",
        REPO / "clinicdesk" / "services" / "patients.py",
        REPO / "clinicdesk" / "services" / "patient_search.py",
        REPO / "clinicdesk" / "store" / "models.py",
        *sorted((REPO / "migrations").rglob("*.py")),
    ]
    for path in sources:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def fingerprint_with(*paths: Path, extra: str = "") -> str:
    """``code_fingerprint()`` plus more files (and a build version) deciding a cache."""
    digest = hashlib.sha256(code_fingerprint().encode())
    for path in paths:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    digest.update(extra.encode())
    return digest.hexdigest()[:12]


def copy_clinic(src: Path, dst: Path) -> Path:
    """A working copy of a cached clinic, so that a benchmark's writes leave the cache as built."""
    import shutil

    if dst.exists():
        _remove_tree(dst)
    shutil.copytree(src, dst)
    return dst


def remove_folder(folder: Path) -> None:
    """Remove a folder the benchmarks made (clinic folders are 0700)."""
    if folder.exists():
        _remove_tree(folder)


@dataclass
class CachedBuild:
    folder: Path
    info: dict
    reused: bool


def cached_build(name: str, build, rebuild: bool = False) -> CachedBuild:
    """``build(folder) -> dict`` once per name; the dict (timings) is kept beside the folder."""
    folder = bench_root() / name
    done = folder / "bench-build.json"
    if done.exists() and not rebuild:
        return CachedBuild(folder, json.loads(done.read_text()), reused=True)
    if folder.exists():
        _remove_tree(folder)
    folder.mkdir(parents=True)
    info = build(folder)
    done.write_text(json.dumps(info, indent=2))
    return CachedBuild(folder, info, reused=False)


def _remove_tree(folder: Path) -> None:
    import shutil

    folder.chmod(0o700)
    for sub in folder.rglob("*"):
        if sub.is_dir():
            sub.chmod(0o700)
    shutil.rmtree(folder)


# ---------------------------------------------------------------- the plain-SQLite twin


@dataclass
class PlainClinic:
    """A clinic on plain SQLite with the services a signed-in session has."""

    store: Store
    owner: Actor
    reception: Actor

    @property
    def patients(self) -> PatientService:
        return PatientService(self.store)

    @property
    def schedule(self) -> ScheduleSetup:
        return ScheduleSetup(self.store)

    @property
    def appointments(self) -> AppointmentService:
        return AppointmentService(self.store)

    def close(self) -> None:
        self.store.close()


def _staff_actor(user: User) -> Actor:
    from clinicdesk.services.users import parse_roles

    return Actor(user.id, user.username, user.display_name, parse_roles(user.roles))


def create_plain_clinic(folder: Path) -> None:
    """What ``create_clinic`` and ``create_demo_clinic`` write, minus the key slots."""
    folder.mkdir(parents=True, exist_ok=True)
    store = Store(folder, make_engine(folder / DB_FILE, None))
    try:
        migrate.upgrade(store)
        details = DEMO_CLINIC
        with store.write(SYSTEM) as s:
            clinic_id = new_id()
            s.add(Meta(key="clinic_id", value=clinic_id))
            kdf = BENCH_KDF
            s.add(Meta(key="kdf", value=f"{kdf.time_cost},{kdf.memory_kib},{kdf.parallelism}"))
            s.add(ClinicProfile(mrn_prefix=mrn_prefix(details.name), **details.__dict__))
            for role, username, display_name in DEMO_STAFF:
                s.add(
                    User(
                        id=new_id(),
                        username=username,
                        username_key=username.casefold(),
                        display_name=display_name,
                        roles=role.value,
                        status=ACTIVE,
                        password_changed_at=utcnow(),
                    )
                )
            audit.append(s, SYSTEM, "clinic.create", "clinic", clinic_id, name=details.name)
    finally:
        store.close()


def add_plain_staff(folder: Path, staff: Iterable[tuple[Role, str, str]]) -> None:
    """More active accounts, as ``create_plain_clinic`` writes the demo staff (no key slots)."""
    store = Store(folder, make_engine(folder / DB_FILE, None))
    try:
        with store.write(SYSTEM) as s:
            for role, username, display_name in staff:
                user_id = new_id()
                s.add(
                    User(
                        id=user_id,
                        username=username,
                        username_key=username.casefold(),
                        display_name=display_name,
                        roles=role.value,
                        status=ACTIVE,
                        password_changed_at=utcnow(),
                    )
                )
                audit.append(s, SYSTEM, "user.create", "users", user_id, username=username)
    finally:
        store.close()


def open_plain_clinic(folder: Path) -> PlainClinic:
    store = Store(folder, make_engine(folder / DB_FILE, None))
    with store.read() as s:
        users = {u.username: _staff_actor(u) for u in s.query(User)}
    owner = DEMO_STAFF[0][1]
    return PlainClinic(store, users[owner], users[RECEPTION])


class _PlainSession:
    """Just enough of ClinicSession for ``clinicdesk.demo.clinic._demo_edits``."""

    def __init__(self, clinic: PlainClinic) -> None:
        self.actor = clinic.owner
        self.patients = clinic.patients


def fill_plain_clinic(clinic: PlainClinic, people, records) -> None:
    """The same import and the same few edits as ``create_demo_clinic``."""
    clinic.patients.import_many(clinic.owner, records)
    _demo_edits(_PlainSession(clinic), people)
