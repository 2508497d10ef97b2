//! The writer thread: the only code that mutates the store.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};
use tokio::sync::{mpsc, oneshot};

use super::record::{encode_comment, encode_event};
use super::{
    Command, EventSink, Faults, ModerateError, Shared, StoreError, SubmitError, Submitted, keys,
};
use crate::domain::{
    Comment, CommentEvent, CommentId, CommentStatus, Cursor, EventKind, ModeratorDecision,
    NewComment, Timestamp,
};
use crate::moderation::{Action, Verdict};

/// A change ready to be written in one transaction.
struct Change {
    /// The comment as it will be stored.
    comment: Comment,
    /// The comment as it was, when an existing one changes.
    previous: Option<Comment>,
    event: Option<CommentEvent>,
}

/// A request applied and waiting for the flush that makes it durable.
enum Waiting {
    Submit(oneshot::Sender<Result<Submitted, SubmitError>>, Submitted),
    Moderate(oneshot::Sender<Result<Comment, ModerateError>>, Comment),
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
    /// successful flush, so subscribers never see a gap.
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

/// Marks an aborted transaction that was failed on purpose.
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

    fn process(&mut self, batch: &mut Vec<Command>) {
        if self.failing {
            if let Err(err) = self.flush() {
                let reason = StoreError::WritesFailing(err.to_string());
                for command in batch.drain(..) {
                    refuse(command, reason.clone());
                }
                return;
            }
            self.set_failing(false);
        }
        let mut waiting = Vec::with_capacity(batch.len());
        let mut events = Vec::new();
        for command in batch.drain(..) {
            match command {
                Command::Submit {
                    new,
                    verdict,
                    reply,
                } => match self.submit(new, verdict) {
                    Ok((submitted, event)) => {
                        events.extend(event);
                        waiting.push(Waiting::Submit(reply, submitted));
                    }
                    Err(err) => {
                        self.note_failure(&err);
                        let _ = reply.send(Err(err));
                    }
                },
                Command::Moderate {
                    id,
                    decision,
                    reply,
                } => match self.moderate(id, decision) {
                    Ok((comment, event)) => {
                        events.extend(event);
                        waiting.push(Waiting::Moderate(reply, comment));
                    }
                    Err(err) => {
                        if let ModerateError::Store(store) = &err {
                            self.note_failure(&SubmitError::Store(store.clone()));
                        }
                        let _ = reply.send(Err(err));
                    }
                },
                Command::Shutdown => {}
            }
        }
        if waiting.is_empty() {
            return;
        }
        self.unpublished.extend(events.into_iter().map(Arc::new));
        match self.flush() {
            Ok(()) => {
                let durable = &self.shared.durable;
                durable.comment.store(self.next_id - 1, Ordering::Release);
                durable
                    .cursor
                    .store(self.next_cursor - 1, Ordering::Release);
                if !self.unpublished.is_empty() {
                    self.sink.publish(&self.unpublished);
                    self.unpublished.clear();
                }
                for w in waiting {
                    match w {
                        Waiting::Submit(reply, submitted) => {
                            let _ = reply.send(Ok(submitted));
                        }
                        Waiting::Moderate(reply, comment) => {
                            let _ = reply.send(Ok(comment));
                        }
                    }
                }
            }
            Err(err) => {
                tracing::error!(error = %err, "flush failed; refusing writes until a flush succeeds");
                self.set_failing(true);
                let reason = StoreError::WritesFailing(format!(
                    "the write could not be made durable ({err}); retry with the same request_id"
                ));
                for w in waiting {
                    match w {
                        Waiting::Submit(reply, _) => {
                            let _ = reply.send(Err(reason.clone().into()));
                        }
                        Waiting::Moderate(reply, _) => {
                            let _ = reply.send(Err(reason.clone().into()));
                        }
                    }
                }
            }
        }
    }

