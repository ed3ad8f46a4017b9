//! The `paloma` crate's tests, one binary: the API built by [`paloma::app::Application`] on a
//! random port (`api`, `access`, `adversarial`, `limits`), the real `paloma-api` and `paloma-worker`
//! binaries end to end, under faults and under a user's controls (`e2e`, `faults`,
//! `control`), sharing one database and queue with
//! the seeds' Node stack (`interop`), the suppression list and one-click unsubscribe on the real
//! `paloma-api` (`suppressions`), test sends through a worker (`test_sends`), and their command
//! lines (`cli`).
//! Every test gets its own database and Redis key prefix, removed when it ends.
//!
//! One module's tests: `cargo nextest run -p paloma -E 'test(/^faults::/)'`.

mod access;
mod adversarial;
mod api;
mod cli;
mod cluster;
mod common;
mod compliance;
mod control;
mod e2e;
mod edit;
mod faults;
mod interop;
mod limits;
mod operations;
mod personal;
mod schedule;
mod sharing;
mod simulated;
mod suppressions;
mod test_sends;
