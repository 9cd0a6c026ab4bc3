"""Quotes, the catalogue, price agreements, margin policy and outgoing mail.

Python-side defaults (timestamps) live on the application models; the tables need none.
"""
from peewee import *
import decimal


def up(migrator, db):
    class Account(Model):
        class Meta:
            database = db
            table_name = 'account'

    class Contact(Model):
        class Meta:
            database = db
            table_name = 'contact'

    class TimelineEntry(Model):
        class Meta:
            database = db
            table_name = 'timeline_entry'

    class User(Model):
        class Meta:
            database = db
            table_name = 'user'

    class CompanySettings(Model):
        name = CharField(default='Your Company')
        address = TextField(default='')
        email = CharField(default='')
        phone = CharField(default='')
        website = CharField(default='')
        vat_number = CharField(default='')
        bank_account = CharField(default='')
        accent_color = CharField(default='#2457c5')
        logo = BlobField(null=True)
        logo_type = CharField(default='')
        class Meta:
            database = db
            table_name = 'company_settings'
    db.create_tables([CompanySettings])

    class DocumentCounter(Model):
        kind = CharField()
        year = IntegerField()
        last = IntegerField(default=0)
        class Meta:
            database = db
            table_name = 'document_counter'
            indexes = ((('kind', 'year'), True),)
    db.create_tables([DocumentCounter])

    class Quote(Model):
        number = CharField(index=True)
        revision = IntegerField(default=1)
        account = ForeignKeyField(Account, on_delete='CASCADE')
        contact = ForeignKeyField(Contact, null=True, on_delete='SET NULL')
        author = ForeignKeyField(User, on_delete='RESTRICT')
        status = CharField(index=True, default='draft')
        language = CharField(default='en')
        currency = CharField(default='EUR')
        valid_until = DateField()
        payment_terms = CharField(default='')
        delivery_terms = CharField(default='')
        introduction = TextField(default='')
        approved_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        approved_at = DateTimeField(null=True)
        approval_comment = TextField(default='')
        approved_fingerprint = CharField(default='')
        sent_at = DateTimeField(null=True)
        answered_at = DateTimeField(null=True)
        accepted_by_name = CharField(default='')
        purchase_order = CharField(default='')
        decline_reason = TextField(default='')
        previous = ForeignKeyField('self', null=True, on_delete='SET NULL')
        rejected_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        rejection_comment = TextField(default='')
        expiry_reminded_at = DateTimeField(null=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        version = IntegerField(default=1)
        class Meta:
            database = db
            table_name = 'quote'
            indexes = ((('number', 'revision'), True), (('account', 'created_at'), False), (('status', 'valid_until'), False))
    db.create_tables([Quote])

    class Email(Model):
        direction = CharField(default='out')
        kind = CharField(default='')
        status = CharField(default='queued')
        message_id = CharField()
        server_message_id = CharField(index=True, default='')
        in_reply_to = CharField(default='')
        references = TextField(default='')
        reply_token = CharField(index=True, default='')
        from_addr = CharField(default='')
        to_addrs = TextField(default='')
        cc_addrs = TextField(default='')
        reply_to = CharField(default='')
        subject = CharField(max_length=998, default='')
        body_text = TextField(default='')
        body_html = TextField(default='')
        raw = BlobField(null=True)
        account = ForeignKeyField(Account, null=True, on_delete='SET NULL')
        contact = ForeignKeyField(Contact, null=True, on_delete='SET NULL')
        quote = ForeignKeyField(Quote, null=True, on_delete='SET NULL')
        author = ForeignKeyField(User, null=True, on_delete='SET NULL')
        timeline_entry = ForeignKeyField(TimelineEntry, null=True, on_delete='SET NULL')
        matched_by = CharField(default='')
        inbound_state = CharField(index=True, default='')
        content_hash = CharField(index=True, default='')
        header_date = DateTimeField(null=True)
        thread_index = CharField(index=True, default='')
        auto_reason = CharField(default='')
        bounce_status = CharField(default='')
        parse_error = TextField(default='')
        attempts = IntegerField(default=0)
        next_attempt_at = DateTimeField(null=True)
        claim = CharField(default='')
        claimed_at = DateTimeField(null=True)
        data_started_at = DateTimeField(null=True)
        last_error = TextField(default='')
        smtp_reply = TextField(default='')
        sent_at = DateTimeField(null=True)
        received_at = DateTimeField(null=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'email'
            indexes = ((('direction', 'message_id'), True), (('status', 'next_attempt_at'), False), (('account', 'created_at'), False), (('quote', 'created_at'), False), (('created_at', 'id'), False))
    db.create_tables([Email])

    class EmailAttachment(Model):
        email = ForeignKeyField(Email, on_delete='CASCADE')
        filename = CharField()
        content_type = CharField(default='application/octet-stream')
        size = IntegerField(default=0)
        content = BlobField(null=True)
        class Meta:
            database = db
            table_name = 'email_attachment'
            indexes = ((('email', 'filename'), False),)
    db.create_tables([EmailAttachment])

    class MarginPolicy(Model):
        min_line_margin_pct = DecimalField(max_digits=5, decimal_places=2, default=decimal.Decimal('10'))
        min_quote_margin_pct = DecimalField(max_digits=5, decimal_places=2, default=decimal.Decimal('15'))
        approval_threshold = DecimalField(max_digits=14, decimal_places=2, default=decimal.Decimal('10000'))
        class Meta:
            database = db
            table_name = 'margin_policy'
    db.create_tables([MarginPolicy])

    class Product(Model):
        code = CharField(unique=True)
        name = CharField()
        search_name = CharField(index=True)
        description = TextField(default='')
        category = CharField(index=True, default='')
        unit = CharField(default='pc')
        list_price = DecimalField(max_digits=14, decimal_places=4)
        cost_price = DecimalField(max_digits=14, decimal_places=4)
        vat_rate = DecimalField(max_digits=5, decimal_places=2)
        stock = DecimalField(max_digits=14, decimal_places=3, default=0)
        reserved = DecimalField(max_digits=14, decimal_places=3, default=0)
        lead_time_days = IntegerField(default=0)
        active = BooleanField(index=True, default=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        version = IntegerField(default=1)
        class Meta:
            database = db
            table_name = 'product'
    db.create_tables([Product])

    class PriceAgreement(Model):
        account = ForeignKeyField(Account, on_delete='CASCADE')
        category = CharField(null=True)
        product = ForeignKeyField(Product, null=True, on_delete='CASCADE')
        discount_pct = DecimalField(max_digits=5, decimal_places=2)
        class Meta:
            database = db
            table_name = 'price_agreement'
            indexes = ((('account', 'category', 'product'), True),)
    db.create_tables([PriceAgreement])

    class ProductImport(Model):
        token = CharField(unique=True)
        user = ForeignKeyField(User, on_delete='CASCADE')
        filename = CharField(default='')
        data = BlobField()
        created_at = DateTimeField(index=True)
        class Meta:
            database = db
            table_name = 'product_import'
    db.create_tables([ProductImport])

    class ProductText(Model):
        product = ForeignKeyField(Product, on_delete='CASCADE')
        language = CharField()
        name = CharField(default='')
        description = TextField(default='')
        class Meta:
            database = db
            table_name = 'product_text'
            indexes = ((('product', 'language'), True),)
    db.create_tables([ProductText])

    class QuoteLine(Model):
        quote = ForeignKeyField(Quote, on_delete='CASCADE')
        position = IntegerField(default=0)
        product = ForeignKeyField(Product, null=True, on_delete='SET NULL')
        description = TextField(default='')
        unit = CharField(default='pc')
        quantity = DecimalField(max_digits=14, decimal_places=3)
        unit_price = DecimalField(max_digits=14, decimal_places=4)
        discount_pct = DecimalField(max_digits=5, decimal_places=2, default=0)
        cost_price = DecimalField(max_digits=14, decimal_places=4, default=0)
        vat_rate = DecimalField(max_digits=5, decimal_places=2)
        agreed_price = DecimalField(null=True, max_digits=14, decimal_places=4)
        class Meta:
            database = db
            table_name = 'quote_line'
    db.create_tables([QuoteLine])

    class RoleDiscountLimit(Model):
        role = CharField(unique=True)
        max_discount_pct = DecimalField(max_digits=5, decimal_places=2)
        class Meta:
            database = db
            table_name = 'role_discount_limit'
    db.create_tables([RoleDiscountLimit])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('role_discount_limit'))
    migrator.migrate(migrator.drop_table('quote_line'))
    migrator.migrate(migrator.drop_table('product_text'))
    migrator.migrate(migrator.drop_table('product_import'))
    migrator.migrate(migrator.drop_table('price_agreement'))
    migrator.migrate(migrator.drop_table('product'))
    migrator.migrate(migrator.drop_table('margin_policy'))
    migrator.migrate(migrator.drop_table('email_attachment'))
    migrator.migrate(migrator.drop_table('email'))
    migrator.migrate(migrator.drop_table('quote'))
    migrator.migrate(migrator.drop_table('document_counter'))
    migrator.migrate(migrator.drop_table('company_settings'))
