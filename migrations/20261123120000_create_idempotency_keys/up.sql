-- Idempotent creation: an Idempotency-Key header names the campaign its first request created.
-- `key` is the client's value (visible ASCII, at most 255 bytes, compared byte for byte);
-- `fingerprint` is SHA-256 of the request's content, to tell a retry from a reuse of the key.
CREATE TABLE `IdempotencyKey` (
    `key`         VARBINARY(255) NOT NULL,
    `fingerprint` BINARY(32)     NOT NULL,
    `emailJobId`  BINARY(16)     NOT NULL,
    `createdAt`   DATETIME(3)    NOT NULL,
    PRIMARY KEY (`key`),
    KEY `IdempotencyKey_emailJobId_idx` (`emailJobId`),
    CONSTRAINT `IdempotencyKey_emailJobId_fkey` FOREIGN KEY (`emailJobId`)
        REFERENCES `EmailJob` (`id`) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
