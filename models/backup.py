"""A consistent copy of the database while the app keeps running."""
import os
import shutil
import subprocess
from pathlib import Path

from .db import db, is_postgres


def backup_database(path):
    """SQLite: the online backup API (consistent under writes). PostgreSQL: pg_dump."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    if is_postgres():
        if shutil.which("pg_dump") is None:
            raise SystemExit("pg_dump is not installed; install the PostgreSQL client tools.")
        params = db.obj.connect_params
        env = dict(os.environ, PGPASSWORD=str(params.get("password") or ""))
        command = ["pg_dump", "--format=custom", f"--file={target}",
                   f"--host={params.get('host') or 'localhost'}",
                   f"--port={params.get('port') or 5432}",
                   f"--username={params.get('user') or os.environ.get('USER', 'postgres')}",
                   db.obj.database]
        subprocess.run(command, check=True, env=env)
    else:
        import sqlite3
        source = db.obj.connection()
        with sqlite3.connect(target) as copy:
            source.backup(copy)
        copy.close()
    return f"Backup written to {target} ({target.stat().st_size} bytes)."
