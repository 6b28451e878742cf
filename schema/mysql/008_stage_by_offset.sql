-- The raw path stages every valid copy it reads (its streaming query writes agg_stage beside the
-- Cassandra tables, from the same parse), and the aggregate path settles a batch from the staged
-- rows of its offset range: the stage is keyed by where a copy came from, not by a batch. A raw
-- micro-batch that is run again (after a crash before its commit) stages its copies again; a
-- repeated (partition, offset, element) is the same copy, and Settle reads each once.
-- The batches planned before this migration staged their own rows: the table starts empty, and the
-- raw path's query, which is new too, stages again from where the batch log ends.
DROP TABLE IF EXISTS agg_stage;
CREATE TABLE agg_stage (
    topic           VARCHAR(249) NOT NULL,  -- Kafka's longest topic name
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
    -- Not unique: Spark's JDBC writer can only INSERT, and a replayed micro-batch repeats rows.
    KEY agg_stage_range (topic, kafka_partition, kafka_offset)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
