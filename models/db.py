"""The one database: a proxy initialised by create_app from DATABASE_URL."""
import datetime
import sqlite3
import zoneinfo

from peewee import AutoField, DatabaseProxy, Model, PostgresqlDatabase, SqliteDatabase
from playhouse.db_url import connect

from .validation import MAX_ID, parse_int

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


def write_transaction():
    """A transaction that will write. On SQLite it takes the write lock at BEGIN (IMMEDIATE):
    one that read first and then wants to write while another process wrote would fail at
    once with "database is locked" instead of waiting its turn. Nested, it is a savepoint."""
    if isinstance(db.obj, SqliteDatabase):
        return db.atomic(lock_type="IMMEDIATE")
    return db.atomic()


def can_return_rows():
    """Whether INSERT … RETURNING works: PostgreSQL always, SQLite from 3.35 (2021)."""
    if isinstance(db.obj, SqliteDatabase):
        return sqlite3.sqlite_version_info >= (3, 35)
    return True


def insert_rows(model, rows, returning=()):
    """INSERT the rows (dicts of field name → value; the model's defaults for the rest) in
    one statement — what `model.insert_many(rows).execute()` does, without a query node per
    value: for wide rows in bulk (the mail poller stores batches of 50 messages of some 30
    columns) peewee spends ten times longer building the query than the database running
    it. Only for SQLite and PostgreSQL, which both quote names with double quotes.

    With `returning` (fields), the inserted rows' values of those fields, as tuples in no
    particular order (only where `can_return_rows()`)."""
    if not rows:
        return []
    fields = [f for f in model._meta.sorted_fields if not isinstance(f, AutoField)]
    columns = ", ".join(f'"{f.column_name}"' for f in fields)
    one_row = "(" + ", ".join([db.param] * len(fields)) + ")"
    sql = (f'INSERT INTO "{model._meta.table_name}" ({columns}) VALUES '
           + ", ".join([one_row] * len(rows)))
    if returning:
        sql += " RETURNING " + ", ".join(f'"{f.column_name}"' for f in returning)
    params = []
    for row in rows:
        for field in fields:
            if field.name in row:
                value = row[field.name]
            elif callable(field.default):
                value = field.default()
            else:
                value = field.default
            params.append(field.db_value(value))
    cursor = db.execute_sql(sql, params)
    return [tuple(row) for row in cursor.fetchall()] if returning else []


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
        """Write the record if it still has `seen_version`. A version that is missing, garbled
        ("abc") or one no record can have (a number too large for the database) was not read
        from this record either: StaleRecord, never an error from the database."""
        seen = parse_int(seen_version, minimum=1, maximum=MAX_ID - 1)
        if seen is None:
            raise StaleRecord()
        cls = type(self)
        fields = {f: getattr(self, f.name) for f in cls._meta.sorted_fields
                  if f.name not in ("id", "version")}
        if hasattr(self, "updated_at"):
            self.updated_at = utcnow()
            fields[cls.updated_at] = self.updated_at
        fields[cls.version] = seen + 1
        changed = (cls.update(fields)
                   .where((cls.id == self.id) & (cls.version == seen))
                   .execute())
        if not changed:
            raise StaleRecord()
        self.version = seen + 1
        self._dirty.clear()     # as peewee's save() does: what is stored is no longer a change
        return self


def to_utc(moment, timezone_name):
    """A moment typed in a user's time zone (naive) or carrying its own offset, as naive UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zoneinfo.ZoneInfo(timezone_name))
    return moment.astimezone(datetime.timezone.utc).replace(tzinfo=None)
