//! Test sends through Redis (docs/bull-protocol.md, "Paloma's own keys"): the API pushes the
//! rendered message, as JSON with a reply key and a deadline, onto the list
//! `<base>paloma-test-sends`; one worker pops it (`BLPOP`), sends it and pushes the outcomes to
//! the reply key. The API polls the reply; when its wait ends, it takes the message back off
//! the list (`LREM`): if it was still there no worker had taken it, and nothing is sent.

use std::time::Duration;

use paloma_application::{MessageSender, QueueError, TestMessage, TestSendAnswer, TestSendRequest};
use paloma_domain::{CampaignId, DeliveryOutcome};
use serde_json::{Value, json};
use tracing::{debug, warn};
use uuid::Uuid;

use crate::error::redis_error;
use crate::pool::{BlockingConnection, Shared};

/// How often the API looks for the answer while it waits.
const POLL: Duration = Duration::from_millis(20);

/// Hands `message` to the workers and waits up to `wait` for its outcomes.
pub(crate) async fn send(
    shared: &Shared,
    message: &TestMessage,
    wait: Duration,
) -> Result<TestSendAnswer, QueueError> {
    let keys = &shared.keys;
    let list = keys.test_sends();
    let reply = keys.test_reply(&Uuid::now_v7().to_string());
    let deadline_ms = chrono::Utc::now().timestamp_millis()
        + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX / 2);
    let payload = encode(message, &reply, deadline_ms);
    let mut conn = shared.conn().await?;
    redis::cmd("RPUSH")
        .arg(&list)
        .arg(&payload)
        .query_async::<()>(&mut *conn)
        .await
        .map_err(redis_error)?;
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let answer: Option<String> = redis::cmd("LPOP")
            .arg(&reply)
            .query_async(&mut *conn)
            .await
            .map_err(redis_error)?;
        if let Some(answer) = answer {
            return Ok(TestSendAnswer::Sent(decode_outcomes(
                &answer,
                message.to.len(),
            )));
        }
        if tokio::time::Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(POLL).await;
    }
    let withdrawn: u64 = redis::cmd("LREM")
        .arg(&list)
        .arg(1)
        .arg(&payload)
        .query_async(&mut *conn)
        .await
        .map_err(redis_error)?;
    Ok(if withdrawn > 0 {
        TestSendAnswer::NoWorker
    } else {
        TestSendAnswer::Taken
    })
}

/// Waits up to `timeout` for a test send; one past its deadline (its asker withdrew it, or
/// died) or unreadable is dropped.
pub(crate) async fn take(
    shared: &Shared,
    blocking: &BlockingConnection,
    timeout: Duration,
) -> Result<Option<TestSendRequest>, QueueError> {
    let Some(payload) = blocking
        .pop_first(&shared.keys.test_sends(), timeout)
        .await?
    else {
        return Ok(None);
    };
    match decode(&payload) {
        Some((request, deadline_ms)) if deadline_ms >= chrono::Utc::now().timestamp_millis() => {
            Ok(Some(request))
        }
        Some(_) => {
            debug!("dropped a test send whose asker stopped waiting");
            Ok(None)
        }
        None => {
            warn!(
                payload_len = payload.len(),
                "dropped an unreadable test send"
            );
            Ok(None)
        }
    }
}

/// Pushes the outcomes of `request`'s addresses to its reply key.
pub(crate) async fn answer(
    shared: &Shared,
    request: &TestSendRequest,
    outcomes: &[DeliveryOutcome],
) -> Result<(), QueueError> {
    crate::stops::reply(shared, &request.reply_to, &encode_outcomes(outcomes)).await
}

fn encode(message: &TestMessage, reply: &str, deadline_ms: i64) -> String {
    json!({
        "reply": reply,
        "deadline": deadline_ms,
        "campaign": message.campaign.to_string(),
        "to": message.to,
        "subject": message.subject,
        "html": message.html,
        "text": message.text,
        "fromName": message.sender.from_name,
        "fromEmail": message.sender.from_email,
        "replyTo": message.sender.reply_to,
    })
    .to_string()
}

