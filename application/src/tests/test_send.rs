//! Test sends: the API renders the message for the sample recipient and hands it to the
//! queue; a worker sends it to each address and answers; the campaign does not change.

use paloma_domain::{Action, Actor, DeliveryOutcome, RecipientInput};
use tokio_util::sync::CancellationToken;

use super::*;
use crate::ports::{MessageSender, TestMessage, TestSendAnswer, TestSendRequest};
use crate::{TestSendError, TestSendInput, TestSent};

fn with_tags(emails: &[&str]) -> NewCampaignInput {
    NewCampaignInput {
        subject: "Hi {{ name | default('you') }}".to_owned(),
        body: "<p>{{ email }}</p><a href=\"{{ unsubscribe_url }}\">out</a>".to_owned(),
        ..input(emails)
    }
}

fn to(addresses: &[&str]) -> Vec<String> {
    addresses.iter().map(|a| (*a).to_owned()).collect()
}

#[tokio::test(start_paused = true)]
async fn a_test_is_rendered_for_its_sample_handed_to_a_worker_and_recorded() {
    let env = Env::new(FakeMailer::default());
    let sender = key_actor("sender", "campaigns:send");
    let id = env
        .service()
        .create(
            with_tags(&["first@x.org", "second@x.org"]),
            Intent::Draft,
            None,
            &Actor::cli(),
        )
        .await
        .expect("created")
        .campaign
        .id;
    let before = env.repo.campaign(id);

    // No sample: the campaign's first recipient.
    let sent = env
        .service()
        .send_test(
            id,
            TestSendInput {
                to: to(&["me@x.org", "ME@x.org", "you@x.org"]),
                recipient: None,
            },
            &sender,
        )
        .await
        .expect("sent");
    assert_eq!(
        sent,
        TestSent::Sent(vec![
            ("me@x.org".to_owned(), DeliveryOutcome::Sent),
            ("you@x.org".to_owned(), DeliveryOutcome::Sent),
        ])
    );
    // A sample given: rendered for it.
    env.service()
        .send_test(
            id,
            TestSendInput {
                to: to(&["me@x.org"]),
                recipient: Some(RecipientInput {
                    email: "ana@x.org".to_owned(),
                    name: Some("Ana".to_owned()),
                    fields: Vec::new(),
                }),
            },
            &sender,
        )
        .await
        .expect("sent");

    let handed = env.queue.test_sends.lock().expect("lock").clone();
    assert_eq!(handed.len(), 2);
    assert_eq!(handed[0].to, to(&["me@x.org", "you@x.org"]));
    assert_eq!(handed[0].subject, "[Test] Hi you");
    assert!(
        handed[0].html.contains("<p>first@x.org</p>"),
        "{}",
        handed[0].html
    );
    assert!(
        handed[0]
            .html
            .contains(paloma_domain::PREVIEW_UNSUBSCRIBE_URL)
    );
    assert_eq!(handed[1].subject, "[Test] Hi Ana");
    assert!(handed[1].html.contains("<p>ana@x.org</p>"));

    assert_eq!(env.repo.campaign(id), before, "the campaign did not change");
    assert!(env.queue.enqueued.lock().expect("lock").is_empty());
    let actions = env.repo.activity.actions();
    assert_eq!(
        actions
            .iter()
            .filter(|(a, c, key)| *a == Action::CampaignTested && *c == Some(id) && key == "sender")
            .count(),
        2,
        "{actions:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_test_no_worker_took_is_an_error_and_bad_input_reaches_no_worker() {
    let env = Env::new(FakeMailer::default());
    let actor = key_actor("sender", "campaigns:send");
    let id = create(&env, &to(&["a@x.org"])).await;
    let test = |to: Vec<String>, recipient: Option<RecipientInput>| {
        let service = env.service();
        let actor = actor.clone();
        async move {
            service
                .send_test(id, TestSendInput { to, recipient }, &actor)
                .await
        }
    };

    *env.queue.test_answer.lock().expect("lock") = Some(TestSendAnswer::NoWorker);
    assert!(matches!(
        test(to(&["me@x.org"]), None).await,
        Err(TestSendError::NoWorker)
    ));
    *env.queue.test_answer.lock().expect("lock") = Some(TestSendAnswer::Taken);
    assert_eq!(
        test(to(&["me@x.org"]), None).await.expect("taken"),
        TestSent::Taken(to(&["me@x.org"]))
    );
    let handed = env.queue.test_sends.lock().expect("lock").len();
    assert_eq!(handed, 2);

    for bad in [
        to(&[]),
        to(&[
            "1@x.org", "2@x.org", "3@x.org", "4@x.org", "5@x.org", "6@x.org",
        ]),
        to(&["not an address"]),
    ] {
        assert!(matches!(
            test(bad, None).await,
            Err(TestSendError::Invalid(_))
        ));
    }
    assert!(matches!(
        env.service()
            .send_test(
                paloma_domain::CampaignId::new(),
                TestSendInput {
                    to: to(&["me@x.org"]),
                    recipient: None
                },
                &actor
            )
            .await,
        Err(TestSendError::NotFound)
    ));
    assert_eq!(env.queue.test_sends.lock().expect("lock").len(), handed);
    // Only the two handed to a worker are in the trail.
    let tested = env
        .repo
        .activity
        .actions()
        .into_iter()
        .filter(|(a, _, _)| *a == Action::CampaignTested)
        .count();
    assert_eq!(tested, 1, "the one no worker took is not recorded");
}

#[tokio::test(start_paused = true)]
async fn a_worker_sends_a_test_to_each_address_and_answers_the_outcomes() {
    let env = Env::new(FakeMailer::default());
    let campaign = paloma_domain::CampaignId::new();
    let request = TestSendRequest {
        message: TestMessage {
            campaign,
            to: to(&["me@x.org", "bounce@x.org"]),
            subject: "[Test] Hi".to_owned(),
            html: "<p>Hi</p>".to_owned(),
            text: "Hi".to_owned(),
            sender: MessageSender {
                from_name: Some("News".to_owned()),
                ..MessageSender::default()
            },
        },
        reply_to: "reply".to_owned(),
    };
    env.consumer
        .test_sends
        .lock()
        .expect("lock")
        .push(request.clone());

    let shutdown = CancellationToken::new();
    let worker = env.worker(2);
    let running = tokio::spawn({
        let shutdown = shutdown.clone();
        async move { worker.run(shutdown).await }
    });
    for _ in 0..100 {
        if !env.consumer.test_answers.lock().expect("lock").is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    shutdown.cancel();
    running.await.expect("worker stopped");

    let answers = env.consumer.test_answers.lock().expect("lock").clone();
    assert_eq!(answers.len(), 1);
    assert_eq!(answers[0].0, request);
    assert_eq!(answers[0].1[0], DeliveryOutcome::Sent);
    assert!(matches!(answers[0].1[1], DeliveryOutcome::Permanent(_)));
    let delivered = env.mailer.delivered.lock().expect("lock").clone();
    assert_eq!(delivered.len(), 1);
    assert_eq!(delivered[0].to, "me@x.org");
    assert_eq!(&*delivered[0].subject, "[Test] Hi");
    assert_eq!(delivered[0].sender.from_name.as_deref(), Some("News"));
    assert!(delivered[0].unsubscribe.is_none());
}
