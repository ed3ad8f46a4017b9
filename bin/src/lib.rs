//! Wiring shared by the two binaries: configuration from the environment and logging.

pub mod config;
pub mod shutdown;
pub mod telemetry;
