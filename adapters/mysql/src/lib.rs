//! The MySQL / MariaDB adapter: [`MysqlCampaignRepository`] implements the application's
//! [`CampaignRepository`](paloma_application::ports::CampaignRepository) port with diesel-async
//! and its pure-Rust driver (no libmysqlclient), plus the start-up chores:
//! [`create_database_if_missing`] and [`run_migrations`] (the SQL of the repo-root
//! `migrations/` directory, embedded at compile time).
//!
//! Tables keep the seed's names (`EmailJob`, `Recipient`, camelCase columns). Ids are UUID v7
//! stored as `BINARY(16)`, so id order is creation order. Times are UTC `DATETIME(3)`.

mod error;
mod models;
mod repository;
mod schema;
mod setup;
pub mod testing;

pub use repository::{MysqlCampaignRepository, MysqlPool};
pub use setup::{MIGRATIONS, create_database_if_missing, run_migrations};
