"""Personal data retention: each brand's period, and which conversations were anonymised

`brands.retention_months` (1 to 120, 12 by default): how long a brand's transcripts, visitor contacts,
attachments and network fingerprints are kept after a conversation ends. `conversations.anonymised_at`: when the
retention job (or the erasure of a contact) removed a conversation's text, files and identifiers; a partial index
on the ended conversations not yet anonymised keeps the job's query cheap however many were done before.

Revision ID: e1a0c4d7b912
Revises: e2b0c1d2e3f4
Create Date: 2026-12-07 00:10:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e1a0c4d7b912'
down_revision = 'e2b0c1d2e3f4'
branch_labels = None
depends_on = None

NOT_ANONYMISED = sa.text("anonymised_at IS NULL")


def upgrade():
    with op.batch_alter_table('brands', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retention_months', sa.Integer(), server_default='12', nullable=False))
        batch_op.create_check_constraint('retention_months', 'retention_months BETWEEN 1 AND 120')
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('anonymised_at', sa.DateTime(), nullable=True))
        batch_op.create_index('ix_conversations_retention', ['brand_id', 'closed_at'], unique=False,
                              sqlite_where=NOT_ANONYMISED, postgresql_where=NOT_ANONYMISED)


def downgrade():
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_index('ix_conversations_retention', sqlite_where=NOT_ANONYMISED,
                            postgresql_where=NOT_ANONYMISED)
        batch_op.drop_column('anonymised_at')
    with op.batch_alter_table('brands', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_brands_retention_months'), type_='check')
        batch_op.drop_column('retention_months')
