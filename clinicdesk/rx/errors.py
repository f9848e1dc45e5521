"""Why a scanned or typed prescription code was refused, each in words for the pharmacist."""

from __future__ import annotations

from datetime import date, datetime

from clinicdesk.errors import ClinicDeskError


class CodeRefused(ClinicDeskError):
    """Base: the code is not a prescription that may be dispensed."""

    prescription_id: str | None = None  # set once the signature has checked out
    issuer: str | None = None  # the signing clinic's id, set with the prescription id


class NotAPrescriptionCode(CodeRefused):
    def __init__(self) -> None:
        super().__init__(
            "This code is not a ClinicDesk prescription. Scan the square code on the "
            "prescription, or type its reference number."
        )


class CodeDamaged(CodeRefused):
    def __init__(self, detail: str = "") -> None:
        self.detail = detail
        super().__init__(
            "The code could not be read in full: it is incomplete, damaged or has been altered. "
            "Scan it again; if it still fails, type the reference number printed beside it."
        )


class SignatureInvalid(CodeRefused):
    def __init__(self) -> None:
        super().__init__(
            "The signature does not match the prescription: it has been altered or was not "
            "issued by the clinic it names. Do not dispense."
        )


class ContentDiffers(CodeRefused):
    """Genuinely signed, but not what this pharmacy already knows under the same issuer and
    prescription number: one of the two has been altered (or the issuer signed twice)."""

    def __init__(self, reference: str) -> None:
        super().__init__(
            f"This code's content differs from prescription {reference} as already seen here "
            "with the same number from the same clinic: one of them has been altered. Do not "
            "dispense; ask the clinic that signed it."
        )


class UnknownSigningKey(CodeRefused):
    def __init__(self, kid: str) -> None:
        self.kid = kid
        super().__init__(
            f"This prescription was signed with a key this pharmacy does not trust (key {kid}). "
            "If it comes from another clinic, import that clinic's trust file first."
        )


class RevokedSigningKey(CodeRefused):
    def __init__(self, kid: str, clinic: str) -> None:
        self.kid = kid
        super().__init__(
            f"This prescription was signed with a key that {clinic} has revoked (key {kid}); it "
            "may be forged. Do not dispense; ask the clinic."
        )


class RetiredSigningKey(CodeRefused):
    """Signed with a key its clinic has retired: after the key's last valid prescription could
    have run out, or dated after the retirement (made with a copy of the key)."""

    def __init__(self, kid: str, clinic: str, retired_on: date, dated: date | None = None) -> None:
        self.kid, self.retired_on = kid, retired_on
        if dated is None:
            message = (
                f"This prescription was signed with a key {clinic} retired on "
                f"{retired_on:%d %b %Y}; no prescription signed with it is valid any more. Do "
                "not dispense; the patient needs a new prescription."
            )
        else:
            message = (
                f"This prescription is dated {dated:%d %b %Y}, after {clinic} retired the key "
                f"that signed it on {retired_on:%d %b %Y}: it may be forged. Do not dispense; "
                "ask the clinic."
            )
        super().__init__(message)


class PrescriptionExpired(CodeRefused):
    def __init__(self, valid_until: date) -> None:
        self.valid_until = valid_until
        super().__init__(
            f"This prescription expired: it was valid until {valid_until:%d %b %Y}. The patient "
            "needs a new one."
        )


class PrescriptionCancelled(CodeRefused):
    def __init__(self, reason: str, by: str) -> None:
        self.reason = reason
        super().__init__(f"This prescription was cancelled by {by}: {reason}. Do not dispense.")


class ClockBehind(CodeRefused):
    def __init__(self, latest: datetime) -> None:
        self.latest = latest
        super().__init__(
            "This computer's clock is behind: a prescription was already signed here at "
            f"{latest:%d %b %Y %H:%M}, so dates on prescriptions cannot be trusted. Correct the "
            "date and time, then try again."
        )


class DateBehind(CodeRefused):
    """The date here is before a verified prescription's date: expiry cannot be judged."""

    def __init__(self, dated: date, today: date) -> None:
        self.dated = dated
        super().__init__(
            f"This computer's date is behind: it says {today:%d %b %Y}, but a prescription dated "
            f"{dated:%d %b %Y} has already been seen here, so expiry dates cannot be checked. "
            "Correct the date and time, then try again."
        )
