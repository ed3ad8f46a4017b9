-- When a campaign is to be sent: set for a `SCHEDULED` campaign (its queue job is a bull
-- delayed job due then) and for a draft given a send time. The reconciler reads it to give a
-- scheduled campaign whose delayed job was lost (Redis restarted without its append-only file)
-- a new one, due at the same time. A column of Paloma's own, nullable, so the seeds' Node
-- stack, which never names it, keeps working. Added at the end of the table: instant on MySQL
-- 8 and MariaDB 10.3+.
ALTER TABLE `EmailJob` ADD COLUMN `scheduledAt` DATETIME(3) NULL;
