"""reasons as codes: scaling decisions and fraud flags keep a code and figures, put in words when shown

A scaling decision keeps `reason_code` and `reason_params` instead of English words; decisions from before
keep their words in `reason` (reason_code NULL) and are shown as they are until they age out (30 days).
An earning keeps the figures of each fraud check that fired in `flag_params`.

Revision ID: c4e8a1f25d63
Revises: a3c71e5d9b28
Create Date: 2026-12-01 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4e8a1f25d63'
down_revision = 'a3c71e5d9b28'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMNs (a constant default): no table is rebuilt, on SQLite nor PostgreSQL.
    with op.batch_alter_table('scaling_decisions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason_code', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('reason_params', sa.JSON(), server_default=sa.text("'{}'"), nullable=False))
    with op.batch_alter_table('earnings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('flag_params', sa.JSON(), server_default=sa.text("'{}'"), nullable=False))


def downgrade():
    with op.batch_alter_table('earnings', schema=None) as batch_op:
        batch_op.drop_column('flag_params')
    with op.batch_alter_table('scaling_decisions', schema=None) as batch_op:
        batch_op.drop_column('reason_params')
        batch_op.drop_column('reason_code')
