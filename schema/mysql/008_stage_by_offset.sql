-- The raw path stages every valid copy it reads (its streaming query writes agg_stage beside the
-- Cassandra tables, from the same parse), and the aggregate path settles a batch from the staged
-- rows of its offset range: the stage is keyed by where a copy came from, not by a batch. A raw
-- micro-batch that is run again (after a crash before its commit) stages its copies again, so the
-- key cannot be unique (Spark's JDBC writer can only INSERT); a repeated (partition, offset,
-- element) is the same copy, and Settle reads each once.
-- The batches planned before this migration staged their own rows: the table starts empty, and the
-- raw path's query, which is new too, stages again from where the batch log ends.
DELETE FROM agg_stage;
ALTER TABLE agg_stage
    DROP PRIMARY KEY,
    DROP KEY agg_stage_id,
    DROP COLUMN batch_id,
    ADD COLUMN topic VARCHAR(249) NOT NULL FIRST,  -- Kafka's longest topic name
    ADD KEY agg_stage_range (topic, kafka_partition, kafka_offset);
