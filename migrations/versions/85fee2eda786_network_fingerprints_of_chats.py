"""network fingerprints of chats

Keyed fingerprints of the visitor's and the accepting expert's network address on each conversation (never
the addresses): equal ones flag the earning for review.

Revision ID: 85fee2eda786
Revises: 3746225e869c
Create Date: 2026-11-29 20:22:50.377922

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '85fee2eda786'
down_revision = '3746225e869c'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('visitor_network', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('expert_network', sa.String(length=32), nullable=True))


def downgrade():
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_column('expert_network')
        batch_op.drop_column('visitor_network')
