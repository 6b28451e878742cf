-- One id space per deployment: every producer reserves its ids from the row '*' of id_blocks,
-- whatever topic it writes, because the tables key trades by id alone (ids unique per topic let a
-- producer on another topic overwrite live trades). The row starts after every id handed out so far.
INSERT INTO id_blocks (topic, next_id)
SELECT '*', COALESCE(MAX(next_id), 1) FROM id_blocks
ON DUPLICATE KEY UPDATE next_id = GREATEST(id_blocks.next_id, VALUES(next_id));
