"""earning disputes and reviews

A brand's dispute of an answered chat, and finance's or ops' decision on a disputed or flagged earning
(released or reversed): the earning stays held until it is decided.

Revision ID: 3746225e869c
Revises: 0dbca1514ac3
Create Date: 2026-11-29 20:20:04.043958

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3746225e869c'
down_revision = '0dbca1514ac3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('earnings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('disputed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('dispute_reason', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('disputed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('decision', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('decision_note', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('decided_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('decided_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_earnings_disputed_by_id_users'), 'users', ['disputed_by_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_earnings_decided_by_id_users'), 'users', ['decided_by_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('earnings', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_earnings_decided_by_id_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_earnings_disputed_by_id_users'), type_='foreignkey')
        batch_op.drop_column('decided_by_id')
        batch_op.drop_column('decided_at')
        batch_op.drop_column('decision_note')
        batch_op.drop_column('decision')
        batch_op.drop_column('disputed_by_id')
        batch_op.drop_column('dispute_reason')
        batch_op.drop_column('disputed_at')
