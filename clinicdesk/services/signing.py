"""The clinic's prescription signing keys, and the keys of other clinics this one trusts.

The clinic's key pair lives in the encrypted database, its private half encrypted again under
the clinic's signing-key key (AES-GCM, the key id as associated data), which only doctor and
administrator key slots (and the recovery key's) hold: a receptionist who opens the database with
her own key cannot read the private half. Rotating retires the current key and makes a new one;
revoking makes a key untrusted. Either clears the old key's private half, so no copy of the
database taken later can sign with it. A retired key's public half stays trusted for the longest
validity a prescription can have after its retirement (rx.keys.trusted_until).

A trust file carries the public keys to pharmacies outside the clinic. Importing one is two
steps: read_trust_file shows the clinic and each key's fingerprint, which the admin confirms
against the fingerprints the issuing clinic reads out; import_trust_file then adds exactly what
was shown. A file speaks only for its own clinic: it adds, retires or revokes that clinic's keys
and no other, never this clinic's, and its clinic's name may not be taken for this clinic's or
another trusted clinic's. A code is this clinic's own only when its key is one of this clinic's
own keys (SigningKey.own, which an import never sets).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from clinicdesk.errors import ClinicDeskError, Conflict, NotFound, ValidationError
from clinicdesk.ids import utcnow
from clinicdesk.permissions import Actor, P, Role
from clinicdesk.rx import keys
from clinicdesk.rx.keys import ACTIVE, RETIRED, REVOKED, KeyPair, TrustedKey
from clinicdesk.services.clinic import clinic_day, clinic_profile
from clinicdesk.store import audit, sealing
from clinicdesk.store.database import CLINIC_ID_KEY, Store
from clinicdesk.store.files import write_export
from clinicdesk.store.models import Meta, SigningKey
from clinicdesk.store.sealing import OpenFailed, unb64
from clinicdesk.text import fold

TRUST_FORMAT = "clinicdesk-trust"
_STAGE = {ACTIVE: 0, RETIRED: 1, REVOKED: 2}  # a key only moves forward: in use, retired, revoked
SIGNING_ROLES = frozenset({Role.SUPER_ADMIN, Role.ADMIN, Role.DOCTOR})
PLAIN_SIZE = 32  # an Ed25519 seed as versions before the signing-key key stored it


@dataclass(frozen=True)
class KeyView:
    kid: str
    clinic_name: str
    status: str
    own: bool
    created_at: datetime
    changed_at: datetime | None
    fingerprint: str
    retired_on: date | None

    @property
    def status_label(self) -> str:
        until = self.trusted_until
        if until is not None:
            return f"Retired, trusted until {until:%d %b %Y}"
        return keys.KEY_STATUS_LABELS[self.status]

    @property
    def trusted_until(self) -> date | None:
        """A retired key's last day of trust; None for a key in use or revoked."""
        if self.status != RETIRED or self.retired_on is None:
            return None
        return keys.trusted_until(self.retired_on)


@dataclass(frozen=True)
class TrustFileKey:
    kid: str
    public_key: bytes
    status: str
    retired_on: date | None  # the issuing clinic's date, for a retired key

    @property
    def fingerprint(self) -> str:
        return keys.fingerprint(self.public_key)

    @property
    def status_label(self) -> str:
        if self.retired_on is not None:
            return f"Retired on {self.retired_on:%d %b %Y}"
        return keys.KEY_STATUS_LABELS[self.status]


@dataclass(frozen=True)
class TrustFile:
    """A trust file as read: what the admin confirms before import_trust_file adds it."""

    file_name: str
    clinic_name: str
    clinic_id: str
    keys: tuple[TrustFileKey, ...]
    known_clinic: bool = False  # keys of this clinic are trusted here already


class BadTrustFile(ClinicDeskError):
    def __init__(self, name: str, why: str) -> None:
        super().__init__(f"{name} is not a ClinicDesk trust file ({why}); nothing was imported.")


class TrustFileRefused(ClinicDeskError):
    """A well-formed trust file that would let one clinic pass for another here."""

    def __init__(self, name: str, why: str) -> None:
        super().__init__(f"{name} was not imported: {why}. Nothing was changed.")


def signing_kek(store: Store) -> bytes | None:
    """The signing-key key of the session that opened ``store``, if its slot holds it."""
    return store.key_watch.signing_key() if store.key_watch is not None else None


