-- API keys. A key is proved by its token (`pal_` and 43 random characters), which is never
-- stored: only its SHA-256 (`tokenHash`, unique) and its first 12 characters (`prefix`, to find
-- the row and to tell keys apart in lists). `scopes` is the comma-separated list of what the
-- key may do. A revoked key keeps its row (`revokedAt`), so the audit trail can name it.
CREATE TABLE `ApiKey` (
    `id`        CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    `name`      VARCHAR(100)  NOT NULL,
    `prefix`    CHAR(12) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    `tokenHash` BINARY(32)    NOT NULL,
    `scopes`    VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    `createdAt` DATETIME(3)   NOT NULL,
    `revokedAt` DATETIME(3)   NULL,
    PRIMARY KEY (`id`),
    UNIQUE KEY `ApiKey_tokenHash_key` (`tokenHash`),
    KEY `ApiKey_prefix_idx` (`prefix`)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
