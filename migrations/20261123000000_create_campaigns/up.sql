-- The seeds' tables, as the Node stack Paloma replaces creates them (`prisma migrate` of their
-- `String @id @default(uuid())` model on MySQL): created only when missing, so a database that
-- the Node stack already owns is adopted as it is. The next migration
-- (20261130000000_share_schema_with_node) alters these tables into Paloma's shape; a database
-- created by Paloma before 2026-11-30 ran an earlier version of this file (16-byte BINARY ids)
-- and that migration converts it too.
-- Valid on MySQL 8 and MariaDB 10.11. utf8mb4_unicode_ci exists on both servers (MySQL 8's
-- default utf8mb4_0900_ai_ci does not exist on MariaDB), so it is named explicitly.

CREATE TABLE IF NOT EXISTS `EmailJob` (
    `id`           VARCHAR(191) NOT NULL,
    `subject`      VARCHAR(191) NOT NULL,
    `body`         TEXT         NOT NULL,
    `status`       VARCHAR(191) NOT NULL DEFAULT 'PENDING',
    `totalEmails`  INTEGER      NOT NULL,
    `sentEmails`   INTEGER      NOT NULL DEFAULT 0,
    `failedEmails` INTEGER      NOT NULL DEFAULT 0,
    `createdAt`    DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `completedAt`  DATETIME(3)  NULL,
    PRIMARY KEY (`id`)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS `Recipient` (
    `id`         VARCHAR(191) NOT NULL,
    `email`      VARCHAR(191) NOT NULL,
    `status`     VARCHAR(191) NOT NULL DEFAULT 'PENDING',
    `error`      TEXT         NULL,
    `emailJobId` VARCHAR(191) NOT NULL,
    PRIMARY KEY (`id`),
    KEY `Recipient_emailJobId_idx` (`emailJobId`),
    CONSTRAINT `Recipient_emailJobId_fkey` FOREIGN KEY (`emailJobId`)
        REFERENCES `EmailJob` (`id`) ON DELETE RESTRICT ON UPDATE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
