//! Approved comments stream live, and a watcher resumes from its cursor with
//! no gap and no duplicate.

use std::collections::BTreeSet;
use std::time::Duration;

use commentd::proto::{
    CommentEventType, CommentStatus, ModerateCommentRequest, WatchCommentsRequest,
    WatchCommentsResponse,
};
use tokio_stream::StreamExt;
use tonic::{Code, Streaming};

use crate::helpers::{Client, connect, spawn_app, status_of, submission};

async fn watch(
    client: &mut Client,
    article: &str,
    after: Option<u64>,
) -> Streaming<WatchCommentsResponse> {
    client
        .watch_comments(WatchCommentsRequest {
            article_id: article.into(),
            after_cursor: after,
        })
        .await
        .expect("watch starts")
        .into_inner()
}

async fn next(stream: &mut Streaming<WatchCommentsResponse>) -> WatchCommentsResponse {
    tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("an event arrives in time")
        .expect("the stream is open")
        .expect("the event is not an error")
}

#[tokio::test]
async fn a_watcher_resuming_from_its_cursor_misses_nothing_while_submits_run() {
    let app = spawn_app().await;
    // Submitters: a mix of approved and rejected comments on two articles.
    let mut submitters = Vec::new();
    for writer in 0..4 {
        let client = app.client.clone();
        submitters.push(tokio::spawn(async move {
            let mut approved = Vec::new();
            for i in 0..60 {
                let article = if i % 3 == 0 { "other" } else { "watched" };
                let body = if i % 4 == 0 {
                    format!("shit take number {i}")
                } else {
                    format!("A calm remark {i} from writer {writer}.")
                };
                let comment = client
                    .clone()
                    .submit_comment(submission(article, &format!("w{writer}-{i}"), &body))
                    .await
                    .unwrap()
                    .into_inner()
                    .comment
                    .unwrap();
                if status_of(&comment) == CommentStatus::Approved && article == "watched" {
                    approved.push(comment.id);
                }
            }
            approved
        }));
    }

    // The watcher reads a few events, disconnects, and resumes, repeatedly,
    // until the submitters are done and it has every approved comment.
    let mut client = app.client.clone();
    let mut received: Vec<(u64, String)> = Vec::new();
    let mut expected: Option<BTreeSet<String>> = None;
    let mut round = 0;
    'rounds: loop {
        let after = received.last().map_or(0, |(cursor, _)| *cursor);
        let mut stream = watch(&mut client, "watched", Some(after)).await;
        for _ in 0..(3 + round % 5) {
            if expected.is_none() && submitters.iter().all(|s| s.is_finished()) {
                let mut all = BTreeSet::new();
                for s in submitters.drain(..) {
                    all.extend(s.await.unwrap());
                }
                expected = Some(all);
            }
            if expected.as_ref().is_some_and(|e| received.len() >= e.len()) {
                break 'rounds;
            }
            let event = next(&mut stream).await;
            assert_eq!(event.r#type(), CommentEventType::Published);
            let comment = event.comment.unwrap();
            assert_eq!(comment.article_id, "watched");
            assert_eq!(status_of(&comment), CommentStatus::Approved);
            received.push((event.cursor, comment.id));
        }
        round += 1;
    }
    let expected = expected.unwrap();
    let cursors: Vec<u64> = received.iter().map(|(c, _)| *c).collect();
    assert!(
        cursors.windows(2).all(|w| w[0] < w[1]),
        "cursors strictly increase: {cursors:?}"
    );
    let ids: Vec<&String> = received.iter().map(|(_, id)| id).collect();
    let unique: BTreeSet<&String> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "no duplicates");
    assert_eq!(
        unique,
        expected.iter().collect(),
        "every approved comment exactly once"
    );
}

#[tokio::test]
async fn without_a_cursor_only_new_events_arrive() {
    let app = spawn_app().await;
    app.submit("a", "Before the watch started.").await;
    let mut client = app.client.clone();
    let mut stream = watch(&mut client, "a", None).await;
    let after = app.submit("a", "After the watch started.").await;
    let event = next(&mut stream).await;
    assert_eq!(event.comment.unwrap().id, after.id);
}