def ensure_clinic_key(s: Session, kek: bytes | None = None) -> None:
    """Every clinic has an active signing key from the start."""
    if s.scalar(
        select(SigningKey.kid).where(SigningKey.own.is_(True), SigningKey.status == ACTIVE)
    ):
        return
    _add_own(s, clinic_profile(s).name, kek)


def active_key(s: Session, kek: bytes | None = None) -> KeyPair:
    """The key this clinic signs with. Two desks that each made one before they first synced
    both keep theirs in use (both stay trusted); every desk signs with the older of them."""
    row = s.scalar(
        select(SigningKey)
        .where(SigningKey.own.is_(True), SigningKey.status == ACTIVE)
        .order_by(SigningKey.created_at, SigningKey.kid)
        .limit(1)
    )
    if row is None or row.private_key is None:
        raise Conflict("This clinic has no signing key in use; an administrator creates one.")
    return KeyPair(bytes.fromhex(row.kid), _private_half(row, kek), row.public_key)


def _private_half(row: SigningKey, kek: bytes | None) -> bytes:
    assert row.private_key is not None
    if len(row.private_key) == PLAIN_SIZE:
        return row.private_key
    if kek is None:
        raise Conflict(
            "This account does not hold the clinic's signing key yet; it is passed on when an "
            "administrator opens Admin \u2192 Users or a doctor or administrator signs in."
        )
    try:
        return sealing.unbox(kek, base64.b64encode(row.private_key).decode(), row.kid.encode())
    except OpenFailed:
        raise Conflict(
            "The clinic's signing key was changed a moment ago; please sign out and in again."
        ) from None


def _stored_private(kid: str, private: bytes, kek: bytes | None) -> bytes:
    if kek is None:
        return private
    return unb64(sealing.box(kek, private, kid.encode()))


def has_plain_private_keys(s: Session) -> bool:
    return any(
        r.private_key is not None and len(r.private_key) == PLAIN_SIZE
        for r in s.scalars(select(SigningKey).where(SigningKey.own.is_(True)))
    )


def protect_private_keys(s: Session, old: bytes | None, new: bytes) -> None:
    """Store every private half of this clinic's keys under ``new`` (plain ones, and those
    under ``old``)."""
    for row in s.scalars(select(SigningKey).where(SigningKey.own.is_(True))):
        if row.private_key is not None:
            row.private_key = _stored_private(row.kid, _private_half(row, old), new)


def rotate_own_key(s: Session, kek: bytes | None) -> SigningKey:
    """Retire the key in use and make a new one."""
    for old in s.scalars(
        select(SigningKey).where(SigningKey.own.is_(True), SigningKey.status == ACTIVE)
    ):
        _out_of_use(old, RETIRED, s)
    return _add_own(s, clinic_profile(s).name, kek)


def trusted_keys(s: Session) -> dict[bytes, TrustedKey]:
    return {
        bytes.fromhex(r.kid): TrustedKey(
            bytes.fromhex(r.kid),
            r.public_key,
            r.clinic_name,
            r.status,
            r.clinic_id,
            r.own,
            r.retired_on,
        )
        for r in s.scalars(select(SigningKey))
    }


def own_clinic_id(s: Session) -> str:
    return s.scalar(select(Meta.value).where(Meta.key == CLINIC_ID_KEY)) or ""


def _add_own(s: Session, clinic_name: str, kek: bytes | None) -> SigningKey:
    pair = keys.new_key_pair()
    row = SigningKey(
        kid=pair.kid.hex(),
        public_key=pair.public,
        private_key=_stored_private(pair.kid.hex(), pair.private, kek),
        clinic_id=own_clinic_id(s),
        clinic_name=clinic_name,
        status=ACTIVE,
        own=True,
    )
    s.add(row)
    s.flush()
    return row


def _view(row: SigningKey) -> KeyView:
    return KeyView(
        row.kid,
        row.clinic_name,
        row.status,
        row.own,
        row.created_at,
        row.changed_at,
        keys.fingerprint(row.public_key),
        row.retired_on,
    )


def _out_of_use(row: SigningKey, status: str, s: Session) -> None:
    """Retire or revoke: the private half goes, whatever form it is kept in."""
    now = utcnow()
    row.status, row.changed_at, row.private_key = status, now, None
    if status == RETIRED:
        row.retired_on = clinic_day(s, now)


