"""Setting up a clinic, signing in, locking, passwords, backup and restore.

Signing in unwraps the database key from the user's key slot, opens the encrypted database
(migrating it after an automatic backup) and returns a ClinicSession with the services.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path

from clinicdesk.errors import (
    AccountInactive,
    ClinicDeskError,
    StoreError,
    ValidationError,
    WrongPassword,
)
from clinicdesk.ids import new_id, utcnow
from clinicdesk.logs import log, log_unexpected
from clinicdesk.permissions import SYSTEM, Actor, P, Role
from clinicdesk.services import validation as check
from clinicdesk.services.appointment_reports import AppointmentReports
from clinicdesk.services.appointments import AppointmentService
from clinicdesk.services.audit_log import AuditService
from clinicdesk.services.chart import ChartService
from clinicdesk.services.clinic import ClinicDetails, ClinicService, mrn_prefix, validate_details
from clinicdesk.services.formulary import FormularyService
from clinicdesk.services.formulary import seed as seed_formulary
from clinicdesk.services.inventory import InventoryService
from clinicdesk.services.patients import PatientService
from clinicdesk.services.pharmacy import PharmacyService
from clinicdesk.services.prescriptions import PrescriptionService
from clinicdesk.services.queue import QueueService
from clinicdesk.services.schedule_setup import ScheduleSetup
from clinicdesk.services.signing import SigningKeys, ensure_clinic_key
from clinicdesk.services.users import (
    ACTIVE,
    PENDING,
    REMOVED,
    UserService,
    parse_roles,
    validate_account,
)
from clinicdesk.services.visits import VisitService
from clinicdesk.store import audit, backup, migrate
from clinicdesk.store.audit_witness import LocalWitness, keep
from clinicdesk.store.database import DB_FILE, Store, connect
from clinicdesk.store.files import private_dir, refuse_inside, storage_errors, write_export
from clinicdesk.store.keyslots import (
    SLOTS_FILE,
    KdfParams,
    KeyFileDamaged,
    KeySlotFile,
    Slot,
    calibrate,
    new_database_key,
    new_recovery_key,
    normalize_recovery_key,
)
from clinicdesk.store.models import ClinicProfile, Meta, User
from clinicdesk.store.signin_guard import SigninGuard


class FolderState(Enum):
    NEW = "new"  # no clinic yet: run the set-up
    READY = "ready"  # a clinic: sign in


def folder_state(folder: Path) -> FolderState:
    if KeySlotFile.exists(folder):
        return FolderState.READY
    if (folder / DB_FILE).exists():
        raise StoreError(
            f"{folder} holds a clinic database but not its key file; restore the "
            "key file or a whole backup."
        )
    return FolderState.NEW


@dataclass(frozen=True)
class AdminAccount:
    username: str
    display_name: str
    password: str


@dataclass(frozen=True)
class SetupResult:
    clinic_id: str
    recovery_key: str


def create_clinic(
    folder: Path, details: ClinicDetails, admin: AdminAccount, kdf: KdfParams | None = None
) -> SetupResult:
    """First-run set-up. The recovery key is returned once and never stored in the clear."""
    details = validate_details(details)
    _validate_admin(admin)
    private_dir(folder)  # other accounts on the PC cannot even list it
    if folder_state(folder) is not FolderState.NEW:
        raise StoreError(f"{folder} already holds a clinic; it was not changed.")
    kdf = kdf or calibrate()
    db_key, clinic_id, admin_id = new_database_key(), new_id(), new_id()
    recovery = new_recovery_key()
    slots = KeySlotFile(folder, clinic_id, [], clinic_name=details.name)
    slots.add("user", admin.password, db_key, kdf, user_id=admin_id, username=admin.username)
    slots.add("recovery", recovery, db_key, kdf)
    store = connect(folder, db_key, must_exist=False)
    try:
        migrate.upgrade(store)
        with store.write(SYSTEM) as s:
            s.add(Meta(key="clinic_id", value=clinic_id))
            s.add(Meta(key="kdf", value=f"{kdf.time_cost},{kdf.memory_kib},{kdf.parallelism}"))
            s.add(ClinicProfile(mrn_prefix=mrn_prefix(details.name), **details.__dict__))
            s.add(
                User(
                    id=admin_id,
                    username=admin.username,
                    username_key=admin.username.casefold(),
                    display_name=admin.display_name,
                    roles=Role.SUPER_ADMIN.value,
                    status=ACTIVE,
                    password_changed_at=utcnow(),
                )
            )
            s.flush()
            ensure_clinic_key(s)
            seed_formulary(s)
            audit.append(s, SYSTEM, "clinic.create", "clinic", clinic_id, name=details.name)
        slots.save()
    except BaseException:
        store.close()
        for name in (DB_FILE, f"{DB_FILE}-wal", f"{DB_FILE}-shm"):
            (folder / name).unlink(missing_ok=True)
        raise
    store.close()
    return SetupResult(clinic_id, recovery)


def _validate_admin(admin: AdminAccount) -> None:
    validate_account(
        admin.username.strip(), admin.display_name.strip(), {Role.SUPER_ADMIN}, admin.password
    )


def _kdf_for_new_slots(store: Store) -> KdfParams:
    """New and changed slots use the cost tuned for this clinic at set-up."""
    with store.read() as s:
        value = s.get(Meta, "kdf")
    if value is None:
        return calibrate()
    t, m, p = (int(x) for x in value.value.split(","))
    return KdfParams(t, m, p)


def open_store(folder: Path, slots: KeySlotFile, db_key: bytes) -> Store:
    """Open and migrate; an automatic backup is taken before any migration runs."""
    store = connect(folder, db_key, expect_clinic_id=slots.clinic_id)
    try:
        migrate.upgrade(store, backup=lambda rev: _backup_before_migration(store, db_key, rev))
    except ClinicDeskError:
        store.close()
        raise
    except Exception as exc:
        store.close()
        log_unexpected(exc)
        raise StoreError(
            "Updating the clinic's database for this version of ClinicDesk failed, so it was left "
            f"as it was; a backup taken just before is in {folder / 'backups'}. Please contact "
            "support before trying again."
        ) from exc
    return store


def _backup_before_migration(store: Store, db_key: bytes, revision: str) -> None:
    name = f"before-migration-from-{revision}-{utcnow():%Y%m%d-%H%M%S}{backup.SUFFIX}"
    info = backup.create_backup(store, db_key, _auto_backup_dir(store.folder) / name)
    log.info("schema at %s: backed up to %s before migrating", revision, info.path.name)


def _auto_backup_dir(folder: Path) -> Path:
    return private_dir(folder / "backups")


def _unwrap_checked(folder: Path, slots: KeySlotFile, username: str, password: str) -> bytes:
    """The database key from ``username``'s slot, with the lockout pause checked and counted."""
    guard = SigninGuard(folder)
    refusal = guard.begin_attempt(username)
    slot = slots.user_slot(username)
    try:
        if slot is None:
            # as slow as a real attempt, so timing does not tell which user names exist
            slots.slots[0].kdf.derive(password, os.urandom(16))
            raise WrongPassword()
        key = slots.unwrap(slot, password)
    except WrongPassword:
        log.info("sign-in refused: wrong user name or password")
        raise refusal from None
    guard.record_success(username)
    return key