#[tokio::test]
async fn a_replayed_event_carries_the_status_and_decision_it_gave_as_a_live_one_did() {
    let app = spawn_app().await;
    let mut client = app.client.clone();
    let mut live = watch(&mut client, "a", None).await;
    let comment = app.submit("a", "A fair point about the visas.").await;
    for (moderator, status, reason) in [
        ("mod-alice", CommentStatus::Rejected, "off-topic"),
        ("mod-bob", CommentStatus::Approved, "on appeal"),
    ] {
        client
            .moderate_comment(ModerateCommentRequest {
                id: comment.id.clone(),
                status: status as i32,
                moderator_id: moderator.into(),
                reason: reason.into(),
            })
            .await
            .expect("the decision is recorded");
    }
    let seen = |event: WatchCommentsResponse| {
        let comment = event.comment.unwrap();
        let decision = comment
            .moderator_decision
            .map(|d| (d.moderator_id, d.status, d.reason));
        (event.r#type, comment.status, decision)
    };
    let mut live_events = Vec::new();
    for _ in 0..3 {
        live_events.push(seen(next(&mut live).await));
    }
    let mut replay = watch(&mut client, "a", Some(0)).await;
    let mut replayed = Vec::new();
    for _ in 0..3 {
        replayed.push(seen(next(&mut replay).await));
    }
    let decision = |moderator: &str, status: CommentStatus, reason: &str| {
        Some((moderator.to_owned(), status as i32, reason.to_owned()))
    };
    assert_eq!(
        live_events,
        [
            (
                CommentEventType::Published as i32,
                CommentStatus::Approved as i32,
                None
            ),
            (
                CommentEventType::Retracted as i32,
                CommentStatus::Rejected as i32,
                decision("mod-alice", CommentStatus::Rejected, "off-topic")
            ),
            (
                CommentEventType::Published as i32,
                CommentStatus::Approved as i32,
                decision("mod-bob", CommentStatus::Approved, "on appeal")
            ),
        ]
    );
    assert_eq!(replayed, live_events);
}

#[tokio::test]
async fn a_cursor_beyond_the_last_event_is_out_of_range_not_a_silent_wait() {
    let app = spawn_app().await;
    let comment = app.submit("a", "A fair point about the visas.").await;
    let mut client = app.client.clone();
    let mut at_the_end = watch(&mut client, "a", Some(1)).await;
    let err = client
        .watch_comments(WatchCommentsRequest {
            article_id: "a".into(),
            after_cursor: Some(1000),
        })
        .await
        .expect_err("a cursor this server never sent");
    assert_eq!(err.code(), Code::OutOfRange, "{err:?}");
    assert!(err.message().contains("after_cursor 1000"), "{err:?}");
    let later = app.submit("a", "Another fair point.").await;
    assert_ne!(later.id, comment.id);
    assert_eq!(next(&mut at_the_end).await.comment.unwrap().id, later.id);
}

#[tokio::test]
async fn cursor_zero_replays_from_the_beginning_and_empty_article_means_all() {
    let app = spawn_app().await;
    let a = app.submit("a", "First.").await;
    app.submit("b", "fuck off").await;
    let b = app.submit("b", "Second.").await;
    let mut client = app.client.clone();
    let mut stream = watch(&mut client, "", Some(0)).await;
    let first = next(&mut stream).await;
    let second = next(&mut stream).await;
    assert_eq!((first.cursor, first.comment.unwrap().id), (1, a.id));
    assert_eq!((second.cursor, second.comment.unwrap().id), (2, b.id));
}

#[tokio::test]
async fn a_watcher_that_never_reads_does_not_block_submitters_or_other_watchers() {
    let app = spawn_app().await;
    // Separate connections, as separate front-ends would have: within one
    // HTTP/2 connection, a stream nobody reads eventually uses up the
    // connection's flow-control window for its siblings too. The stalled
    // client's window is small, so the server really cannot send to it.
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", app.addr))
        .unwrap()
        .initial_stream_window_size(16 * 1024)
        .initial_connection_window_size(16 * 1024)
        .connect()
        .await
        .unwrap();
    let mut stalled_client = Client::new(channel);
    let _stalled = watch(&mut stalled_client, "busy", Some(0)).await;
    let mut client = connect(app.addr).await;
    let mut reader = watch(&mut client, "busy", Some(0)).await;
    // Far more than the feed buffers for a watcher.
    let body = "The talks on visas and embassy staff went on for hours. ".repeat(35);
    let mut ids = Vec::new();
    for i in 0..400 {
        let comment = app.submit("busy", &format!("{i}. {body}")).await;
        assert_eq!(status_of(&comment), CommentStatus::Approved);
        ids.push(comment.id);
    }
    for id in ids {
        assert_eq!(next(&mut reader).await.comment.unwrap().id, id);
    }
}

#[tokio::test]
async fn shutdown_ends_streams_with_unavailable_and_the_last_cursor() {
    let mut app = spawn_app().await;
    app.submit("a", "One.").await;
    let mut client = app.client.clone();
    let mut stream = watch(&mut client, "a", Some(0)).await;
    assert_eq!(next(&mut stream).await.cursor, 1);
    app.stop().await;
    let status = tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("the stream ends in time")
        .expect("an item")
        .expect_err("the stream ends with a status");
    assert_eq!(status.code(), Code::Unavailable);
    assert!(
        status.message().contains("after_cursor=1"),
        "{}",
        status.message()
    );
}
