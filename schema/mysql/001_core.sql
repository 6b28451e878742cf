-- Core tables of the trading database. Applied once, in file order, by `stackctl migrate`
-- (recorded in schema_migrations); every statement is also safe to run twice.

CREATE TABLE IF NOT EXISTS profile (
    ticker       VARCHAR(8)   NOT NULL PRIMARY KEY,
    company_name VARCHAR(128) NOT NULL,
    sector       VARCHAR(64)  NOT NULL,
    shares       BIGINT       NOT NULL CHECK (shares > 0)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

-- Settings shared by the job, the views and the dashboard. market_tz_offset is the UTC offset
-- of the market time zone (MARKET_TZ, Asia/Jakarta = +07:00); `stackctl migrate` keeps it in step.
CREATE TABLE IF NOT EXISTS settings (
    name  VARCHAR(64)  NOT NULL PRIMARY KEY,
    value VARCHAR(255) NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
INSERT IGNORE INTO settings (name, value) VALUES ('market_tz', 'Asia/Jakarta'), ('market_tz_offset', '+07:00');

-- One row per (micro-batch, market date, sector). processing_id = '<batch_id>:<date>:<sector>'
-- so a replayed batch rewrites exactly its own rows.
CREATE TABLE IF NOT EXISTS aggregated_data (
    processing_id VARCHAR(100)  NOT NULL PRIMARY KEY,
    batch_id      BIGINT        NOT NULL,
    processed_at  DATETIME(6)   NOT NULL,
    sector        VARCHAR(64)   NOT NULL,
    total_volume  BIGINT        NOT NULL,
    trades        BIGINT        NOT NULL DEFAULT 0,  -- number of trades behind total_volume
    `date`        DATE          NOT NULL,
    KEY aggregated_data_batch (batch_id),
    KEY aggregated_data_date_sector (`date`, sector)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

-- Write-ahead log of the aggregate path: the Kafka offset range of a batch is recorded before the
-- batch runs and the batch is marked committed only after its rows are written.
CREATE TABLE IF NOT EXISTS agg_batches (
    batch_id      BIGINT       NOT NULL PRIMARY KEY,
    topic         VARCHAR(249) NOT NULL,
    start_offsets TEXT         NOT NULL,  -- JSON {"partition": offset}, inclusive
    end_offsets   TEXT         NOT NULL,  -- JSON {"partition": offset}, exclusive
    planned_at    DATETIME(6)  NOT NULL,
    committed_at  DATETIME(6)  NULL,
    trades        BIGINT       NULL,
    KEY agg_batches_topic (topic, batch_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

-- Id blocks for producers: a producer reserves a contiguous range by bumping next_id in one
-- transaction, so ids never collide across restarts or instances.
CREATE TABLE IF NOT EXISTS id_blocks (
    topic   VARCHAR(249) NOT NULL PRIMARY KEY,
    next_id BIGINT       NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
