"""expert status fields

The profile fields a vetting decision names (a rejection's "fix these"), so a rejected applicant sees the
reason next to each field before resubmitting.

Revision ID: a3c71e5d9b28
Revises: 5b2c9e7a1d40
Create Date: 2026-12-02 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a3c71e5d9b28'
down_revision = '5b2c9e7a1d40'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('expert_profiles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status_fields', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('expert_profiles', schema=None) as batch_op:
        batch_op.drop_column('status_fields')
