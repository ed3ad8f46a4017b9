//! A sending rate limit: at most `count` messages per `per`.

use std::fmt;
use std::time::Duration;

/// At most `count` messages in any window of `per`, spread evenly: one message every
/// `per / count`. Parsed from `N/s`, `N/10s`, `N/m`, `N/min`, `N/h` or `N/500ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendRate {
    count: u32,
    per: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a send rate looks like 100/s, 1/10s, 600/min or 5000/h (got {0:?})")]
pub struct SendRateError(String);

impl SendRate {
    /// `None` when `count` is 0 or `per` is zero.
    pub fn new(count: u32, per: Duration) -> Option<Self> {
        (count > 0 && !per.is_zero()).then_some(Self { count, per })
    }

    pub fn parse(raw: &str) -> Result<Self, SendRateError> {
        let error = || SendRateError(raw.to_owned());
        let (count, window) = raw.trim().split_once('/').ok_or_else(error)?;
        let count: u32 = count.trim().parse().map_err(|_| error())?;
        let window = window.trim();
        let digits = window.len()
            - window
                .trim_start_matches(|c: char| c.is_ascii_digit())
                .len();
        let (amount, unit) = window.split_at(digits);
        let amount: u64 = if amount.is_empty() {
            1
        } else {
            amount.parse().map_err(|_| error())?
        };
        let unit_ms: u64 = match unit {
            "ms" => 1,
            "s" | "sec" => 1_000,
            "m" | "min" => 60_000,
            "h" => 3_600_000,
            _ => return Err(error()),
        };
        let per = Duration::from_millis(amount.checked_mul(unit_ms).ok_or_else(error)?);
        Self::new(count, per).ok_or_else(error)
    }

    pub fn count(&self) -> u32 {
        self.count
    }

    pub fn per(&self) -> Duration {
        self.per
    }

    /// The spacing between two messages: `per / count`, at least 1 µs.
    pub fn interval(&self) -> Duration {
        (self.per / self.count).max(Duration::from_micros(1))
    }
}

impl fmt::Display for SendRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}ms", self.count, self.per.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_usual_forms_parse() {
        let cases = [
            ("100/s", 100, 1_000),
            ("1/10s", 1, 10_000),
            ("600/min", 600, 60_000),
            ("600/m", 600, 60_000),
            ("5000/h", 5_000, 3_600_000),
            (" 20 / 500ms ", 20, 500),
            ("3/2h", 3, 7_200_000),
        ];
        for (raw, count, ms) in cases {
            let rate = SendRate::parse(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
            assert_eq!(
                (rate.count(), rate.per()),
                (count, Duration::from_millis(ms)),
                "{raw}"
            );
        }
    }

    #[test]
    fn nonsense_is_refused() {
        for raw in [
            "", "100", "/s", "0/s", "10/0s", "10/d", "-1/s", "1.5/s", "10/s/s", "x/s",
        ] {
            assert!(SendRate::parse(raw).is_err(), "{raw:?} was accepted");
        }
    }

    #[test]
    fn the_interval_spreads_the_messages() {
        let rate = SendRate::parse("100/s").expect("rate");
        assert_eq!(rate.interval(), Duration::from_millis(10));
        let rate = SendRate::parse("1/10s").expect("rate");
        assert_eq!(rate.interval(), Duration::from_secs(10));
    }
}
