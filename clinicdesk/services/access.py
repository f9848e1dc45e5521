"""Setting up a clinic, signing in, locking, passwords, backup and restore.

Signing in unwraps the database key from the user's key slot, opens the encrypted database
(migrating it after an automatic backup) and returns a ClinicSession with the services.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import select

from clinicdesk.errors import (
    AccountInactive,
    ClinicDeskError,
    Conflict,
    StoreError,
    ValidationError,
    WrongPassword,
)
from clinicdesk.ids import new_id, utcnow
from clinicdesk.jobs import CLINIC_JOBS, JobFailure, JobRunner
from clinicdesk.logs import log, log_unexpected
from clinicdesk.permissions import SYSTEM, Actor, P, Role
from clinicdesk.services import signing_access
from clinicdesk.services import validation as check
from clinicdesk.services.appointment_reports import AppointmentReports
from clinicdesk.services.appointments import AppointmentService
from clinicdesk.services.audit_log import AuditService
from clinicdesk.services.backups import BackupService
from clinicdesk.services.backups import record as record_backup
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
from clinicdesk.services.signing import SIGNING_ROLES, SigningKeys, ensure_clinic_key
from clinicdesk.services.sync import SyncService
from clinicdesk.services.users import (
    ACTIVE,
    ADMIN_ROLES,
    PENDING,
    REMOVED,
    UserService,
    parse_roles,
    validate_account,
)
from clinicdesk.services.visits import VisitService
from clinicdesk.store import audit, backup, migrate, rekey, slot_sync
from clinicdesk.store.audit_witness import LocalWitness, keep
from clinicdesk.store.change_watch import ChangeWatch
from clinicdesk.store.database import DB_FILE, Store, connect
from clinicdesk.store.files import private_dir, refuse_inside, storage_errors, write_export
from clinicdesk.store.keyholder import ACCOUNT_REMOVED, KeyHolder, KeyWatch
from clinicdesk.store.keyslots import (
    SLOTS_FILE,
    KdfParams,
    KeyFileDamaged,
    KeySlotFile,
    ShapeProblem,
    Slot,
    calibrate,
    checked_kdf,
    clinic_name,
    new_database_key,
    new_recovery_key,
    normalize_recovery_key,
)
from clinicdesk.store.locks import exclusive
from clinicdesk.store.models import ClinicProfile, Meta, User
from clinicdesk.store.signin_guard import SigninGuard
from clinicdesk.sync.join import finish_interrupted
from clinicdesk.sync.payload import PayloadCipher
from clinicdesk.sync.runner import SyncRunner, SyncStatus


class FolderState(Enum):
    NEW = "new"  # no clinic yet: run the set-up
    READY = "ready"  # a clinic: sign in


def folder_state(folder: Path) -> FolderState:
    finish_interrupted(folder)  # a workstation's join stopped while moving its files in
    if KeySlotFile.exists(folder):
        return FolderState.READY
    if (folder / DB_FILE).exists():
        raise StoreError(
            f"{folder} holds a clinic database but not its key file; restore the "
            "key file or a whole backup."
        )
    return FolderState.NEW


def folder_clinic_name(folder: Path) -> str:
    """The clinic's name as its key file gives it, readable before anyone signs in."""
    return clinic_name(folder)


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
    signing_kek = os.urandom(32)
    recovery = new_recovery_key()
    slots = KeySlotFile(folder, clinic_id, [], clinic_name=details.name)
    for kind, secret, user_id, username in (
        ("user", admin.password, admin_id, admin.username),
        ("recovery", recovery, None, None),
    ):
        slot, _ = slots.new_slot(kind, secret, kdf, user_id=user_id, username=username)
        slots.seal_database_key(slot, db_key)
        slots.seal_signing_key(slot, signing_kek)
        slots.put(slot)
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
            ensure_clinic_key(s, signing_kek)
            seed_formulary(s)
            audit.append(s, SYSTEM, "clinic.create", "clinic", clinic_id, name=details.name)
        slots.write()
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
    try:
        t, m, p = (int(x) for x in value.value.split(","))
        return checked_kdf({"time_cost": t, "memory_kib": m, "parallelism": p}, "")
    except (ValueError, ShapeProblem) as problem:
        why = f" ({problem})" if isinstance(problem, ShapeProblem) else ""
        raise StoreError(
            "The clinic's key settings in its database are damaged"
            f"{why}; no password was changed. Please contact support."
        ) from None


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


