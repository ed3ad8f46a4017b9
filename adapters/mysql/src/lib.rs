//! The MySQL / MariaDB adapter: [`MysqlDatabase`] implements the application's
//! [`CampaignStore`](paloma_application::ports::CampaignStore),
//! [`DeliveryLedger`](paloma_application::ports::DeliveryLedger) and
//! [`KeyStore`](paloma_application::ports::KeyStore),
//! [`ActivityLog`](paloma_application::ports::ActivityLog) and
//! [`SuppressionStore`](paloma_application::ports::SuppressionStore) and
//! [`ShardLedger`](paloma_application::ports::ShardLedger) ports with diesel-async and its
//! pure-Rust driver (no libmysqlclient), plus the start-up chores:
//! [`create_database_if_missing`] and [`run_migrations`] (the SQL of the repo-root
//! `migrations/` directory, embedded at compile time).
//!
//! `db` holds the pool and how a call gets its connection; `campaigns` and `delivery` hold each
//! port's queries as plain functions over a connection, and the port's one impl.
//!
//! Tables keep the seed's names (`EmailJob`, `Recipient`, camelCase columns). Ids are UUIDs
//! stored as their text in `CHAR(36)` ASCII columns, as the seeds' Node stack stores them, so
//! both stacks share the tables ([`ids`]); Paloma writes v7 ids, so its id order is creation
//! order. Times are UTC `DATETIME(3)`.

mod activity;
mod campaigns;
mod db;
mod delivery;
mod edit;
mod error;
mod ids;
mod insert;
mod keys;
mod lifecycle;
mod listing;
mod models;
mod schema;
mod setup;
mod shards;
mod suppressions;
#[cfg(feature = "testing")]
pub mod testing;

pub use db::{MysqlDatabase, MysqlPool};
pub use setup::{MIGRATIONS, create_database_if_missing, run_migrations};
