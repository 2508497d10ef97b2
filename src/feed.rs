//! Fan-out of durable comment events to watchers.
//!
//! The store hands every event to [`Feed::publish`] after the flush that made
//! it durable, in cursor order. The feed broadcasts it on the channel of its
//! article and on the all-articles channel; a watcher subscribes to one of
//! them. Publishing never waits for a watcher.
//!
//! # No gap, no duplicate
//!
//! A watcher subscribes *before* it reads the durable cursor, replays the
//! stored events up to that cursor, then takes live events, skipping any it
//! already sent (cursor not above the last one sent). Every event above the
//! cursor it read was published after it subscribed, so it is in the channel.
//! A watcher that falls so far behind that its channel drops events for it
//! is told (`Lagged`) and catches up from storage again before going on.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;

use crate::domain::{ArticleId, CommentEvent, Cursor};
use crate::store::{EventSink, Store, StoreError};

/// Events fetched from storage per read while catching up.
const CATCH_UP_BATCH: usize = 512;
/// Events buffered between a watcher's task and its gRPC stream.
const STREAM_BUFFER: usize = 64;

#[derive(Debug, Clone)]
pub struct FeedConfig {
    /// Events the all-articles channel keeps for slow watchers before they
    /// must catch up from storage.
    pub all_capacity: usize,
    /// The same for each article's channel.
    pub article_capacity: usize,
    /// Most watchers at once.
    pub max_watchers: usize,
}

impl Default for FeedConfig {
    fn default() -> Self {
        FeedConfig {
            all_capacity: 4096,
            article_capacity: 256,
            max_watchers: 10_000,
        }
    }
}

type Event = Arc<CommentEvent>;

/// Why a watch ended or could not start.
#[derive(Debug, Clone, thiserror::Error)]
pub enum WatchError {
    #[error("too many watchers ({0}); try again later")]
    TooManyWatchers(usize),
    #[error("the server is shutting down; resume with after_cursor={last_sent}")]
    ShuttingDown { last_sent: Cursor },
    #[error("reading stored events failed ({source}); resume with after_cursor={last_sent}")]
    Storage {
        source: StoreError,
        last_sent: Cursor,
    },
}

/// The fan-out hub. Shared as `Arc<Feed>`.
pub struct Feed {
    config: FeedConfig,
    all: broadcast::Sender<Event>,
    articles: Mutex<HashMap<ArticleId, broadcast::Sender<Event>>>,
    watchers: AtomicUsize,
    shutdown: CancellationToken,
}

impl EventSink for Feed {
    fn publish(&self, events: &[Event]) {
        let mut articles = self.articles.lock().unwrap_or_else(|p| p.into_inner());
        for event in events {
            // No receiver is not an error: nobody watches right now.
            let _ = self.all.send(Arc::clone(event));
            let article = &event.comment.article_id;
            if let Some(sender) = articles.get(article) {
                if sender.receiver_count() == 0 {
                    articles.remove(article);
                } else {
                    let _ = sender.send(Arc::clone(event));
                }
            }
        }
    }
}

/// Counts a watcher for as long as it lives.
struct WatcherSlot(Arc<Feed>);

