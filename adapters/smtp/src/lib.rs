//! The `Mailer` port over lettre.
//!
//! - [`SmtpMailer`]: SMTP (plain, STARTTLS or implicit TLS) over a pool of reused connections,
//!   at most `concurrency` of them open at once, each reply classified into a
//!   [`DeliveryOutcome`](paloma_domain::DeliveryOutcome).
//! - [`FileMailer`]: writes each message as an `.eml` file into a directory, so the system runs
//!   without any SMTP server.
//! - [`SimulatedMailer`]: sends nothing; waits a latency and answers realistic replies at
//!   configured rates, reproducibly for a seed (`SMTP_URL=sim://?...`), for demos and load
//!   tests.
//! - [`AnyMailer`]: one of these, chosen from the configuration, so the binaries have a single
//!   concrete mailer type.
//!
//! Every message is HTML (`text/html; charset=utf-8`, lettre picks the transfer encoding) and
//! carries the deterministic `Message-ID` of [`paloma_domain::message_id`], so a message sent
//! again after a crash is recognisable downstream.

mod any;
mod error;
mod file;
mod message;
mod sim;
mod smtp;

pub use any::AnyMailer;
pub use error::MailerConfigError;
pub use file::FileMailer;
pub use sim::{SimulatedMailer, Simulation};
pub use smtp::SmtpMailer;
