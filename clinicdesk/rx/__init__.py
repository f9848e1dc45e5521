"""Signed prescription codes: reference numbers, the QR payload, signing and verification.

Pure functions over bytes and dataclasses: nothing here touches the database, so the pharmacy's
offline check and the tests use the very same code.
"""
