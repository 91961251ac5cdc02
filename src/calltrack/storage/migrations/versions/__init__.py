"""The migration scripts, one revision each, in order."""
