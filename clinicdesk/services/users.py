"""Staff accounts: create, roles, deactivate, reinstate. Each account has its own key slot.

Removing an account changes the clinic's database key (``store/rekey.py``): the removed person's
old copy of the key file, and any key they took, open nothing of the live database again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select

from clinicdesk.errors import Conflict, NotAllowed, NotFound, ValidationError
from clinicdesk.permissions import Actor, P, Role
from clinicdesk.services import doctor_profiles, signing_access
from clinicdesk.services import validation as check
from clinicdesk.services.doctor_profiles import DoctorDetails
from clinicdesk.services.signing import SIGNING_ROLES
from clinicdesk.store import audit, slot_sync
from clinicdesk.store.database import Store
from clinicdesk.store.keyholder import KeyHolder
from clinicdesk.store.keyslots import KdfParams, KeySlotFile
from clinicdesk.store.models import User
from clinicdesk.store.rekey import KeyChange, Progress, change_key, not_carried_over

ACTIVE, PENDING, REMOVED = "active", "pending", "removed"
STATUS_LABELS = {ACTIVE: "Active", PENDING: "Pending first sign-in", REMOVED: "Removed"}
ADMIN_ROLES = {Role.SUPER_ADMIN, Role.ADMIN}
OWN_ROLES = (
    "You cannot change your own roles; another administrator must do it "
    "(another super admin, for a super admin)."
)
SUPER_ADMINS_ONLY = "Only a super admin may change, remove or reinstate a super admin's account."
OWN_PASSWORD = (
    "You cannot reset your own password this way; change it under ClinicDesk → Change "
    "password, or ask another administrator to reset it."
)


@dataclass(frozen=True)
class UserInfo:
    id: str
    username: str
    display_name: str
    roles: frozenset[Role]
    status: str
    last_login_at: datetime | None
    needs_new_password: bool = False  # its key slot could not be carried over a key change

    @property
    def actor(self) -> Actor:
        return Actor(self.id, self.username, self.display_name, self.roles)


@dataclass(frozen=True)
class Removed(UserInfo):
    """A removed account, with the key change that shut it out."""

    key_change: KeyChange | None = None


def parse_roles(text: str) -> frozenset[Role]:
    return frozenset(Role(r) for r in text.split(",") if r)


def to_info(row: User) -> UserInfo:
    return UserInfo(
        row.id,
        row.username,
        row.display_name,
        parse_roles(row.roles),
        row.status,
        row.last_login_at,
    )


def account_problems(
    username: str, display_name: str, roles: set[Role], password: str | None
) -> dict[str, str]:
    problems = {
        "username": (
            check.required(username, 64)
            or (
                None
                if username.replace(".", "").replace("-", "").replace("_", "").isalnum()
                else "may contain only letters, digits, '.', '-' and '_'"
            )
        ),
        "display_name": check.required(display_name, 200),
        "roles": None if roles else "choose at least one role",
        "password": check.password(password, username) if password is not None else None,
    }
    return {k: v for k, v in problems.items() if v}


def validate_account(
    username: str, display_name: str, roles: set[Role], password: str | None
) -> None:
    if problems := account_problems(username, display_name, roles, password):
        raise ValidationError(problems)


class UserService:
    def __init__(self, store: Store, slots: KeySlotFile, keys: KeyHolder, kdf: KdfParams) -> None:
        self.store = store
        self.slots = slots
        self.keys = keys
        self.kdf = kdf

    def list(self, actor: Actor) -> list[UserInfo]:
        actor.require(P.USERS_MANAGE)
        with self.store.read() as s:
            rows = [to_info(u) for u in s.scalars(select(User).order_by(User.display_name))]
        self._pass_signing_key(actor, rows)
        return [
            replace(u, needs_new_password=self.slots.slot_for_user_id(u.id) is None)
            if u.status != REMOVED
            else u
            for u in rows
        ]

    def _pass_signing_key(self, actor: Actor, rows: list[UserInfo]) -> None:
        """Give the signing-key key to active doctors and administrators who lack it (accounts
        that have set their own password since they were created or reinstated)."""
        self.slots.reload()
        lacking = [
            u
            for u in rows
            if u.status == ACTIVE
            and u.roles & SIGNING_ROLES
            and (slot := self.slots.slot_for_user_id(u.id)) is not None
            and not slot.is_v1
            and not slot.sealed_signing
        ]
        if lacking and self.keys.signing_key(self.slots) is not None:
            with self.store.write(actor) as s:
                signing_access.share(s, self.slots, self.keys)
                slot_sync.record(s, self.slots.folder)

    def create(
        self,
        actor: Actor,
        username: str,
        display_name: str,
        roles: set[Role],
        temporary_password: str,
        *,
        must_change_password: bool = True,
        doctor: DoctorDetails | None = None,
    ) -> UserInfo:
        """A new account is pending until its owner signs in and sets a password of their own.

        ``must_change_password=False`` makes it active at once (the owner chose the password).
        ``doctor`` is the doctor's profile, made in the same change as the account.
        """
        actor.require(P.USERS_MANAGE)
        username, display_name = username.strip(), display_name.strip()
        if doctor is not None:
            actor.require(P.SCHEDULE_CONFIGURE)
            if Role.DOCTOR not in roles:
                raise ValidationError({"roles": "must include Doctor for a doctor's profile"})
        problems = account_problems(username, display_name, roles, temporary_password)
        if doctor is not None:  # every reason at once, the profile's too
            problems |= doctor_profiles.problems(doctor)
        if problems:
            raise ValidationError(problems)
        self._check_may_grant(actor, roles)
        with self.store.write(actor) as s:
            if s.scalar(select(User).where(User.username_key == username.casefold())):
                raise Conflict(f"The user name {username!r} is already taken.")
            row = User(
                username=username,
                username_key=username.casefold(),
                display_name=display_name,
                roles=",".join(sorted(roles)),
                status=PENDING if must_change_password else ACTIVE,
            )
            s.add(row)
            s.flush()
            audit.append(
                s, actor, "user.create", "users", row.id, username=username, roles=sorted(roles)
            )
            if doctor is not None:  # before the key slot, so a refusal leaves no slot behind
                doctor_profiles.add_profile(s, actor, row.id, doctor)
            self._add_slot(row.id, username, temporary_password)
            if row.status == ACTIVE and roles & SIGNING_ROLES:
                signing_access.share(s, self.slots, self.keys)
            slot_sync.record(s, self.slots.folder)
            return to_info(row)

    def set_roles(self, actor: Actor, user_id: str, roles: set[Role]) -> UserInfo:
        actor.require(P.USERS_MANAGE)
        if user_id == actor.user_id:
            raise NotAllowed(OWN_ROLES)
        if not roles:
            raise ValidationError({"roles": "choose at least one role"})
        with self.store.write(actor) as s:
            row = _get(s, user_id)
            held = parse_roles(row.roles)
            _check_may_change(actor, held)
            self._check_may_grant(actor, roles - held)
            _ensure_administrators_remain(s, user_id, held, roles)
            had = held & SIGNING_ROLES
            row.roles = ",".join(sorted(roles))
            audit.append(s, actor, "user.roles", "users", user_id, roles=sorted(roles))
            s.flush()
            slot = self.slots.slot_for_user_id(user_id)
            if had and not roles & SIGNING_ROLES and slot is not None and slot.sealed_signing:
                signing_access.renew(s, self.slots, self.keys, exclude=slot.slot_id)
            elif roles & SIGNING_ROLES and row.status == ACTIVE:
                signing_access.share(s, self.slots, self.keys)
            slot_sync.record(s, self.slots.folder)
            return to_info(row)

    def deactivate(self, actor: Actor, user_id: str, progress: Progress | None = None) -> Removed:
        """Remove an account: its key slot is deleted and the clinic's key changed, so nothing it
        held (a copied key file, a key it took) opens the live database again."""
        actor.require(P.USERS_MANAGE)
        if user_id == actor.user_id:
            raise Conflict("You cannot remove your own account while signed in with it.")
        with self.store.write(actor) as s:
            row = _get(s, user_id)
            _check_may_change(actor, parse_roles(row.roles))
            _ensure_administrators_remain(s, user_id, parse_roles(row.roles), set())
            row.status = REMOVED
            audit.append(s, actor, "user.remove", "users", user_id)
            info = to_info(row)
        slot = self.slots.slot_for_user_id(user_id)
        held_signing_key = slot is not None and bool(slot.sealed_signing)
        change = self._change_key(progress)
        with self.store.write(actor) as s:
            if held_signing_key:  # what they could take must sign nothing new
                signing_access.renew(s, self.slots, self.keys)
                audit.append(s, actor, "signing_key.rotate", "signing_keys", None, reason="removal")
            slot_sync.record(s, self.slots.folder)
        return Removed(**info.__dict__, key_change=change)

    def key_change_preview(self, actor: Actor) -> tuple[str, ...]:
        """The user names a change of the clinic's key cannot carry over (they have not signed
        in since ClinicDesk was updated and will need a new password), to say so first."""
        actor.require(P.USERS_MANAGE)
        self.slots.reload()
        return not_carried_over(self.slots)

    def change_clinic_key(self, actor: Actor, progress: Progress | None = None) -> KeyChange:
        """A new database key for the clinic; everyone keeps their password, old backups open
        with the passwords of their time."""
        actor.require(P.USERS_MANAGE)
        change = self._change_key(progress)
        with self.store.write(actor) as s:
            audit.append(
                s, actor, "clinic.key_change", "clinic", None, generation=change.generation
            )
            slot_sync.record(s, self.slots.folder)
        return change

    def _change_key(self, progress: Progress | None) -> KeyChange:
        """Change the key, dropping the slots of every removed account (one removal that was
        cut short is completed by the next)."""
        with self.store.read() as s:
            removed = list(s.scalars(select(User.id).where(User.status == REMOVED)))
        return change_key(
            self.store, self.slots, self.keys, self.kdf, remove_user_ids=removed, progress=progress
        )

    def _add_slot(self, user_id: str, username: str, secret: str) -> None:
        def apply(f: KeySlotFile) -> None:
            key = self.keys.database_key(f)
            carried = f.pending is not None and self.keys.slot_id in f.pending.sealed
            slot, _ = f.new_slot("user", secret, self.kdf, user_id=user_id, username=username)
            f.seal_database_key(slot, key)
            if carried:
                f.seal_pending_key(slot, self.keys.database_key(f, pending=True))
            f.put(slot)

        self.slots.change(apply)

    def reinstate(self, actor: Actor, user_id: str, temporary_password: str) -> UserInfo:
        """Only a removed account comes back, pending until its owner chooses a password."""
        actor.require(P.USERS_MANAGE)
        with self.store.write(actor) as s:
            row = _get(s, user_id)
            _check_may_change(actor, parse_roles(row.roles))
            if row.status != REMOVED:
                raise Conflict(
                    f"Only a removed account can be reinstated; {row.display_name}'s account is "
                    f"{STATUS_LABELS[row.status].lower()}."
                )
            validate_account(
                row.username, row.display_name, parse_roles(row.roles), temporary_password
            )
            row.status = PENDING
            audit.append(s, actor, "user.reinstate", "users", user_id)
            self._add_slot(row.id, row.username, temporary_password)
            slot_sync.record(s, self.slots.folder)
            return to_info(row)

    def reset_password(self, actor: Actor, user_id: str, temporary_password: str) -> UserInfo:
        """A temporary password for someone who forgot theirs, sealed with the key this admin's
        session holds. The account is pending again, as a new one is: it can do nothing and
        holds no signing key until its owner chooses a password at their next sign-in, which
        also changes the clinic's key (whoever saw the temporary password may have taken the
        key it opened). A desk signed in with the old password is signed out."""
        actor.require(P.USERS_MANAGE)
        if user_id == actor.user_id:
            raise NotAllowed(OWN_PASSWORD)
        with self.store.write(actor) as s:
            row = _get(s, user_id)
            _check_may_change(actor, parse_roles(row.roles))
            if row.status == REMOVED:
                raise Conflict(
                    f"{row.display_name}'s account is removed; reinstate it instead, with a "
                    "temporary password."
                )
            if problem := check.password(temporary_password, row.username):
                raise ValidationError({"password": problem})
            row.status = PENDING
            audit.append(s, actor, "user.password_reset", "users", user_id, method="admin")
            self._add_slot(row.id, row.username, temporary_password)
            slot_sync.record(s, self.slots.folder)
            return to_info(row)

    def _check_may_grant(self, actor: Actor, roles: set[Role]) -> None:
        """``roles`` are the ones newly given; a clinical role never goes to oneself, as nobody
        changes their own roles (``set_roles``)."""
        if roles - grantable_roles(actor):
            raise ValidationError(
                {"roles": "only a super admin may grant the Admin or Super admin role"}
            )


def grantable_roles(actor: Actor) -> frozenset[Role]:
    """The roles ``actor`` may give to someone else: the admin roles only by a super admin."""
    if not actor.can(P.USERS_MANAGE):
        return frozenset()
    return frozenset(Role) if Role.SUPER_ADMIN in actor.roles else frozenset(Role) - ADMIN_ROLES


def change_refusal(actor: Actor, user: UserInfo) -> str | None:
    """Why ``actor`` may not change ``user``'s roles at all, or None (the roles dialog says it
    before anything is typed; the service says the same)."""
    if user.id == actor.user_id:
        return OWN_ROLES
    if Role.SUPER_ADMIN in user.roles and Role.SUPER_ADMIN not in actor.roles:
        return SUPER_ADMINS_ONLY
    return None


def reset_refusal(actor: Actor, user: UserInfo) -> str | None:
    """Why ``actor`` may not reset ``user``'s password, or None (as reset_password says)."""
    if user.id == actor.user_id:
        return OWN_PASSWORD
    return change_refusal(actor, user)


