-- Exactly once per trade id in the aggregates (spark_script/internal/batchlog). Each aggregate
-- batch stages its valid trades in agg_stage; one transaction then moves the ids not seen before
-- into trade_ids, writes the batch's volume per (date, sector) from them and commits the batch,
-- so a trade delivered twice is counted once, and a conflicting copy (same id, other values) is
-- found and sent to rejects. trade_ids is pruned by age (JOB_DEDUP_HORIZON). Times are kept as
-- microseconds since the epoch: Spark's JDBC writer drops the fraction of a DATETIME.

CREATE TABLE IF NOT EXISTS agg_stage (
    batch_id        BIGINT       NOT NULL,
    kafka_partition INT          NOT NULL,
    kafka_offset    BIGINT       NOT NULL,
    element         INT          NOT NULL,
    kafka_ts_us     BIGINT       NOT NULL,  -- the record's time, microseconds since the epoch
    kafka_day       DATE         NOT NULL,  -- market date of kafka_ts: the rejects partition
    id              BIGINT       NOT NULL,
    hash            BIGINT       NOT NULL,  -- of every field: equal hashes are the same trade
    created_us      BIGINT       NOT NULL,  -- created_at, microseconds since the epoch (exact, no zone)
    ticker          VARCHAR(16)  NOT NULL,
    sector          VARCHAR(64)  NOT NULL,
    volume          BIGINT       NOT NULL,
    price           DOUBLE       NOT NULL,
    market_cap      DOUBLE       NOT NULL,
    `date`          DATE         NOT NULL,  -- market date of created_at
    PRIMARY KEY (batch_id, kafka_partition, kafka_offset, element),
    KEY agg_stage_id (batch_id, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

-- The first accepted copy of every trade id within the horizon, with the batch that counted it.
CREATE TABLE IF NOT EXISTS trade_ids (
    id              BIGINT       NOT NULL PRIMARY KEY,
    batch_id        BIGINT       NOT NULL,
    hash            BIGINT       NOT NULL,
    kafka_partition INT          NOT NULL,
    kafka_offset    BIGINT       NOT NULL,
    element         INT          NOT NULL,
    created_us      BIGINT       NOT NULL,  -- created_at, microseconds since the epoch (exact, no zone)
    ticker          VARCHAR(16)  NOT NULL,
    sector          VARCHAR(64)  NOT NULL,
    volume          BIGINT       NOT NULL,
    price           DOUBLE       NOT NULL,
    market_cap      DOUBLE       NOT NULL,
    `date`          DATE         NOT NULL,
    KEY trade_ids_batch (batch_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
