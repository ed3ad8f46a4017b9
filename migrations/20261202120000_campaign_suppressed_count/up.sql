-- Recipients of a new campaign whose address is in the suppression list are stored with the
-- status SUPPRESSED and never sent; `suppressedEmails` counts them, so that
-- sentEmails + failedEmails + cancelledEmails + suppressedEmails + pendingEmails = totalEmails.
-- A column of Paloma's own with a default, so the seeds' Node stack, which never names it (and
-- reads only PENDING recipients), keeps working; added at the end: instant on MySQL 8 and
-- MariaDB 10.3+.
ALTER TABLE `EmailJob` ADD COLUMN `suppressedEmails` INT UNSIGNED NOT NULL DEFAULT 0;
