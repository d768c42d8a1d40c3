-- +goose Up
-- Money is NUMERIC(20,0): every uint64 (up to 18446744073709551615) fits exactly, which BIGINT
-- (signed, max 2^63-1) cannot promise. CHECKs keep every figure inside uint64.
CREATE TABLE campaigns (
    id                 UUID PRIMARY KEY,
    name               TEXT NOT NULL DEFAULT '',
    symbol             TEXT NOT NULL DEFAULT '',
    contract_address   TEXT NOT NULL,
    image_url          TEXT,
    wallet_address     TEXT NOT NULL,
    reference          TEXT NOT NULL UNIQUE,
    status             TEXT NOT NULL CHECK (status IN ('active','funded','completed','expired','cancelled')),
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL,
    expires_at         TIMESTAMPTZ NOT NULL,
    closed_at          TIMESTAMPTZ,
    campaign_type      TEXT,
    social_twitter     TEXT,
    social_website     TEXT,
    description        TEXT,
    cancel_reason      TEXT,
    goal_lamports      NUMERIC(20,0) NOT NULL CHECK (goal_lamports > 0 AND goal_lamports <= 18446744073709551615),
    revision           BIGINT NOT NULL DEFAULT 1
);

-- At most one open campaign per mint; the database enforces it even across replicas.
CREATE UNIQUE INDEX campaigns_one_open_per_mint ON campaigns (contract_address) WHERE status IN ('active','funded');
CREATE INDEX campaigns_created ON campaigns (created_at DESC, id DESC);
CREATE INDEX campaigns_mint ON campaigns (contract_address, created_at DESC);
CREATE INDEX campaigns_wallet ON campaigns (wallet_address);
CREATE INDEX campaigns_due ON campaigns (expires_at) WHERE status IN ('active','funded');

-- Token cache: what the pricer last said about a mint.
CREATE TABLE tokens (
    mint        TEXT PRIMARY KEY,
    name        TEXT NOT NULL DEFAULT '',
    symbol      TEXT NOT NULL DEFAULT '',
    decimals    SMALLINT NOT NULL DEFAULT 0,
    image_url   TEXT NOT NULL DEFAULT '',
    price_usd   TEXT NOT NULL DEFAULT '',
    liquidity   TEXT NOT NULL DEFAULT '',
    market_cap  TEXT NOT NULL DEFAULT '',
    volume_24h  TEXT NOT NULL DEFAULT '',
    launchpad   TEXT NOT NULL DEFAULT '',
    source      TEXT NOT NULL DEFAULT '',
    updated_at  TIMESTAMPTZ NOT NULL
);

-- Idempotency keys of create requests: a retried create returns the first campaign.
CREATE TABLE idempotency_keys (
    key          TEXT PRIMARY KEY,
    request_hash TEXT NOT NULL,
    campaign_id  UUID NOT NULL REFERENCES campaigns (id),
    created_at   TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE idempotency_keys;
DROP TABLE tokens;
DROP TABLE campaigns;
