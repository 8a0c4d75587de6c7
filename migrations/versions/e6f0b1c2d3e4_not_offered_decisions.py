"""Decisions explained: the hours in which a brand's chats were offered to other experts while an expert was online

One "not offered" decision per expert, brand and clock hour at most: a partial unique index on `expert_decisions`
(expert, brand, hour) for the rows of that reason, so two passes over one hour record it once; and an index on
the offers' creation time, by which the hourly pass reads an hour's offers.

Revision ID: e6f0b1c2d3e4
Revises: e3c0a1b2c3d4
Create Date: 2026-12-07 04:10:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e6f0b1c2d3e4'
down_revision = 'e3c0a1b2c3d4'
branch_labels = None
depends_on = None

WHERE = "reason_code = 'not_offered'"


def upgrade():
    op.create_index('ix_offers_created_at', 'offers', ['created_at'])
    op.create_index('uq_expert_decisions_not_offered_hour', 'expert_decisions',
                    ['expert_id', 'brand_id', 'subject_id'], unique=True,
                    sqlite_where=sa.text(WHERE), postgresql_where=sa.text(WHERE))


def downgrade():
    op.drop_index('uq_expert_decisions_not_offered_hour', table_name='expert_decisions')
    op.drop_index('ix_offers_created_at', table_name='offers')
