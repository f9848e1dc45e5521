"""Time arithmetic for booking: visiting hours in local time, slots in UTC, DST-safe."""
