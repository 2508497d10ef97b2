//! Moderators approve held comments (publishing them) and reject published
//! ones (retracting them).

use std::time::Duration;

use commentd::proto::{
    CommentEventType, CommentStatus, ListReviewQueueRequest, ModerateCommentRequest,
    WatchCommentsRequest,
};
use tokio_stream::StreamExt;

use crate::helpers::{spawn_app, status_of};

fn decide(id: &str, status: CommentStatus) -> ModerateCommentRequest {
    ModerateCommentRequest {
        id: id.into(),
        status: status as i32,
        moderator_id: "mod-anna".into(),
        reason: "reviewed".into(),
    }
}

#[tokio::test]
async fn approving_publishes_and_rejecting_retracts() {
    let app = spawn_app().await;
    let mut client = app.client.clone();
    let held = app.submit("a", "what a moron").await;
    assert_eq!(status_of(&held), CommentStatus::PendingReview);
    let mut events = client
        .watch_comments(WatchCommentsRequest {
            article_id: "a".into(),
            after_cursor: Some(0),
        })
        .await
        .unwrap()
        .into_inner();

    let approved = client
        .moderate_comment(decide(&held.id, CommentStatus::Approved))
        .await
        .unwrap()
        .into_inner()
        .comment
        .unwrap();
    assert_eq!(status_of(&approved), CommentStatus::Approved);
    let decision = approved.moderator_decision.as_ref().unwrap();
    assert_eq!(decision.moderator_id, "mod-anna");
    // The automatic verdict is kept for the record.
    assert_eq!(
        approved.verdict.as_ref().unwrap().status(),
        CommentStatus::PendingReview
    );

    let queue = client
        .list_review_queue(ListReviewQueueRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(queue.comments.is_empty());

    client
        .moderate_comment(decide(&held.id, CommentStatus::Rejected))
        .await
        .unwrap();
    let mut kinds = Vec::new();
    for _ in 0..2 {
        let event = tokio::time::timeout(Duration::from_secs(10), events.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(event.comment.as_ref().unwrap().id, held.id);
        kinds.push((event.cursor, event.r#type()));
    }
    assert_eq!(
        kinds,
        [
            (1, CommentEventType::Published),
            (2, CommentEventType::Retracted)
        ]
    );
}