    fn note_failure(&mut self, err: &SubmitError) {
        if let SubmitError::Store(store) = err {
            tracing::error!(error = %store, "write failed; refusing writes until a flush succeeds");
            self.set_failing(true);
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

    fn load(&self, id: CommentId) -> Result<Option<Comment>, StoreError> {
        self.shared.load(id)
    }

    fn submit(
        &mut self,
        new: NewComment,
        verdict: Verdict,
    ) -> Result<(Submitted, Option<CommentEvent>), SubmitError> {
        let trees = &self.shared.trees;
        if let Some(request_id) = &new.request_id {
            if let Some(existing) = trees
                .requests
                .get(keys::request(request_id))
                .map_err(StoreError::from)?
            {
                let id = keys::decode_u64(&existing).ok_or_else(|| {
                    StoreError::Corrupt(super::Corrupt("bad request index value".into()))
                })?;
                let comment = self.load(CommentId::new(id))?.ok_or_else(|| {
                    StoreError::Corrupt(super::Corrupt(format!(
                        "request index names missing comment {id:016x}"
                    )))
                })?;
                if !comment.matches_submission(&new) {
                    return Err(SubmitError::RequestIdReused(request_id.clone()));
                }
                return Ok((
                    Submitted {
                        comment,
                        created: false,
                    },
                    None,
                ));
            }
        }
        if let Some(parent_id) = new.parent_id {
            let parent = self
                .load(parent_id)?
                .filter(|p| p.id.get() < self.next_id)
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
        let event = comment.status.is_visible().then(|| CommentEvent {
            cursor: Cursor::new(self.next_cursor),
            kind: EventKind::Published,
            at: now,
            comment: comment.clone(),
        });
        let change = Change {
            comment,
            previous: None,
            event,
        };
        self.write(&change)?;
        self.next_id += 1;
        if change.event.is_some() {
            self.next_cursor += 1;
        }
        Ok((
            Submitted {
                comment: change.comment,
                created: true,
            },
            change.event,
        ))
    }

    fn moderate(
        &mut self,
        id: CommentId,
        decision: ModeratorDecision,
    ) -> Result<(Comment, Option<CommentEvent>), ModerateError> {
        let previous = self
            .load(id)?
            .filter(|c| c.id.get() < self.next_id)
            .ok_or(ModerateError::NotFound(id))?;
        let mut comment = previous.clone();
        comment.status = decision.status;
        let at = decision.decided_at;
        comment.moderator_decision = Some(decision);
        let kind = match (previous.status.is_visible(), comment.status.is_visible()) {
            (false, true) => Some(EventKind::Published),
            (true, false) => Some(EventKind::Retracted),
            _ => None,
        };
        let event = kind.map(|kind| CommentEvent {
            cursor: Cursor::new(self.next_cursor),
            kind,
            at,
            comment: comment.clone(),
        });
        let change = Change {
            comment,
            previous: Some(previous),
            event,
        };
        self.write(&change)?;
        if change.event.is_some() {
            self.next_cursor += 1;
        }
        Ok((change.comment, change.event))
    }

    /// Writes every key of one change in one transaction.
    fn write(&self, change: &Change) -> Result<(), StoreError> {
        let t = &self.shared.trees;
        let comment = &change.comment;
        let encoded = encode_comment(comment);
        let encoded_event = change.event.as_ref().map(encode_event);
        let fail_half_way = self.faults.fail_transaction.load(Ordering::Relaxed);
        let result = (
            &t.comments,
            &t.article_comments,
            &t.article_status,
            &t.status,
            &t.events,
            &t.article_events,
            &t.requests,
            &t.authors,
        )
            .transaction(
                |(
                    comments,
                    article_comments,
                    article_status,
                    status,
                    events,
                    article_events,
                    requests,
                    authors,
                )| {
                    let id = comment.id;
                    let article = &comment.article_id;
                    comments.insert(&keys::comment(id)[..], encoded.as_slice())?;
                    article_comments.insert(
                        keys::article_comment(article, id),
                        &[keys::status_byte(comment.status)][..],
                    )?;
                    if let Some(previous) = &change.previous {
                        article_status.remove(keys::article_status(
                            article,
                            previous.status,
                            id,
                        ))?;
                        status.remove(&keys::status(previous.status, id)[..])?;
                    }
                    if fail_half_way {
                        return Err(ConflictableTransactionError::Abort(Injected));
                    }
                    article_status
                        .insert(keys::article_status(article, comment.status, id), &[][..])?;
                    status.insert(&keys::status(comment.status, id)[..], &[][..])?;
                    if let (Some(event), Some(bytes)) = (&change.event, &encoded_event) {
                        events.insert(&keys::event(event.cursor)[..], bytes.as_slice())?;
                        article_events
                            .insert(keys::article_event(article, event.cursor), &[][..])?;
                    }
                    if change.previous.is_none() {
                        if let Some(request_id) = &comment.request_id {
                            requests
                                .insert(keys::request(request_id), &id.get().to_be_bytes()[..])?;
                        }
                        authors.insert(
                            keys::author_comment(&comment.author_id, id),
                            &comment.created_at.unix_micros().to_be_bytes()[..],
                        )?;
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
