"""Versioned schema changes: the scripts in migrations/, applied in order, recorded once."""
from pathlib import Path

from playhouse.migrations import Runner

from .db import db

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def migrate_up():
    """Apply every pending migration; returns the names applied."""
    runner = Runner(db.obj, directory=str(MIGRATIONS))
    pending = [m.name for m in runner.migrations() if m.name not in runner.applied()]
    runner.up()
    return pending
