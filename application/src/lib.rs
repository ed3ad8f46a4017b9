//! Paloma's use cases and the ports (traits) they need.
//!
//! The adapter crates under `adapters/`, one per technology, implement the ports (MySQL, Redis
//! with bull's layout, SMTP, the read cache); the tests here implement them in memory. Nothing
//! in this crate names a framework or a driver. The layers and the flow of one campaign are
//! drawn in `docs/architecture.md`.

pub mod campaigns;
mod edit;
pub mod keys;
pub mod lifecycle;
pub mod monitor;
pub mod ports;
pub mod suppressions;
pub mod test_sends;
pub mod worker;

#[cfg(test)]
mod fakes;
#[cfg(test)]
mod keys_tests;
#[cfg(test)]
mod suppressions_tests;
#[cfg(test)]
mod tests;

pub use campaigns::{
    CampaignDetail, CampaignListing, CampaignService, CreateCampaignError, CreatedCampaign, Intent,
    QueryError,
};
pub use keys::{AuthError, KeyError, KeyService};
pub use lifecycle::{Controlled, LifecycleError, Retried, STOP_WAIT};
pub use monitor::{MonitorError, QueueOverview};
pub use ports::{
    ActivityLog, CampaignStore, Clock, Created, DeliveryLedger, Fence, FenceEnd, JobConsumer,
    JobCounts, JobProducer, KeyStore, Mailer, MessageSender, OutgoingMessage, QueueError,
    RepositoryError, SendSlot, SendThrottle, StopAnswer, StopRequest, StopRequests,
    SuppressionStore, SystemClock, TakenJob, TestMessage, TestSendAnswer, TestSendRequest,
    Unthrottled, WorkerBeat,
};
pub use suppressions::{Suppressed, SuppressionError, SuppressionService};
pub use test_sends::{TEST_SEND_WAIT, TestSendError, TestSendInput, TestSent};

pub use worker::{
    Adapters, JobOutcome, ReconcileError, RunError, RunOutcome, Worker, WorkerIdentity,
    WorkerPorts, WorkerSettings,
};
