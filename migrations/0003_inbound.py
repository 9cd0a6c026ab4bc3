"""Inbound mail: mailboxes, folder checkpoints, where each message was seen, remembered senders.

Python-side defaults (timestamps) live on the application models; the tables need none.
"""
from peewee import *


def up(migrator, db):
    class Account(Model):
        class Meta:
            database = db
            table_name = 'account'

    class Email(Model):
        class Meta:
            database = db
            table_name = 'email'

    class User(Model):
        class Meta:
            database = db
            table_name = 'user'

    class Mailbox(Model):
        name = CharField()
        host = CharField()
        port = IntegerField(default=993)
        security = CharField(default='ssl')
        username = CharField()
        password = CharField(default='')
        folders = TextField(default='INBOX')
        active = BooleanField(default=True)
        since_days = IntegerField(default=90)
        delete_after_import = BooleanField(default=False)
        from_config = BooleanField(default=False)
        status = CharField(default='new')
        last_error = TextField(default='')
        last_poll_at = DateTimeField(null=True)
        failures = IntegerField(default=0)
        next_poll_at = DateTimeField(null=True)
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'mailbox'
    db.create_tables([Mailbox])

    class FolderCheckpoint(Model):
        mailbox = ForeignKeyField(Mailbox, on_delete='CASCADE')
        folder = CharField()
        uidvalidity = BigIntegerField()
        last_uid = BigIntegerField(default=0)
        total = IntegerField(default=0)
        done = IntegerField(default=0)
        updated_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'folder_checkpoint'
            indexes = ((('mailbox', 'folder'), True),)
    db.create_tables([FolderCheckpoint])

    class InboundCopy(Model):
        email = ForeignKeyField(Email, on_delete='CASCADE')
        mailbox = ForeignKeyField(Mailbox, on_delete='CASCADE')
        folder = CharField()
        uidvalidity = BigIntegerField()
        uid = BigIntegerField()
        class Meta:
            database = db
            table_name = 'inbound_copy'
            indexes = ((('mailbox', 'folder', 'uidvalidity', 'uid'), True),)
    db.create_tables([InboundCopy])

    class SenderRule(Model):
        address = CharField(unique=True)
        account = ForeignKeyField(Account, on_delete='CASCADE')
        created_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'sender_rule'
    db.create_tables([SenderRule])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('sender_rule'))
    migrator.migrate(migrator.drop_table('inbound_copy'))
    migrator.migrate(migrator.drop_table('folder_checkpoint'))
    migrator.migrate(migrator.drop_table('mailbox'))