def _open_slot_checked(folder: Path, slots: KeySlotFile, username: str, password: str) -> KeyHolder:
    """The private key of ``username``'s slot, with the lockout pause checked and counted."""
    guard = SigninGuard(folder)
    refusal = guard.begin_attempt(username)
    slot = slots.user_slot(username)
    try:
        if slot is None:
            # as slow as a real attempt, so timing does not tell which user names exist
            slots.slots[0].kdf.derive(password, os.urandom(16))
            raise WrongPassword()
        if slot.is_v1:
            holder = _upgrade(slots, slot, password, slots.unwrap_v1(slot, password))
        else:
            holder = KeyHolder(slot.slot_id, slots.open_private(slot, password))
    except WrongPassword:
        log.info("sign-in refused: wrong user name or password")
        raise refusal from None
    guard.record_success(username)
    return holder


def _upgrade(slots: KeySlotFile, slot: Slot, secret: str, db_key: bytes) -> KeyHolder:
    """A format 1 slot becomes a key pair holding ``db_key`` (its owner's secret is at hand)."""

    def apply(f: KeySlotFile) -> X25519PrivateKey:
        fresh = f.slot(slot.slot_id)
        if fresh is None:
            raise AccountInactive(ACCOUNT_REMOVED)
        if not fresh.is_v1:  # another desk upgraded it a moment ago
            return f.open_private(fresh, secret)
        private = f.set_secret(fresh, secret)
        f.seal_database_key(fresh, db_key)
        return private

    return KeyHolder(slot.slot_id, slots.change(apply))


def sign_in(folder: Path, username: str, password: str) -> ClinicSession:
    slots = KeySlotFile.load(folder)
    holder = _open_slot_checked(folder, slots, username, password)
    db_key = rekey.finish(slots, holder)  # a key change cut short is finished first
    slot = holder.own_slot(slots)
    store = open_store(folder, slots, db_key)
    try:
        with store.write(SYSTEM) as s:
            user = s.get(User, slot.user_id)
            if user is None or user.status == REMOVED:
                raise AccountInactive(ACCOUNT_REMOVED)
            user.last_login_at = utcnow()
            roles = parse_roles(user.roles)
            kek = None
            if user.status == ACTIVE and roles & SIGNING_ROLES:
                kek = signing_access.share(s, slots, holder)
            # clinics set up before prescriptions existed get their key and formulary here (a
            # plain one only where no slot holds a signing-key key yet)
            if kek is not None or not any(x.sealed_signing for x in slots.slots):
                ensure_clinic_key(s, kek)
            seed_formulary(s)
            slot_sync.record(s, folder)  # what this sign-in changed of the key file, and any
            # change the other desks have not been sent yet (an upgrade, a key change finished)
            actor = Actor(user.id, user.username, user.display_name, roles)
            audit.append(s, actor, "user.sign_in", "users", user.id)
            must_change = user.status == PENDING
    except BaseException:
        store.close()
        raise
    log.info("signed in: user %s", actor.user_id)
    session = ClinicSession(folder, store, slots, holder, actor, must_change)
    session.audit.anchor(actor)
    return session


