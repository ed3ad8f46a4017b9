ALTER TABLE `EmailJob` DROP COLUMN `fromName`, DROP COLUMN `fromEmail`, DROP COLUMN `replyTo`;
