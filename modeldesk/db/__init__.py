"""Database layer: engine and sessions, the embedded server, tables, migrations and seed."""
