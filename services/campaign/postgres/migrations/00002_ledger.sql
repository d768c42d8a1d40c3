-- +goose Up
-- Running totals live on the campaign row and change in the same transaction as the ledger row.
ALTER TABLE campaigns
    ADD COLUMN raised_lamports     NUMERIC(20,0) NOT NULL DEFAULT 0 CHECK (raised_lamports  >= 0 AND raised_lamports  <= 18446744073709551615),
    ADD COLUMN settled_lamports    NUMERIC(20,0) NOT NULL DEFAULT 0 CHECK (settled_lamports >= 0 AND settled_lamports <= 18446744073709551615),
    ADD COLUMN pending_lamports    NUMERIC(20,0) NOT NULL DEFAULT 0 CHECK (pending_lamports >= 0 AND pending_lamports <= 18446744073709551615),
    ADD COLUMN late_lamports       NUMERIC(20,0) NOT NULL DEFAULT 0 CHECK (late_lamports    >= 0 AND late_lamports    <= 18446744073709551615),
    ADD COLUMN contributor_count   BIGINT NOT NULL DEFAULT 0 CHECK (contributor_count >= 0),
    ADD COLUMN contribution_count  BIGINT NOT NULL DEFAULT 0 CHECK (contribution_count >= 0),
    ADD COLUMN late_count          BIGINT NOT NULL DEFAULT 0 CHECK (late_count >= 0),
    ADD COLUMN unattributed_count  BIGINT NOT NULL DEFAULT 0 CHECK (unattributed_count >= 0);

-- The ledger: one row per transfer for ever, keyed by (signature, transfer_index). state is the
-- latest commitment; a dropped row is a tombstone that a late confirmed cannot resurrect.
CREATE TABLE contributions (
    id             BIGSERIAL PRIMARY KEY,
    signature      TEXT NOT NULL,
    transfer_index INTEGER NOT NULL CHECK (transfer_index >= 0),
    campaign_id    UUID REFERENCES campaigns (id),
    escrow         TEXT NOT NULL,
    payer          TEXT NOT NULL,
    amount         NUMERIC(20,0) NOT NULL CHECK (amount >= 0 AND amount <= 18446744073709551615),
    mint           TEXT NOT NULL DEFAULT '',
    decimals       SMALLINT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('confirmed','finalized','dropped')),
    late           BOOLEAN NOT NULL DEFAULT FALSE,
    memo           TEXT NOT NULL DEFAULT '',
    reference      TEXT NOT NULL DEFAULT '',
    slot           BIGINT NOT NULL,
    block_time     BIGINT NOT NULL,
    observed_at    TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL,
    UNIQUE (signature, transfer_index)
);
CREATE INDEX contributions_escrow ON contributions (escrow, id DESC);
CREATE INDEX contributions_campaign ON contributions (campaign_id, id DESC);

-- Per-campaign contributors: distinct counts and per-payer totals without scanning the ledger.
-- transfers counts the payer's live (confirmed or finalized) transfers; lamports sums their SOL.
CREATE TABLE contributors (
    campaign_id UUID NOT NULL REFERENCES campaigns (id),
    payer       TEXT NOT NULL,
    lamports    NUMERIC(20,0) NOT NULL DEFAULT 0 CHECK (lamports >= 0 AND lamports <= 18446744073709551615),
    transfers   BIGINT NOT NULL DEFAULT 0 CHECK (transfers >= 0),
    PRIMARY KEY (campaign_id, payer)
);

-- Transactional outbox: every state change writes its events here in the same transaction; the
-- relay publishes them to JetStream and deletes them.
CREATE TABLE outbox (
    id         BIGSERIAL PRIMARY KEY,
    subject    TEXT NOT NULL,
    msg_id     TEXT NOT NULL,
    payload    TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE outbox;
DROP TABLE contributors;
DROP TABLE contributions;
ALTER TABLE campaigns
    DROP COLUMN raised_lamports, DROP COLUMN settled_lamports, DROP COLUMN pending_lamports,
    DROP COLUMN late_lamports, DROP COLUMN contributor_count, DROP COLUMN contribution_count,
    DROP COLUMN late_count, DROP COLUMN unattributed_count;
