-- One job writes at a time (spark_script/internal/lease): the running job holds the lease of its
-- topic; token grows at every acquisition and fences the batch log's writes.
CREATE TABLE IF NOT EXISTS job_lease (
    name        VARCHAR(249) NOT NULL PRIMARY KEY,  -- the topic
    token       BIGINT       NOT NULL,
    holder      VARCHAR(255) NOT NULL,              -- host:pid
    acquired_at DATETIME(6)  NOT NULL,
    renewed_at  DATETIME(6)  NOT NULL,
    expires_at  DATETIME(6)  NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
