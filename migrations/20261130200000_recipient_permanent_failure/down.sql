ALTER TABLE `Recipient` DROP COLUMN `permanentFailure`;
