ALTER TABLE `EmailJob` DROP COLUMN `cancelledEmails`;
