-- The suppression list: addresses that get no more messages. `email` is kept lowercased, one
-- row per address (the primary key; a binary collation, so that only the same lowercased
-- address is the same row: the table's default collation would also merge accents). Adding an
-- address that is already listed keeps the first row, with its reason and time. `reason` is
-- UNSUBSCRIBED (the one-click link of a campaign's message), HARD_BOUNCE or MANUAL (added by
-- hand). `emailJobId` is the campaign it came from (NULL when added by hand); no foreign key:
-- the entry outlives the campaign. The listing is newest first, hence the `createdAt` index.
CREATE TABLE `Suppression` (
    `email`      VARCHAR(254) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    `reason`     VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    `emailJobId` CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NULL,
    `createdAt`  DATETIME(3)   NOT NULL,
    PRIMARY KEY (`email`),
    KEY `Suppression_createdAt_idx` (`createdAt`)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
