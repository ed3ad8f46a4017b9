//! A campaign's deliveries over time, in buckets sized so that any campaign fits in one chart.

use chrono::{DateTime, TimeDelta, Utc};

/// Bucket widths a timeline may use, in seconds: round numbers a reader recognises.
const BUCKET_LADDER: [u32; 16] = [
    1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1_800, 3_600, 7_200, 21_600, 86_400,
];

/// At most this many buckets span a campaign's sending time.
pub const MAX_TIMELINE_BUCKETS: u64 = 120;

/// The recipients that reached a final state (SENT or FAILED) within one bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimelinePoint {
    /// Start of the bucket.
    pub at: DateTime<Utc>,
    pub sent: u64,
    pub failed: u64,
}

/// A campaign's deliveries over time: non-empty buckets in ascending order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeline {
    pub bucket_seconds: u32,
    pub points: Vec<TimelinePoint>,
}

impl Timeline {
    /// The narrowest bucket from the ladder that covers `from..to` in at most
    /// [`MAX_TIMELINE_BUCKETS`] buckets (the widest one for longer spans; 1 s for an empty or
    /// reversed span).
    pub fn bucket_seconds_for(from: DateTime<Utc>, to: DateTime<Utc>) -> u32 {
        let span = u64::try_from((to - from).max(TimeDelta::zero()).num_seconds()).unwrap_or(0) + 1;
        BUCKET_LADDER
            .iter()
            .copied()
            .find(|&b| span.div_ceil(u64::from(b)) <= MAX_TIMELINE_BUCKETS)
            .unwrap_or(BUCKET_LADDER[BUCKET_LADDER.len() - 1])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).expect("valid time")
    }

    #[test]
    fn short_campaigns_get_one_second_buckets() {
        assert_eq!(Timeline::bucket_seconds_for(t(0), t(0)), 1);
        assert_eq!(Timeline::bucket_seconds_for(t(0), t(119)), 1);
    }

    #[test]
    fn a_reversed_span_is_treated_as_empty() {
        assert_eq!(Timeline::bucket_seconds_for(t(10), t(0)), 1);
    }

    #[test]
    fn longer_campaigns_get_the_narrowest_bucket_that_fits() {
        assert_eq!(Timeline::bucket_seconds_for(t(0), t(120)), 2);
        assert_eq!(Timeline::bucket_seconds_for(t(0), t(3_600)), 60);
        assert_eq!(Timeline::bucket_seconds_for(t(0), t(86_400)), 900);
    }

    #[test]
    fn very_long_campaigns_use_the_widest_bucket() {
        assert_eq!(Timeline::bucket_seconds_for(t(0), t(400 * 86_400)), 86_400);
    }
}
