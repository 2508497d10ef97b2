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

use std::collections::{HashMap, VecDeque};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::broadcast;
use tokio_stream::Stream;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

use crate::domain::{ArticleId, CommentEvent, Cursor};
use crate::store::{EventSink, Store, StoreError};

/// Events fetched from storage per read while catching up.
const CATCH_UP_BATCH: usize = 512;

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

/// A watch's events; it ends with an error item, or when dropped.
pub type EventStream = Pin<Box<dyn Stream<Item = Result<Event, WatchError>> + Send>>;

/// Why a watch ended or could not start.
#[derive(Debug, Clone, thiserror::Error)]
pub enum WatchError {
    #[error("too many watchers ({0}); try again later")]
    TooManyWatchers(usize),
    #[error(
        "after_cursor {after} is beyond the last event, {last}; resume from a cursor this server sent"
    )]
    CursorAhead { after: Cursor, last: Cursor },
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
    ) -> Result<EventStream, WatchError> {
        let count = self.watchers.fetch_add(1, Ordering::AcqRel) + 1;
        let slot = WatcherSlot(Arc::clone(self));
        if count > self.config.max_watchers {
            return Err(WatchError::TooManyWatchers(self.config.max_watchers));
        }
        // Every cursor a watcher was sent is durable, so one beyond the
        // durable end was never sent by this store (a restored backup, a
        // typo): waiting there would skip events in silence.
        if let Some(after) = after {
            let last = store.durable_cursor();
            if after > last {
                return Err(WatchError::CursorAhead { after, last });
            }
        }
        let live = self.subscribe(article.as_ref());
        // Read after subscribing: everything above it will come live.
        let start = after.unwrap_or_else(|| store.durable_cursor());
        let watcher = Watcher {
            store,
            article,
            last_sent: start,
            live,
            shutdown: Box::pin(self.shutdown.clone().cancelled_owned()),
            shutdown_token: self.shutdown.clone(),
            stored: VecDeque::new(),
            catching_up: true,
            ended: false,
            _slot: slot,
        };
        Ok(Box::pin(futures_util::stream::unfold(
            watcher,
            |mut watcher| async move { watcher.next().await.map(|item| (item, watcher)) },
        )))
    }
}

/// A watch: stored events first, then live ones, each once, in cursor order.
/// It runs only when its stream is polled, so a client that stops reading
/// holds nothing but its place in the broadcast channel; when it falls
/// behind that channel it catches up from storage.
struct Watcher {
    store: Store,
    article: Option<ArticleId>,
    last_sent: Cursor,
    live: broadcast::Receiver<Event>,
    /// Made once: a new one per event would register with the token again.
    shutdown: Pin<Box<WaitForCancellationFutureOwned>>,
    shutdown_token: CancellationToken,
    /// Events read from storage, not yet sent.
    stored: VecDeque<Event>,
    /// Whether storage may hold events after `last_sent` that the channel
    /// will not deliver.
    catching_up: bool,
    ended: bool,
    _slot: WatcherSlot,
}

impl Watcher {
    async fn next(&mut self) -> Option<Result<Event, WatchError>> {
        while !self.ended {
            if let Some(event) = self.stored.pop_front() {
                if let Some(event) = self.fresh(event) {
                    return Some(Ok(event));
                }
                continue;
            }
            if self.catching_up {
                // A long replay stops at shutdown too, not only a live watch.
                if self.shutdown_token.is_cancelled() {
                    return self.end_shutting_down();
                }
                match self
                    .store
                    .events_after(self.article.clone(), self.last_sent, CATCH_UP_BATCH)
                    .await
                {
                    Ok(events) => {
                        self.catching_up = events.len() == CATCH_UP_BATCH;
                        self.stored.extend(events.into_iter().map(Arc::new));
                        continue;
                    }
                    Err(source) => {
                        return self.end(WatchError::Storage {
                            source,
                            last_sent: self.last_sent,
                        });
                    }
                }
            }
            let received = tokio::select! {
                biased;
                () = self.shutdown.as_mut() => return self.end_shutting_down(),
                received = self.live.recv() => received,
            };
            match received {
                Ok(event) => {
                    if let Some(event) = self.fresh(event) {
                        return Some(Ok(event));
                    }
                }
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::debug!(missed, last_sent = %self.last_sent, "watcher lagged; catching up from storage");
                    self.catching_up = true;
                }
                Err(broadcast::error::RecvError::Closed) => return self.end_shutting_down(),
            }
        }
        None
    }

    /// The event, if it comes after the last one sent; it is then the last
    /// one sent.
    fn fresh(&mut self, event: Event) -> Option<Event> {
        (event.cursor > self.last_sent).then(|| {
            self.last_sent = event.cursor;
            event
        })
    }

    fn end_shutting_down(&mut self) -> Option<Result<Event, WatchError>> {
        self.end(WatchError::ShuttingDown {
            last_sent: self.last_sent,
        })
    }

    fn end(&mut self, err: WatchError) -> Option<Result<Event, WatchError>> {
        self.ended = true;
        Some(Err(err))
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
    async fn next_event(stream: &mut EventStream) -> Result<Event, Box<dyn std::error::Error>> {
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
        // Far more than the channels hold, unread.
        let total = 40;
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
    async fn a_watcher_replaying_storage_stops_at_shutdown_with_its_last_cursor() -> TestResult {
        let dir = tempfile::tempdir()?;
        let feed = Feed::new(FeedConfig::default());
        let store = Store::open(StoreConfig::new(dir.path()), feed.clone())?;
        let total = 3 * CATCH_UP_BATCH;
        let mut submits = tokio::task::JoinSet::new();
        for i in 0..total {
            let (new, verdict) = approved("a", i)?;
            let store = store.clone();
            submits.spawn(async move { store.submit(new, verdict).await.map(|_| ()) });
        }
        while let Some(submitted) = submits.join_next().await {
            submitted??;
        }
        let mut replay = feed.watch(store.clone(), None, Some(Cursor::BEGINNING))?;
        let first = next_event(&mut replay).await?;
        feed.close();
        let mut last = first.cursor;
        let ended_with = loop {
            match replay
                .next()
                .await
                .ok_or("the stream ended without a status")?
            {
                Ok(event) => last = event.cursor,
                Err(err) => break err,
            }
        };
        assert!(
            last.get() < total as u64,
            "the replay ran to the end ({last}) after shutdown"
        );
        match ended_with {
            WatchError::ShuttingDown { last_sent } => assert_eq!(last_sent, last),
            other => return Err(format!("ended with {other}").into()),
        }
        assert!(replay.next().await.is_none());
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
        // A watcher's slot is freed with its stream.
        let _third = feed.watch(store.clone(), None, None)?;
        assert_eq!(feed.watcher_count(), 2);
        store.shutdown().await;
        Ok(())
    }
}
