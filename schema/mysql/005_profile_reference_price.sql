-- profile.reference_price: the price in rupiah at which the producer's simulated market starts each
-- company (the first simulated day's reference price for the IDX auto-rejection limits) and to
-- which its random walk returns. NULL means unknown: the producer then starts the company at
-- Rp 1,000 and logs a warning. Read by the producer only (SELECT on profile).
--
-- Every statement is safe to run twice, on MySQL 8 and on MariaDB: the Docker image's entrypoint
-- applies schema/mysql on its first start and `stackctl migrate` applies the same files again.
-- MySQL 8 has no ADD COLUMN IF NOT EXISTS, so the ALTER is prepared only when the column is
-- missing. The four statements must share one session (user variable, prepared statement), as
-- they do in the mysql client, and in stackctl, which sends them one after another and so reuses
-- its one idle connection; were that connection lost in between, a statement would fail, nothing
-- would be recorded, and running the migration again would complete it.
SET @add_reference_price = IF(
    (SELECT COUNT(*) FROM information_schema.COLUMNS
      WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'profile' AND COLUMN_NAME = 'reference_price') = 0,
    'ALTER TABLE profile ADD COLUMN reference_price BIGINT NULL CHECK (reference_price >= 50)',
    'DO 0');
PREPARE add_reference_price FROM @add_reference_price;
EXECUTE add_reference_price;
DEALLOCATE PREPARE add_reference_price;

-- Round prices inside each sample company's 2024-2025 trading range as the author knows it, on the
-- IDX price grid: plausible levels for a simulation, not quotes. Rows that already have a price
-- (an operator's edit) are kept.
UPDATE profile SET reference_price = CASE ticker
    WHEN 'BBCA' THEN 9400
    WHEN 'BBRI' THEN 4100
    WHEN 'BMRI' THEN 5450
    WHEN 'ADRO' THEN 2200
    WHEN 'PTBA' THEN 2700
    WHEN 'MEDC' THEN 1250
    WHEN 'ANTM' THEN 2500
    WHEN 'INCO' THEN 3800
    WHEN 'ASII' THEN 5100
    WHEN 'UNTR' THEN 25000
    WHEN 'ICBP' THEN 11000
    WHEN 'UNVR' THEN 1850
    WHEN 'MAPI' THEN 1400
    WHEN 'ACES' THEN 600
    WHEN 'KLBF' THEN 1350
    WHEN 'MIKA' THEN 2500
    WHEN 'BSDE' THEN 950
    WHEN 'CTRA' THEN 940
    WHEN 'GOTO' THEN 68
    WHEN 'EMTK' THEN 640
    WHEN 'TLKM' THEN 3050
    WHEN 'JSMR' THEN 4200
    WHEN 'BIRD' THEN 1700
    WHEN 'ASSA' THEN 760
END
WHERE reference_price IS NULL
  AND ticker IN ('BBCA', 'BBRI', 'BMRI', 'ADRO', 'PTBA', 'MEDC', 'ANTM', 'INCO', 'ASII', 'UNTR', 'ICBP', 'UNVR',
                 'MAPI', 'ACES', 'KLBF', 'MIKA', 'BSDE', 'CTRA', 'GOTO', 'EMTK', 'TLKM', 'JSMR', 'BIRD', 'ASSA');
