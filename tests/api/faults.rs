//! A storage failure during a submit is reported, acknowledges nothing,
//! leaves nothing half-written, and turns health NOT_SERVING while reads go
//! on.

use std::sync::atomic::Ordering;
use std::time::Duration;

use commentd::proto::{GetCommentRequest, ListCommentsRequest, SubmitCommentRequest};
use tonic::Code;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::helpers::{TestApp, spawn_app, submission};

async fn health(app: &TestApp) -> ServingStatus {
    let channel = tonic::transport::Channel::from_shared(format!("http://{}", app.addr))
        .unwrap()
        .connect()
        .await
        .unwrap();
    HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: "commentd.v1.CommentService".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .status()
}

async fn wait_for_health(app: &TestApp, expected: ServingStatus) {
    for _ in 0..200 {
        if health(app).await == expected {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("health never became {expected:?}");
}

async fn listed(app: &TestApp) -> usize {
    app.client
        .clone()
        .list_comments(ListCommentsRequest {
            article_id: "a".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .comments
        .len()
}

fn keyed(key: &str) -> SubmitCommentRequest {
    SubmitCommentRequest {
        request_id: key.into(),
        ..submission("a", "reader-1", "A comment written while storage failed.")
    }
}

#[tokio::test]
async fn a_failing_transaction_writes_nothing_and_reads_continue() {
    let mut app = spawn_app().await;
    let earlier = app.submit("a", "Written before the failure.").await;
    app.faults.fail_transaction.store(true, Ordering::SeqCst);

    let err = app
        .client
        .clone()
        .submit_comment(keyed("k1"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unavailable, "{}", err.message());
    wait_for_health(&app, ServingStatus::NotServing).await;
    // Reads still work and see nothing of the failed write.
    let got = app
        .client
        .clone()
        .get_comment(GetCommentRequest {
            id: earlier.id.clone(),
        })
        .await
        .unwrap();
    assert_eq!(got.into_inner().comment.unwrap(), earlier);
    assert_eq!(listed(&app).await, 1);

    app.faults.fail_transaction.store(false, Ordering::SeqCst);
    let retried = app
        .client
        .clone()
        .submit_comment(keyed("k1"))
        .await
        .unwrap();
    assert!(retried.into_inner().comment.is_some());
    wait_for_health(&app, ServingStatus::Serving).await;
    assert_eq!(listed(&app).await, 2);

    app.stop().await;
    let report = commentd::store::check(app.data_dir()).unwrap();
    assert!(report.is_consistent(), "{report}");
}

#[tokio::test]
async fn a_failing_flush_acknowledges_nothing_until_storage_recovers() {
    let mut app = spawn_app().await;
    app.faults.fail_flush.store(true, Ordering::SeqCst);
    for key in ["k1", "k2"] {
        let err = app
            .client
            .clone()
            .submit_comment(keyed(key))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::Unavailable, "{}", err.message());
    }
    wait_for_health(&app, ServingStatus::NotServing).await;
    assert_eq!(listed(&app).await, 0, "nothing unacknowledged is visible");

    app.faults.fail_flush.store(false, Ordering::SeqCst);
    // The retry finds the comment the first attempt wrote (its outcome was
    // unknown to the client), or writes it now: either way, exactly one.
    let first = app
        .client
        .clone()
        .submit_comment(keyed("k1"))
        .await
        .unwrap()
        .into_inner();
    let again = app
        .client
        .clone()
        .submit_comment(keyed("k1"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.comment, again.comment);
    wait_for_health(&app, ServingStatus::Serving).await;

    app.stop().await;
    let report = commentd::store::check(app.data_dir()).unwrap();
    assert!(report.is_consistent(), "{report}");
}

#[tokio::test]
async fn a_request_that_runs_out_of_the_servers_time_is_deadline_exceeded() {
    let app = crate::helpers::spawn_app_with(|s| s.request_timeout = Duration::ZERO).await;
    // Submits wait for a flush; with no time allowed most run out of it,
    // and whether one does depends on timing: every one that does must say
    // DEADLINE_EXCEEDED, never CANCELLED (the caller gave up).
    let submits = (0..32).map(|n| {
        let mut client = app.client.clone();
        tokio::spawn(async move {
            client
                .submit_comment(submission("a", &format!("reader-{n}"), "A fair point."))
                .await
        })
    });
    for submit in submits.collect::<Vec<_>>() {
        if let Err(status) = submit.await.unwrap() {
            assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
        }
    }
}
