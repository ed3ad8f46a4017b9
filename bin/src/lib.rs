//! Wiring shared by the two binaries: configuration from the environment, logging, and the API
//! application that `paloma-api` serves and the HTTP tests drive.

pub mod app;
pub mod config;
pub mod metrics;
pub mod shutdown;
pub mod telemetry;
