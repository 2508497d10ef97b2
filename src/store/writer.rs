//! The writer thread: the only code that mutates the store.
//!
//! It takes every request waiting in its queue, decides each against the
//! stored state plus the batch's own earlier changes, writes all the
//! batch's changes in one transaction, flushes, and only then answers and
//! publishes.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};
use tokio::sync::{mpsc, oneshot};

use super::record::{encode_comment, encode_event};
use super::{
    Command, EventSink, Faults, ModerateError, Shared, StoreError, SubmitError, Submitted, keys,
};
use crate::domain::{
    Comment, CommentEvent, CommentId, CommentStatus, Cursor, EventKind, ModeratorDecision,
    NewComment, RequestId, Timestamp,
};
use crate::moderation::{Action, Verdict};

/// A change to write: a comment as it will be stored, what it was before
/// (when an existing one changes), and the event it causes.
struct Change {
    comment: Comment,
    previous: Option<Comment>,
    event: Option<CommentEvent>,
}

/// A request decided and waiting for the batch to be written and flushed.
enum Waiting {
    Submit(oneshot::Sender<Result<Submitted, SubmitError>>, Submitted),
    Moderate(oneshot::Sender<Result<Comment, ModerateError>>, Comment),
}

impl Waiting {
    fn answer(self) {
        match self {
            Waiting::Submit(reply, submitted) => {
                let _ = reply.send(Ok(submitted));
            }
            Waiting::Moderate(reply, comment) => {
                let _ = reply.send(Ok(comment));
            }
        }
    }

    fn refuse(self, reason: StoreError) {
        match self {
            Waiting::Submit(reply, _) => {
                let _ = reply.send(Err(reason.into()));
            }
            Waiting::Moderate(reply, _) => {
                let _ = reply.send(Err(reason.into()));
            }
        }
    }
}

/// The changes of one batch, readable before they are written, so that a
/// request sees the requests queued before it.
#[derive(Default)]
struct Batch {
    changes: Vec<Change>,
    /// Index into `changes` of the latest change of each comment.
    comments: HashMap<CommentId, usize>,
    requests: HashMap<RequestId, CommentId>,
}

pub(super) struct Writer {
    shared: Arc<Shared>,
    commands: mpsc::Receiver<Command>,
    sink: Arc<dyn EventSink>,
    max_batch: usize,
    faults: Arc<Faults>,
    next_id: u64,
    next_cursor: u64,
    /// Events written but not yet published, because the flush that should
    /// have made them durable failed. Published, in order, after the next
    /// successful flush, so watchers never see a gap.
    unpublished: Vec<Arc<CommentEvent>>,
    /// Writes failed; until a flush succeeds again, requests are refused
    /// without touching the trees.
    failing: bool,
}

fn status_of(action: Action) -> CommentStatus {
    match action {
        Action::Approve => CommentStatus::Approved,
        Action::Review => CommentStatus::PendingReview,
        Action::Reject => CommentStatus::Rejected,
    }
}

/// Marks a transaction failed on purpose.
#[derive(Debug)]
struct Injected;

impl Writer {
    pub(super) fn new(
        shared: Arc<Shared>,
        commands: mpsc::Receiver<Command>,
        sink: Arc<dyn EventSink>,
        max_batch: usize,
        faults: Arc<Faults>,
        next_id: u64,
        next_cursor: u64,
    ) -> Self {
        Writer {
            shared,
            commands,
            sink,
            max_batch,
            faults,
            next_id,
            next_cursor,
            unpublished: Vec::new(),
            failing: false,
        }
    }

    pub(super) fn run(mut self) {
        let mut batch = Vec::with_capacity(self.max_batch);
        let mut stopping = false;
        while !stopping {
            let Some(first) = self.commands.blocking_recv() else {
                break;
            };
            batch.push(first);
            while batch.len() < self.max_batch {
                match self.commands.try_recv() {
                    Ok(command) => batch.push(command),
                    Err(_) => break,
                }
            }
            stopping = batch.iter().any(|c| matches!(c, Command::Shutdown));
            self.process(&mut batch);
        }
        self.commands.close();
        // Requests that raced with the shutdown are refused, not dropped.
        while let Ok(command) = self.commands.try_recv() {
            refuse(command, StoreError::Closed);
        }
        if let Err(err) = self.flush() {
            tracing::error!(error = %err, "final flush failed");
        }
    }

