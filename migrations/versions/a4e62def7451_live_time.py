"""live time: a conversation counts the seconds it was active, the capacity planner's handle time

Acceptance to close counted the days an asynchronous visitor was away, when the chat held no live slot; each
conversation now sums its active stretches (live_seconds) and notes when the current one began (active_since).
Conversations from before: closed ones whose visitor never gave an address (so never went asynchronous) get acceptance
to close, active ones begin their stretch at acceptance; those whose visitor gave an address may have been away,
so their live time is unknown (null) and the planner leaves them out.

Revision ID: a4e62def7451
Revises: 4e65a60e8267
Create Date: 2026-12-06 14:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a4e62def7451'
down_revision = '4e65a60e8267'
branch_labels = None
depends_on = None


def _seconds_between(start: str, end: str) -> str:
    if op.get_bind().dialect.name == 'postgresql':
        return f"CAST(FLOOR(EXTRACT(EPOCH FROM {end})) - FLOOR(EXTRACT(EPOCH FROM {start})) AS BIGINT)"
    return f"CAST(strftime('%s', {end}) AS INTEGER) - CAST(strftime('%s', {start}) AS INTEGER)"


def upgrade():
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('live_seconds', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), server_default='0', nullable=True))
        batch_op.add_column(sa.Column('active_since', sa.DateTime(), nullable=True))
    # Never accepted: no live time (0). Accepted: unknown (null), unless its visitor never gave an address and it is
    # closed (acceptance to close) or active (its stretch began at acceptance). The rest (asynchronous, or handed
    # back to the queue after a reopen) may have had stretches apart: unknown.
    op.execute("UPDATE conversations SET live_seconds = NULL WHERE accepted_at IS NOT NULL")
    seconds = _seconds_between('accepted_at', 'closed_at')
    op.execute(f"UPDATE conversations SET live_seconds = CASE WHEN {seconds} > 0 THEN {seconds} ELSE 0 END "
               "WHERE accepted_at IS NOT NULL AND closed_at IS NOT NULL AND status = 'closed' "
               "AND visitor_email_consent_at IS NULL")
    op.execute("UPDATE conversations SET live_seconds = 0, active_since = accepted_at "
               "WHERE accepted_at IS NOT NULL AND status = 'active' AND visitor_email_consent_at IS NULL")


def downgrade():
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_column('active_since')
        batch_op.drop_column('live_seconds')
