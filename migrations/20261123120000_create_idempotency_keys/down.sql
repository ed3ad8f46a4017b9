DROP TABLE `IdempotencyKey`;
