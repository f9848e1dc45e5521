"""The pharmacy workspace: the counter (scan, verdict, dispense), stock and history."""
