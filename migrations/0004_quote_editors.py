"""Who changed a quote's content, so that they cannot approve it (four eyes)."""
from peewee import *


def up(migrator, db):
    class User(Model):
        class Meta:
            database = db
            table_name = 'user'

    class Quote(Model):
        class Meta:
            database = db
            table_name = 'quote'

    class QuoteEditor(Model):
        quote = ForeignKeyField(Quote, on_delete='CASCADE')
        user = ForeignKeyField(User, on_delete='CASCADE')
        class Meta:
            database = db
            table_name = 'quote_editor'
            indexes = ((('quote', 'user'), True),)
    db.create_tables([QuoteEditor])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('quote_editor'))
