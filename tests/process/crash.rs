//! Killing commentd with SIGKILL at random moments never loses an
//! acknowledged comment, never leaves the data directory inconsistent, and
//! never breaks the event log's order or a watcher's resumption.
//!
//! `COMMENTD_CRASH_CYCLES` sets the number of cycles (default 30).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use commentd::proto::{
    self, CommentEventType, CommentStatus, GetCommentRequest, SubmitCommentRequest,
    WatchCommentsRequest,
};
use tokio_stream::StreamExt;

use crate::harness::{Client, Server, run};

/// A small deterministic random generator, seeded per run and printed, so
/// a failing run can be repeated.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[derive(Debug, Clone)]
struct Acked {
    request: SubmitCommentRequest,
    comment: proto::Comment,
}

/// What the clients have been told, across all cycles.
#[derive(Default, Clone)]
struct Ledger {
    acked: Vec<Acked>,
    /// Events the watcher received, in order: (cursor, comment id, type).
    seen: Vec<(u64, String, i32)>,
    violations: Vec<String>,
}

const ARTICLES: [&str; 3] = ["visas", "embassy-staff", "sanctions"];

fn body(rng: &mut Rng, n: u64) -> String {
    match rng.below(4) {
        0 => format!("Comment {n}: only an idiot would sign this."),
        1 => format!("Comment {n}: what the f.u.c.k is going on"),
        _ => format!("Comment {n}: the talks on visas went on for hours."),
    }
}

async fn submitter(mut client: Client, ledger: Arc<Mutex<Ledger>>, seed: u64, tag: String) {
    let mut rng = Rng(seed | 1);
    for n in 0.. {
        let retry = {
            let ledger = ledger.lock().unwrap();
            (rng.below(5) == 0 && !ledger.acked.is_empty())
                .then(|| ledger.acked[rng.below(ledger.acked.len() as u64) as usize].clone())
        };
        let request = match &retry {
            Some(acked) => acked.request.clone(),
            None => {
                let article = ARTICLES[rng.below(3) as usize];
                let parent_id = {
                    let ledger = ledger.lock().unwrap();
                    let same_article: Vec<&Acked> = ledger
                        .acked
                        .iter()
                        .filter(|a| a.comment.article_id == article)
                        .collect();
                    if rng.below(4) == 0 && !same_article.is_empty() {
                        same_article[rng.below(same_article.len() as u64) as usize]
                            .comment
                            .id
                            .clone()
                    } else {
                        String::new()
                    }
                };
                SubmitCommentRequest {
                    article_id: article.into(),
                    author_id: format!("{tag}-{n}"),
                    author_name: "Crash Tester".into(),
                    body: body(&mut rng, n),
                    parent_id,
                    request_id: format!("{tag}-{n}"),
                }
            }
        };
        let Ok(response) = client.submit_comment(request.clone()).await else {
            return; // The server is gone.
        };
        let comment = response.into_inner().comment.expect("a comment");
        let mut ledger = ledger.lock().unwrap();
        match retry {
            Some(acked) if acked.comment != comment => ledger.violations.push(format!(
                "retry of {} returned {comment:?}, not {:?}",
                acked.request.request_id, acked.comment
            )),
            Some(_) => {}
            None => ledger.acked.push(Acked { request, comment }),
        }
    }
}

