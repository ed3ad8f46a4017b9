//! Integration tests of the bull-compatible queue against a real Redis (127.0.0.1:6379, or
//! `REDIS_URL`), each test on its own key prefix, and against a real Node bull 4.16.5
//! (`interop/`, run `npm ci` there first).

mod claims;
mod helpers;
mod interop;
mod monitor;
mod protocol;
mod retention;
mod stops;
mod test_sends;
mod throttle;
