-- A campaign's own sender: `fromName` and `fromEmail` (its `From`, in one of
-- ALLOWED_FROM_DOMAINS) and `replyTo`; NULL: the worker's MAIL_FROM, no Reply-To. Columns of
-- Paloma's own, nullable, so the seeds' Node stack, which never names them, keeps working;
-- added at the end of the table: instant on MySQL 8 and MariaDB 10.3+.
ALTER TABLE `EmailJob`
    ADD COLUMN `fromName` VARCHAR(200) NULL,
    ADD COLUMN `fromEmail` VARCHAR(254) NULL,
    ADD COLUMN `replyTo` VARCHAR(254) NULL;
