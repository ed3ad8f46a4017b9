-- Campaigns and their recipients. Valid on MySQL 8 and MariaDB 10.11.
-- Ids are UUID v7 stored as 16 raw bytes, so ordering by id is ordering by creation time.
-- utf8mb4_unicode_ci exists on both servers (MySQL 8's default utf8mb4_0900_ai_ci does not
-- exist on MariaDB), so it is named explicitly.

CREATE TABLE `EmailJob` (
    `id`                BINARY(16)    NOT NULL,
    `subject`           VARCHAR(255)  NOT NULL,
    `body`              MEDIUMTEXT    NOT NULL,
    `status`            VARCHAR(16)   NOT NULL,
    `totalEmails`       INT UNSIGNED  NOT NULL,
    `sentEmails`        INT UNSIGNED  NOT NULL DEFAULT 0,
    `failedEmails`      INT UNSIGNED  NOT NULL DEFAULT 0,
    `duplicatesRemoved` INT UNSIGNED  NOT NULL DEFAULT 0,
    `createdAt`         DATETIME(3)   NOT NULL,
    `startedAt`         DATETIME(3)   NULL,
    `completedAt`       DATETIME(3)   NULL,
    `enqueuedAt`        DATETIME(3)   NULL,
    `updatedAt`         DATETIME(3)   NOT NULL,
    PRIMARY KEY (`id`),
    -- The reconciler: PENDING campaigns whose queue job was never added.
    KEY `EmailJob_status_enqueuedAt_idx` (`status`, `enqueuedAt`)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE `Recipient` (
    `id`            BINARY(16)    NOT NULL,
    `emailJobId`    BINARY(16)    NOT NULL,
    `email`         VARCHAR(254)  NOT NULL,
    `name`          VARCHAR(200)  NULL,
    `status`        VARCHAR(16)   NOT NULL,
    `error`         TEXT          NULL,
    `attempts`      INT UNSIGNED  NOT NULL DEFAULT 0,
    `nextAttemptAt` DATETIME(3)   NOT NULL,
    `sentAt`        DATETIME(3)   NULL,
    `updatedAt`     DATETIME(3)   NOT NULL,
    PRIMARY KEY (`id`),
    -- The worker's claim (emailJobId = ? AND status = 'PENDING' AND id > ? ORDER BY id) and the
    -- status-filtered listing; it also backs the foreign key.
    KEY `Recipient_emailJobId_status_id_idx` (`emailJobId`, `status`, `id`),
    -- The unfiltered listing (emailJobId = ? ORDER BY id).
    KEY `Recipient_emailJobId_id_idx` (`emailJobId`, `id`),
    CONSTRAINT `Recipient_emailJobId_fkey` FOREIGN KEY (`emailJobId`)
        REFERENCES `EmailJob` (`id`) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
