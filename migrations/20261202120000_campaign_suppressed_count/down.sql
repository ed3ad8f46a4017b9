ALTER TABLE `EmailJob` DROP COLUMN `suppressedEmails`;
