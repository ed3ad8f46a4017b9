-- Why the worker stopped a campaign before every recipient was tried (`stopReason`: the failure
-- threshold, or too many failed runs), shown at the top of the campaign; and how many runs of
-- it have failed (`failedRuns`: a bug or a poison row makes every run fail, and after
-- MAX_FAILED_RUNS the campaign ends FAILED instead of being queued again forever). Both are
-- cleared when its failed recipients are retried. Columns of Paloma's own with defaults, so the
-- seeds' Node stack, which never names them, keeps working. Added at the end of the table:
-- instant on MySQL 8 and MariaDB 10.3+.
ALTER TABLE `EmailJob`
    ADD COLUMN `stopReason` VARCHAR(1000) NULL,
    ADD COLUMN `failedRuns` INT UNSIGNED NOT NULL DEFAULT 0;
