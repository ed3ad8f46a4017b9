//! Paloma's use cases and the ports (traits) they need.
//!
//! The adapters crate implements the ports for MySQL, Redis (bull) and SMTP; the tests here
//! implement them in memory. Nothing in this crate names a framework or a driver.

pub mod campaigns;
pub mod ports;
pub mod worker;

#[cfg(test)]
mod fakes;
#[cfg(test)]
mod tests;

pub use campaigns::{CampaignService, CreateCampaignError, CreatedCampaign, QueryError};
pub use ports::{
    CampaignStore, Clock, Created, DeliveryLedger, JobConsumer, JobProducer, Mailer,
    OutgoingMessage, QueueError, RepositoryError, SendSlot, SendThrottle, SystemClock, TakenJob,
    Unthrottled,
};

pub use worker::{
    Adapters, JobOutcome, ReconcileError, RunError, RunOutcome, Worker, WorkerPorts, WorkerSettings,
};
