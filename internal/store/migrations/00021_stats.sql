-- The statistics of the dedicated interface (the TPP API, channel 'api') and
-- of the customer interface (internet banking and consent pages, channel
-- 'web'), as EBA RTS Arts. 32-33 and Guidelines 2018/07 ask (internal/stats).
--
-- stats_minute: per-minute buckets, one row per minute, channel, dialect and
-- service, never one row per call. Every column but the key is a count or a
-- sum, so that several nodes add their counts into the same row (INSERT ...
-- ON CONFLICT DO UPDATE adding). h00..h22 are a fixed latency histogram
-- (bounds in internal/stats.Bounds) so that percentiles aggregate over any
-- range of rows. Instants are microseconds since the Unix epoch (UTC).
--
-- stats_downtime: intervals in which a node saw its channel down (five
-- consecutive requests without an answer within 30 s); open while ended_at is
-- NULL, last_seen is the node's heartbeat while it lasts.
--
-- stats_maintenance: planned outages recorded in the back office ahead of
-- their start; while one runs the API answers 503 with Retry-After.

-- +goose Up
CREATE TABLE stats_minute (
    minute      BIGINT NOT NULL,
    channel     TEXT NOT NULL CHECK (channel IN ('api', 'web')),
    dialect     TEXT NOT NULL,
    service     TEXT NOT NULL,
    calls       BIGINT NOT NULL DEFAULT 0,
    served      BIGINT NOT NULL DEFAULT 0,
    refused     BIGINT NOT NULL DEFAULT 0,
    failed      BIGINT NOT NULL DEFAULT 0,
    timeouts    BIGINT NOT NULL DEFAULT 0,
    planned     BIGINT NOT NULL DEFAULT 0,
    latency_sum BIGINT NOT NULL DEFAULT 0,
    latency_max BIGINT NOT NULL DEFAULT 0,
    h00 BIGINT NOT NULL DEFAULT 0,
    h01 BIGINT NOT NULL DEFAULT 0,
    h02 BIGINT NOT NULL DEFAULT 0,
    h03 BIGINT NOT NULL DEFAULT 0,
    h04 BIGINT NOT NULL DEFAULT 0,
    h05 BIGINT NOT NULL DEFAULT 0,
    h06 BIGINT NOT NULL DEFAULT 0,
    h07 BIGINT NOT NULL DEFAULT 0,
    h08 BIGINT NOT NULL DEFAULT 0,
    h09 BIGINT NOT NULL DEFAULT 0,
    h10 BIGINT NOT NULL DEFAULT 0,
    h11 BIGINT NOT NULL DEFAULT 0,
    h12 BIGINT NOT NULL DEFAULT 0,
    h13 BIGINT NOT NULL DEFAULT 0,
    h14 BIGINT NOT NULL DEFAULT 0,
    h15 BIGINT NOT NULL DEFAULT 0,
    h16 BIGINT NOT NULL DEFAULT 0,
    h17 BIGINT NOT NULL DEFAULT 0,
    h18 BIGINT NOT NULL DEFAULT 0,
    h19 BIGINT NOT NULL DEFAULT 0,
    h20 BIGINT NOT NULL DEFAULT 0,
    h21 BIGINT NOT NULL DEFAULT 0,
    h22 BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (minute, channel, dialect, service)
);

CREATE TABLE stats_downtime (
    id         TEXT PRIMARY KEY,
    channel    TEXT NOT NULL CHECK (channel IN ('api', 'web')),
    node       TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    ended_at   BIGINT,
    last_seen  BIGINT NOT NULL,
    requests   INTEGER NOT NULL
);
CREATE INDEX stats_downtime_started ON stats_downtime (started_at);

CREATE TABLE stats_maintenance (
    id           TEXT PRIMARY KEY,
    channel      TEXT NOT NULL CHECK (channel IN ('api', 'web')),
    starts_at    BIGINT NOT NULL,
    ends_at      BIGINT NOT NULL,
    announced_at BIGINT NOT NULL,
    reason       TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    cancelled_at BIGINT,
    CHECK (ends_at > starts_at)
);
CREATE INDEX stats_maintenance_ends ON stats_maintenance (ends_at);

-- +goose Down
DROP TABLE stats_maintenance;
DROP TABLE stats_downtime;
DROP TABLE stats_minute;
