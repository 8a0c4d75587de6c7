"""Expert account closure: when an expert closed their account, and a keyed digest of their former e-mail

`expert_profiles.closed_at` marks a closed (pseudonymised) expert; `users.erased_email_digest` holds an HMAC of the
address a closed account had, so a log-in with it is told the account is closed without the address being kept.

Revision ID: e2b0c1d2e3f4
Revises: e5e0a1b2c3d4
Create Date: 2026-12-07 00:00:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e2b0c1d2e3f4'
down_revision = 'e5e0a1b2c3d4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('expert_profiles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed_at', sa.DateTime(), nullable=True))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erased_email_digest', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_users_erased_email_digest', ['erased_email_digest'], unique=False)


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index('ix_users_erased_email_digest')
        batch_op.drop_column('erased_email_digest')
    with op.batch_alter_table('expert_profiles', schema=None) as batch_op:
        batch_op.drop_column('closed_at')
