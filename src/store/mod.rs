//! Durable storage of comments, their indexes and the event log, in sled.
//!
//! # Layout
//!
//! One tree per keyspace (see [`keys`] for the key formats):
//!
//! | tree               | key                         | value                |
//! |--------------------|-----------------------------|----------------------|
//! | `comments`         | comment id                  | comment record       |
//! | `article_status`   | article, status, comment id | —                    |
//! | `review_queue`     | comment id (pending only)   | —                    |
//! | `events`           | cursor                      | kind, time, comment id, status |
//! | `article_events`   | article, cursor             | —                    |
//! | `requests`         | request id                  | comment id           |
//!
//! # Writes
//!
//! One writer thread owns every mutation. Requests queue up; the writer takes
//! all that are waiting, writes all their keys in one sled transaction
//! across all trees (all of a comment's keys or none, and all of the batch
//! or none: sled's cost per transaction is as large as per key), then
//! flushes once for the whole batch (group commit) and only then answers the
//! requests and publishes the new events. Nothing is acknowledged, shown to readers or published before
//! the flush that made it durable. Comment ids and cursors come from the
//! writer's counters, recovered at start-up from the last keys.
//!
//! # Reads
//!
//! Reads run on tokio's blocking pool and see only what is durable: comment
//! ids and cursors above the durable watermarks are not visible yet.

mod check;
mod keys;
mod record;
mod writer;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;

use tokio::sync::{mpsc, oneshot, watch};

pub use self::check::{CheckReport, check};
pub use self::record::Corrupt;
use self::record::{decode_comment, decode_event};
use crate::domain::{
    ArticleId, AuthorId, Comment, CommentEvent, CommentId, CommentStatus, Cursor,
    ModeratorDecision, NewComment, RequestId, Timestamp,
};
use crate::moderation::Verdict;

/// Receives events once they are durable, in cursor order.
pub trait EventSink: Send + Sync + 'static {
    fn publish(&self, events: &[Arc<CommentEvent>]);
}

/// Switches that make storage fail on purpose, for tests of failure
/// handling. Nothing sets them in normal operation.
#[derive(Debug, Default)]
pub struct Faults {
    /// Every flush fails while set.
    pub fail_flush: AtomicBool,
    /// Every write transaction fails half-way while set.
    pub fail_transaction: AtomicBool,
}

/// sled's page cache by default, in MiB. sled counts a page by its encoded
/// size, and holds it decoded, so the cache's resident cost is about one and
/// a half times this; at 1M stored comments, 16 MiB lists and submits as
/// fast as 32 or 64 (BENCHMARKS.md) and keeps the server under 256 MiB.
pub const DEFAULT_CACHE_MB: u64 = 16;

#[derive(Debug, Clone)]
pub struct StoreConfig {
    pub path: PathBuf,
    /// sled's page cache, in bytes.
    pub cache_bytes: u64,
    /// Most requests the writer applies before one flush.
    pub max_batch: usize,
    /// Requests that may wait for the writer before submitters wait too.
    pub queue_depth: usize,
    pub faults: Arc<Faults>,
}

impl StoreConfig {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        StoreConfig {
            path: path.into(),
            cache_bytes: DEFAULT_CACHE_MB * 1024 * 1024,
            max_batch: 1024,
            queue_depth: 4096,
            faults: Arc::default(),
        }
    }
}

/// Why the data directory could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("data directory {path}: {reason}")]
    Unusable { path: PathBuf, reason: String },
    #[error(
        "data directory {path} is in use by another process (another commentd?); stop it or choose another --data-dir"
    )]
    Locked { path: PathBuf },
    #[error("data directory {path}: {source}")]
    Corrupt { path: PathBuf, source: Corrupt },
}

/// A storage failure.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("storage I/O failed: {0}")]
    Io(String),
    #[error(transparent)]
    Corrupt(#[from] Corrupt),
    #[error("storage cannot take writes right now: {0}")]
    WritesFailing(String),
    #[error("the store is shut down")]
    Closed,
}