@dataclass
class ClinicSession:
    """A signed-in user with the open clinic and its services."""

    folder: Path
    store: Store
    slots: KeySlotFile
    keys: KeyHolder = field(repr=False)
    actor: Actor
    must_change_password: bool = False

    def __post_init__(self) -> None:
        # Until the owner of a new account sets their own password, the account acts with no
        # permissions: whoever knows the temporary password cannot read anything.
        self._roles = self.actor.roles
        if self.must_change_password:
            self.actor = replace(self.actor, roles=frozenset())
        self.store.key_watch = KeyWatch(self.keys, self.slots)
        kdf = _kdf_for_new_slots(self.store)
        self.clinic = ClinicService(self.store, self.slots)
        self.patients = PatientService(self.store)
        self.users = UserService(self.store, self.slots, self.keys, kdf)
        self.audit = AuditService(self.store)
        self.schedule = ScheduleSetup(self.store)
        self.backups = BackupService(self.store)
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
        self._jobs = JobRunner(self.store, CLINIC_JOBS)
        self._watch = ChangeWatch(self.store)
        self._sync = SyncRunner(self.store, self.payload_cipher)
        self.sync = SyncService(self.store, self.slots, self._sync, self._database_keys)
        self._kdf = kdf

    @property
    def _db_key(self) -> bytes:
        assert self.store.key is not None
        return self.store.key

    def unlock(self, password: str) -> None:
        """Check the password after an idle lock; counts towards the lockout like sign-in."""
        self.slots.reload()  # an admin elsewhere may have removed this account meanwhile
        self.keys.own_slot(self.slots)
        holder = _open_slot_checked(self.folder, self.slots, self.actor.username, password)
        if holder.slot_id != self.keys.slot_id:
            raise AccountInactive(ACCOUNT_REMOVED)
        self.keys.take(holder)  # the password may have been changed at another desk
        with self.store.write(self.actor) as s:
            audit.append(s, self.actor, "user.unlock", "users", self.actor.user_id)

    def change_password(self, old: str, new: str) -> None:
        """Gives this user's slot a new key pair under the new password (only this slot).

        Setting the first password of a pending account also changes the clinic's key: whoever
        knew the temporary password (its creator, whoever saw the note) may have taken the key
        it opened, and that key must open nothing any more.
        """
        problem = check.password(new, self.actor.username)
        if problem:
            raise ValidationError({"new_password": problem})
        if new == old:
            was = "temporary" if self.must_change_password else "current"
            raise ValidationError({"new_password": f"must differ from the {was} password"})
        self.slots.reload()
        self.slots.open_private(self.keys.own_slot(self.slots), old)  # raises WrongPassword
        first_password = False
        with self.store.write(self.actor) as s:
            user = s.get(User, self.actor.user_id)
            assert user is not None
            user.password_changed_at = utcnow()
            if user.status == PENDING:
                user.status, first_password = ACTIVE, True
            audit.append(s, self.actor, "user.password", "users", user.id)
            self.keys.set_secret(self.slots, new, self._kdf)
            slot_sync.record(s, self.folder)
        self.must_change_password = False
        self.actor = replace(self.actor, roles=self._roles)
        if first_password:
            rekey.change_key(self.store, self.slots, self.keys, self._kdf)
            with self.store.write(self.actor) as s:
                slot_sync.record(s, self.folder)

    def backup(self, dest: Path, *, make_folder: bool = False) -> backup.BackupInfo:
        """A new backup file at ``dest`` (or a dated one in the folder ``dest``, created private
        when ``make_folder``), never over an existing file, never inside the data folder."""
        self.actor.require(P.BACKUP)
        refuse_inside(dest, self.folder)
        if make_folder:
            private_dir(dest)
        with exclusive(self.slots.path):  # no key change between the pages and the key file
            # the pages under the key the file holds (a key change made at another desk)
            rekey.catch_up_store(self.store, KeySlotFile.load(self.folder), self.keys)
            self.store.key_watch.check(self.store)
            info = backup.create_backup(self.store, self._db_key, dest)
        with self.store.write(self.actor) as s:
            audit.append(s, self.actor, "data.backup", "clinic", None, file=info.path.name)
            record_backup(s, info, utcnow(), self.actor.display_name)
        self.audit.anchor(self.actor)
        return info

    def reencrypt_backup(self, src: Path) -> None:
        """Encrypt an older backup of this clinic again with the current key (its key is in
        the key file's history), so the passwords of its day, removed accounts' included, no
        longer open it; the backup then opens with today's passwords."""
        self.actor.require(P.BACKUP)
        manifest = backup.read_manifest(src)
        if manifest["clinic_id"] != self.slots.clinic_id:
            raise StoreError(f"{src.name} is a backup of another clinic; it was not changed.")
        with exclusive(self.slots.path):
            self.slots.reload()
            current = self.keys.database_key(self.slots)
            older = self.slots.old_keys(current)

            def old_key_of(staging: Path) -> bytes:
                made_with = KeySlotFile.load(staging, owner=f"The key file inside {src.name}")
                if made_with.generation == self.slots.generation:
                    raise Conflict(f"{src.name} is already encrypted with the clinic's key.")
                if made_with.generation not in older:
                    raise StoreError(
                        f"{src.name} was made with a key this clinic does not keep; it was not "
                        "changed."
                    )
                return older[made_with.generation]

            made = backup.reencrypt(src, old_key_of, current, self.slots.path)
        with self.store.write(self.actor) as s:
            audit.append(
                s, self.actor, "data.backup_reencrypt", "clinic", None, file=src.name, made=made
            )

    def payload_cipher(self) -> PayloadCipher:
        """What this desk seals and opens sync payloads with: every key generation it holds
        (and, when a key change made elsewhere arrives during a pull, the new one)."""
        return PayloadCipher(
            self.slots.clinic_id,
            self._database_keys(),
            self.slots.generation,
            learn=self._keys_now,
        )

    def _database_keys(self, slots: KeySlotFile | None = None) -> dict[int, bytes]:
        """The clinic's database key of every generation this desk holds (in ``slots``, by
        default the file as this session read it), by generation."""
        slots = slots or self.slots
        current = self.keys.database_key(slots)
        return {**slots.old_keys(current), slots.generation: current}

    def _keys_now(self) -> dict[int, bytes]:
        try:
            return self._database_keys(KeySlotFile.load(self.folder))
        except ClinicDeskError:  # this account is gone from the file: it holds no new key
            return {}

    def save_export(self, path: Path, data: bytes) -> Path:
        """A file staff chose to save (a PDF, a CSV, a calendar file): readable by this account
        only, and never one of the clinic's own files (nothing inside the data folder)."""
        return write_export(path, data, self.folder)

    def start_jobs(self) -> None:
        """Run the clinic's background jobs (as the system actor) until this session closes."""
        self._jobs.start()

    def watch_other_desks(self) -> None:
        """Tell the store's change feed what other desks commit on this database, until this
        session closes."""
        self._watch.start()

    def start_sync(self) -> None:
        """Keep this desk in step with its sync server, if it has one, until this session
        closes."""
        self._sync.start()

    def on_sync_status(self, listener: Callable[[SyncStatus], None]) -> Callable[[], None]:
        """Call ``listener`` (on a sync thread) whenever where sync stands changes; returns the
        call that stops it."""
        return self._sync.changed.subscribe(listener)

    def job_failures(self) -> list[JobFailure]:
        """The background jobs' recent failures, newest first, each in words."""
        return self._jobs.failures()

    def on_job_failure(self, listener: Callable[[JobFailure], None]) -> None:
        """Call ``listener`` (on the jobs' thread) with each failure as it happens."""
        self._jobs.on_failure(listener)

    def close(self) -> None:
        self._jobs.stop()
        self._watch.stop()
        self._sync.stop()
        self.audit.anchor(self.actor)
        self.store.close()


