-- The schema the seeds' Node stack creates (what `prisma migrate` makes of their
-- `schema.prisma` on MySQL): text ids as Prisma's `String @id @default(uuid())` stores them
-- (VARCHAR(191)), seed defaults, one secondary index, a restricting foreign key.
-- The interop tests and the benchmark create a "Node-owned" database from this file; Paloma's
-- migrations adopt such a database (see migrations/ and README, "Data model").
CREATE TABLE `EmailJob` (
    `id` VARCHAR(191) NOT NULL,
    `subject` VARCHAR(191) NOT NULL,
    `body` TEXT NOT NULL,
    `status` VARCHAR(191) NOT NULL DEFAULT 'PENDING',
    `totalEmails` INTEGER NOT NULL,
    `sentEmails` INTEGER NOT NULL DEFAULT 0,
    `failedEmails` INTEGER NOT NULL DEFAULT 0,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `completedAt` DATETIME(3) NULL,

    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE `Recipient` (
    `id` VARCHAR(191) NOT NULL,
    `email` VARCHAR(191) NOT NULL,
    `status` VARCHAR(191) NOT NULL DEFAULT 'PENDING',
    `error` TEXT NULL,
    `emailJobId` VARCHAR(191) NOT NULL,

    INDEX `Recipient_emailJobId_idx`(`emailJobId`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

ALTER TABLE `Recipient` ADD CONSTRAINT `Recipient_emailJobId_fkey` FOREIGN KEY (`emailJobId`) REFERENCES `EmailJob`(`id`) ON DELETE RESTRICT ON UPDATE CASCADE;
