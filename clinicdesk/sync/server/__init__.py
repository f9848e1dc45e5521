"""The sync server (``clinicdesk server``): relays changes between a clinic's desks.

It keeps routing fields and ciphertext only; see docs/sync.md.
"""
