"""The one database: a proxy initialised by create_app from DATABASE_URL."""
import datetime
import zoneinfo

from peewee import DatabaseProxy, Model, PostgresqlDatabase
from playhouse.db_url import connect

db = DatabaseProxy()

# SQLite gets the settings a busy single-office install needs: readers never
# block the writer (WAL), foreign keys enforced, and a wait instead of
# "database is locked" when the worker and a request write at once.
SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "busy_timeout": 5000,
    "synchronous": "normal",
    "cache_size": -32000,
}


# Connections are kept in a pool per process: a fresh SQLite connection re-reads the whole
# schema (about 1.5 ms a request at this size), a fresh PostgreSQL one costs a round trip.
POOL = {"max_connections": 32, "stale_timeout": 300}


def open_database(url):
    """Connect the proxy to the database at `url` (sqlite:///path or postgresql://…)."""
    scheme, rest = url.split(":", 1)
    options = dict(POOL)
    if scheme.startswith("sqlite"):
        options["pragmas"] = SQLITE_PRAGMAS
        # A pooled connection may be handed to another thread later (one thread at a time).
        options["check_same_thread"] = False
    if scheme in ("sqlite", "postgres", "postgresql"):
        url = f"{scheme}+pool:{rest}"
    elif not scheme.endswith("+pool"):
        options = {k: v for k, v in options.items() if k in ("pragmas", "check_same_thread")}
    database = connect(url, **options)
    db.initialize(database)
    return database


def is_postgres():
    return isinstance(db.obj, PostgresqlDatabase)


def utcnow():
    """Now in UTC, naive: every timestamp is stored as naive UTC."""
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False


class StaleRecord(Exception):
    """Raised when a save would overwrite someone else's newer change."""


class VersionedModel(BaseModel):
    """A record that refuses to overwrite a change it has not seen.

    Forms carry the version they were loaded with; `save_checked` only writes
    when the row still has that version, so the second of two concurrent
    editors gets a message instead of silently losing the first one's work.
    """

    def save_checked(self, seen_version):
        cls = type(self)
        fields = {f: getattr(self, f.name) for f in cls._meta.sorted_fields
                  if f.name not in ("id", "version")}
        if hasattr(self, "updated_at"):
            self.updated_at = utcnow()
            fields[cls.updated_at] = self.updated_at
        fields[cls.version] = int(seen_version) + 1
        changed = (cls.update(fields)
                   .where((cls.id == self.id) & (cls.version == int(seen_version)))
                   .execute())
        if not changed:
            raise StaleRecord()
        self.version = int(seen_version) + 1
        return self


def to_utc(moment, timezone_name):
    """A moment typed in a user's time zone (naive) or carrying its own offset, as naive UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zoneinfo.ZoneInfo(timezone_name))
    return moment.astimezone(datetime.timezone.utc).replace(tzinfo=None)
