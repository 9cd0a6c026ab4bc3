"""Where the time of one request goes: each query, its own time and SQLite's plan.

    .venv/bin/python bench/explain.py bench/data/large.db "/accounts/" "/"
    .venv/bin/python bench/explain.py bench/data/large.db --htmx "/accounts/?q=rossi"

Logs in as the bench user of the data set, requests each URL once to warm up, then once
more with every query recorded: the statement, its parameters, how long it took and
`EXPLAIN QUERY PLAN` for it.
"""
import argparse
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database")
    parser.add_argument("urls", nargs="+")
    parser.add_argument("--htmx", action="store_true", help="send HX-Request: true")
    parser.add_argument("--token", action="store_true", help="send the bench user's API token")
    args = parser.parse_args(argv)

    from app import create_app
    from models import db
    from run import _metadata, login

    path = Path(args.database)
    meta = _metadata(path)
    app = create_app({"DATABASE_URL": f"sqlite:///{path}", "SECRET_KEY": "bench",
                      "HUEY_IMMEDIATE": True})
    client = app.test_client()
    login(client, meta["bench_user"])
    headers = {}
    if args.htmx:
        headers["HX-Request"] = "true"
    if args.token:
        headers["Authorization"] = f"Bearer {meta['token']}"

    recorded = []
    original = type(db.obj).execute_sql

    def execute_sql(self, sql, params=None, *rest, **kwargs):
        started = time.perf_counter()
        cursor = original(self, sql, params, *rest, **kwargs)
        # Rows are fetched lazily; fetching them here makes the time the query's own.
        rows = cursor.fetchall() if cursor.description else []
        recorded.append((sql, params, (time.perf_counter() - started) * 1000, len(rows)))
        return _Rows(cursor, rows)

    for url in args.urls:
        client.get(url, headers=headers)
        recorded.clear()
        type(db.obj).execute_sql = execute_sql
        started = time.perf_counter()
        try:
            response = client.get(url, headers=headers)
        finally:
            type(db.obj).execute_sql = original
        total = (time.perf_counter() - started) * 1000
        print(f"\n=== {url}: {response.status_code}, {total:.1f} ms, {len(recorded)} queries, "
              f"{sum(r[2] for r in recorded):.1f} ms in SQL")
        with app.app_context(), db.connection_context():
            for sql, params, ms, count in recorded:
                print(f"\n-- {ms:.2f} ms, {count} rows\n{sql}\n   {params}")
                if sql.lstrip().upper().startswith("SELECT"):
                    for row in db.execute_sql(f"EXPLAIN QUERY PLAN {sql}", params):
                        print(f"   plan: {'  ' * (row[1] and 1)}{row[3]}")


class _Rows:
    """A cursor whose rows were already fetched (for the timing above)."""

    def __init__(self, cursor, rows):
        self._cursor, self._rows = cursor, rows
        self.description = cursor.description
        self.lastrowid = cursor.lastrowid
        self.rowcount = cursor.rowcount

    def __iter__(self):
        return iter(self._rows)

    def fetchone(self):
        return self._rows.pop(0) if self._rows else None

    def fetchall(self):
        rows, self._rows = self._rows, []
        return rows

    def fetchmany(self, size=None):
        rows, self._rows = self._rows[:size], self._rows[size:]
        return rows

    def close(self):
        self._cursor.close()


if __name__ == "__main__":
    main()
