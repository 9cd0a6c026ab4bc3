"""Background jobs: the huey instance and its periodic jobs.

SQLite-backed by default (instance/jobs.db), Redis-backed when REDIS_URL is set.
`flask --app app worker` runs the consumer with the periodic jobs.
"""
import threading

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
    _register_mail(huey)
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

    @queue.periodic_task(crontab(minute="*"), name="send_outbox")
    def send_outbox_job():
        """Every minute: send the outgoing mail that is due (see mail/outbox.py)."""
        from mail.outbox import send_all_due
        from models.db import db
        with _app.app_context(), db.connection_context():
            return dict(send_all_due())
    queue.send_outbox = send_outbox_job

    @queue.periodic_task(crontab(minute="20", hour="2"), name="quote_validity")
    def quote_validity_job():
        """Daily: expire quotes past their date; a follow-up task a few days before."""
        from models.db import db
        from models.quotes import expire_due_quotes, remind_before_expiry
        with _app.app_context(), db.connection_context():
            return {"expired": expire_due_quotes(), "reminded": remind_before_expiry()}
    queue.quote_validity = quote_validity_job


_polling = threading.Lock()


def _register_mail(queue):
    @queue.periodic_task(crontab(minute="*"), name="poll_mailboxes")
    def poll_mailboxes_job():
        """Every minute: read the mailboxes that are due (see mail/poller.py)."""
        if not _polling.acquire(blocking=False):
            return "busy"  # the last pass is still running (a long first sync)
        try:
            from mail.poller import poll_all
            from models.db import db
            with _app.app_context(), db.connection_context():
                return [(r.mailbox, r.new, r.problem) for r in poll_all()]
        finally:
            _polling.release()
    queue.poll_mailboxes = poll_mailboxes_job

    @queue.task(name="poll_mailbox")
    def poll_mailbox_job(mailbox_id):
        """"Poll now" from the mailbox page: this mailbox, at once."""
        from mail.poller import poll_mailbox
        from models.db import db
        from models.inbound import Mailbox
        with _app.app_context(), db.connection_context():
            mailbox = Mailbox.get_or_none(Mailbox.id == mailbox_id)
            if mailbox is None:
                return None
            report = poll_mailbox(mailbox)
            return (report.mailbox, report.new, report.problem)
    queue.poll_mailbox = poll_mailbox_job


def run_worker(workers=2):
    """Run the consumer in the foreground, IMAP IDLE beside it; it logs what it runs to
    stderr."""
    import logging
    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(levelname)s %(message)s")
    consumer = huey.create_consumer(workers=workers, worker_type="thread", periodic=True)
    idle = start_idle(_app)
    try:
        consumer.run()
    finally:
        if idle is not None:
            idle.stop()


def start_idle(app):
    """Watch the active mailboxes with IMAP IDLE (mail/idle.py) in daemon threads: new mail
    queues a poll of its mailbox at once instead of waiting for the minute. The running
    supervisor; None when the IMAP_IDLE setting is off."""
    if not app.config.get("IMAP_IDLE", True):
        return None
    from mail.idle import IdleSupervisor
    return IdleSupervisor(app, on_new_mail=_queue_poll).start()


def _queue_poll(mailbox_id):
    huey.poll_mailbox(mailbox_id)
