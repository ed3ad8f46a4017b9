-- The shards of a campaign that many workers send at once: ranges of its recipients in id order,
-- `(afterRecipientId, throughRecipientId]` (NULL: from the first, to the last), each leased by
-- one worker at a time. `leasedBy` names the worker, `leaseToken` tells this lease from any
-- other of the same shard, `leasedUntil` is when it runs out on the database's clock (NULL: not
-- leased); `doneAt` is set once the shard was sent. Paloma's own table: the Node stack never
-- reads it. The rows go when the campaign ends, and with it (ON DELETE CASCADE). The second
-- index serves the search for a free shard of any campaign, the third reading a lease back.
CREATE TABLE `CampaignShard` (
    `emailJobId`         CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    `shard`              INT UNSIGNED NOT NULL,
    `afterRecipientId`   CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NULL,
    `throughRecipientId` CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NULL,
    `leasedBy`           VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
    `leaseToken`         CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NULL,
    `leasedUntil`        DATETIME(3) NULL,
    `doneAt`             DATETIME(3) NULL,
    PRIMARY KEY (`emailJobId`, `shard`),
    KEY `CampaignShard_free_idx` (`doneAt`, `leasedUntil`),
    KEY `CampaignShard_leaseToken_idx` (`leaseToken`),
    CONSTRAINT `CampaignShard_emailJobId_fkey` FOREIGN KEY (`emailJobId`)
        REFERENCES `EmailJob` (`id`) ON DELETE CASCADE ON UPDATE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