@dataclass(frozen=True)
class Restored:
    aside: Path | None  # where the data it replaced was kept, if there was any
    unlocked_with: str  # which key opened the backup, as the end of a sentence
    current_key_file_problem: str | None  # why the clinic's own key file could not be used
    recovery_key: str | None = None  # a new recovery key, when the old one could not be kept
    need_new_password: tuple[str, ...] = ()  # accounts whose slot could not be carried over


def restore(src: Path, folder: Path, username: str | None, secret: str) -> Restored:
    """Restore a backup into ``folder`` after checking it completely.

    ``secret`` is the password ``username`` had when the backup was made (an administrator's
    then), or the recovery key when ``username`` is None; either opens the backup's own key
    slots, so a clinic whose current key file is damaged or lost can still be restored. The
    restored database gets a new key before it is swapped in, and its key file is rebuilt with
    the accounts it holds that are not removed (their current slot where the clinic's key file
    is readable, so passwords changed since the backup keep working): old slots, such as a
    removed person's, do not come back. The restore is recorded in the restored audit log.
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
        old = KeySlotFile.load(staging, owner=f"The key file inside the backup {src.name}")
        if username is None:
            slot, secret, used = old.recovery_slot(), normalize_recovery_key(secret), None
        else:
            slot, used = old.user_slot(username), username
        if slot is None:
            raise WrongPassword()
        db_key, signing_kek = _slot_keys(old, slot, secret)
        backup.check_database(staging / DB_FILE, db_key)
        accounts, signers, head = _record_restore(staging, manifest, src.name, db_key, slot, used)
        new_key = new_database_key()
        rekey.rekey_database(staging / DB_FILE, db_key, new_key)
        rebuilt = _rebuilt_slots(
            staging, old, current, accounts, (db_key, new_key), (signing_kek, signers)
        )
        with exclusive(folder / SLOTS_FILE):
            aside = backup.swap_in(staging, folder)
        keep(LocalWitness(), manifest["clinic_id"], head)  # this workstation's new epoch
        unlocked_with = (
            "the recovery key"
            if used is None
            else f"the password {username} had when the backup was made"
        )
        return Restored(aside, unlocked_with, problem, *rebuilt)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _slot_keys(slots: KeySlotFile, slot: Slot, secret: str) -> tuple[bytes, bytes | None]:
    """The database key and signing-key key a slot of a backup's key file holds (WrongPassword
    if ``secret`` is not its secret)."""
    if slot.is_v1:
        return slots.unwrap_v1(slot, secret), None
    private = slots.open_private(slot, secret)
    return slots.database_key(slot, private), slots.signing_key(slot, private)


def _record_restore(
    staging: Path, manifest: dict, file: str, db_key: bytes, slot: Slot, username: str | None
) -> tuple[dict[str, str], set[str], audit.Anchor]:
    """Check the backup's audit chain (against its manifest's anchor) and who restores it,
    record the restore in it, and return the accounts it holds that are not removed (id -> user
    name), those of them who hold the signing-key key (active doctors and administrators), and
    the restored log's new head."""
    store = connect(staging, db_key, expect_clinic_id=manifest["clinic_id"])
    try:
        backup.check_audit(store, manifest, file)
        with store.read() as s:
            user = s.get(User, slot.user_id) if slot.user_id else None
            kept = list(s.scalars(select(User).where(User.status != REMOVED)))
            accounts = {u.id: u.username for u in kept}
            signers = {
                u.id for u in kept if u.status == ACTIVE and parse_roles(u.roles) & SIGNING_ROLES
            }
        actor = SYSTEM
        if username is not None:
            if user is None or user.status == REMOVED or not parse_roles(user.roles) & ADMIN_ROLES:
                raise RestoreNotAllowed(username)
            actor = Actor(user.id, user.username, user.display_name, parse_roles(user.roles))
        head = backup.mark_restored(
            store, manifest, file, actor, "recovery key" if username is None else username
        )
    finally:
        store.close()
    return accounts, signers, head


