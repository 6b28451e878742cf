-- Views the dashboard reads. "Today" is the market date: UTC now shifted by settings.market_tz_offset.

CREATE OR REPLACE VIEW market_today AS
SELECT DATE(CONVERT_TZ(UTC_TIMESTAMP(), '+00:00',
       (SELECT value FROM settings WHERE name = 'market_tz_offset'))) AS today;

CREATE OR REPLACE VIEW volume_today AS
SELECT a.sector, SUM(a.total_volume) AS total_volume
FROM aggregated_data a
WHERE a.`date` = (SELECT today FROM market_today)
GROUP BY a.sector;

-- Volume per sector and minute of processing, today (the "volume over time" chart).
CREATE OR REPLACE VIEW volume_timeline_today AS
SELECT a.sector,
       TIMESTAMP(DATE_FORMAT(a.processed_at, '%Y-%m-%d %H:%i:00')) AS minute_utc,
       SUM(a.total_volume) AS total_volume
FROM aggregated_data a
WHERE a.`date` = (SELECT today FROM market_today)
GROUP BY a.sector, minute_utc;

-- Freshness of the aggregate path.
CREATE OR REPLACE VIEW last_batch AS
SELECT MAX(batch_id) AS batch_id, MAX(committed_at) AS committed_at
FROM agg_batches
WHERE committed_at IS NOT NULL;
