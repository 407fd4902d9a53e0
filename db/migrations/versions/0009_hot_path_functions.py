"""two server-side functions for the purchase hot path on PostgreSQL

`atelier_log_append(event_ids, leaf_hashes)` appends leaves to the transparency log: it
reserves the leaf numbers (the UPDATE that takes the log's lock), writes the leaves and every
complete-subtree hash they finish (RFC 9162: SHA-256(0x01 || left || right)), and returns
the log's size before them. The log's lock is then held for one statement and the commit,
not for four round trips. `marketplace.transparency.append_leaves` calls it on PostgreSQL and
does the same work in Python on SQLite; `atelier log verify` recomputes every hash from the
events either way.

`atelier_post_ledger(kind, memo, created_at, user_ids, system_accounts, roles, amounts,
artwork_ids)` writes a ledger transaction, its entries and the wallets' balances in one
statement; `marketplace.ledger.post_transaction` checks the legs first (balanced, non-zero).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

LOG_APPEND = r"""
CREATE OR REPLACE FUNCTION atelier_log_append(p_event_ids bigint[], p_leaf_hashes bytea[])
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v_count integer := cardinality(p_event_ids);
    v_start bigint;
    v_index bigint;
    v_level integer;
    v_hash bytea;
    v_left bytea;
BEGIN
    IF v_count IS NULL OR v_count = 0 OR v_count <> cardinality(p_leaf_hashes) THEN
        RAISE EXCEPTION 'atelier_log_append needs as many leaf hashes as events';
    END IF;
    UPDATE log_state SET size = size + v_count WHERE id = 1
        RETURNING size - v_count INTO v_start;
    FOR i IN 1 .. v_count LOOP
        v_index := v_start + i - 1;
        v_hash := p_leaf_hashes[i];
        INSERT INTO log_leaves (leaf_index, event_id, leaf_hash)
            VALUES (v_index, p_event_ids[i], v_hash);
        INSERT INTO log_nodes (level, idx, hash) VALUES (0, v_index, v_hash);
        v_level := 0;
        WHILE v_index % 2 = 1 LOOP
            SELECT n.hash INTO v_left FROM log_nodes n
                WHERE n.level = v_level AND n.idx = v_index - 1;
            IF v_left IS NULL THEN
                RAISE EXCEPTION 'the log is missing the stored hash (%, %)', v_level, v_index - 1;
            END IF;
            v_hash := sha256('\x01'::bytea || v_left || v_hash);
            v_level := v_level + 1;
            v_index := v_index / 2;
            INSERT INTO log_nodes (level, idx, hash) VALUES (v_level, v_index, v_hash);
        END LOOP;
    END LOOP;
    RETURN v_start;
END
$$
"""

POST_LEDGER = r"""
CREATE OR REPLACE FUNCTION atelier_post_ledger(
    p_kind text, p_memo text, p_created_at timestamptz, p_user_ids bigint[],
    p_system_accounts text[], p_roles text[], p_amounts bigint[], p_artwork_ids bigint[]
) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v_id bigint;
BEGIN
    INSERT INTO ledger_transactions (kind, memo, created_at)
        VALUES (p_kind, p_memo, p_created_at) RETURNING id INTO v_id;
    INSERT INTO ledger_entries (transaction_id, user_id, system_account, role, amount_cents,
                                artwork_id)
        SELECT v_id, e.user_id, e.system_account, e.role, e.amount, e.artwork_id
        FROM unnest(p_user_ids, p_system_accounts, p_roles, p_amounts, p_artwork_ids)
            WITH ORDINALITY AS e(user_id, system_account, role, amount, artwork_id, n)
        ORDER BY e.n;
    UPDATE users u SET balance_cents = u.balance_cents + d.delta
        FROM (SELECT e.user_id, sum(e.amount) AS delta
              FROM unnest(p_user_ids, p_amounts) AS e(user_id, amount)
              WHERE e.user_id IS NOT NULL GROUP BY e.user_id) d
        WHERE u.id = d.user_id AND d.delta <> 0;
    RETURN v_id;
END
$$
"""


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    # through the driver without parameters: the functions' own '%' are not placeholders
    with bind.connection.driver_connection.cursor() as cursor:
        cursor.execute(LOG_APPEND)
        cursor.execute(POST_LEDGER)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP FUNCTION IF EXISTS atelier_log_append(bigint[], bytea[])")
    op.execute(
        "DROP FUNCTION IF EXISTS atelier_post_ledger(text, text, timestamptz, bigint[], "
        "text[], text[], bigint[], bigint[])"
    )