class SigningKeys:
    def __init__(self, store: Store) -> None:
        self.store = store

    def list(self, actor: Actor) -> list[KeyView]:
        actor.require_any(P.CLINIC_CONFIGURE, P.DISPENSE)
        with self.store.read() as s:
            rows = s.scalars(
                select(SigningKey).order_by(SigningKey.own.desc(), SigningKey.created_at.desc())
            )
            return [_view(r) for r in rows]

    def rotate(self, actor: Actor) -> KeyView:
        actor.require(P.CLINIC_CONFIGURE)
        with self.store.write(actor) as s:
            row = rotate_own_key(s, signing_kek(self.store))
            audit.append(s, actor, "signing_key.rotate", "signing_keys", None, kid=row.kid)
            return _view(row)

    def revoke(self, actor: Actor, kid: str, reason: str) -> KeyView:
        """Prescriptions signed with a revoked key are refused everywhere the news reaches."""
        actor.require(P.CLINIC_CONFIGURE)
        if not reason.strip():
            raise ValidationError({"reason": "say why the key is revoked"})
        with self.store.write(actor) as s:
            row = s.get(SigningKey, kid)
            if row is None:
                raise NotFound("That key is not known here.")
            if row.status == REVOKED:
                raise Conflict("That key is already revoked.")
            was_active = row.own and row.status == ACTIVE
            _out_of_use(row, REVOKED, s)
            if was_active:  # the clinic goes on prescribing with a new key
                _add_own(s, clinic_profile(s).name, signing_kek(self.store))
            audit.append(
                s, actor, "signing_key.revoke", "signing_keys", None, kid=kid, reason=reason.strip()
            )
            return _view(row)

    def export_trust_file(self, actor: Actor, dest: Path) -> int:
        """The clinic's public keys (in use, retired and revoked) for outside pharmacies."""
        actor.require(P.CLINIC_CONFIGURE)
        with self.store.read() as s:
            name, clinic_id = clinic_profile(s).name, own_clinic_id(s)
            rows = list(s.scalars(select(SigningKey).where(SigningKey.own.is_(True))))
        document = {
            "format": TRUST_FORMAT,
            "version": 1,
            "clinic_id": clinic_id,
            "clinic_name": name,
            "exported_at": utcnow().isoformat(),
            "keys": [
                {
                    "kid": r.kid,
                    "public_key": base64.b64encode(r.public_key).decode(),
                    "status": r.status,
                }
                | ({"retired_on": r.retired_on.isoformat()} if r.retired_on else {})
                for r in rows
            ],
        }
        text = json.dumps(document, indent=2, ensure_ascii=False)
        write_export(dest, text.encode("utf-8"), self.store.folder)
        with self.store.write(actor) as s:
            audit.append(s, actor, "signing_key.export", "signing_keys", None, file=dest.name)
        return len(rows)

    def read_trust_file(self, actor: Actor, source: Path) -> TrustFile:
        """The file's clinic and keys, to show with their fingerprints before importing; a
        file that could not be imported is refused now, in words."""
        actor.require(P.CLINIC_CONFIGURE)
        trust = _read_trust_file(source)
        with self.store.read() as s:
            _check_issuer(s, trust)
            known = s.scalar(select(SigningKey.kid).where(SigningKey.clinic_id == trust.clinic_id))
        return replace(trust, known_clinic=known is not None)

    def import_trust_file(self, actor: Actor, trust: TrustFile) -> list[KeyView]:
        """Trust the clinic's keys as read and confirmed. A key is added, or moves on from in
        use to retired to revoked, never back: an older file undoes nothing."""
        actor.require(P.CLINIC_CONFIGURE)
        if not all(_matches(k.kid, k.public_key, k.status) for k in trust.keys):
            raise BadTrustFile(trust.file_name, "a key's id or status does not match it")
        with self.store.write(actor) as s:
            _check_issuer(s, trust)
            today = clinic_day(s, utcnow())
            changed = []
            for key in trust.keys:
                row = s.get(SigningKey, key.kid)
                if row is None:
                    row = SigningKey(
                        kid=key.kid,
                        public_key=key.public_key,
                        clinic_id=trust.clinic_id,
                        clinic_name=trust.clinic_name,
                        status=ACTIVE,
                        own=False,
                    )
                    s.add(row)
                elif _STAGE[key.status] <= _STAGE[row.status]:
                    continue
                row.status, row.changed_at = key.status, utcnow()
                if key.status == RETIRED:  # a file from before retirement dates: from today
                    row.retired_on = key.retired_on or today
                changed.append(row)
            s.flush()
            audit.append(
                s,
                actor,
                "signing_key.import",
                "signing_keys",
                None,
                clinic=trust.clinic_name,
                clinic_id=trust.clinic_id,
                keys=[r.kid for r in changed],
            )
            return [_view(r) for r in changed]


