"""asynchronous conversations: a visitor who leaves a way back frees the expert's live slot

A conversation may be `asynchronous` (its visitor left an address with consent, then went): it holds no live
slot of its expert nor a place in the brand's `max_concurrent`, but one of the brand's asynchronous places per
expert, counted apart (`expert_loads.async_chats`, `brand_loads.async_conversations`). The visitor's address and
consent are kept on the conversation, with how many times it went back to the queue (`handed_back`). The brand
sets how many asynchronous conversations one expert holds, the first reply it promises when an away visitor
writes, the quiet time after which one closes, and how long a visitor's message continues a closed chat.

The one-live-conversation-per-visitor index becomes one open (live or asynchronous) conversation per visitor.

Revision ID: a7c41e9d2b63
Revises: e2b8d4f01c26
Create Date: 2026-12-06 11:50:00.000000

"""
import datetime as dt

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a7c41e9d2b63'
down_revision = 'e2b8d4f01c26'
branch_labels = None
depends_on = None

STATUSES_BEFORE = ('waiting', 'offered', 'active', 'closed', 'abandoned', 'missed', 'capped')
STATUSES = ('waiting', 'offered', 'active', 'asynchronous', 'closed', 'abandoned', 'missed', 'capped')
LIVE = sa.text("status IN ('waiting', 'offered', 'active')")
OPEN = sa.text("status IN ('waiting', 'offered', 'active', 'asynchronous')")
BRAND_SETTINGS = (  # name, default, check constraint's name and its condition
    ('async_expert_limit', 10, 'async_expert_limit', 'async_expert_limit BETWEEN 0 AND 100'),
    ('async_first_reply_minutes', 8, 'async_first_reply', 'async_first_reply_minutes BETWEEN 1 AND 1440'),
    ('async_quiet_hours', 72, 'async_quiet', 'async_quiet_hours BETWEEN 1 AND 2160'),
    ('reopen_window_hours', 168, 'reopen_window', 'reopen_window_hours BETWEEN 0 AND 2160'),
)


def _statuses(names):
    return sa.text("status IN ({})".format(", ".join(f"'{name}'" for name in names)))


def upgrade():
    op.drop_index('uq_conversations_one_live', table_name='conversations')
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_conversations_conversation_status'), type_='check')
        batch_op.alter_column('status', existing_type=sa.String(9), type_=sa.String(12), existing_nullable=False)
        batch_op.create_check_constraint('conversation_status', _statuses(STATUSES))
        batch_op.add_column(sa.Column('visitor_email', sa.String(254), nullable=True))
        batch_op.add_column(sa.Column('visitor_email_consent_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('handed_back', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                                      server_default='0', nullable=False))
        batch_op.create_check_constraint('handed_back', sa.text('handed_back >= 0'))
    op.create_index('uq_conversations_one_open', 'conversations', ['brand_id', 'visitor_token_hash'],
                    unique=True, sqlite_where=OPEN, postgresql_where=OPEN)
    if op.get_bind().dialect.name == 'sqlite':
        # Not a batch: SQLite's copy of the table would repeat its generated columns (load, ever_offered).
        op.execute("ALTER TABLE expert_loads ADD COLUMN async_chats INTEGER DEFAULT '0' NOT NULL "
                   "CONSTRAINT ck_expert_loads_async_chats CHECK (async_chats >= 0)")
    else:
        op.add_column('expert_loads', sa.Column('async_chats', sa.BigInteger(), server_default='0', nullable=False))
        op.create_check_constraint('async_chats', 'expert_loads', sa.text('async_chats >= 0'))
    with op.batch_alter_table('brand_loads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('async_conversations', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                                      server_default='0', nullable=False))
        batch_op.create_check_constraint('async_conversations', sa.text('async_conversations >= 0'))
    with op.batch_alter_table('brands', schema=None) as batch_op:
        for name, default, check, condition in BRAND_SETTINGS:
            batch_op.add_column(sa.Column(name, sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                                          server_default=str(default), nullable=False))
            batch_op.create_check_constraint(check, sa.text(condition))


def downgrade():
    # Asynchronous conversations end as closed for inactivity, as their quiet time would have ended them. They
    # held no live place, so the live counters stay as they are.
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)  # the schema stores naive UTC
    op.execute(sa.text("UPDATE conversations SET status = 'closed', end_reason = 'inactivity', closed_at = :now "
                       "WHERE status = 'asynchronous'").bindparams(now=now))
    with op.batch_alter_table('brands', schema=None) as batch_op:
        for name, _default, check, _condition in BRAND_SETTINGS:
            batch_op.drop_constraint(op.f(f'ck_brands_{check}'), type_='check')
            batch_op.drop_column(name)
    with op.batch_alter_table('brand_loads', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_brand_loads_async_conversations'), type_='check')
        batch_op.drop_column('async_conversations')
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE expert_loads DROP COLUMN async_chats')  # its CHECK is its own: it goes with it
    else:
        op.drop_constraint(op.f('ck_expert_loads_async_chats'), 'expert_loads', type_='check')
        op.drop_column('expert_loads', 'async_chats')
    op.drop_index('uq_conversations_one_open', table_name='conversations')
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_conversations_handed_back'), type_='check')
        batch_op.drop_column('handed_back')
        batch_op.drop_column('visitor_email_consent_at')
        batch_op.drop_column('visitor_email')
        batch_op.drop_constraint(op.f('ck_conversations_conversation_status'), type_='check')
        batch_op.alter_column('status', existing_type=sa.String(12), type_=sa.String(9), existing_nullable=False)
        batch_op.create_check_constraint('conversation_status', _statuses(STATUSES_BEFORE))
    op.create_index('uq_conversations_one_live', 'conversations', ['brand_id', 'visitor_token_hash'],
                    unique=True, sqlite_where=LIVE, postgresql_where=LIVE)