def _rebuilt_slots(
    staging: Path,
    old: KeySlotFile,
    current: KeySlotFile | None,
    accounts: dict[str, str],
    keys: tuple[bytes, bytes],
    signing: tuple[bytes | None, set[str]],
) -> tuple[str | None, tuple[str, ...]]:
    """Write the restored clinic's key file: the new key (``keys`` is old, new) sealed to the
    slot of each account in ``accounts`` (the current one first) and to the recovery key's, and
    the backup's signing-key key to its holders. Returns a new recovery key if one had to be
    made, and the accounts that will need a new password."""
    old_key, new_key = keys
    signing_kek, signers = signing
    generation = max(old.generation, current.generation if current else 0) + 1
    rebuilt = KeySlotFile(staging, old.clinic_id, [], old.clinic_name, generation)
    rebuilt.history = old.history_under(new_key, old_key)
    rebuilt.generation = generation
    sources = [f for f in (current, old) if f is not None]
    need_new_password = []
    for user_id, name in sorted(accounts.items(), key=lambda item: item[1]):
        slot = _carried(f.slot_for_user_id(user_id) for f in sources)
        if slot is None:
            need_new_password.append(name)
            continue
        rebuilt.put(slot)
    recovery_key = None
    recovery = _carried(f.recovery_slot() for f in sources)
    if recovery is None:
        recovery_key = new_recovery_key()
        recovery, _ = rebuilt.new_slot("recovery", recovery_key, old.slots[0].kdf)
    rebuilt.put(recovery)
    for slot in rebuilt.slots:
        holds = slot.kind == "recovery" or slot.user_id in signers
        rebuilt.seal_signing_key(slot, signing_kek if holds else None)
        rebuilt.seal_database_key(slot, new_key)
    rebuilt.write()
    return recovery_key, tuple(need_new_password)


