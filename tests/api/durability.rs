//! Everything acknowledged survives a restart; cursors keep increasing.

use commentd::proto::{GetCommentRequest, SubmitCommentRequest, WatchCommentsRequest};
use tokio_stream::StreamExt;

use crate::helpers::{spawn_app, submission};

#[tokio::test]
async fn acknowledged_comments_and_request_ids_survive_a_restart() {
    let app = spawn_app().await;
    let approved = app.submit("a", "Calm and reasonable.").await;
    let held = app.submit("a", "you moron").await;
    let rejected = app.submit("a", "fuck this").await;
    let reply = app
        .client
        .clone()
        .submit_comment(SubmitCommentRequest {
            parent_id: approved.id.clone(),
            request_id: "retry-me".into(),
            ..submission("a", "reader-9", "Agreed.")
        })
        .await
        .unwrap()
        .into_inner()
        .comment
        .unwrap();

    let app = app.restart().await;
    let mut client = app.client.clone();
    for before in [&approved, &held, &rejected, &reply] {
        let after = client
            .get_comment(GetCommentRequest {
                id: before.id.clone(),
            })
            .await
            .unwrap()
            .into_inner()
            .comment
            .unwrap();
        assert_eq!(&after, before);
    }
    let retried = client
        .submit_comment(SubmitCommentRequest {
            parent_id: approved.id.clone(),
            request_id: "retry-me".into(),
            ..submission("a", "reader-9", "Agreed.")
        })
        .await
        .unwrap()
        .into_inner()
        .comment
        .unwrap();
    assert_eq!(retried, reply);
}

#[tokio::test]
async fn ids_and_cursors_keep_increasing_across_restarts() {
    let mut app = spawn_app().await;
    let mut ids = Vec::new();
    for round in 0..3 {
        for i in 0..3 {
            ids.push(
                app.submit("a", &format!("Round {round}, comment {i}."))
                    .await
                    .id,
            );
        }
        app = app.restart().await;
    }
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, ids, "ids increase and never repeat");
    let mut stream = app
        .client
        .clone()
        .watch_comments(WatchCommentsRequest {
            article_id: "a".into(),
            after_cursor: Some(0),
        })
        .await
        .unwrap()
        .into_inner();
    let mut cursors = Vec::new();
    for _ in 0..ids.len() {
        let event = stream.next().await.unwrap().unwrap();
        cursors.push(event.cursor);
        assert_eq!(event.comment.unwrap().id, ids[cursors.len() - 1]);
    }
    assert_eq!(cursors, (1..=9).collect::<Vec<u64>>());
}