impl From<sled::Error> for StoreError {
    fn from(err: sled::Error) -> Self {
        match err {
            // sled shows an I/O error in its Debug form (`Os { code: 28, … }`).
            sled::Error::Io(io) => StoreError::Io(io.to_string()),
            other => StoreError::Io(other.to_string()),
        }
    }
}

/// Why a submit was refused. Nothing was written.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SubmitError {
    #[error("parent comment {0} does not exist")]
    ParentNotFound(CommentId),
    #[error("parent comment {parent} belongs to article {article}, not to this one")]
    ParentInOtherArticle {
        parent: CommentId,
        article: ArticleId,
    },
    #[error("request id {0} was already used for a different comment")]
    RequestIdReused(RequestId),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a moderator decision was refused. Nothing was written.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ModerateError {
    #[error("comment {0} does not exist")]
    NotFound(CommentId),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A durable submit.
#[derive(Debug, Clone)]
pub struct Submitted {
    pub comment: Comment,
    /// False when the request id had been used before and the comment then
    /// created is returned.
    pub created: bool,
}

/// One page of a listing, and where the next one starts.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub comments: Vec<Comment>,
    /// The last comment of this page, when more follow.
    pub next_after: Option<CommentId>,
}

enum Command {
    Submit {
        new: NewComment,
        verdict: Verdict,
        reply: oneshot::Sender<Result<Submitted, SubmitError>>,
    },
    Moderate {
        id: CommentId,
        decision: ModeratorDecision,
        reply: oneshot::Sender<Result<Comment, ModerateError>>,
    },
    Shutdown,
}

struct Trees {
    comments: sled::Tree,
    article_status: sled::Tree,
    review_queue: sled::Tree,
    events: sled::Tree,
    article_events: sled::Tree,
    requests: sled::Tree,
}

impl Trees {
    fn open(db: &sled::Db) -> sled::Result<Trees> {
        Ok(Trees {
            comments: db.open_tree("comments")?,
            article_status: db.open_tree("article_status")?,
            review_queue: db.open_tree("review_queue")?,
            events: db.open_tree("events")?,
            article_events: db.open_tree("article_events")?,
            requests: db.open_tree("requests")?,
        })
    }
}

/// The highest comment id and cursor that are durable.
#[derive(Debug, Default)]
struct Watermarks {
    comment: AtomicU64,
    cursor: AtomicU64,
}

struct Shared {
    /// How the store was opened: a checkpoint opens it again.
    config: StoreConfig,
    db: sled::Db,
    trees: Trees,
    durable: Watermarks,
    writes_ok: watch::Sender<bool>,
    writer: std::sync::Mutex<Option<JoinHandle<()>>>,
}

/// A handle to the store. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    shared: Arc<Shared>,
    commands: mpsc::Sender<Command>,
}

fn open_db(config: &StoreConfig) -> Result<sled::Db, OpenError> {
    let path = &config.path;
    let unusable = |reason: String| OpenError::Unusable {
        path: path.clone(),
        reason,
    };
    match std::fs::metadata(path) {
        Ok(meta) if !meta.is_dir() => {
            return Err(unusable("exists but is not a directory".into()));
        }
        Ok(_) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(path)
                .map_err(|e| unusable(format!("cannot be created: {e}")))?;
        }
        Err(err) => return Err(unusable(err.to_string())),
    }
    sled::Config::new()
        .path(path)
        .cache_capacity(config.cache_bytes)
        // The writer flushes after every batch; sled's own timer would only
        // flush concurrently with it.
        .flush_every_ms(None)
        .open()
        .map_err(|err| match err {
            sled::Error::Io(io) if io.to_string().contains("lock") => {
                OpenError::Locked { path: path.clone() }
            }
            sled::Error::Io(io) => unusable(io.to_string()),
            other => unusable(other.to_string()),
        })
}

