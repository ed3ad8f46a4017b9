ALTER TABLE `EmailJob` DROP COLUMN `stopReason`, DROP COLUMN `failedRuns`;