def sign_in(folder: Path, username: str, password: str) -> ClinicSession:
    slots = KeySlotFile.load(folder)
    db_key = _unwrap_checked(folder, slots, username, password)
    slot = slots.user_slot(username)
    assert slot is not None
    store = open_store(folder, slots, db_key)
    try:
        with store.write(SYSTEM) as s:
            user = s.get(User, slot.user_id)
            if user is None or user.status == REMOVED:
                raise AccountInactive("This account has been removed; ask an administrator.")
            user.last_login_at = utcnow()
            # clinics set up before prescriptions existed get their key and formulary here
            ensure_clinic_key(s)
            seed_formulary(s)
            actor = Actor(user.id, user.username, user.display_name, parse_roles(user.roles))
            audit.append(s, actor, "user.sign_in", "users", user.id)
            must_change = user.status == PENDING
    except BaseException:
        store.close()
        raise
    log.info("signed in: user %s", actor.user_id)
    session = ClinicSession(folder, store, slots, db_key, actor, must_change)
    session.audit.anchor(actor)
    return session


@dataclass
class ClinicSession:
    """A signed-in user with the open clinic and its services."""

    folder: Path
    store: Store
    slots: KeySlotFile
    _db_key: bytes = field(repr=False)
    actor: Actor
    must_change_password: bool = False

    def __post_init__(self) -> None:
        # Until the owner of a new account sets their own password, the account acts with no
        # permissions: whoever knows the temporary password cannot read anything.
        self._roles = self.actor.roles
        if self.must_change_password:
            self.actor = replace(self.actor, roles=frozenset())
        kdf = _kdf_for_new_slots(self.store)
        self.clinic = ClinicService(self.store, self.slots)
        self.patients = PatientService(self.store)
        self.users = UserService(self.store, self.slots, self._db_key, kdf)
        self.audit = AuditService(self.store)
        self.schedule = ScheduleSetup(self.store)
        self.appointments = AppointmentService(self.store)
        self.queue = QueueService(self.store)
        self.reports = AppointmentReports(self.store)
        self.chart = ChartService(self.store)
        self.visits = VisitService(self.store, self.appointments)
        self.formulary = FormularyService(self.store)
        self.signing_keys = SigningKeys(self.store)
        self.prescriptions = PrescriptionService(self.store)
        self.inventory = InventoryService(self.store)
        self.pharmacy = PharmacyService(self.store)
        self._kdf = kdf

    def _own_slot(self) -> Slot:
        slot = self.slots.slot_for_user_id(self.actor.user_id or "")
        if slot is None:
            raise AccountInactive("This account has been removed; ask an administrator.")
        return slot

    def unlock(self, password: str) -> None:
        """Check the password after an idle lock; counts towards the lockout like sign-in."""
        self.slots.reload()  # an admin elsewhere may have removed this account meanwhile
        self._own_slot()
        _unwrap_checked(self.folder, self.slots, self.actor.username, password)
        with self.store.write(self.actor) as s:
            audit.append(s, self.actor, "user.unlock", "users", self.actor.user_id)

    def change_password(self, old: str, new: str) -> None:
        """Rewraps only this user's slot; the database key itself never changes."""
        problem = check.password(new, self.actor.username)
        if problem:
            raise ValidationError({"new_password": problem})
        if new == old:
            raise ValidationError({"new_password": "must differ from the current password"})
        slot = self._own_slot()
        self.slots.unwrap(slot, old)  # raises WrongPassword
        with self.store.write(self.actor) as s:
            user = s.get(User, self.actor.user_id)
            assert user is not None
            user.password_changed_at = utcnow()
            if user.status == PENDING:
                user.status = ACTIVE
            audit.append(s, self.actor, "user.password", "users", user.id)
            self.slots.rewrap(slot, new, self._db_key, self._kdf)
            self.slots.save()
        self.must_change_password = False
        self.actor = replace(self.actor, roles=self._roles)

    def backup(self, dest: Path, *, make_folder: bool = False) -> backup.BackupInfo:
        """A new backup file at ``dest`` (or a dated one in the folder ``dest``, created private
        when ``make_folder``), never over an existing file, never inside the data folder."""
        self.actor.require(P.BACKUP)
        refuse_inside(dest, self.folder)
        if make_folder:
            private_dir(dest)
        info = backup.create_backup(self.store, self._db_key, dest)
        with self.store.write(self.actor) as s:
            audit.append(s, self.actor, "data.backup", "clinic", None, file=info.path.name)
        self.audit.anchor(self.actor)
        return info

    def save_export(self, path: Path, data: bytes) -> Path:
        """A file staff chose to save (a PDF, a CSV, a calendar file): readable by this account
        only, and never one of the clinic's own files (nothing inside the data folder)."""
        return write_export(path, data, self.folder)

    def close(self) -> None:
        self.audit.anchor(self.actor)
        self.store.close()


