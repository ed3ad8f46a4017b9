-- Idempotent creation: an Idempotency-Key header names the campaign its first request created.
-- `key` is the client's value (visible ASCII, at most 255 bytes, compared byte for byte);
-- `fingerprint` is SHA-256 of the request's content, to tell a retry from a reuse of the key.
-- Its foreign key to `EmailJob` is added by 20261130000000_share_schema_with_node, once the ids
-- on both sides have their final type (a database created by Paloma before 2026-11-30 ran an
-- earlier version of this file, with a 16-byte BINARY `emailJobId`; that migration converts it).
CREATE TABLE IF NOT EXISTS `IdempotencyKey` (
    `key`         VARBINARY(255) NOT NULL,
    `fingerprint` BINARY(32)     NOT NULL,
    `emailJobId`  CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    `createdAt`   DATETIME(3)    NOT NULL,
    PRIMARY KEY (`key`),
    KEY `IdempotencyKey_emailJobId_idx` (`emailJobId`)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
