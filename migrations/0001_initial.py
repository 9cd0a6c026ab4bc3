"""The first schema: users, accounts, contacts, the timeline and tasks.

Python-side defaults (timestamps) live on the application models; the tables need none.
"""
from peewee import *


def up(migrator, db):
    class User(Model):
        email = CharField(unique=True)
        name = CharField()
        role = CharField(index=True)
        password_hash = CharField()
        language = CharField(default='en')
        timezone = CharField(default='Europe/Amsterdam')
        active = BooleanField(default=True)
        away = BooleanField(default=False)
        session_version = IntegerField(default=1)
        last_login_at = DateTimeField(null=True)
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'user'
    db.create_tables([User])

    class Account(Model):
        name = CharField()
        search_name = CharField(index=True)
        stage = CharField(index=True, default='prospect')
        size_class = CharField(default='M')
        owner = ForeignKeyField(User, on_delete='RESTRICT')
        stand_in = ForeignKeyField(User, null=True, on_delete='SET NULL')
        industry = CharField(default='')
        street = CharField(default='')
        postal_code = CharField(default='')
        city = CharField(default='')
        country = CharField(default='')
        website = CharField(default='')
        vat_number = CharField(default='')
        language = CharField(default='en')
        currency = CharField(default='EUR')
        payment_terms = CharField(default='')
        delivery_terms = CharField(default='')
        vision = TextField(default='')
        purchasing_policy = TextField(default='')
        competitors = TextField(default='')
        credit_notes = TextField(default='')
        last_contact_at = DateTimeField(index=True, null=True)
        created_at = DateTimeField(index=True)
        updated_at = DateTimeField()
        version = IntegerField(default=1)
        class Meta:
            database = db
            table_name = 'account'
            indexes = ((('owner', 'search_name'), False), (('owner', 'last_contact_at'), False), (('stage', 'search_name'), False))
    db.create_tables([Account])

    class AccountDomain(Model):
        account = ForeignKeyField(Account, on_delete='CASCADE')
        domain = CharField(index=True)
        class Meta:
            database = db
            table_name = 'account_domain'
            indexes = ((('account', 'domain'), True),)
    db.create_tables([AccountDomain])

    class Tag(Model):
        name = CharField(unique=True)
        class Meta:
            database = db
            table_name = 'tag'
    db.create_tables([Tag])

    class AccountTag(Model):
        account = ForeignKeyField(Account, on_delete='CASCADE')
        tag = ForeignKeyField(Tag, on_delete='CASCADE')
        class Meta:
            database = db
            table_name = 'account_tag'
            indexes = ((('account', 'tag'), True), (('tag', 'account'), False))
    db.create_tables([AccountTag])

    class AccountTeamMember(Model):
        account = ForeignKeyField(Account, on_delete='CASCADE')
        user = ForeignKeyField(User, on_delete='CASCADE')
        role = CharField(default='')
        class Meta:
            database = db
            table_name = 'account_team_member'
            indexes = ((('account', 'user'), True),)
    db.create_tables([AccountTeamMember])

    class ApiToken(Model):
        user = ForeignKeyField(User, on_delete='CASCADE')
        token_hash = CharField(unique=True)
        name = CharField(default='')
        created_at = DateTimeField()
        last_used_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'api_token'
    db.create_tables([ApiToken])

    class Contact(Model):
        account = ForeignKeyField(Account, on_delete='CASCADE')
        first_name = CharField(default='')
        last_name = CharField()
        search_name = CharField(index=True)
        position = CharField(default='')
        dmu_role = CharField(null=True)
        phone = CharField(default='')
        mobile = CharField(default='')
        phone_digits = CharField(index=True, default='')
        language = CharField(null=True)
        birthday = DateField(null=True)
        birthday_day = IntegerField(index=True, null=True)
        personal_notes = TextField(default='')
        newsletter_consent = BooleanField(default=False)
        consent_at = DateTimeField(null=True)
        consent_source = CharField(default='')
        last_contact_at = DateTimeField(index=True, null=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        version = IntegerField(default=1)
        class Meta:
            database = db
            table_name = 'contact'
            indexes = ((('account', 'last_name'), False), (('account', 'birthday_day'), False))
    db.create_tables([Contact])

    class ContactEmail(Model):
        contact = ForeignKeyField(Contact, on_delete='CASCADE')
        email = CharField(index=True)
        position = IntegerField(default=0)
        bouncing = BooleanField(default=False)
        class Meta:
            database = db
            table_name = 'contact_email'
            indexes = ((('contact', 'email'), True),)
    db.create_tables([ContactEmail])

    class LoginAttempt(Model):
        email = CharField(index=True)
        ip = CharField(default='')
        at = DateTimeField(index=True)
        class Meta:
            database = db
            table_name = 'login_attempt'
    db.create_tables([LoginAttempt])

    class TimelineEntry(Model):
        account = ForeignKeyField(Account, on_delete='CASCADE')
        kind = CharField()
        occurred_at = DateTimeField()
        author = ForeignKeyField(User, null=True, on_delete='SET NULL')
        subject = CharField(default='')
        summary = TextField(default='')
        agreements = TextField(default='')
        next_step = TextField(default='')
        created_at = DateTimeField()
        updated_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'timeline_entry'
            indexes = ((('account', 'occurred_at', 'id'), False), (('account', 'kind', 'occurred_at'), False))
    db.create_tables([TimelineEntry])

    class Task(Model):
        account = ForeignKeyField(Account, on_delete='CASCADE')
        contact = ForeignKeyField(Contact, null=True, on_delete='SET NULL')
        owner = ForeignKeyField(User, on_delete='RESTRICT')
        due_date = DateField()
        objective = TextField()
        done = BooleanField(default=False)
        done_at = DateTimeField(null=True)
        overdue = BooleanField(default=False)
        timeline_entry = ForeignKeyField(TimelineEntry, null=True, on_delete='SET NULL')
        created_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'task'
            indexes = ((('owner', 'done', 'due_date'), False), (('account', 'done', 'due_date'), False))
    db.create_tables([Task])

    class TimelineParticipant(Model):
        entry = ForeignKeyField(TimelineEntry, on_delete='CASCADE')
        contact = ForeignKeyField(Contact, on_delete='CASCADE')
        class Meta:
            database = db
            table_name = 'timeline_participant'
            indexes = ((('entry', 'contact'), True), (('contact', 'entry'), False))
    db.create_tables([TimelineParticipant])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('timeline_participant'))
    migrator.migrate(migrator.drop_table('task'))
    migrator.migrate(migrator.drop_table('timeline_entry'))
    migrator.migrate(migrator.drop_table('login_attempt'))
    migrator.migrate(migrator.drop_table('contact_email'))
    migrator.migrate(migrator.drop_table('contact'))
    migrator.migrate(migrator.drop_table('api_token'))
    migrator.migrate(migrator.drop_table('account_team_member'))
    migrator.migrate(migrator.drop_table('account_tag'))
    migrator.migrate(migrator.drop_table('tag'))
    migrator.migrate(migrator.drop_table('account_domain'))
    migrator.migrate(migrator.drop_table('account'))
    migrator.migrate(migrator.drop_table('user'))
