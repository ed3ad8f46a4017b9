-- How many of a campaign's recipients were not sent because a user cancelled it (their rows
-- say `CANCELLED`), so that sent + failed + cancelled + pending = total at every read. A column
-- of Paloma's own with a default, so the seeds' Node stack, which never names it, keeps
-- working. Added at the end of the table: instant on MySQL 8 and MariaDB 10.3+.
ALTER TABLE `EmailJob` ADD COLUMN `cancelledEmails` INT UNSIGNED NOT NULL DEFAULT 0;
