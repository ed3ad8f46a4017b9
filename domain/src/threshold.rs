//! The failure threshold: when so many messages of a campaign fail that sending the rest would
//! only harm the sender (a bad list, a broken account, a blocked IP), the campaign stops.

use std::fmt;

/// A campaign stops once more than `ratio` of its finished messages (sent + failed) have
/// failed, counted only after `min_attempts` messages have finished, so that the first few
/// failures of a large campaign do not stop it. Retries that are still pending do not count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureThreshold {
    /// The ratio in millionths, so comparisons are exact integer arithmetic.
    per_million: u64,
    min_attempts: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "a failure threshold is a ratio above 0 and below 1 (e.g. 0.5) or a percentage (e.g. 50%), or \"off\" (got {0:?})"
)]
pub struct FailureThresholdError(String);

impl FailureThreshold {
    /// `None` unless `0 < ratio < 1` (a ratio of 1 or more could never be passed).
    pub fn new(ratio: f64, min_attempts: u32) -> Option<Self> {
        let per_million = (ratio * 1e6).round();
        (ratio.is_finite() && (1.0..1e6).contains(&per_million)).then_some(Self {
            per_million: per_million as u64,
            min_attempts: min_attempts.max(1),
        })
    }

    /// Parses `0.5`, `50%` or `off`/`none` (no threshold).
    pub fn parse(raw: &str, min_attempts: u32) -> Result<Option<Self>, FailureThresholdError> {
        let raw = raw.trim();
        if raw.eq_ignore_ascii_case("off") || raw.eq_ignore_ascii_case("none") {
            return Ok(None);
        }
        let error = || FailureThresholdError(raw.to_owned());
        let ratio = match raw.strip_suffix('%') {
            Some(percent) => percent.trim().parse::<f64>().map_err(|_| error())? / 100.0,
            None => raw.parse::<f64>().map_err(|_| error())?,
        };
        Self::new(ratio, min_attempts).map(Some).ok_or_else(error)
    }

    pub fn ratio(&self) -> f64 {
        self.per_million as f64 / 1e6
    }

    pub fn min_attempts(&self) -> u32 {
        self.min_attempts
    }

    /// Whether a campaign with these final counts has passed the threshold.
    pub fn is_passed(&self, sent: u32, failed: u32) -> bool {
        let finished = u64::from(sent) + u64::from(failed);
        finished >= u64::from(self.min_attempts)
            && u64::from(failed) * 1_000_000 > self.per_million * finished
    }

    /// What the recipients that were never sent are told, in their row.
    pub fn not_sent_reason(&self, sent: u32, failed: u32) -> String {
        format!(
            "not sent: the campaign was stopped after {failed} of {} messages failed (failure threshold {self})",
            u64::from(sent) + u64::from(failed)
        )
    }
}

impl fmt::Display for FailureThreshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}% after {} messages",
            self.per_million as f64 / 10_000.0,
            self.min_attempts
        )
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn ratios_percentages_and_off_parse() {
        let half = FailureThreshold::new(0.5, 100).expect("valid");
        assert_eq!(FailureThreshold::parse("0.5", 100), Ok(Some(half)));
        assert_eq!(FailureThreshold::parse(" 50% ", 100), Ok(Some(half)));
        assert_eq!(FailureThreshold::parse("off", 100), Ok(None));
        assert_eq!(FailureThreshold::parse("NONE", 100), Ok(None));
        for bad in [
            "", "0", "1", "1.5", "100%", "-0.2", "half", "NaN", "inf", "50%%",
        ] {
            assert!(
                FailureThreshold::parse(bad, 100).is_err(),
                "{bad:?} should be rejected"
            );
        }
    }

    #[test]
    fn it_is_passed_only_above_the_ratio_and_after_the_minimum() {
        let t = FailureThreshold::new(0.5, 100).expect("valid");
        // 99 finished, all failed: too few to judge.
        assert!(!t.is_passed(0, 99));
        // Exactly half is not above half.
        assert!(!t.is_passed(50, 50));
        assert!(t.is_passed(49, 51));
        assert!(!t.is_passed(900, 100));
        assert_eq!(t.to_string(), "50% after 100 messages");
        assert_eq!(
            t.not_sent_reason(49, 51),
            "not sent: the campaign was stopped after 51 of 100 messages failed (failure threshold 50% after 100 messages)"
        );
    }

    #[test]
    fn a_minimum_of_zero_means_one() {
        let t = FailureThreshold::new(0.1, 0).expect("valid");
        assert!(!t.is_passed(0, 0));
        assert!(t.is_passed(0, 1));
    }

    proptest! {
        #[test]
        fn passing_matches_the_exact_fraction(sent in 0u32..10_000, failed in 0u32..10_000, permille in 1u32..1000, min in 0u32..500) {
            let t = FailureThreshold::new(f64::from(permille) / 1000.0, min).expect("valid");
            let finished = u64::from(sent) + u64::from(failed);
            // failed / finished > permille / 1000, in integers.
            let above = u64::from(failed) * 1000 > u64::from(permille) * finished;
            prop_assert_eq!(t.is_passed(sent, failed), above && finished >= u64::from(min.max(1)));
        }
    }
}
