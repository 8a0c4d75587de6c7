"""64-bit ids on PostgreSQL, and the database keeps one live conversation, one pending invitation

On PostgreSQL every INTEGER column (ids, foreign keys and the other plain integers the models declare as
`int`) becomes BIGINT, with the sequences that number the ids; the columns are read off the live schema, so
tables added meanwhile are covered too. SQLite's integers are 64-bit already: its types stay.

Two unique indexes hold what the services check, so two requests at once cannot both pass the check:
- one live (waiting, offered or active) conversation per visitor token and brand. Live duplicates are
  resolved first as the routing sweep would resolve them minutes later: the visitor's page follows one of
  them (the active one, else the one it polled last) and the others, still queued, end as abandoned
  (reason `left`), their pending offer rescinded and the load counters moved as `end_conversation` moves
  them. Two chats with an expert in each are never ended here: the migration stops and names them.
- one pending (neither accepted nor withdrawn, expired or not) invitation per address and brand. Addresses of
  pending invitations are lower-cased, as the service stores them; of duplicates the newest stays pending and
  the older ones are withdrawn (revoked_at), as inviting an address again now withdraws its expired one.
Closure days were unique per brand from the start (uq_brand_closures_brand_day).

Revision ID: e2b8d4f01c26
Revises: d1a7c3e90b15
Create Date: 2026-12-06 05:10:00.000000

"""
import datetime as dt
from collections import defaultdict

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e2b8d4f01c26'
down_revision = 'd1a7c3e90b15'
branch_labels = None
depends_on = None

LIVE_CONVERSATION = sa.text("status IN ('waiting', 'offered', 'active')")
PENDING_INVITATION = sa.text("accepted_at IS NULL AND revoked_at IS NULL")
# The columns that were BIGINT before this revision (money and Unix times), which a downgrade leaves alone.
BIGINT_BEFORE = {
    ('brand_loads', 'month_committed_cents'),
    ('brands', 'monthly_budget_cents'),
    ('ledger_entries', 'amount_cents'),
    ('payout_items', 'amount_cents'),
    ('stripe_accounts', 'event_created'),
}


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        _retype('integer', 'bigint')
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)  # the schema stores naive UTC
    _end_duplicate_live_conversations(now)
    _withdraw_duplicate_pending_invitations(now)
    op.create_index('uq_conversations_one_live', 'conversations', ['brand_id', 'visitor_token_hash'],
                    unique=True, sqlite_where=LIVE_CONVERSATION, postgresql_where=LIVE_CONVERSATION)
    op.create_index('uq_brand_invitations_one_pending', 'brand_invitations', ['brand_id', 'email'],
                    unique=True, sqlite_where=PENDING_INVITATION, postgresql_where=PENDING_INVITATION)


def downgrade():
    op.drop_index('uq_brand_invitations_one_pending', table_name='brand_invitations')
    op.drop_index('uq_conversations_one_live', table_name='conversations')
    if op.get_bind().dialect.name == 'postgresql':
        # Fails (and changes nothing) if an id has grown past 2^31 - 1.
        _retype('bigint', 'integer', keep=BIGINT_BEFORE)


# PostgreSQL: column types, read off the live schema.

def _retype(old, new, keep=frozenset()):
    """Turn every `old` column of the current schema into `new` (but those in `keep`), each table rewritten
    once, with the sequences that number them. A stored generated column that is one of them, or is computed
    from one, cannot stay while they change: it is dropped and added back, with its indexes and constraints."""
    bind = op.get_bind()
    columns = defaultdict(list)
    for table, column in bind.execute(sa.text(
            "SELECT c.relname, a.attname FROM pg_attribute a "
            "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND a.attnum > 0 "
            "AND NOT a.attisdropped AND format_type(a.atttypid, NULL) = :old "
            "ORDER BY c.relname, a.attnum"), {'old': old}):
        if (table, column) not in keep:
            columns[table].append(column)
    for table, names in columns.items():
        generated = _generated_columns(table, set(names))
        for column in generated:
            op.execute(f'ALTER TABLE {_quote(table)} DROP COLUMN {_quote(column["name"])}')
        plain = [name for name in names if name not in {column['name'] for column in generated}]
        if plain:
            op.execute(f'ALTER TABLE {_quote(table)} ' + ', '.join(
                f'ALTER COLUMN {_quote(name)} TYPE {new}' for name in plain))
        for column in generated:
            column_type = new if column['name'] in names else column['type']
            op.execute(f'ALTER TABLE {_quote(table)} ADD COLUMN {_quote(column["name"])} {column_type} '
                       f'GENERATED ALWAYS AS {column["expression"]} STORED'
                       + (' NOT NULL' if column['not_null'] else ''))
            for statement in column['dependents']:
                op.execute(statement)
        for name in plain:
            sequence = bind.scalar(sa.text("SELECT pg_get_serial_sequence(:table, :column)"),
                                   {'table': _quote(table), 'column': name})
            if sequence is not None and bind.scalar(sa.text(
                    "SELECT format_type(seqtypid, NULL) FROM pg_sequence WHERE seqrelid = CAST(:s AS regclass)"),
                    {'s': sequence}) == old:
                op.execute(f'ALTER SEQUENCE {sequence} AS {new}')


