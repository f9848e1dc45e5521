"""Sync between the desks of a clinic through a relay server that holds ciphertext only.

``protocol`` is what the desk and the server share (limits, error codes, a change on the wire);
``server`` is the relay (``clinicdesk server``). docs/sync.md describes both.
"""