def _carried(candidates) -> Slot | None:
    """The first slot that can be sealed to (format 2)."""
    return next((replace(s) for s in candidates if s is not None and not s.is_v1), None)


class RestoreNotAllowed(ClinicDeskError):
    def __init__(self, username: str) -> None:
        super().__init__(
            "Restoring a backup needs the password an administrator had when the backup was "
            f"made, or the recovery key; {username} was not an administrator then. Nothing was "
            "changed."
        )


def reset_password_with_recovery_key(
    folder: Path, recovery_key: str, username: str, new_password: str
) -> None:
    """For a forgotten password: the recovery key opens the clinic and gives one account a new
    key pair under the new password (also an account whose slot a key change dropped)."""
    slots = KeySlotFile.load(folder)
    recovery = slots.recovery_slot()
    if recovery is None:
        raise StoreError("This clinic has no recovery key.")
    holder = _open_recovery(slots, recovery, normalize_recovery_key(recovery_key))
    db_key = rekey.finish(slots, holder)
    store = open_store(folder, slots, db_key)
    try:
        with store.read() as s:
            user = s.scalar(
                select(User).where(
                    User.username_key == username.strip().casefold(), User.status != REMOVED
                )
            )
        if user is None:
            raise ValidationError({"username": "no active account has this user name"})
        problem = check.password(new_password, username)
        if problem:
            raise ValidationError({"new_password": problem})
        kdf = _kdf_for_new_slots(store)
        with store.write(SYSTEM) as s:
            row = s.get(User, user.id)
            assert row is not None
            row.password_changed_at = utcnow()
            audit.append(s, SYSTEM, "user.password_reset", "users", row.id, method="recovery key")
            signs = row.status == ACTIVE and bool(parse_roles(row.roles) & SIGNING_ROLES)
            _give_slot(slots, holder, (row.id, row.username, signs), new_password, kdf)
            slot_sync.record(s, folder)
    finally:
        store.close()
    SigninGuard(folder).record_success(username)


def _open_recovery(slots: KeySlotFile, recovery: Slot, secret: str) -> KeyHolder:
    if recovery.is_v1:
        return _upgrade(slots, recovery, secret, slots.unwrap_v1(recovery, secret))
    return KeyHolder(recovery.slot_id, slots.open_private(recovery, secret))


def _give_slot(
    slots: KeySlotFile,
    holder: KeyHolder,
    account: tuple[str, str, bool],
    secret: str,
    kdf: KdfParams,
) -> None:
    """A new key pair under ``secret`` for the account (id, user name, whether it holds the
    signing-key key), holding the current key."""
    user_id, username, signs = account

    def apply(f: KeySlotFile) -> None:
        key, signing = holder.database_key(f), holder.signing_key(f) if signs else None
        slot = f.slot_for_user_id(user_id)
        if slot is None:
            slot, _ = f.new_slot("user", secret, kdf, user_id=user_id, username=username)
        else:
            f.set_secret(slot, secret, kdf)
        f.seal_database_key(slot, key)
        f.seal_signing_key(slot, signing)
        f.put(slot)

    slots.change(apply)
