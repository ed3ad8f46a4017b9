//! What a job looks like in Redis: the fields Paloma writes when it adds one, and how a job
//! hash (Paloma's or a Node producer's) is read back (docs/bull-protocol.md, "The job hash").

use std::collections::HashMap;

use paloma_application::TakenJob;
use paloma_domain::CampaignId;

/// The job name bull's `queue.process(fn)` handles.
pub(crate) const JOB_NAME: &str = "__default__";

/// A campaign job's `data` field: `{"jobUuid":"<campaign id>"}`.
pub(crate) fn job_data(campaign: CampaignId) -> String {
    serde_json::json!({ "jobUuid": campaign.to_string() }).to_string()
}

/// What a new job's `opts` say, besides its creation time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct JobOpts {
    pub attempts: u32,
    pub backoff_delay_ms: u64,
    /// `removeOnComplete`: how many completed jobs to keep (0: none).
    pub keep_completed: u32,
    /// `removeOnFail`: how many failed jobs to keep (0: none).
    pub keep_failed: u32,
}

impl JobOpts {
    /// A new job's `opts` JSON without its `delay` and `timestamp` and the closing brace (the
    /// add script appends them, from the Redis server's time), in the key order Node writes for
    /// `queue.add(data, {attempts, backoff, removeOnComplete, removeOnFail})`:
    /// `{"attempts":5,"backoff":{"type":"exponential","delay":10000},"removeOnComplete":1000,`
    /// `"removeOnFail":5000,`; the add script appends `"delay":<ms>,"timestamp":<ms>}`.
    ///
    /// The keep options are numbers, which bull reads as "keep the newest N" (0: keep none);
    /// `true` would keep none and `false` every one (docs/bull-protocol.md, "Completing").
    pub(crate) fn json_prefix(&self) -> String {
        format!(
            r#"{{"attempts":{},"backoff":{{"type":"exponential","delay":{}}},"removeOnComplete":{},"removeOnFail":{},"#,
            self.attempts.max(1),
            self.backoff_delay_ms,
            self.keep_completed,
            self.keep_failed,
        )
    }
}

/// HGETALL's flat `[field, value, ...]` as a map.
pub(crate) fn pairs(flat: Vec<String>) -> HashMap<String, String> {
    let mut map = HashMap::with_capacity(flat.len() / 2);
    let mut items = flat.into_iter();
    while let (Some(field), Some(value)) = (items.next(), items.next()) {
        map.insert(field, value);
    }
    map
}

/// Builds the taken job from its hash; never fails on odd data.
pub(crate) fn taken_job(job_id: String, token: String, hash: &HashMap<String, String>) -> TakenJob {
    let campaign = campaign_of(hash.get("data").map_or("", String::as_str));
    let attempts_made = hash
        .get("attemptsMade")
        .and_then(|value| value.trim().parse::<u32>().ok())
        .unwrap_or(0);
    TakenJob {
        job_id,
        token,
        campaign,
        attempts_made,
    }
}

/// The campaign a job's data names (`{"jobUuid": "<id>"}`); `Err` holds the raw data.
pub(crate) fn campaign_of(raw: &str) -> Result<CampaignId, String> {
    serde_json::from_str::<serde_json::Value>(raw)
        .ok()
        .and_then(|data| data.get("jobUuid")?.as_str()?.parse::<CampaignId>().ok())
        .ok_or_else(|| raw.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(fields: &[(&str, &str)]) -> HashMap<String, String> {
        fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn taken_job_reads_the_campaign_and_attempts() {
        let campaign = CampaignId::new();
        let data = format!(r#"{{"jobUuid":"{campaign}"}}"#);
        let job = taken_job(
            "7".into(),
            "t".into(),
            &hash(&[("data", &data), ("attemptsMade", "2")]),
        );
        assert_eq!(job.campaign, Ok(campaign));
        assert_eq!(job.attempts_made, 2);
        assert_eq!(job.job_id, "7");
    }

    #[test]
    fn taken_job_keeps_raw_data_when_it_names_no_campaign() {
        for raw in [
            r#"{"jobUuid":"nope"}"#,
            r#"{"other":1}"#,
            "not json",
            r#"{"jobUuid":5}"#,
        ] {
            let job = taken_job("1".into(), "t".into(), &hash(&[("data", raw)]));
            assert_eq!(job.campaign, Err(raw.to_owned()));
            assert_eq!(job.attempts_made, 0);
        }
        let job = taken_job("1".into(), "t".into(), &hash(&[]));
        assert_eq!(job.campaign, Err(String::new()));
    }

    #[test]
    fn the_data_written_is_the_data_read() {
        let campaign = CampaignId::new();
        assert_eq!(job_data(campaign), format!(r#"{{"jobUuid":"{campaign}"}}"#));
        assert_eq!(campaign_of(&job_data(campaign)), Ok(campaign));
    }

    #[test]
    fn opts_are_written_in_node_key_order() {
        let opts = JobOpts {
            attempts: 5,
            backoff_delay_ms: 10_000,
            keep_completed: 1000,
            keep_failed: 0,
        };
        assert_eq!(
            opts.json_prefix(),
            r#"{"attempts":5,"backoff":{"type":"exponential","delay":10000},"removeOnComplete":1000,"removeOnFail":0,"#
        );
        // At least one attempt, whatever the settings say.
        let none = JobOpts {
            attempts: 0,
            ..opts
        };
        assert!(none.json_prefix().starts_with(r#"{"attempts":1,"#));
    }

    #[test]
    fn pairs_reads_a_flat_hash_and_drops_a_dangling_field() {
        let map = pairs(vec!["a".into(), "1".into(), "b".into()]);
        assert_eq!(map, hash(&[("a", "1")]));
    }
}
