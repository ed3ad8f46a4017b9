-- Whether a FAILED recipient was refused by the SMTP server (a 5xx reply: sending it again
-- cannot help) rather than given up on after transient failures or never tried: "retry the
-- failed" can then leave the refused ones alone. A column of Paloma's own with a default, so
-- the seeds' Node stack, which never names it, keeps working (its failures read as not
-- permanent). Added at the end of the table: instant on MySQL 8 and MariaDB 10.3+.
ALTER TABLE `Recipient` ADD COLUMN `permanentFailure` BOOLEAN NOT NULL DEFAULT FALSE;
