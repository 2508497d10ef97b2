//! Under load: many submitters, many watchers that disconnect and resume at
//! random; watchers that never read. Every reading watcher gets every
//! approved event of its articles exactly once, in cursor order.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use commentd::proto::{CommentStatus, WatchCommentsRequest};
use tokio_stream::StreamExt;
use tonic::Code;

use crate::helpers::{Client, connect, spawn_app, spawn_app_with, submission};

const ARTICLES: [&str; 4] = ["a", "b", "c", "d"];

/// Submits `count` comments, a mix the rules approve, hold and reject, and
/// returns the approved ones: (article, id).
async fn submit_many(client: Client, writer: usize, count: usize) -> Vec<(String, String)> {
    let mut approved = Vec::new();
    for n in 0..count {
        let article = ARTICLES[(writer + n) % ARTICLES.len()];
        let body = match n % 5 {
            0 => format!("you idiot, number {n}"),
            1 => format!("fuck number {n}"),
            _ => format!("Remark {n} from writer {writer} on the talks."),
        };
        let comment = client
            .clone()
            .submit_comment(submission(article, &format!("w{writer}-{n}"), &body))
            .await
            .unwrap()
            .into_inner()
            .comment
            .unwrap();
        if comment.status == CommentStatus::Approved as i32 {
            approved.push((article.to_owned(), comment.id));
        }
    }
    approved
}

/// A watcher of one article (or all when empty) that reads `burst` events at
/// a time, then disconnects and resumes from its last cursor, until it has
/// `expected` events.
async fn restless_watcher(
    app_addr: std::net::SocketAddr,
    article: String,
    seed: u64,
    expected: tokio::sync::watch::Receiver<Option<usize>>,
) -> Vec<(u64, String, String)> {
    let mut received: Vec<(u64, String, String)> = Vec::new();
    let mut rng = seed | 1;
    let mut client = connect(app_addr).await;
    loop {
        let after = received.last().map_or(0, |e| e.0);
        let mut stream = client
            .watch_comments(WatchCommentsRequest {
                article_id: article.clone(),
                after_cursor: Some(after),
            })
            .await
            .unwrap()
            .into_inner();
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let burst = 1 + (rng % 40) as usize;
        for _ in 0..burst {
            if let Some(total) = *expected.borrow() {
                if received.len() >= total {
                    return received;
                }
            }
            match tokio::time::timeout(Duration::from_millis(200), stream.next()).await {
                Ok(Some(Ok(event))) => {
                    let c = event.comment.unwrap();
                    received.push((event.cursor, c.article_id, c.id));
                }
                Ok(other) => panic!("stream ended: {other:?}"),
                Err(_) => break, // Nothing new for now: reconnect.
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restless_watchers_see_every_approved_event_once_in_order() {
    let app = spawn_app().await;
    let mut watchers = Vec::new();
    let mut totals = Vec::new();
    for w in 0..12 {
        let article = if w % 4 == 0 {
            String::new()
        } else {
            ARTICLES[w % ARTICLES.len()].to_owned()
        };
        let (tx, rx) = tokio::sync::watch::channel(None);
        totals.push((article.clone(), tx));
        watchers.push((
            article.clone(),
            tokio::spawn(restless_watcher(app.addr, article, 1 + w as u64 * 7919, rx)),
        ));
    }
    let submitters: Vec<_> = (0..8)
        .map(|w| tokio::spawn(submit_many(app.client.clone(), w, 120)))
        .collect();
    let mut approved: Vec<(String, String)> = Vec::new();
    for s in submitters {
        approved.extend(s.await.unwrap());
    }
    let mut per_article: HashMap<&str, BTreeSet<&str>> = HashMap::new();
    for (article, id) in &approved {
        per_article
            .entry(article.as_str())
            .or_default()
            .insert(id.as_str());
    }
    for (article, tx) in &totals {
        let total = if article.is_empty() {
            approved.len()
        } else {
            per_article[article.as_str()].len()
        };
        tx.send_replace(Some(total));
    }
    for (article, watcher) in watchers {
        let received = tokio::time::timeout(Duration::from_secs(60), watcher)
            .await
            .expect("in time")
            .unwrap();
        let cursors: Vec<u64> = received.iter().map(|e| e.0).collect();
        assert!(
            cursors.windows(2).all(|w| w[0] < w[1]),
            "{article:?}: not in cursor order"
        );
        let ids: BTreeSet<&str> = received.iter().map(|e| e.2.as_str()).collect();
        assert_eq!(ids.len(), received.len(), "{article:?}: duplicates");
        let expected: BTreeSet<&str> = if article.is_empty() {
            approved.iter().map(|(_, id)| id.as_str()).collect()
        } else {
            per_article[article.as_str()].clone()
        };
        assert_eq!(
            ids, expected,
            "{article:?}: every approved comment exactly once"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watchers_that_never_read_do_not_hold_back_the_others() {
    let app = spawn_app().await;
    // 20 of 200 watchers never read, each on its own connection with a small
    // window so that the server really cannot send to them.
    let mut stalled = Vec::new();
    for _ in 0..20 {
        let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", app.addr))
            .unwrap()
            .initial_stream_window_size(8 * 1024)
            .initial_connection_window_size(8 * 1024)
            .connect()
            .await
            .unwrap();
        let stream = Client::new(channel)
            .watch_comments(WatchCommentsRequest {
                article_id: "hot".into(),
                after_cursor: Some(0),
            })
            .await
            .unwrap();
        stalled.push(stream);
    }
    let mut readers = Vec::new();
    for _ in 0..180 {
        let mut client = connect(app.addr).await;
        let mut stream = client
            .watch_comments(WatchCommentsRequest {
                article_id: "hot".into(),
                after_cursor: Some(0),
            })
            .await
            .unwrap()
            .into_inner();
        readers.push(tokio::spawn(async move {
            let mut cursors = Vec::new();
            while cursors.len() < 300 {
                match tokio::time::timeout(Duration::from_secs(30), stream.next()).await {
                    Ok(Some(Ok(event))) => cursors.push(event.cursor),
                    other => panic!("reader starved: {other:?} after {}", cursors.len()),
                }
            }
            cursors
        }));
    }
    let body = "The talks on visas and embassy staff went on for hours. ".repeat(20);
    for i in 0..300 {
        app.submit("hot", &format!("{i}. {body}")).await;
    }
    for reader in readers {
        let cursors = reader.await.unwrap();
        assert_eq!(cursors, (1..=300).collect::<Vec<u64>>());
    }
    drop(stalled);
}

#[tokio::test]
async fn watchers_beyond_the_limit_get_resource_exhausted() {
    let app = spawn_app_with(|s| s.max_watchers = 2).await;
    let mut client = app.client.clone();
    let request = || WatchCommentsRequest {
        article_id: String::new(),
        after_cursor: None,
    };
    let _first = client.watch_comments(request()).await.unwrap();
    let _second = client.watch_comments(request()).await.unwrap();
    let third = client.watch_comments(request()).await.unwrap_err();
    assert_eq!(third.code(), Code::ResourceExhausted);
}
