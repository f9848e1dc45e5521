"""The clinic's prescription signing keys, and the keys of other clinics this one trusts.

The clinic's key pair lives in the encrypted database, its private half encrypted again under
the clinic's signing-key key (AES-GCM, the key id as associated data), which only doctor and
administrator key slots (and the recovery key's) hold: a receptionist who opens the database with
her own key cannot read the private half. Rotating retires the current key (its public half stays
trusted for the prescriptions it signed) and makes a new one; revoking makes a key untrusted. A
trust file carries the public keys to pharmacies outside the clinic.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from clinicdesk.errors import ClinicDeskError, Conflict, NotFound, ValidationError
from clinicdesk.ids import utcnow
from clinicdesk.permissions import Actor, P, Role
from clinicdesk.rx import keys
from clinicdesk.rx.keys import ACTIVE, RETIRED, REVOKED, KeyPair, TrustedKey
from clinicdesk.services.booking import clinic_profile
from clinicdesk.store import audit, sealing
from clinicdesk.store.database import CLINIC_ID_KEY, Store
from clinicdesk.store.files import write_export
from clinicdesk.store.models import Meta, SigningKey
from clinicdesk.store.sealing import OpenFailed, unb64

TRUST_FORMAT = "clinicdesk-trust"
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

    @property
    def status_label(self) -> str:
        return keys.KEY_STATUS_LABELS[self.status]


class BadTrustFile(ClinicDeskError):
    def __init__(self, name: str, why: str) -> None:
        super().__init__(f"{name} is not a ClinicDesk trust file ({why}); nothing was imported.")


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
    row = s.scalar(select(SigningKey).where(SigningKey.own.is_(True), SigningKey.status == ACTIVE))
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
        old.status, old.changed_at = RETIRED, utcnow()
    return _add_own(s, clinic_profile(s).name, kek)


def trusted_keys(s: Session) -> dict[bytes, TrustedKey]:
    return {
        bytes.fromhex(r.kid): TrustedKey(
            bytes.fromhex(r.kid), r.public_key, r.clinic_name, r.status, r.clinic_id, r.own
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
    return KeyView(row.kid, row.clinic_name, row.status, row.own, row.created_at, row.changed_at)


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
            row.status, row.changed_at = REVOKED, utcnow()
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
                for r in rows
            ],
        }
        text = json.dumps(document, indent=2, ensure_ascii=False)
        write_export(dest, text.encode("utf-8"), self.store.folder)
        with self.store.write(actor) as s:
            audit.append(s, actor, "signing_key.export", "signing_keys", None, file=dest.name)
        return len(rows)

    def import_trust_file(self, actor: Actor, source: Path) -> list[KeyView]:
        """Trust another clinic's keys; a key revoked there is recorded as revoked here, and a
        revocation is never undone by an older file."""
        actor.require_any(P.CLINIC_CONFIGURE, P.DISPENSE)
        clinic, clinic_id, entries = _read_trust_file(source)
        with self.store.write(actor) as s:
            _check_issuer(s, source.name, clinic_id, [kid for kid, _, _ in entries])
            changed = []
            for kid, public, status in entries:
                row = s.get(SigningKey, kid)
                if row is not None and row.own:
                    continue
                if row is None:
                    row = SigningKey(
                        kid=kid,
                        public_key=public,
                        clinic_id=clinic_id or kid,
                        clinic_name=clinic,
                        status=status,
                        own=False,
                    )
                    s.add(row)
                elif row.status != REVOKED and row.status != status:
                    row.status, row.changed_at = status, utcnow()
                else:
                    continue
                changed.append(row)
            s.flush()
            audit.append(
                s,
                actor,
                "signing_key.import",
                "signing_keys",
                None,
                clinic=clinic,
                keys=len(changed),
            )
            return [_view(r) for r in changed]


def _check_issuer(s: Session, name: str, clinic_id: str, kids: list[str]) -> None:
    """A trust file speaks for the clinic it names by id only if that id is not this clinic's
    and, where keys of that clinic are trusted already, it carries one of them: another clinic
    cannot take over this clinic's prescriptions, or a third clinic's, by claiming its id."""
    if not clinic_id:
        return
    if clinic_id == own_clinic_id(s):
        raise BadTrustFile(name, "it claims to be this clinic's own")
    known = set(s.scalars(select(SigningKey.kid).where(SigningKey.clinic_id == clinic_id)))
    if known and not known & set(kids):
        raise BadTrustFile(name, "it names a clinic trusted here but none of its keys")


def _read_trust_file(source: Path) -> tuple[str, str, list[tuple[str, bytes, str]]]:
    try:
        document = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise BadTrustFile(source.name, "it cannot be read as one") from None
    if not isinstance(document, dict) or document.get("format") != TRUST_FORMAT:
        raise BadTrustFile(source.name, "its format is not named")
    clinic = document.get("clinic_name")
    if not isinstance(clinic, str) or not clinic.strip():
        raise BadTrustFile(source.name, "it names no clinic")
    clinic_id = document.get("clinic_id", "")  # files from before clinic ids name none
    if not isinstance(clinic_id, str) or len(clinic_id) > 36:
        raise BadTrustFile(source.name, "its clinic id is malformed")
    listed = document.get("keys")
    if not isinstance(listed, list):
        raise BadTrustFile(source.name, "it holds no list of keys")
    entries = []
    for item in listed:
        try:
            public = base64.b64decode(item["public_key"], validate=True)
            keys.public_key(public)
            kid, status = item["kid"], item["status"]
        except Exception:
            raise BadTrustFile(source.name, "a key in it is malformed") from None
        if kid != keys.key_id(public).hex() or status not in (ACTIVE, RETIRED, REVOKED):
            raise BadTrustFile(source.name, "a key's id or status does not match it")
        entries.append((kid, public, status))
    if not entries:
        raise BadTrustFile(source.name, "it holds no keys")
    return clinic.strip(), clinic_id.strip(), entries