def _check_may_change(actor: Actor, held: frozenset[Role]) -> None:
    if Role.SUPER_ADMIN in held and Role.SUPER_ADMIN not in actor.roles:
        raise NotAllowed(SUPER_ADMINS_ONLY)


def _get(s, user_id: str) -> User:
    row = s.get(User, user_id)
    if row is None:
        raise NotFound("That user account does not exist.")
    return row


def _ensure_administrators_remain(
    s, user_id: str, held: frozenset[Role], kept: set[Role] | frozenset[Role]
) -> None:
    """The clinic keeps at least one super admin and one administrator besides ``user_id``
    when ``user_id`` goes from ``held`` roles to ``kept`` (none, for a removal)."""
    for needed, who in (({Role.SUPER_ADMIN}, "a super admin"), (ADMIN_ROLES, "an administrator")):
        if held & needed and not kept & needed and not _others_with(s, user_id, needed):
            last = who.split(" ", 1)[1]
            raise Conflict(f"This is the clinic's last {last}; make someone else {who} first.")


def _others_with(s, user_id: str, roles: set[Role]) -> bool:
    """Whether an account other than ``user_id``, not removed, holds one of ``roles``."""
    return any(
        parse_roles(u.roles) & roles
        for u in s.scalars(select(User).where(User.status != REMOVED, User.id != user_id))
    )
