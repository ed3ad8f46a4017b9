//! The one-click unsubscribe link of each message: `PUBLIC_URL/u/TOKEN`, and the optional
//! `mailto:` the `List-Unsubscribe` header offers beside it.

use crate::ids::CampaignId;
use crate::unsubscribe::{UnsubscribeSecret, unsubscribe_token};

/// Where a message's reader unsubscribes: made per recipient from the API's public URL and the
/// secret the API checks tokens with.
#[derive(Debug, Clone)]
pub struct UnsubscribeLinks {
    /// `PUBLIC_URL`, without a trailing slash.
    pub public_url: String,
    pub secret: UnsubscribeSecret,
    /// `UNSUBSCRIBE_MAILTO`: an address for `mailto:` unsubscribes, if any.
    pub mailto: Option<String>,
}

impl UnsubscribeLinks {
    /// The one-click URL for `email` in `campaign`.
    pub fn url(&self, campaign: CampaignId, email: &str) -> String {
        format!(
            "{}/u/{}",
            self.public_url,
            unsubscribe_token(&self.secret, campaign, email)
        )
    }

    /// The `mailto:` URI, if one is configured.
    pub fn mailto(&self) -> Option<String> {
        self.mailto
            .as_deref()
            .map(|address| format!("mailto:{address}?subject=unsubscribe"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::unsubscribe::verify_unsubscribe_token;

    #[test]
    fn a_link_carries_a_token_the_api_accepts() {
        let secret = UnsubscribeSecret::new(&"s".repeat(32)).expect("secret");
        let links = UnsubscribeLinks {
            public_url: "https://mail.example.org".into(),
            secret: secret.clone(),
            mailto: Some("leave@example.org".into()),
        };
        let campaign = CampaignId::new();
        let url = links.url(campaign, "Ann@Example.org");
        let token = url
            .strip_prefix("https://mail.example.org/u/")
            .expect("the public URL, then /u/");
        let checked = verify_unsubscribe_token(&secret, token).expect("valid");
        assert_eq!(
            (checked.campaign, checked.email.as_str()),
            (campaign, "ann@example.org")
        );
        assert_eq!(
            links.mailto().as_deref(),
            Some("mailto:leave@example.org?subject=unsubscribe")
        );
    }
}
