"""Admin: users, the audit log, clinic settings, backups."""