@dataclass(frozen=True)
class Restored:
    aside: Path | None  # where the data it replaced was kept, if there was any
    unlocked_with: str  # which key opened the backup, as the end of a sentence
    current_key_file_problem: str | None  # why the clinic's own key file could not be used


def restore(src: Path, folder: Path, username: str | None, secret: str) -> Restored:
    """Restore a backup into ``folder`` after checking it completely.

    ``secret`` is the password of ``username`` as it was in the backup, or the recovery key when
    ``username`` is None; either unlocks the backup's own key slots, so a clinic whose current
    key file is damaged or lost can still be restored (that is when it is needed most).
    """
    manifest = backup.read_manifest(src)
    problem = None
    try:
        current = KeySlotFile.load(folder) if KeySlotFile.exists(folder) else None
    except KeyFileDamaged as damaged:
        current, problem = None, damaged.message
    if current is not None and current.clinic_id != manifest["clinic_id"]:
        raise StoreError(f"{src.name} is a backup of another clinic; nothing was changed.")
    if current is None and problem is None and (folder / DB_FILE).exists():
        problem = f"The clinic's key file {folder / SLOTS_FILE} is missing."
    private_dir(folder)
    with storage_errors(folder):
        staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=folder))
    try:
        backup.extract(src, staging)
        slots = KeySlotFile.load(staging, owner=f"The key file inside the backup {src.name}")
        if username is None:
            slot = slots.recovery_slot()
            secret = normalize_recovery_key(secret)
            used = "the recovery key"
        else:
            slot = slots.user_slot(username)
            used = f"the password {username} had when the backup was made"
        if slot is None:
            raise WrongPassword()
        db_key = slots.unwrap(slot, secret)
        backup.check_database(staging / DB_FILE, db_key)
        store = connect(staging, db_key, expect_clinic_id=manifest["clinic_id"])
        try:
            backup.check_audit(store, manifest, src.name)
            head = backup.mark_restored(store, manifest, src.name, used)
        finally:
            store.close()
        aside = backup.swap_in(staging, folder)
        keep(LocalWitness(), manifest["clinic_id"], head)  # this workstation's new epoch
        return Restored(aside, used, problem)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def reset_password_with_recovery_key(
    folder: Path, recovery_key: str, username: str, new_password: str
) -> None:
    """For a forgotten password: the recovery key opens the database and rewraps one user slot."""
    slots = KeySlotFile.load(folder)
    recovery = slots.recovery_slot()
    if recovery is None:
        raise StoreError("This clinic has no recovery key.")
    db_key = slots.unwrap(recovery, normalize_recovery_key(recovery_key))
    slot = slots.user_slot(username)
    if slot is None:
        raise ValidationError({"username": "no active account has this user name"})
    problem = check.password(new_password, username)
    if problem:
        raise ValidationError({"new_password": problem})
    store = open_store(folder, slots, db_key)
    try:
        kdf = _kdf_for_new_slots(store)
        with store.write(SYSTEM) as s:
            user = s.get(User, slot.user_id)
            assert user is not None
            user.password_changed_at = utcnow()
            audit.append(s, SYSTEM, "user.password_reset", "users", user.id, method="recovery key")
            slots.rewrap(slot, new_password, db_key, kdf)
            slots.save()
    finally:
        store.close()
    SigninGuard(folder).record_success(username)
