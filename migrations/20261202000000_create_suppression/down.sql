DROP TABLE IF EXISTS `Suppression`;
