-- Brings `EmailJob`, `Recipient` and `IdempotencyKey` into Paloma's shape, from either of the
-- two shapes they can have here, keeping every row:
--   * the seeds' shape (a database the Node stack created, or a new one: the first migration
--     creates the seeds' tables): VARCHAR(191) text ids, seed columns only;
--   * Paloma's shape before 2026-11-30: ids as 16-byte BINARY UUIDs.
-- The result is one schema that both stacks use: ids are text UUIDs in CHAR(36) ASCII (binary
-- collation: compared and ordered byte for byte, so v7 ids sort by creation time), and every
-- column the seeds do not know has a default or is nullable, so a seed-style insert works.
--
-- MySQL 8 has no `ADD COLUMN IF NOT EXISTS` (MariaDB has), so the steps that depend on the
-- shape read information_schema and run a prepared statement, or `DO 0` when there is nothing
-- to do. Everything here is valid on MySQL 8 and MariaDB 10.11.

-- 1. Foreign keys go first: the columns on both ends change type.
SET @ddl = IF(EXISTS(SELECT 1 FROM information_schema.TABLE_CONSTRAINTS
        WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = 'Recipient'
          AND CONSTRAINT_NAME = 'Recipient_emailJobId_fkey' AND CONSTRAINT_TYPE = 'FOREIGN KEY'),
    'ALTER TABLE `Recipient` DROP FOREIGN KEY `Recipient_emailJobId_fkey`', 'DO 0');
PREPARE stmt FROM @ddl; EXECUTE stmt; DEALLOCATE PREPARE stmt;
SET @ddl = IF(EXISTS(SELECT 1 FROM information_schema.TABLE_CONSTRAINTS
        WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = 'IdempotencyKey'
          AND CONSTRAINT_NAME = 'IdempotencyKey_emailJobId_fkey' AND CONSTRAINT_TYPE = 'FOREIGN KEY'),
    'ALTER TABLE `IdempotencyKey` DROP FOREIGN KEY `IdempotencyKey_emailJobId_fkey`', 'DO 0');
PREPARE stmt FROM @ddl; EXECUTE stmt; DEALLOCATE PREPARE stmt;

