//! A request id makes a submit safe to retry.

use commentd::proto::{ListCommentsRequest, SubmitCommentRequest};
use tonic::Code;
use tonic_types::StatusExt;

use crate::helpers::{spawn_app, submission};

fn keyed(body: &str, key: &str) -> SubmitCommentRequest {
    SubmitCommentRequest {
        request_id: key.into(),
        ..submission("kremlin-usa-visas", "reader-7", body)
    }
}

async fn count(client: &mut crate::helpers::Client) -> usize {
    client
        .list_comments(ListCommentsRequest {
            article_id: "kremlin-usa-visas".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .comments
        .len()
}

#[tokio::test]
async fn retrying_with_the_same_request_id_returns_the_first_comment() {
    let app = spawn_app().await;
    let mut client = app.client.clone();
    let first = client
        .submit_comment(keyed("Fair point.", "req-1"))
        .await
        .unwrap()
        .into_inner();
    let again = client
        .submit_comment(keyed("Fair point.", "req-1"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.comment, again.comment);
    assert_eq!(count(&mut client).await, 1);
}

#[tokio::test]
async fn reusing_a_request_id_for_different_content_is_already_exists() {
    let app = spawn_app().await;
    let mut client = app.client.clone();
    client
        .submit_comment(keyed("Fair point.", "req-1"))
        .await
        .unwrap();
    let err = client
        .submit_comment(keyed("Something else entirely.", "req-1"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::AlreadyExists);
    let violations = err.get_details_bad_request().unwrap().field_violations;
    assert_eq!(violations[0].field, "request_id");
    assert_eq!(count(&mut client).await, 1);
}

#[tokio::test]
async fn concurrent_retries_create_one_comment() {
    let app = spawn_app().await;
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let mut client = app.client.clone();
            tokio::spawn(async move {
                client
                    .submit_comment(keyed("Same words, sent sixteen times.", "req-burst"))
                    .await
                    .unwrap()
                    .into_inner()
                    .comment
                    .unwrap()
                    .id
            })
        })
        .collect();
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.unwrap());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1);
    assert_eq!(count(&mut app.client.clone()).await, 1);
}