def _generated_columns(table, changing):
    """The table's stored generated columns that are among `changing` or computed from one of them: their
    definition, and the statements that restore the indexes and constraints built on them."""
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT a.attnum, a.attname, a.attnotnull, format_type(a.atttypid, a.atttypmod) AS type, "
        "pg_get_expr(d.adbin, d.adrelid) AS expression, "
        "ARRAY(SELECT u.attname FROM pg_depend p JOIN pg_attribute u "
        "      ON u.attrelid = p.refobjid AND u.attnum = p.refobjsubid "
        "      WHERE p.classid = 'pg_attrdef'::regclass AND p.objid = d.oid "
        "      AND p.refclassid = 'pg_class'::regclass AND p.refobjsubid <> a.attnum) AS uses "
        "FROM pg_attribute a JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
        "WHERE a.attrelid = CAST(:table AS regclass) AND a.attgenerated = 's' AND NOT a.attisdropped"),
        {'table': _quote(table)}).all()
    found = []
    for row in rows:
        if row.attname not in changing and not changing & set(row.uses):
            continue
        constraints = [
            f'ALTER TABLE {_quote(table)} ADD CONSTRAINT {_quote(name)} {definition}'
            for name, definition in bind.execute(sa.text(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = CAST(:table AS regclass) AND :attnum = ANY(conkey)"),
                {'table': _quote(table), 'attnum': row.attnum})
        ]
        indexes = list(bind.scalars(sa.text(
            "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "WHERE i.indrelid = CAST(:table AS regclass) "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) "
            "AND EXISTS (SELECT 1 FROM pg_depend p WHERE p.classid = 'pg_class'::regclass "
            "            AND p.objid = i.indexrelid AND p.refobjid = i.indrelid AND p.refobjsubid = :attnum)"),
            {'table': _quote(table), 'attnum': row.attnum}))
        found.append({'name': row.attname, 'not_null': row.attnotnull, 'type': row.type,
                      'expression': row.expression, 'dependents': constraints + indexes})
    return found


def _quote(name):
    return op.get_bind().dialect.identifier_preparer.quote(name)


# Duplicates the new unique indexes would refuse.

def _end_duplicate_live_conversations(now):
    bind = op.get_bind()
    live = bind.execute(sa.text(
        "SELECT c.id, c.brand_id, c.visitor_token_hash, c.status, c.visitor_seen_at FROM conversations c "
        "WHERE c.status IN ('waiting', 'offered', 'active') AND EXISTS ("
        "  SELECT 1 FROM conversations o WHERE o.brand_id = c.brand_id "
        "  AND o.visitor_token_hash = c.visitor_token_hash AND o.id <> c.id "
        "  AND o.status IN ('waiting', 'offered', 'active'))")).all()
    groups = defaultdict(list)
    for row in live:
        groups[(row.brand_id, row.visitor_token_hash)].append(row)
    both_active = [sorted(row.id for row in rows if row.status == 'active') for rows in groups.values()]
    both_active = [ids for ids in both_active if len(ids) > 1]
    if both_active:
        raise RuntimeError(
            f'one visitor has more than one chat with an expert (conversations {both_active[:20]}); the '
            'experts must end all but one of each before this migration can run')
    for rows in groups.values():
        followed = max(rows, key=lambda row: (row.status == 'active', row.visitor_seen_at, row.id))
        for row in rows:
            if row is not followed:
                _abandon(row, now)


def _abandon(conversation, now):
    """End a queued conversation as abandoned by its visitor, as `end_conversation` does."""
    bind = op.get_bind()
    offer = bind.execute(sa.text(
        "SELECT id, expert_id FROM offers WHERE conversation_id = :id AND status = 'pending'"),
        {'id': conversation.id}).first()
    if offer is not None:
        bind.execute(sa.text("UPDATE offers SET status = 'rescinded', decided_at = :now WHERE id = :id"),
                     {'id': offer.id, 'now': now})
        bind.execute(sa.text("UPDATE expert_loads SET pending_offers = pending_offers - 1 WHERE expert_id = :id"),
                     {'id': offer.expert_id})
        bind.execute(sa.text("UPDATE brand_loads SET pending_offers = pending_offers - 1 WHERE brand_id = :id"),
                     {'id': conversation.brand_id})
    bind.execute(sa.text(
        "UPDATE conversations SET status = 'abandoned', end_reason = 'left', closed_at = :now WHERE id = :id"),
        {'id': conversation.id, 'now': now})
    bind.execute(sa.text(
        "UPDATE brand_loads SET open_conversations = open_conversations - 1 WHERE brand_id = :id"),
        {'id': conversation.brand_id})


def _withdraw_duplicate_pending_invitations(now):
    op.execute(sa.text(
        "UPDATE brand_invitations SET email = lower(email) "
        "WHERE accepted_at IS NULL AND revoked_at IS NULL AND email <> lower(email)"))
    # The newest stays pending whatever order the rows are updated in, so each older one finds a newer one.
    op.get_bind().execute(sa.text(
        "UPDATE brand_invitations SET revoked_at = :now "
        "WHERE accepted_at IS NULL AND revoked_at IS NULL AND EXISTS ("
        "  SELECT 1 FROM brand_invitations newer WHERE newer.brand_id = brand_invitations.brand_id "
        "  AND newer.email = brand_invitations.email AND newer.accepted_at IS NULL AND newer.revoked_at IS NULL "
        "  AND (newer.created_at > brand_invitations.created_at "
        "       OR (newer.created_at = brand_invitations.created_at AND newer.id > brand_invitations.id)))"),
        {'now': now})