-- 2. 16-byte BINARY ids become their hyphenated lowercase text (what Uuid's Display and
--    JavaScript's crypto.randomUUID() write): widen to VARBINARY(36), rewrite, and step 4 makes
--    the column CHAR(36) ASCII. Only for columns that are BINARY; text ids are kept as they are.
SET @binary = (SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()
    AND TABLE_NAME = 'EmailJob' AND COLUMN_NAME = 'id' AND DATA_TYPE = 'binary');
SET @ddl = IF(@binary > 0, 'ALTER TABLE `EmailJob` MODIFY `id` VARBINARY(36) NOT NULL', 'DO 0');
PREPARE stmt FROM @ddl; EXECUTE stmt; DEALLOCATE PREPARE stmt;
UPDATE `EmailJob` SET `id` = LOWER(CONCAT_WS('-', SUBSTR(HEX(`id`), 1, 8),
        SUBSTR(HEX(`id`), 9, 4), SUBSTR(HEX(`id`), 13, 4), SUBSTR(HEX(`id`), 17, 4),
        SUBSTR(HEX(`id`), 21, 12)))
    WHERE @binary > 0 AND LENGTH(`id`) = 16;

SET @binary = (SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()
    AND TABLE_NAME = 'Recipient' AND COLUMN_NAME = 'id' AND DATA_TYPE = 'binary');
SET @ddl = IF(@binary > 0,
    'ALTER TABLE `Recipient` MODIFY `id` VARBINARY(36) NOT NULL, MODIFY `emailJobId` VARBINARY(36) NOT NULL',
    'DO 0');
PREPARE stmt FROM @ddl; EXECUTE stmt; DEALLOCATE PREPARE stmt;
UPDATE `Recipient` SET
    `id` = LOWER(CONCAT_WS('-', SUBSTR(HEX(`id`), 1, 8), SUBSTR(HEX(`id`), 9, 4),
        SUBSTR(HEX(`id`), 13, 4), SUBSTR(HEX(`id`), 17, 4), SUBSTR(HEX(`id`), 21, 12))),
    `emailJobId` = LOWER(CONCAT_WS('-', SUBSTR(HEX(`emailJobId`), 1, 8),
        SUBSTR(HEX(`emailJobId`), 9, 4), SUBSTR(HEX(`emailJobId`), 13, 4),
        SUBSTR(HEX(`emailJobId`), 17, 4), SUBSTR(HEX(`emailJobId`), 21, 12)))
    WHERE @binary > 0 AND LENGTH(`id`) = 16;

SET @binary = (SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()
    AND TABLE_NAME = 'IdempotencyKey' AND COLUMN_NAME = 'emailJobId' AND DATA_TYPE = 'binary');
SET @ddl = IF(@binary > 0,
    'ALTER TABLE `IdempotencyKey` MODIFY `emailJobId` VARBINARY(36) NOT NULL', 'DO 0');
PREPARE stmt FROM @ddl; EXECUTE stmt; DEALLOCATE PREPARE stmt;
UPDATE `IdempotencyKey` SET `emailJobId` = LOWER(CONCAT_WS('-',
        SUBSTR(HEX(`emailJobId`), 1, 8), SUBSTR(HEX(`emailJobId`), 9, 4),
        SUBSTR(HEX(`emailJobId`), 13, 4), SUBSTR(HEX(`emailJobId`), 17, 4),
        SUBSTR(HEX(`emailJobId`), 21, 12)))
    WHERE @binary > 0 AND LENGTH(`emailJobId`) = 16;

-- 3. Paloma's own columns, added where missing (a seed database). Their final definitions are
--    set in step 4; `updatedAt` is added as NULL first so that existing rows get a meaningful
--    time rather than the migration's.
SET @ddl = IF(EXISTS(SELECT 1 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()
        AND TABLE_NAME = 'EmailJob' AND COLUMN_NAME = 'duplicatesRemoved'), 'DO 0',
    'ALTER TABLE `EmailJob` ADD COLUMN `duplicatesRemoved` INT UNSIGNED NOT NULL DEFAULT 0,
        ADD COLUMN `startedAt` DATETIME(3) NULL, ADD COLUMN `enqueuedAt` DATETIME(3) NULL,
        ADD COLUMN `updatedAt` DATETIME(3) NULL');
PREPARE stmt FROM @ddl; EXECUTE stmt; DEALLOCATE PREPARE stmt;
UPDATE `EmailJob` SET `updatedAt` = COALESCE(`completedAt`, `createdAt`) WHERE `updatedAt` IS NULL;

SET @ddl = IF(EXISTS(SELECT 1 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()
        AND TABLE_NAME = 'Recipient' AND COLUMN_NAME = 'attempts'), 'DO 0',
    'ALTER TABLE `Recipient` ADD COLUMN `name` VARCHAR(200) NULL,
        ADD COLUMN `attempts` INT UNSIGNED NOT NULL DEFAULT 0,
        ADD COLUMN `nextAttemptAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        ADD COLUMN `sentAt` DATETIME(3) NULL,
        ADD COLUMN `updatedAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)');
PREPARE stmt FROM @ddl; EXECUTE stmt; DEALLOCATE PREPARE stmt;

-- 4. Final column definitions, the same from either shape. The seeds' columns are only ever
--    widened (a value that does not fit stops the migration rather than being cut); `status`
--    holds the seeds' short strings. `updatedAt` also follows every change the other stack
--    makes (ON UPDATE), so a row it updates without naming the column still says when.
ALTER TABLE `EmailJob`
    MODIFY `id`                CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    MODIFY `subject`           VARCHAR(255)  NOT NULL,
    MODIFY `body`              MEDIUMTEXT    NOT NULL,
    MODIFY `status`            VARCHAR(16)   NOT NULL DEFAULT 'PENDING',
    MODIFY `totalEmails`       INT UNSIGNED  NOT NULL,
    MODIFY `sentEmails`        INT UNSIGNED  NOT NULL DEFAULT 0,
    MODIFY `failedEmails`      INT UNSIGNED  NOT NULL DEFAULT 0,
    MODIFY `duplicatesRemoved` INT UNSIGNED  NOT NULL DEFAULT 0,
    MODIFY `createdAt`         DATETIME(3)   NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    MODIFY `startedAt`         DATETIME(3)   NULL,
    MODIFY `completedAt`       DATETIME(3)   NULL,
    MODIFY `enqueuedAt`        DATETIME(3)   NULL,
    MODIFY `updatedAt`         DATETIME(3)   NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
                                             ON UPDATE CURRENT_TIMESTAMP(3);

ALTER TABLE `Recipient`
    MODIFY `id`            CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    MODIFY `emailJobId`    CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    MODIFY `email`         VARCHAR(254)  NOT NULL,
    MODIFY `name`          VARCHAR(200)  NULL,
    MODIFY `status`        VARCHAR(16)   NOT NULL DEFAULT 'PENDING',
    MODIFY `error`         TEXT          NULL,
    MODIFY `attempts`      INT UNSIGNED  NOT NULL DEFAULT 0,
    MODIFY `nextAttemptAt` DATETIME(3)   NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    MODIFY `sentAt`        DATETIME(3)   NULL,
    MODIFY `updatedAt`     DATETIME(3)   NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
                                         ON UPDATE CURRENT_TIMESTAMP(3);

ALTER TABLE `IdempotencyKey`
    MODIFY `emailJobId` CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL;

-- 5. Indexes. Recipient keeps one secondary index: (emailJobId, status, id) serves the
--    worker's claim (emailJobId = ? AND status = 'PENDING' AND id > ? ORDER BY id), the
--    status-filtered listing and the foreign key. The seeds' (emailJobId) index and Paloma's
--    earlier (emailJobId, id) one go: each secondary index is paid on every insert.
SET @ddl = IF(EXISTS(SELECT 1 FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE()
        AND TABLE_NAME = 'Recipient' AND INDEX_NAME = 'Recipient_emailJobId_idx'),
    'ALTER TABLE `Recipient` DROP INDEX `Recipient_emailJobId_idx`', 'DO 0');
PREPARE stmt FROM @ddl; EXECUTE stmt; DEALLOCATE PREPARE stmt;
SET @ddl = IF(EXISTS(SELECT 1 FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE()
        AND TABLE_NAME = 'Recipient' AND INDEX_NAME = 'Recipient_emailJobId_id_idx'),
    'ALTER TABLE `Recipient` DROP INDEX `Recipient_emailJobId_id_idx`', 'DO 0');
PREPARE stmt FROM @ddl; EXECUTE stmt; DEALLOCATE PREPARE stmt;
SET @ddl = IF(EXISTS(SELECT 1 FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE()
        AND TABLE_NAME = 'Recipient' AND INDEX_NAME = 'Recipient_emailJobId_status_id_idx'),
    'DO 0',
    'ALTER TABLE `Recipient` ADD KEY `Recipient_emailJobId_status_id_idx` (`emailJobId`, `status`, `id`)');
PREPARE stmt FROM @ddl; EXECUTE stmt; DEALLOCATE PREPARE stmt;

-- EmailJob: the reconciler's (status, enqueuedAt), and createdAt for the newest-first listing
-- (ids written by another stack are v4, random: id order is not creation order).
SET @ddl = IF(EXISTS(SELECT 1 FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE()
        AND TABLE_NAME = 'EmailJob' AND INDEX_NAME = 'EmailJob_status_enqueuedAt_idx'),
    'DO 0',
    'ALTER TABLE `EmailJob` ADD KEY `EmailJob_status_enqueuedAt_idx` (`status`, `enqueuedAt`)');
PREPARE stmt FROM @ddl; EXECUTE stmt; DEALLOCATE PREPARE stmt;
ALTER TABLE `EmailJob` ADD KEY `EmailJob_createdAt_id_idx` (`createdAt`, `id`);

-- 6. The foreign keys again: a campaign's recipients and idempotency keys go with it.
ALTER TABLE `Recipient` ADD CONSTRAINT `Recipient_emailJobId_fkey` FOREIGN KEY (`emailJobId`)
    REFERENCES `EmailJob` (`id`) ON DELETE CASCADE;
ALTER TABLE `IdempotencyKey` ADD CONSTRAINT `IdempotencyKey_emailJobId_fkey`
    FOREIGN KEY (`emailJobId`) REFERENCES `EmailJob` (`id`) ON DELETE CASCADE;
