"""What each audit action means, in the words an admin reads in the audit log.

An action missing here (a new one, or one from a later version) still reads as words: its parts
with the underscores gone, "stock.write_off" -> "Stock: write off".
"""

from __future__ import annotations

ACTION_WORDS: dict[str, str] = {
    "appointment.book": "Booked an appointment",
    "appointment.export": "Exported appointments",
    "appointment.reschedule": "Moved an appointment",
    "appointment.told": "Noted the patient was told",
    "audit.digest_check": "Checked an audit digest",
    "audit.verify": "Verified the audit log",
    "chart.add": "Added to a chart",
    "chart.allergies": "Read a patient's allergies",
    "chart.attach": "Attached a document to a chart",
    "chart.document_view": "Opened a chart document",
    "chart.history": "Read a chart's history",
    "chart.import": "Imported a chart",
    "chart.open": "Opened a chart",
    "chart.remove": "Removed from a chart",
    "chart.update": "Changed a chart",
    "clinic.backup_schedule": "Changed the backup schedule",
    "clinic.booking_rules": "Changed the booking rules",
    "clinic.cancellation_policy": "Changed the cancellation policy",
    "clinic.create": "Created the clinic",
    "clinic.holiday": "Set a clinic holiday",
    "clinic.key_change": "Changed the clinic's key",
    "clinic.update": "Changed the clinic's details",
    "data.backup": "Made a backup",
    "data.backup_prune": "Deleted an old scheduled backup",
    "data.backup_reencrypt": "Re-encrypted a backup",
    "data.restore": "Restored from a backup",
    "dispense.export": "Exported dispensing history",
    "dispense.history": "Read dispensing history",
    "dispense.print": "Printed a label or receipt",
    "dispense.read": "Read a dispense",
    "doctor.absence": "Recorded a doctor's absence",
    "doctor.add": "Added a doctor",
    "doctor.hours": "Changed a doctor's hours",
    "doctor.leave": "Recorded a doctor's leave",
    "formulary.active": "Took a drug in or out of use",
    "formulary.add": "Added a drug to the formulary",
    "formulary.update": "Changed a drug in the formulary",
    "patient.history": "Read a patient's change history",
    "patient.import": "Imported a patient",
    "patient.register": "Registered a patient",
    "patient.update": "Changed a patient's details",
    "patient.view": "Opened a patient's record",
    "prescription.cancel": "Cancelled a prescription",
    "prescription.dispense": "Dispensed a prescription",
    "prescription.dose_times": "Read a prescription's dose times",
    "prescription.print": "Printed a prescription",
    "prescription.read": "Read a prescription",
    "prescription.reject": "Refused to dispense a prescription",
    "prescription.scan": "Scanned a prescription",
    "prescription.verdict": "Checked a prescription",
    "prescription.verify": "Verified a prescription",
    "prescription.write": "Wrote a prescription",
    "queue.call": "Called a patient in",
    "queue.check_in": "Checked a patient in",
    "queue.done": "Finished with a patient in the queue",
    "queue.left": "Marked a patient as gone",
    "queue.walk_in": "Added a walk-in",
    "schedule.export": "Exported a schedule",
    "service.add": "Added a service",
    "signing_key.export": "Exported the trust file",
    "signing_key.import": "Imported another clinic's keys",
    "signing_key.revoke": "Revoked a signing key",
    "signing_key.rotate": "Replaced the signing key",
    "specialization.add": "Added a specialization",
    "stock.adjust": "Adjusted stock",
    "stock.receive": "Received stock",
    "stock.reorder_level": "Changed a reorder level",
    "user.create": "Created an account",
    "user.password": "Changed a password",
    "user.password_reset": "Reset a password",
    "user.reinstate": "Reinstated an account",
    "user.remove": "Removed an account",
    "user.roles": "Changed an account's roles",
    "user.sign_in": "Signed in",
    "user.unlock": "Unlocked the screen",
    "visit.addendum": "Added an addendum to a visit",
    "visit.import": "Imported a visit",
    "visit.note": "Wrote a visit note",
    "visit.sign": "Finished and signed a visit",
    "visit.start": "Started a visit",
    "visit.view": "Opened a visit",
    "waitlist.add": "Put a patient on the waiting list",
}


def action_words(action: str) -> str:
    """The action in words; an unknown one in a readable form of its name."""
    if action in ACTION_WORDS:
        return ACTION_WORDS[action]
    area, _, what = action.partition(".")
    area = area.replace("_", " ").strip().capitalize()
    what = what.replace("_", " ").replace(".", " ").strip()
    return f"{area}: {what}" if what else area or action
