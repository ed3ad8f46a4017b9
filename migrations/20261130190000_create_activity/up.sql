-- The audit trail: one row per change made through the API or the command line (a campaign
-- created or sent, a key created or revoked), with the key it was made with (`keyId` NULL for
-- the command line and the start-up's BOOTSTRAP_API_KEY), that key's name at the time, the
-- client's IP address and the time. Rows are only ever added. There is no foreign key: the
-- trail outlives what it names (another stack sharing the tables may delete a campaign).
CREATE TABLE `Activity` (
    `id`            CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    `action`        VARCHAR(40) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    `emailJobId`    CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NULL,
    `keyId`         CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NULL,
    `keyName`       VARCHAR(100)  NOT NULL,
    `clientAddress` VARCHAR(45) CHARACTER SET ascii COLLATE ascii_bin NULL,
    `createdAt`     DATETIME(3)   NOT NULL,
    PRIMARY KEY (`id`),
    KEY `Activity_emailJobId_createdAt_idx` (`emailJobId`, `createdAt`, `id`)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
