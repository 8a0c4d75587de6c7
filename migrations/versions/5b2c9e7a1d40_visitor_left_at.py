"""a live chat remembers when its visitor's page went; an expert may pause new chats


An active conversation whose visitor's page stops checking in for VISITOR_GRACE_SECONDS is marked with the
moment it went, so the expert sees that the visitor left (and can close the chat in one tap); a page that
checks in again clears it. An expert's `away` gains the reason `paused`: they switched new chats off
themselves, so a heartbeat does not bring them back.

Revision ID: 5b2c9e7a1d40
Revises: f4ff4cf2a89d
Create Date: 2026-12-06 02:20:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '5b2c9e7a1d40'
down_revision = 'f4ff4cf2a89d'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('visitor_left_at', sa.DateTime(), nullable=True))
    with op.batch_alter_table('expert_presence', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_expert_presence_away_reason'), type_='check')
        batch_op.create_check_constraint(
            'away_reason', sa.text("away_reason IN ('missed_offers', 'heartbeat_lost', 'paused')"))


def downgrade():
    op.execute("UPDATE expert_presence SET away_reason = 'missed_offers' WHERE away_reason = 'paused'")
    with op.batch_alter_table('expert_presence', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_expert_presence_away_reason'), type_='check')
        batch_op.create_check_constraint('away_reason', sa.text("away_reason IN ('missed_offers', 'heartbeat_lost')"))
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_column('visitor_left_at')