/// The request and its deadline (ms since the epoch); `None` when it is not one.
fn decode(payload: &str) -> Option<(TestSendRequest, i64)> {
    let value: Value = serde_json::from_str(payload).ok()?;
    let text = |name: &str| value.get(name)?.as_str().map(str::to_owned);
    let campaign = CampaignId::from_uuid(Uuid::parse_str(value.get("campaign")?.as_str()?).ok()?);
    let to = value
        .get("to")?
        .as_array()?
        .iter()
        .map(|a| a.as_str().map(str::to_owned))
        .collect::<Option<Vec<_>>>()?;
    let request = TestSendRequest {
        message: TestMessage {
            campaign,
            to,
            subject: text("subject")?,
            html: text("html")?,
            text: text("text")?,
            sender: MessageSender {
                from_name: text("fromName"),
                from_email: text("fromEmail"),
                reply_to: text("replyTo"),
            },
        },
        reply_to: text("reply")?,
    };
    Some((request, value.get("deadline")?.as_i64()?))
}

fn encode_outcomes(outcomes: &[DeliveryOutcome]) -> String {
    let list: Vec<Value> = outcomes
        .iter()
        .map(|o| match o {
            DeliveryOutcome::Sent => json!({ "outcome": "sent" }),
            DeliveryOutcome::Transient(e) => json!({ "outcome": "transient", "error": e }),
            DeliveryOutcome::Permanent(e) => json!({ "outcome": "permanent", "error": e }),
        })
        .collect();
    Value::Array(list).to_string()
}

/// `expected` outcomes; an answer that is not readable counts as a transient failure of
/// every address (it says nothing sure).
fn decode_outcomes(answer: &str, expected: usize) -> Vec<DeliveryOutcome> {
    let parsed: Option<Vec<DeliveryOutcome>> = serde_json::from_str::<Vec<Value>>(answer)
        .ok()
        .and_then(|list| list.iter().map(outcome_of).collect());
    match parsed {
        Some(outcomes) if outcomes.len() == expected => outcomes,
        _ => {
            warn!(
                answer_len = answer.len(),
                "unreadable answer to a test send"
            );
            vec![
                DeliveryOutcome::Transient("the worker's answer could not be read".to_owned());
                expected
            ]
        }
    }
}

fn outcome_of(value: &Value) -> Option<DeliveryOutcome> {
    let error = || {
        value
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    match value.get("outcome")?.as_str()? {
        "sent" => Some(DeliveryOutcome::Sent),
        "transient" => Some(DeliveryOutcome::Transient(error())),
        "permanent" => Some(DeliveryOutcome::Permanent(error())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_and_its_outcomes_survive_the_wire() {
        let message = TestMessage {
            campaign: CampaignId::new(),
            to: vec!["a@x.org".to_owned(), "b@x.org".to_owned()],
            subject: "[Test] Hi \"Ana\"".to_owned(),
            html: "<p>é</p>".to_owned(),
            text: "é".to_owned(),
            sender: MessageSender {
                from_name: Some("News".to_owned()),
                from_email: None,
                reply_to: Some("r@x.org".to_owned()),
            },
        };
        let payload = encode(&message, "q:paloma-test-reply:1", 42);
        let (request, deadline) = decode(&payload).expect("decoded");
        assert_eq!(request.message, message);
        assert_eq!(request.reply_to, "q:paloma-test-reply:1");
        assert_eq!(deadline, 42);
        assert_eq!(decode("{\"to\": 1}"), None);

        let outcomes = vec![
            DeliveryOutcome::Sent,
            DeliveryOutcome::Permanent("550 5.1.1 no such user".to_owned()),
        ];
        assert_eq!(decode_outcomes(&encode_outcomes(&outcomes), 2), outcomes);
        assert_eq!(
            decode_outcomes("[{\"outcome\":\"sent\"}]", 2),
            vec![DeliveryOutcome::Transient("the worker's answer could not be read".to_owned()); 2]
        );
    }
}