    fn process(&mut self, commands: &mut Vec<Command>) {
        if self.failing {
            if let Err(err) = self.flush() {
                let reason = StoreError::WritesFailing(err.to_string());
                for command in commands.drain(..) {
                    refuse(command, reason.clone());
                }
                return;
            }
            self.set_failing(false);
        }
        let started = Instant::now();
        let (first_id, first_cursor) = (self.next_id, self.next_cursor);
        let mut batch = Batch::default();
        let mut waiting = Vec::with_capacity(commands.len());
        for command in commands.drain(..) {
            match command {
                Command::Submit {
                    new,
                    verdict,
                    reply,
                } => match self.submit(&mut batch, new, verdict) {
                    Ok(submitted) => waiting.push(Waiting::Submit(reply, submitted)),
                    Err(err) => {
                        let _ = reply.send(Err(err));
                    }
                },
                Command::Moderate {
                    id,
                    decision,
                    reply,
                } => match self.moderate(&mut batch, id, decision) {
                    Ok(comment) => waiting.push(Waiting::Moderate(reply, comment)),
                    Err(err) => {
                        let _ = reply.send(Err(err));
                    }
                },
                Command::Shutdown => {}
            }
        }
        if waiting.is_empty() {
            return;
        }
        let size = batch.changes.len();
        if let Err(err) = self.write(&batch) {
            // Nothing of the batch was written: hand its ids and cursors out
            // again, refuse its requests.
            tracing::error!(error = %err, "write failed; refusing writes until a flush succeeds");
            self.next_id = first_id;
            self.next_cursor = first_cursor;
            self.set_failing(true);
            for w in waiting {
                w.refuse(err.clone());
            }
            return;
        }
        let applied = started.elapsed();
        self.unpublished.extend(
            batch
                .changes
                .into_iter()
                .filter_map(|c| c.event)
                .map(Arc::new),
        );
        let flushing = Instant::now();
        let flushed = self.flush();
        tracing::debug!(
            batch = size,
            apply_us = applied.as_micros() as u64,
            flush_us = flushing.elapsed().as_micros() as u64,
            "batch written"
        );
        match flushed {
            Ok(()) => {
                let durable = &self.shared.durable;
                durable.comment.store(self.next_id - 1, Ordering::Release);
                durable
                    .cursor
                    .store(self.next_cursor - 1, Ordering::Release);
                // Answers first: a submitter then runs before the watchers
                // woken by the same batch, so one comment's fan-out to many
                // watchers does not delay the acknowledgements.
                for w in waiting {
                    w.answer();
                }
                if !self.unpublished.is_empty() {
                    self.sink.publish(&self.unpublished);
                    self.unpublished.clear();
                }
            }
            Err(err) => {
                tracing::error!(error = %err, "flush failed; refusing writes until a flush succeeds");
                self.set_failing(true);
                let reason = StoreError::WritesFailing(format!(
                    "the write could not be made durable ({err}); retry with the same request_id"
                ));
                for w in waiting {
                    w.refuse(reason.clone());
                }
            }
        }
    }

    fn set_failing(&mut self, failing: bool) {
        self.failing = failing;
        self.shared.writes_ok.send_replace(!failing);
    }

    fn flush(&self) -> Result<(), StoreError> {
        if self.faults.fail_flush.load(Ordering::Relaxed) {
            return Err(StoreError::Io("injected flush failure".into()));
        }
        self.shared.db.flush()?;
        Ok(())
    }

    /// A comment as the batch will leave it: its latest change in the batch,
    /// else what is stored.
    fn load(&self, batch: &Batch, id: CommentId) -> Result<Option<Comment>, StoreError> {
        match batch.comments.get(&id) {
            Some(&at) => Ok(Some(batch.changes[at].comment.clone())),
            None => self.shared.load(id),
        }
    }

    fn push(batch: &mut Batch, change: Change) {
        batch
            .comments
            .insert(change.comment.id, batch.changes.len());
        if change.previous.is_none() {
            if let Some(request_id) = &change.comment.request_id {
                batch.requests.insert(request_id.clone(), change.comment.id);
            }
        }
        batch.changes.push(change);
    }

    fn submit(
        &mut self,
        batch: &mut Batch,
        new: NewComment,
        verdict: Verdict,
    ) -> Result<Submitted, SubmitError> {
        if let Some(request_id) = &new.request_id {
            let known = match batch.requests.get(request_id) {
                Some(&id) => Some(id),
                None => self
                    .shared
                    .trees
                    .requests
                    .get(keys::request(request_id))
                    .map_err(StoreError::from)?
                    .map(|value| {
                        keys::decode_u64(&value).map(CommentId::new).ok_or_else(|| {
                            StoreError::Corrupt(super::Corrupt("bad request index value".into()))
                        })
                    })
                    .transpose()?,
            };
            if let Some(id) = known {
                let comment = self.load(batch, id)?.ok_or_else(|| {
                    StoreError::Corrupt(super::Corrupt(format!(
                        "request index names missing comment {id}"
                    )))
                })?;
                if !comment.matches_submission(&new) {
                    return Err(SubmitError::RequestIdReused(request_id.clone()));
                }
                return Ok(Submitted {
                    comment,
                    created: false,
                });
            }
        }
        if let Some(parent_id) = new.parent_id {
            let parent = self
                .load(batch, parent_id)?
                .ok_or(SubmitError::ParentNotFound(parent_id))?;
            if parent.article_id != new.article_id {
                return Err(SubmitError::ParentInOtherArticle {
                    parent: parent_id,
                    article: parent.article_id,
                });
            }
        }
        let now = Timestamp::now();
        let comment = Comment {
            id: CommentId::new(self.next_id),
            article_id: new.article_id,
            parent_id: new.parent_id,
            author_id: new.author_id,
            author_name: new.author_name,
            body: new.body,
            created_at: now,
            status: status_of(verdict.action),
            verdict,
            moderator_decision: None,
            request_id: new.request_id,
        };
        self.next_id += 1;
        let event = comment
            .status
            .is_visible()
            .then(|| self.event(EventKind::Published, now, &comment));
        Self::push(
            batch,
            Change {
                comment: comment.clone(),
                previous: None,
                event,
            },
        );
        Ok(Submitted {
            comment,
            created: true,
        })
    }