impl Drop for WatcherSlot {
    fn drop(&mut self) {
        self.0.watchers.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Feed {
    pub fn new(config: FeedConfig) -> Arc<Feed> {
        let (all, _) = broadcast::channel(config.all_capacity.max(1));
        Arc::new(Feed {
            config,
            all,
            articles: Mutex::new(HashMap::new()),
            watchers: AtomicUsize::new(0),
            shutdown: CancellationToken::new(),
        })
    }

    pub fn watcher_count(&self) -> usize {
        self.watchers.load(Ordering::Acquire)
    }

    /// Ends every watch with [`WatchError::ShuttingDown`]; new watches end
    /// at once.
    pub fn close(&self) {
        self.shutdown.cancel();
    }

    /// Resolves once [`Feed::close`] has been called.
    pub async fn closed(&self) {
        self.shutdown.cancelled().await;
    }

    fn subscribe(&self, article: Option<&ArticleId>) -> broadcast::Receiver<Event> {
        match article {
            None => self.all.subscribe(),
            Some(article) => {
                let mut articles = self.articles.lock().unwrap_or_else(|p| p.into_inner());
                articles
                    .entry(article.clone())
                    .or_insert_with(|| broadcast::channel(self.config.article_capacity.max(1)).0)
                    .subscribe()
            }
        }
    }

    /// Starts a watch: events of `article` (all articles if `None`) after
    /// `after` (live events only if `None`), in cursor order, each once.
    /// The stream ends with an error item when the server shuts down or
    /// storage fails.
    pub fn watch(
        self: &Arc<Self>,
        store: Store,
        article: Option<ArticleId>,
        after: Option<Cursor>,
    ) -> Result<ReceiverStream<Result<Event, WatchError>>, WatchError> {
        let count = self.watchers.fetch_add(1, Ordering::AcqRel) + 1;
        let slot = WatcherSlot(Arc::clone(self));
        if count > self.config.max_watchers {
            return Err(WatchError::TooManyWatchers(self.config.max_watchers));
        }
        let live = self.subscribe(article.as_ref());
        // Read after subscribing: everything above it will come live.
        let start = after.unwrap_or_else(|| store.durable_cursor());
        let (tx, rx) = mpsc::channel(STREAM_BUFFER);
        let watcher = Watcher {
            store,
            article,
            last_sent: start,
            tx,
            shutdown: self.shutdown.clone(),
        };
        tokio::spawn(async move {
            let _slot = slot;
            watcher.run(live).await;
        });
        Ok(ReceiverStream::new(rx))
    }
}

struct Watcher {
    store: Store,
    article: Option<ArticleId>,
    last_sent: Cursor,
    tx: mpsc::Sender<Result<Event, WatchError>>,
    shutdown: CancellationToken,
}

/// How a watcher's loop ends.
enum Stop {
    /// The client went away.
    Gone,
    Error(WatchError),
}

impl Watcher {
    async fn run(mut self, mut live: broadcast::Receiver<Event>) {
        let outcome = self.serve(&mut live).await;
        if let Err(Stop::Error(err)) = outcome {
            // The client may be gone already; nothing else to do then.
            let _ = self.tx.send(Err(err)).await;
        }
    }

    async fn serve(&mut self, live: &mut broadcast::Receiver<Event>) -> Result<(), Stop> {
        self.catch_up().await?;
        loop {
            let received = tokio::select! {
                biased;
                () = self.shutdown.cancelled() => return Err(self.shutting_down()),
                () = self.tx.closed() => return Err(Stop::Gone),
                received = live.recv() => received,
            };
            match received {
                Ok(event) => self.send(event).await?,
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::debug!(missed, last_sent = %self.last_sent, "watcher lagged; catching up from storage");
                    self.catch_up().await?;
                }
                Err(broadcast::error::RecvError::Closed) => return Err(self.shutting_down()),
            }
        }
    }

    fn shutting_down(&self) -> Stop {
        Stop::Error(WatchError::ShuttingDown {
            last_sent: self.last_sent,
        })
    }

    async fn send(&mut self, event: Event) -> Result<(), Stop> {
        if event.cursor <= self.last_sent {
            return Ok(());
        }
        let cursor = event.cursor;
        tokio::select! {
            biased;
            () = self.shutdown.cancelled() => return Err(self.shutting_down()),
            sent = self.tx.send(Ok(event)) => sent.map_err(|_| Stop::Gone)?,
        }
        self.last_sent = cursor;
        Ok(())
    }

    /// Sends every durable event after the last one sent.
    async fn catch_up(&mut self) -> Result<(), Stop> {
        loop {
            let events = self
                .store
                .events_after(self.article.clone(), self.last_sent, CATCH_UP_BATCH)
                .await
                .map_err(|source| {
                    Stop::Error(WatchError::Storage {
                        source,
                        last_sent: self.last_sent,
                    })
                })?;
            let done = events.len() < CATCH_UP_BATCH;
            for event in events {
                self.send(Arc::new(event)).await?;
            }
            if done {
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ArticleId, AuthorId, AuthorName, CommentBody, NewComment};
    use crate::moderation::{Action, Verdict};
    use crate::store::StoreConfig;
    use tokio_stream::StreamExt;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn approved(article: &str, i: usize) -> Result<(NewComment, Verdict), crate::domain::Invalid> {
        let new = NewComment {
            article_id: ArticleId::parse(article)?,
            author_id: AuthorId::parse("a")?,
            author_name: AuthorName::default(),
            body: CommentBody::parse(&format!("comment {i}"), 100)?,
            parent_id: None,
            request_id: None,
        };
        let verdict = Verdict {
            action: Action::Approve,
            rule_set_version: "test".into(),
            matches: Vec::new(),
        };
        Ok((new, verdict))
    }

    /// The next item of a watch stream, which must be an event.
    async fn next_event(
        stream: &mut ReceiverStream<Result<Event, WatchError>>,
    ) -> Result<Event, Box<dyn std::error::Error>> {
        Ok(stream.next().await.ok_or("the stream ended")??)
    }

    #[tokio::test]
    async fn a_watcher_that_lags_behind_its_channel_catches_up_from_storage() -> TestResult {
        let dir = tempfile::tempdir()?;
        let feed = Feed::new(FeedConfig {
            all_capacity: 4,
            article_capacity: 4,
            max_watchers: 10,
        });
        let store = Store::open(StoreConfig::new(dir.path()), feed.clone())?;
        let mut article = feed.watch(store.clone(), Some(ArticleId::parse("a")?), None)?;
        let mut all = feed.watch(store.clone(), None, Some(Cursor::BEGINNING))?;
        // Far more than the channels and stream buffers hold, unread.
        let total = 3 * (STREAM_BUFFER + 4);
        for i in 0..total {
            let article = if i % 2 == 0 { "a" } else { "b" };
            let (new, verdict) = approved(article, i)?;
            store.submit(new, verdict).await?;
        }
        let mut cursors = Vec::new();
        while cursors.len() < total {
            cursors.push(next_event(&mut all).await?.cursor.get());
        }
        assert_eq!(cursors, (1..=total as u64).collect::<Vec<_>>());
        let mut article_cursors = Vec::new();
        while article_cursors.len() < total / 2 {
            let event = next_event(&mut article).await?;
            assert_eq!(event.comment.article_id.as_str(), "a");
            article_cursors.push(event.cursor.get());
        }
        assert_eq!(
            article_cursors,
            (1..=total as u64).step_by(2).collect::<Vec<_>>()
        );
        store.shutdown().await;
        Ok(())
    }

    #[tokio::test]
    async fn watchers_beyond_the_limit_are_refused() -> TestResult {
        let dir = tempfile::tempdir()?;
        let feed = Feed::new(FeedConfig {
            max_watchers: 2,
            ..FeedConfig::default()
        });
        let store = Store::open(StoreConfig::new(dir.path()), feed.clone())?;
        let first = feed.watch(store.clone(), None, None)?;
        let _second = feed.watch(store.clone(), None, None)?;
        assert!(matches!(
            feed.watch(store.clone(), None, None),
            Err(WatchError::TooManyWatchers(2))
        ));
        drop(first);
        // The slot frees once the watcher's task notices its client left.
        let mut freed = false;
        for _ in 0..100 {
            if feed.watch(store.clone(), None, None).is_ok() {
                freed = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert!(freed);
        store.shutdown().await;
        Ok(())
    }
}
