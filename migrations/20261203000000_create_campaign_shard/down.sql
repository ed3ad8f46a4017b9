DROP TABLE `CampaignShard`;