async fn watcher(mut client: Client, ledger: Arc<Mutex<Ledger>>) {
    let after = ledger.lock().unwrap().seen.last().map_or(0, |e| e.0);
    let Ok(stream) = client
        .watch_comments(WatchCommentsRequest {
            article_id: String::new(),
            after_cursor: Some(after),
        })
        .await
    else {
        return;
    };
    let mut stream = stream.into_inner();
    while let Some(Ok(event)) = stream.next().await {
        let id = event.comment.map(|c| c.id).unwrap_or_default();
        ledger
            .lock()
            .unwrap()
            .seen
            .push((event.cursor, id, event.r#type));
    }
}

/// The whole event log, read from the beginning.
async fn event_log(client: &mut Client) -> Vec<(u64, String, i32)> {
    let mut stream = client
        .watch_comments(WatchCommentsRequest {
            article_id: String::new(),
            after_cursor: Some(0),
        })
        .await
        .expect("watch")
        .into_inner();
    let mut log = Vec::new();
    while let Ok(Some(Ok(event))) =
        tokio::time::timeout(Duration::from_millis(700), stream.next()).await
    {
        log.push((
            event.cursor,
            event.comment.map(|c| c.id).unwrap_or_default(),
            event.r#type,
        ));
    }
    log
}

async fn verify(server: &Server, ledger: &Ledger, rng: &mut Rng) {
    assert!(ledger.violations.is_empty(), "{:#?}", ledger.violations);
    let mut client = server.client().await;
    // Every acknowledged comment is there, unchanged.
    for acked in &ledger.acked {
        let stored = client
            .get_comment(GetCommentRequest {
                id: acked.comment.id.clone(),
            })
            .await
            .unwrap_or_else(|e| panic!("acknowledged comment {} lost: {e}", acked.comment.id))
            .into_inner()
            .comment
            .unwrap();
        assert_eq!(stored, acked.comment);
    }
    // Retrying an acknowledged request returns the same comment.
    for _ in 0..ledger.acked.len().min(20) {
        let acked = &ledger.acked[rng.below(ledger.acked.len() as u64) as usize];
        let again = client
            .submit_comment(acked.request.clone())
            .await
            .unwrap()
            .into_inner();
        assert_eq!(again.comment.as_ref(), Some(&acked.comment));
    }
    // The event log is strictly ordered; every approved comment is in it
    // exactly once; the watcher saw exactly its beginning, and resuming
    // from its last cursor yields exactly the rest.
    let log = event_log(&mut client).await;
    assert!(
        log.windows(2).all(|w| w[0].0 < w[1].0),
        "cursors not increasing"
    );
    let mut published: HashMap<&str, usize> = HashMap::new();
    for (_, id, kind) in &log {
        assert_eq!(*kind, CommentEventType::Published as i32);
        *published.entry(id.as_str()).or_default() += 1;
    }
    for acked in &ledger.acked {
        let count = published
            .get(acked.comment.id.as_str())
            .copied()
            .unwrap_or(0);
        let approved = acked.comment.status == CommentStatus::Approved as i32;
        assert_eq!(
            count,
            usize::from(approved),
            "events of {}",
            acked.comment.id
        );
    }
    assert!(log.len() >= ledger.seen.len());
    assert_eq!(
        &log[..ledger.seen.len()],
        ledger.seen.as_slice(),
        "the watcher saw a gap or a duplicate"
    );
    let after = ledger.seen.last().map_or(0, |e| e.0);
    let mut resumed = client
        .watch_comments(WatchCommentsRequest {
            article_id: String::new(),
            after_cursor: Some(after),
        })
        .await
        .unwrap()
        .into_inner();
    for expected in &log[ledger.seen.len()..] {
        let event = tokio::time::timeout(Duration::from_secs(5), resumed.next())
            .await
            .expect("a missed event arrives")
            .unwrap()
            .unwrap();
        assert_eq!(
            (event.cursor, event.comment.unwrap().id),
            (expected.0, expected.1.clone())
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_comments_survive_sigkill_at_random_moments() {
    let cycles: usize = std::env::var("COMMENTD_CRASH_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    let seed = std::env::var("COMMENTD_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    println!("crash test: {cycles} cycles, seed {seed} (COMMENTD_CRASH_SEED repeats it)");
    let mut rng = Rng(seed | 1);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_str = data.to_str().unwrap().to_owned();
    let ledger = Arc::new(Mutex::new(Ledger::default()));

    for cycle in 0..cycles {
        let server = Server::start(&data, &[]);
        if cycle > 0 {
            let told = ledger.lock().unwrap().clone();
            verify(&server, &told, &mut rng).await;
        }
        let mut tasks = Vec::new();
        for w in 0..4 {
            let client = server.client().await;
            tasks.push(tokio::spawn(submitter(
                client,
                Arc::clone(&ledger),
                rng.next(),
                format!("c{cycle}w{w}"),
            )));
        }
        tasks.push(tokio::spawn(watcher(
            server.client().await,
            Arc::clone(&ledger),
        )));
        tokio::time::sleep(Duration::from_millis(100 + rng.below(500))).await;
        server.crash();
        for task in tasks {
            task.await.expect("client task ends without panicking");
        }
        let (status, out, err) = run(&["check", "--data-dir", &data_str]);
        assert!(status.success(), "cycle {cycle}: check failed:\n{out}{err}");
    }
    let server = Server::start(&data, &[]);
    let ledger = ledger.lock().unwrap().clone();
    verify(&server, &ledger, &mut rng).await;
    println!(
        "crash test: {} acknowledged comments, {} events watched across {cycles} SIGKILLs",
        ledger.acked.len(),
        ledger.seen.len()
    );
    assert!(
        ledger.acked.len() > cycles,
        "the workload did too little to mean anything"
    );
}
