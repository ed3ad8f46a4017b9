-- Merge tags. `Recipient.fields`: the recipient's own data, a JSON object of string values
-- (`{"company":"Acme"}`), NULL when it has none; stored as TEXT written by Paloma, so MySQL 8,
-- MariaDB and the seeds' Prisma schema read it alike. `EmailJob.mergeTags`: whether the
-- campaign's subject or body has merge tags, checked against every recipient when the campaign
-- was created; the worker renders them per recipient only then, so a campaign stored by other
-- means (the Node stack) is sent as it is, whatever braces it holds. Columns of Paloma's own
-- with defaults, so the Node stack, which never names them, keeps working; added at the end of
-- the tables: instant on MySQL 8 and MariaDB 10.3+.
ALTER TABLE `Recipient` ADD COLUMN `fields` TEXT NULL;
ALTER TABLE `EmailJob` ADD COLUMN `mergeTags` BOOLEAN NOT NULL DEFAULT FALSE;
