"""FAQ bot: a brand's knowledge base, its bot's settings, and the bot's turns in a conversation

`faq_entries` (question, answer, language, tags, the brand's `ref` unique per brand; a proposal by an expert keeps
its author for the credit), `faq_settings` (one row per brand: on or off, threshold, resolution time, credit,
synonyms, and the version a process's index compares), `bot_turns` (each visitor message the bot read: answered
with an entry, or handed over with a reason). A conversation may be `bot` (with the bot, before any person: open)
or `resolved` (ended by the bot), ending `bot_confirmed` or `bot_unconfirmed`, and `handed_over_at` says when the bot
let a person have it (the expert's service level counts from then); a message's sender may be `bot`.

The one-open-conversation index is dropped and made again around the rebuild of `conversations` on SQLite (the
copy would lose its condition), now with `bot` among the open statuses.

Revision ID: c8f1a2b3d4e5
Revises: b5c81e4d2f07
Create Date: 2026-12-06 21:00:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c8f1a2b3d4e5'
down_revision = 'b5c81e4d2f07'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
STATUSES = ('waiting', 'offered', 'active', 'asynchronous', 'closed', 'abandoned', 'missed', 'capped')
END_REASONS = ('expert', 'visitor', 'inactivity', 'left', 'max_wait', 'closed_hours', 'max_concurrent', 'daily_cap',
               'monthly_budget', 'max_active_experts')
SENDERS = ('visitor', 'expert', 'system')
OPEN_BEFORE = ('waiting', 'offered', 'active', 'asynchronous')


def _in(column, names):
    return sa.text("{} IN ({})".format(column, ", ".join(f"'{name}'" for name in names)))


def _conversations(statuses, end_reasons, open_statuses):
    op.drop_index('uq_conversations_one_open', table_name='conversations')
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        if statuses == STATUSES:
            batch_op.drop_column('handed_over_at')
        else:
            batch_op.add_column(sa.Column('handed_over_at', sa.DateTime(), nullable=True))
        batch_op.drop_constraint(op.f('ck_conversations_conversation_status'), type_='check')
        batch_op.create_check_constraint('conversation_status', _in('status', statuses))
        batch_op.drop_constraint(op.f('ck_conversations_end_reason'), type_='check')
        batch_op.create_check_constraint('end_reason', _in('end_reason', end_reasons))
    op.create_index('uq_conversations_one_open', 'conversations', ['brand_id', 'visitor_token_hash'], unique=True,
                    sqlite_where=_in('status', open_statuses), postgresql_where=_in('status', open_statuses))
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_messages_message_sender'), type_='check')
        batch_op.create_check_constraint('message_sender', _in('sender', SENDERS if statuses == STATUSES
                                                               else (*SENDERS, 'bot')))


def upgrade():
    op.create_table('faq_entries',
    sa.Column('id', ID, nullable=False),
    sa.Column('brand_id', ID, nullable=False),
    sa.Column('ref', sa.String(length=64), nullable=False),
    sa.Column('lang', sa.String(length=2), nullable=False),
    sa.Column('question', sa.String(length=2000), nullable=False),
    sa.Column('answer', sa.String(length=2000), nullable=False),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('status', sa.Enum('active', 'proposed', 'rejected', name='faq_entry_status', native_enum=False,
                                create_constraint=True), nullable=False),
    sa.Column('author_expert_id', ID, nullable=True),
    sa.Column('source_conversation_id', ID, nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decided_by_id', ID, nullable=True),
    sa.ForeignKeyConstraint(['author_expert_id'], ['expert_profiles.id'],
                            name=op.f('fk_faq_entries_author_expert_id_expert_profiles'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_faq_entries_brand_id_brands'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_faq_entries_decided_by_id_users'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['source_conversation_id'], ['conversations.id'],
                            name=op.f('fk_faq_entries_source_conversation_id_conversations'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_faq_entries')),
    sa.UniqueConstraint('brand_id', 'ref', name='uq_faq_entries_brand_ref')
    )
    with op.batch_alter_table('faq_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_faq_entries_author_expert_id'), ['author_expert_id'], unique=False)
        batch_op.create_index('ix_faq_entries_brand_status', ['brand_id', 'status'], unique=False)

    op.create_table('faq_settings',
    sa.Column('brand_id', ID, nullable=False),
    sa.Column('bot_enabled', sa.Boolean(), nullable=False),
    sa.Column('threshold', sa.Float(), nullable=False),
    sa.Column('resolve_after_minutes', ID, nullable=False),
    sa.Column('credit_cents', ID, nullable=False),
    sa.Column('synonyms', sa.Text(), nullable=False),
    sa.Column('version', ID, nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('threshold >= 0 AND threshold <= 1', name=op.f('ck_faq_settings_threshold')),
    sa.CheckConstraint('resolve_after_minutes BETWEEN 1 AND 1440', name=op.f('ck_faq_settings_resolve_after')),
    sa.CheckConstraint('credit_cents >= 0 AND credit_cents <= 10000', name=op.f('ck_faq_settings_credit')),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_faq_settings_brand_id_brands'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('brand_id', name=op.f('pk_faq_settings'))
    )

    op.create_table('bot_turns',
    sa.Column('id', ID, nullable=False),
    sa.Column('conversation_id', ID, nullable=False),
    sa.Column('brand_id', ID, nullable=False),
    sa.Column('visitor_seq', ID, nullable=False),
    sa.Column('outcome', sa.Enum('answered', 'handed_over', name='bot_turn_outcome', native_enum=False,
                                 create_constraint=True), nullable=False),
    sa.Column('reason', sa.String(length=30), nullable=False),
    sa.Column('entry_id', ID, nullable=True),
    sa.Column('confidence', sa.Float(), nullable=True),
    sa.Column('bot_seq', ID, nullable=True),
    sa.Column('helpful', sa.Boolean(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_bot_turns_brand_id_brands'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'],
                            name=op.f('fk_bot_turns_conversation_id_conversations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['entry_id'], ['faq_entries.id'], name=op.f('fk_bot_turns_entry_id_faq_entries'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bot_turns')),
    sa.UniqueConstraint('conversation_id', 'visitor_seq', name='uq_bot_turns_conversation_visitor_seq')
    )
    with op.batch_alter_table('bot_turns', schema=None) as batch_op:
        batch_op.create_index('ix_bot_turns_brand_created', ['brand_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_bot_turns_entry_id'), ['entry_id'], unique=False)

    _conversations((*STATUSES, 'bot', 'resolved'), (*END_REASONS, 'bot_confirmed', 'bot_unconfirmed'),
                   (*OPEN_BEFORE, 'bot'))


def downgrade():
    conversations = sa.table('conversations', sa.column('status'), sa.column('end_reason'))
    # A conversation with the bot goes back to having been let in unanswered; one the bot ended, to abandoned.
    op.execute(sa.update(conversations).where(conversations.c.status == 'bot').values(status='waiting'))
    op.execute(sa.update(conversations).where(conversations.c.status == 'resolved')
               .values(status='abandoned', end_reason='left'))
    messages = sa.table('messages', sa.column('sender'))
    op.execute(sa.update(messages).where(messages.c.sender == 'bot').values(sender='system'))
    _conversations(STATUSES, END_REASONS, OPEN_BEFORE)
    with op.batch_alter_table('bot_turns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bot_turns_entry_id'))
        batch_op.drop_index('ix_bot_turns_brand_created')
    op.drop_table('bot_turns')
    op.drop_table('faq_settings')
    with op.batch_alter_table('faq_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_faq_entries_brand_status')
        batch_op.drop_index(batch_op.f('ix_faq_entries_author_expert_id'))
    op.drop_table('faq_entries')