fn last_key(tree: &sled::Tree) -> Result<u64, StoreError> {
    match tree.last()? {
        Some((key, _)) => keys::decode_u64(&key)
            .ok_or_else(|| StoreError::Corrupt(Corrupt(format!("bad key {key:?}")))),
        None => Ok(0),
    }
}

impl Store {
    /// Opens (or creates) the data directory and starts the writer.
    pub fn open(config: StoreConfig, sink: Arc<dyn EventSink>) -> Result<Store, OpenError> {
        let db = open_db(&config)?;
        let unusable = |reason: String| OpenError::Unusable {
            path: config.path.clone(),
            reason,
        };
        let trees = Trees::open(&db).map_err(|e| unusable(e.to_string()))?;
        let corrupt = |err: StoreError| match err {
            StoreError::Corrupt(source) => OpenError::Corrupt {
                path: config.path.clone(),
                source,
            },
            other => unusable(other.to_string()),
        };
        let last_comment = last_key(&trees.comments).map_err(corrupt)?;
        let last_cursor = last_key(&trees.events).map_err(corrupt)?;
        let (writes_ok, _) = watch::channel(true);
        let shared = Arc::new(Shared {
            config: config.clone(),
            db,
            trees,
            durable: Watermarks {
                comment: AtomicU64::new(last_comment),
                cursor: AtomicU64::new(last_cursor),
            },
            writes_ok,
            writer: std::sync::Mutex::new(None),
        });
        let (commands, receiver) = mpsc::channel(config.queue_depth.max(1));
        let writer = writer::Writer::new(
            Arc::clone(&shared),
            receiver,
            sink,
            config.max_batch.max(1),
            config.faults,
            last_comment + 1,
            last_cursor + 1,
        );
        let handle = std::thread::Builder::new()
            .name("commentd-writer".into())
            .spawn(move || writer.run())
            .map_err(|e| unusable(format!("cannot start the writer thread: {e}")))?;
        *shared.writer.lock().unwrap_or_else(|p| p.into_inner()) = Some(handle);
        Ok(Store { shared, commands })
    }

