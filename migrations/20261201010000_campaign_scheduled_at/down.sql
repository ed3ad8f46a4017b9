ALTER TABLE `EmailJob` DROP COLUMN `scheduledAt`;
