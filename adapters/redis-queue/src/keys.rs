//! Redis key names of one bull queue.

/// Every key of one queue, `<prefix>:<queue>:<suffix>`.
#[derive(Debug, Clone)]
pub(crate) struct Keys {
    /// `<prefix>:<queue>:`, the base of every key; job hashes are `<base><id>`.
    pub base: String,
    pub id: String,
    pub wait: String,
    pub active: String,
    pub paused: String,
    pub meta_paused: String,
    pub delayed: String,
    pub priority: String,
    pub completed: String,
    pub failed: String,
    pub stalled: String,
    pub stalled_check: String,
}

impl Keys {
    pub fn new(prefix: &str, queue: &str) -> Self {
        let base = format!("{prefix}:{queue}:");
        let key = |suffix: &str| format!("{base}{suffix}");
        Self {
            id: key("id"),
            wait: key("wait"),
            active: key("active"),
            paused: key("paused"),
            meta_paused: key("meta-paused"),
            delayed: key("delayed"),
            priority: key("priority"),
            completed: key("completed"),
            failed: key("failed"),
            stalled: key("stalled"),
            stalled_check: key("stalled-check"),
            base,
        }
    }

    /// The lock of job `id`.
    pub fn lock(&self, id: &str) -> String {
        format!("{}{id}:lock", self.base)
    }

    /// Paloma's shared send rate (not a bull key). The double colon is historical: the key
    /// has been written this way since the throttle was added, so it stays.
    pub fn send_throttle(&self) -> String {
        format!("{}:send-throttle", self.base)
    }

    /// The channel on which Paloma asks the worker sending a campaign to stop (not a bull
    /// key; bull's own channels are `<base><event>@<token>`).
    pub fn stop_channel(&self) -> String {
        format!("{}paloma-stop", self.base)
    }

    /// Where a worker confirms one stop request (a list, gone after a few seconds).
    pub fn stop_reply(&self, request: &str) -> String {
        format!("{}paloma-stop-reply:{request}", self.base)
    }

    /// The ids of the workers that heartbeat (a set; not a bull key).
    pub fn workers(&self) -> String {
        format!("{}paloma-workers", self.base)
    }

    /// One worker's last heartbeat (expires unless renewed).
    pub fn worker(&self, id: &str) -> String {
        format!("{}paloma-worker:{id}", self.base)
    }

    /// The list of test messages waiting for a worker (not a bull key).
    pub fn test_sends(&self) -> String {
        format!("{}paloma-test-sends", self.base)
    }

    /// Where a worker answers one test send (a list, gone after a minute).
    pub fn test_reply(&self, request: &str) -> String {
        format!("{}paloma-test-reply:{request}", self.base)
    }

    /// A campaign's fence (`fence.lua`): the jobs taken out of reach while a pause or a cancel
    /// is stored, id -> where each was. Not a bull key.
    pub fn fence(&self, campaign: &str) -> String {
        format!("{}paloma-fence:{campaign}", self.base)
    }

    /// Paloma's claim on a campaign: not a bull key, and no job's (its hash would need the id
    /// `campaign-claim:<uuid>`).
    pub fn campaign_claim(&self, campaign: &str) -> String {
        format!("{}campaign-claim:{campaign}", self.base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_the_bull_layout() {
        let keys = Keys::new("bull", "email-queue");
        assert_eq!(keys.wait, "bull:email-queue:wait");
        assert_eq!(keys.meta_paused, "bull:email-queue:meta-paused");
        assert_eq!(keys.stalled_check, "bull:email-queue:stalled-check");
        assert_eq!(keys.base, "bull:email-queue:");
        assert_eq!(keys.lock("7"), "bull:email-queue:7:lock");
        assert_eq!(keys.send_throttle(), "bull:email-queue::send-throttle");
        assert_eq!(
            keys.campaign_claim("0190"),
            "bull:email-queue:campaign-claim:0190"
        );
    }
}