    /// Stores a moderated comment. Returns once it is durable.
    pub async fn submit(
        &self,
        new: NewComment,
        verdict: Verdict,
    ) -> Result<Submitted, SubmitError> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Submit {
            new,
            verdict,
            reply,
        })
        .await?;
        answer.await.map_err(|_| StoreError::Closed)?
    }

    /// Records a moderator's decision. Returns once it is durable.
    pub async fn moderate(
        &self,
        id: CommentId,
        decision: ModeratorDecision,
    ) -> Result<Comment, ModerateError> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Moderate {
            id,
            decision,
            reply,
        })
        .await?;
        answer.await.map_err(|_| StoreError::Closed)?
    }

    async fn send(&self, command: Command) -> Result<(), StoreError> {
        self.commands
            .send(command)
            .await
            .map_err(|_| StoreError::Closed)
    }

    /// Whether writes currently succeed; changes are signalled.
    pub fn writes_ok(&self) -> watch::Receiver<bool> {
        self.shared.writes_ok.subscribe()
    }

    /// The last durable cursor: every event up to it can be read.
    pub fn durable_cursor(&self) -> Cursor {
        Cursor::new(self.shared.durable.cursor.load(Ordering::Acquire))
    }

    /// Answers queued requests, flushes and stops the writer. Later writes
    /// fail with [`StoreError::Closed`]; reads keep working.
    pub async fn shutdown(&self) {
        // A full queue or a writer already gone both end up closed.
        let _ = self.commands.send(Command::Shutdown).await;
        let handle = self
            .shared
            .writer
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(handle) = handle {
            let _ = tokio::task::spawn_blocking(move || handle.join()).await;
        }
    }

    /// Closes the store and has sled rewrite its page-table snapshot, so
    /// that the next start replays no log: sled 0.34 writes that snapshot
    /// only when it opens, and replaying a million writes takes seconds.
    /// Call after [`Store::shutdown`]; takes as long as such a replay.
    /// Returns false, and does nothing, while other handles are alive.
    pub async fn close_with_checkpoint(self) -> Result<bool, OpenError> {
        let Store { shared, commands } = self;
        drop(commands);
        let Ok(shared) = Arc::try_unwrap(shared) else {
            return Ok(false);
        };
        let config = shared.config.clone();
        let path = config.path.clone();
        tokio::task::spawn_blocking(move || {
            // Dropping the last handle closes sled (and releases its lock).
            drop(shared);
            open_db(&config).map(drop)
        })
        .await
        .map_err(|e| OpenError::Unusable {
            path,
            reason: format!("checkpoint task failed: {e}"),
        })??;
        Ok(true)
    }

    async fn read<T, F>(&self, read: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Shared) -> Result<T, StoreError> + Send + 'static,
    {
        let shared = Arc::clone(&self.shared);
        tokio::task::spawn_blocking(move || read(&shared))
            .await
            .map_err(|e| StoreError::Io(format!("read task failed: {e}")))?
    }

    pub async fn get(&self, id: CommentId) -> Result<Option<Comment>, StoreError> {
        self.read(move |s| s.get(id)).await
    }

    /// An article's comments, oldest first, optionally of one status only.
    pub async fn list_article(
        &self,
        article: ArticleId,
        status: Option<CommentStatus>,
        after: Option<CommentId>,
        limit: usize,
    ) -> Result<Page, StoreError> {
        self.read(move |s| {
            let statuses = match status {
                Some(status) => vec![status],
                None => CommentStatus::ALL.to_vec(),
            };
            let prefixes: Vec<Vec<u8>> = statuses
                .into_iter()
                .map(|status| keys::article_status_prefix(&article, status))
                .collect();
            s.page(&s.trees.article_status, &prefixes, after, limit)
        })
        .await
    }

    /// Comments awaiting review across all articles, oldest first.
    pub async fn list_review_queue(
        &self,
        after: Option<CommentId>,
        limit: usize,
    ) -> Result<Page, StoreError> {
        self.read(move |s| s.page(&s.trees.review_queue, &[Vec::new()], after, limit))
            .await
    }

    /// Up to `limit` durable events after `after`, of one article or all.
    pub async fn events_after(
        &self,
        article: Option<ArticleId>,
        after: Cursor,
        limit: usize,
    ) -> Result<Vec<CommentEvent>, StoreError> {
        self.read(move |s| s.events_after(article.as_ref(), after, limit))
            .await
    }

    /// Authors and creation times of the newest comments created at or
    /// after `since`, newest first: at most `limit` of them.
    pub async fn recent_activity(
        &self,
        since: Timestamp,
        limit: usize,
    ) -> Result<Vec<(AuthorId, Timestamp)>, StoreError> {
        self.read(move |s| s.recent_activity(since, limit)).await
    }
}

impl Shared {
    fn durable_comment(&self) -> u64 {
        self.durable.comment.load(Ordering::Acquire)
    }

    fn load(&self, id: CommentId) -> Result<Option<Comment>, StoreError> {
        match self.trees.comments.get(keys::comment(id))? {
            Some(bytes) => Ok(Some(decode_comment(&bytes)?)),
            None => Ok(None),
        }
    }

    fn get(&self, id: CommentId) -> Result<Option<Comment>, StoreError> {
        if id.get() > self.durable_comment() {
            return Ok(None);
        }
        self.load(id)
    }

