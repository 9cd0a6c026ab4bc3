"""Background jobs: the huey instance and its periodic jobs.

SQLite-backed by default (instance/jobs.db), Redis-backed when REDIS_URL is set.
`flask --app app worker` runs the consumer with the periodic jobs.
"""
from huey import MemoryHuey, RedisHuey, SqliteHuey, crontab

huey = MemoryHuey("accountable", immediate=True)  # replaced in init_app
_app = None


def init_app(app):
    """Bind the queue to the app's configuration (called from create_app)."""
    global huey, _app
    _app = app
    if app.config.get("HUEY_IMMEDIATE"):
        huey = MemoryHuey("accountable", immediate=True)
    elif app.config.get("REDIS_URL"):
        huey = RedisHuey("accountable", url=app.config["REDIS_URL"])
    else:
        huey = SqliteHuey("accountable", filename=app.config["HUEY_SQLITE_PATH"])
    _register(huey)
    app.extensions["huey"] = huey


def _register(queue):
    @queue.periodic_task(crontab(minute="5", hour="*"), name="mark_overdue_tasks")
    def mark_overdue_tasks_job():
        """Hourly, so "overdue" turns over soon after midnight in every time zone."""
        from models.db import db
        from models.tasks import mark_overdue_tasks
        with db.connection_context():
            return mark_overdue_tasks()
    queue.mark_overdue_tasks = mark_overdue_tasks_job


def run_worker(workers=2):
    """Run the consumer in the foreground; it logs what it runs to stderr."""
    import logging
    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(levelname)s %(message)s")
    consumer = huey.create_consumer(workers=workers, worker_type="thread", periodic=True)
    consumer.run()