def _same_name(a: str, b: str) -> bool:
    """Names a pharmacist could take for one another: case, spaces, accents and look-alike
    letters of other scripts aside ('St Mary's' and 'ST  MARYS', a Cyrillic 'а' for an 'a')."""

    def key(name: str) -> str:
        return fold(name).replace(" ", "") or name.casefold()

    return key(a) == key(b)


def _check_issuer(s: Session, trust: TrustFile) -> None:
    """A trust file speaks for its own clinic only: not this clinic (by id or by name), not a
    clinic of a name trusted here already, and with no key of another clinic or of this one.
    Where keys of its clinic are trusted already it must carry one of them, so another clinic
    cannot take over a trusted clinic by claiming its id."""
    name = trust.file_name
    if trust.clinic_id == own_clinic_id(s):
        raise TrustFileRefused(name, "it claims to be this clinic's own")
    own_name = clinic_profile(s).name
    if _same_name(trust.clinic_name, own_name):
        raise TrustFileRefused(
            name, f"it names its clinic {trust.clinic_name!r}, which is this clinic's own name"
        )
    for other in s.scalars(
        select(SigningKey.clinic_name)
        .where(SigningKey.own.is_(False), SigningKey.clinic_id != trust.clinic_id)
        .distinct()
    ):
        if _same_name(trust.clinic_name, other):
            raise TrustFileRefused(
                name,
                f"it names its clinic {trust.clinic_name!r}, and another clinic trusted here "
                f"is named {other!r}; two clinics of one name could be taken for each other",
            )
    kids = [k.kid for k in trust.keys]
    for row in s.scalars(select(SigningKey).where(SigningKey.kid.in_(kids))):
        if row.own:
            raise TrustFileRefused(
                name, f"it lists this clinic's own key {keys.fingerprint(row.public_key)}"
            )
        if row.clinic_id != trust.clinic_id:
            raise TrustFileRefused(
                name,
                f"it lists key {keys.fingerprint(row.public_key)}, which belongs to "
                f"{row.clinic_name}, another clinic trusted here",
            )
    known = set(s.scalars(select(SigningKey.kid).where(SigningKey.clinic_id == trust.clinic_id)))
    if known and not known & set(kids):
        raise TrustFileRefused(name, "it names a clinic trusted here but none of its keys")


def _read_trust_file(source: Path) -> TrustFile:
    try:
        document = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise BadTrustFile(source.name, "it cannot be read as one") from None
    if not isinstance(document, dict) or document.get("format") != TRUST_FORMAT:
        raise BadTrustFile(source.name, "its format is not named")
    clinic = document.get("clinic_name")
    if not isinstance(clinic, str) or not clinic.strip():
        raise BadTrustFile(source.name, "it names no clinic")
    listed = document.get("keys")
    if not isinstance(listed, list):
        raise BadTrustFile(source.name, "it holds no list of keys")
    entries = tuple(_key_entry(source.name, item) for item in listed)
    if not entries:
        raise BadTrustFile(source.name, "it holds no keys")
    clinic_id = document.get("clinic_id")
    if not isinstance(clinic_id, str) or not clinic_id.strip() or len(clinic_id) > 36:
        raise BadTrustFile(
            source.name, "it names no clinic id; ask the clinic for a trust file made now"
        )
    return TrustFile(source.name, clinic.strip(), clinic_id.strip(), entries)


def _matches(kid: object, public: bytes, status: object) -> bool:
    return kid == keys.key_id(public).hex() and status in _STAGE


def _key_entry(file_name: str, item: object) -> TrustFileKey:
    if not isinstance(item, dict):
        raise BadTrustFile(file_name, "a key in it is malformed")
    try:
        public = base64.b64decode(item["public_key"], validate=True)
        keys.public_key(public)
        kid, status = item["kid"], item["status"]
        retired = item.get("retired_on")
        retired_on = date.fromisoformat(retired) if retired is not None else None
    except Exception:
        raise BadTrustFile(file_name, "a key in it is malformed") from None
    if not _matches(kid, public, status):
        raise BadTrustFile(file_name, "a key's id or status does not match it")
    if retired_on is not None and retired_on > utcnow().date() + timedelta(days=1):
        raise BadTrustFile(file_name, "a key's retirement date is still to come")
    return TrustFileKey(kid, public, status, retired_on if status == RETIRED else None)