    /// A page of the comments whose ids end the keys under any of
    /// `prefixes` (one empty prefix: the whole tree), in id order: each
    /// prefix's range is read for one page at most, then merged, so a page
    /// costs the same however many comments there are.
    fn page(
        &self,
        tree: &sled::Tree,
        prefixes: &[Vec<u8>],
        after: Option<CommentId>,
        limit: usize,
    ) -> Result<Page, StoreError> {
        let durable = self.durable_comment();
        let mut ids = Vec::with_capacity(prefixes.len() * (limit + 1));
        for prefix in prefixes {
            let mut start = prefix.clone();
            start.extend_from_slice(
                &after
                    .map_or(0, |id| id.get().saturating_add(1))
                    .to_be_bytes(),
            );
            for entry in tree.range(start..).take(limit + 1) {
                let (key, _) = entry?;
                if !key.starts_with(prefix) {
                    break;
                }
                let id = keys::trailing_u64(&key)
                    .ok_or_else(|| Corrupt(format!("bad index key {key:?}")))?;
                if id > durable {
                    break;
                }
                ids.push(id);
            }
        }
        ids.sort_unstable();
        let more = ids.len() > limit;
        ids.truncate(limit);
        let comments = ids
            .into_iter()
            .map(|id| {
                self.load(CommentId::new(id))?.ok_or_else(|| {
                    StoreError::from(Corrupt(format!(
                        "index entry for missing comment {id:016x}"
                    )))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let next_after = if more {
            comments.last().map(|c| c.id)
        } else {
            None
        };
        Ok(Page {
            comments,
            next_after,
        })
    }

    fn events_after(
        &self,
        article: Option<&ArticleId>,
        after: Cursor,
        limit: usize,
    ) -> Result<Vec<CommentEvent>, StoreError> {
        let durable = self.durable.cursor.load(Ordering::Acquire);
        let first = after.get().saturating_add(1);
        let mut events = Vec::new();
        if first > durable {
            return Ok(events);
        }
        let decode = |bytes: &[u8]| -> Result<CommentEvent, StoreError> {
            let stored = decode_event(bytes)?;
            let comment = self.load(stored.comment_id)?.ok_or_else(|| {
                Corrupt(format!(
                    "event {} names missing comment {}",
                    stored.cursor, stored.comment_id
                ))
            })?;
            Ok(stored.with_comment(comment))
        };
        match article {
            None => {
                for entry in self
                    .trees
                    .events
                    .range(keys::event(Cursor::new(first))..=keys::event(Cursor::new(durable)))
                    .take(limit)
                {
                    let (_, value) = entry?;
                    events.push(decode(&value)?);
                }
            }
            Some(article) => {
                let prefix = keys::article_prefix(article);
                let from = keys::article_event(article, Cursor::new(first));
                let to = keys::article_event(article, Cursor::new(durable));
                for entry in self.trees.article_events.range(from..=to).take(limit) {
                    let (key, _) = entry?;
                    debug_assert!(key.starts_with(&prefix));
                    let cursor = keys::trailing_u64(&key)
                        .ok_or_else(|| Corrupt(format!("bad article event key {key:?}")))?;
                    let value = self
                        .trees
                        .events
                        .get(keys::event(Cursor::new(cursor)))?
                        .ok_or_else(|| {
                            Corrupt(format!("article index names missing event {cursor}"))
                        })?;
                    events.push(decode(&value)?);
                }
            }
        }
        Ok(events)
    }

    fn recent_activity(
        &self,
        since: Timestamp,
        limit: usize,
    ) -> Result<Vec<(AuthorId, Timestamp)>, StoreError> {
        let mut activity = Vec::new();
        for entry in self.trees.comments.iter().rev().take(limit) {
            let (_, value) = entry?;
            let (author, created_at) = record::decode_activity(&value)?;
            if created_at < since {
                break;
            }
            activity.push((author, created_at));
        }
        Ok(activity)
    }
}

#[cfg(test)]
mod error_tests {
    use super::*;

    #[test]
    fn an_io_error_reads_as_the_system_says_it() {
        let err = StoreError::from(sled::Error::Io(std::io::Error::from_raw_os_error(28)));
        assert_eq!(
            err.to_string(),
            "storage I/O failed: No space left on device (os error 28)"
        );
    }
}