    fn event(&mut self, kind: EventKind, at: Timestamp, comment: &Comment) -> CommentEvent {
        let cursor = Cursor::new(self.next_cursor);
        self.next_cursor += 1;
        CommentEvent {
            cursor,
            kind,
            at,
            comment: comment.clone(),
        }
    }

    fn moderate(
        &mut self,
        batch: &mut Batch,
        id: CommentId,
        decision: ModeratorDecision,
    ) -> Result<Comment, ModerateError> {
        let previous = self.load(batch, id)?.ok_or(ModerateError::NotFound(id))?;
        let mut comment = previous.clone();
        comment.status = decision.status;
        let at = decision.decided_at;
        comment.moderator_decision = Some(decision);
        let kind = match (previous.status.is_visible(), comment.status.is_visible()) {
            (false, true) => Some(EventKind::Published),
            (true, false) => Some(EventKind::Retracted),
            _ => None,
        };
        let event = kind.map(|kind| self.event(kind, at, &comment));
        Self::push(
            batch,
            Change {
                comment: comment.clone(),
                previous: Some(previous),
                event,
            },
        );
        Ok(comment)
    }

    /// Writes every key of every change of the batch in one transaction.
    fn write(&self, batch: &Batch) -> Result<(), StoreError> {
        let t = &self.shared.trees;
        let encoded: Vec<(Vec<u8>, Option<Vec<u8>>)> = batch
            .changes
            .iter()
            .map(|c| {
                (
                    encode_comment(&c.comment),
                    c.event.as_ref().map(encode_event),
                )
            })
            .collect();
        let fail_half_way = self.faults.fail_transaction.load(Ordering::Relaxed);
        let result = (
            &t.comments,
            &t.article_status,
            &t.review_queue,
            &t.events,
            &t.article_events,
            &t.requests,
        )
            .transaction(
                |(comments, article_status, review_queue, events, article_events, requests)| {
                    for (change, (comment_bytes, event_bytes)) in batch.changes.iter().zip(&encoded)
                    {
                        let comment = &change.comment;
                        let id = comment.id;
                        let article = &comment.article_id;
                        comments.insert(&keys::comment(id)[..], comment_bytes.as_slice())?;
                        if let Some(previous) = &change.previous {
                            article_status.remove(keys::article_status(
                                article,
                                previous.status,
                                id,
                            ))?;
                            review_queue.remove(&keys::review_queue(id)[..])?;
                        }
                        if fail_half_way {
                            return Err(ConflictableTransactionError::Abort(Injected));
                        }
                        article_status
                            .insert(keys::article_status(article, comment.status, id), &[][..])?;
                        if comment.status == CommentStatus::PendingReview {
                            review_queue.insert(&keys::review_queue(id)[..], &[][..])?;
                        }
                        if let (Some(event), Some(bytes)) = (&change.event, event_bytes) {
                            events.insert(&keys::event(event.cursor)[..], bytes.as_slice())?;
                            article_events
                                .insert(keys::article_event(article, event.cursor), &[][..])?;
                        }
                        if let (None, Some(request_id)) = (&change.previous, &comment.request_id) {
                            requests
                                .insert(keys::request(request_id), &id.get().to_be_bytes()[..])?;
                        }
                    }
                    Ok(())
                },
            );
        match result {
            Ok(()) => Ok(()),
            Err(TransactionError::Abort(Injected)) => Err(StoreError::Io(
                "injected failure inside the write transaction".into(),
            )),
            Err(TransactionError::Storage(err)) => Err(err.into()),
        }
    }
}

fn refuse(command: Command, reason: StoreError) {
    match command {
        Command::Submit { reply, .. } => {
            let _ = reply.send(Err(reason.into()));
        }
        Command::Moderate { reply, .. } => {
            let _ = reply.send(Err(reason.into()));
        }
        Command::Shutdown => {}
    }
}
