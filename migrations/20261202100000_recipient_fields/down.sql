ALTER TABLE `EmailJob` DROP COLUMN `mergeTags`;
ALTER TABLE `Recipient` DROP COLUMN `fields`;
