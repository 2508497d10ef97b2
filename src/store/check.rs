//! Offline consistency check of a data directory (`commentd check`).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::Path;

use super::record::{decode_comment, decode_event};
use super::{OpenError, StoreConfig, Trees, keys, open_db};
use crate::domain::{Comment, CommentStatus, EventKind};

/// What the check found.
#[derive(Debug, Default, Clone)]
pub struct CheckReport {
    pub comments: usize,
    pub by_status: BTreeMap<String, usize>,
    pub events: usize,
    pub last_cursor: u64,
    pub index_entries: usize,
    pub problems: Vec<String>,
}

impl CheckReport {
    pub fn is_consistent(&self) -> bool {
        self.problems.is_empty()
    }

    fn problem(&mut self, message: String) {
        // A damaged store can have millions of problems; the first ones tell.
        if self.problems.len() < 1000 {
            self.problems.push(message);
        }
    }
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "comments: {}", self.comments)?;
        for (status, n) in &self.by_status {
            writeln!(f, "  {status}: {n}")?;
        }
        writeln!(
            f,
            "events: {} (last cursor {})",
            self.events, self.last_cursor
        )?;
        writeln!(f, "index entries: {}", self.index_entries)?;
        if self.problems.is_empty() {
            writeln!(
                f,
                "consistent: every index entry points at its comment, every comment is in its indexes, the event log is in order"
            )
        } else {
            writeln!(f, "INCONSISTENT: {} problem(s)", self.problems.len())?;
            for p in &self.problems {
                writeln!(f, "  - {p}")?;
            }
            Ok(())
        }
    }
}

/// Checks the data directory at `path`. It must not be in use.
pub fn check(path: &Path) -> Result<CheckReport, OpenError> {
    let config = StoreConfig::new(path);
    if !path.is_dir() {
        return Err(OpenError::Unusable {
            path: path.to_owned(),
            reason: "does not exist or is not a directory".into(),
        });
    }
    // sled creates whatever is missing: a checker must not initialise a
    // store in a directory that holds none, nor over a damaged one.
    for file in ["conf", "db"] {
        if !path.join(file).is_file() {
            return Err(OpenError::Unusable {
                path: path.to_owned(),
                reason: format!("holds no store: its '{file}' file is missing"),
            });
        }
    }
    let db = open_db(&config)?;
    let trees = Trees::open(&db).map_err(|e| OpenError::Unusable {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    let mut report = CheckReport::default();
    let result = run(&trees, &mut report);
    if let Err(err) = result {
        report.problem(format!("reading failed: {err}"));
    }
    Ok(report)
}

fn run(t: &Trees, report: &mut CheckReport) -> sled::Result<()> {
    let mut comments: HashMap<u64, Comment> = HashMap::new();
    for entry in t.comments.iter() {
        let (key, value) = entry?;
        let Some(id) = keys::decode_u64(&key) else {
            report.problem(format!("comments: bad key {key:?}"));
            continue;
        };
        match decode_comment(&value) {
            Ok(c) if c.id.get() == id => {
                *report.by_status.entry(c.status.to_string()).or_default() += 1;
                comments.insert(id, c);
            }
            Ok(c) => report.problem(format!("comments: key {id:016x} holds comment {}", c.id)),
            Err(err) => report.problem(format!("comments: {id:016x}: {err}")),
        }
    }
    report.comments = comments.len();

    // Every comment is in its indexes.
    for c in comments.values() {
        let id = c.id;
        let a = &c.article_id;
        if !t
            .article_status
            .contains_key(keys::article_status(a, c.status, id))?
        {
            report.problem(format!("article_status: {id} missing"));
        }
        let queued = t.review_queue.contains_key(keys::review_queue(id))?;
        if queued != (c.status == CommentStatus::PendingReview) {
            report.problem(format!(
                "review_queue: {id} is {c_status} but {}queued",
                if queued { "" } else { "not " },
                c_status = c.status
            ));
        }
        if let Some(r) = &c.request_id {
            match t.requests.get(keys::request(r))? {
                Some(v) if keys::decode_u64(&v) == Some(id.get()) => {}
                _ => report.problem(format!("requests: {r} does not name {id}")),
            }
        }
        if let Some(parent) = c.parent_id {
            match comments.get(&parent.get()) {
                Some(p) if p.article_id == c.article_id => {}
                Some(_) => report.problem(format!("{id}: parent {parent} is in another article")),
                None => report.problem(format!("{id}: parent {parent} missing")),
            }
        }
    }

    // Every index entry points at a comment that agrees with it.
    let lookup = |id: Option<u64>| id.and_then(|id| comments.get(&id));
    for entry in t.article_status.iter() {
        let (key, _) = entry?;
        report.index_entries += 1;
        let ok = lookup(keys::trailing_u64(&key)).is_some_and(|c| {
            key.as_ref() == keys::article_status(&c.article_id, c.status, c.id).as_slice()
        });
        if !ok {
            report.problem(format!("article_status: stray entry {key:?}"));
        }
    }
    for entry in t.review_queue.iter() {
        let (key, _) = entry?;
        report.index_entries += 1;
        let ok = lookup(keys::decode_u64(&key))
            .is_some_and(|c| c.status == CommentStatus::PendingReview);
        if !ok {
            report.problem(format!("review_queue: stray entry {key:?}"));
        }
    }
    for entry in t.requests.iter() {
        let (key, value) = entry?;
        report.index_entries += 1;
        let ok = lookup(keys::decode_u64(&value)).is_some_and(|c| {
            c.request_id
                .as_ref()
                .is_some_and(|r| r.as_str().as_bytes() == key.as_ref())
        });
        if !ok {
            report.problem(format!("requests: stray entry {key:?}"));
        }
    }

    // The event log: strictly ordered, each event indexed by article, and
    // per comment alternating published / retracted, ending published
    // exactly when the comment is approved.
    let mut previous = 0u64;
    let mut visible: HashMap<u64, bool> = HashMap::new();
    for entry in t.events.iter() {
        let (key, value) = entry?;
        report.events += 1;
        let Some(cursor) = keys::decode_u64(&key) else {
            report.problem(format!("events: bad key {key:?}"));
            continue;
        };
        if cursor <= previous {
            report.problem(format!("events: cursor {cursor} after {previous}"));
        }
        previous = cursor;
        let event = match decode_event(&value) {
            Ok(e) => e,
            Err(err) => {
                report.problem(format!("events: {cursor}: {err}"));
                continue;
            }
        };
        if event.cursor.get() != cursor {
            report.problem(format!("events: key {cursor} holds event {}", event.cursor));
        }
        let id = event.comment_id.get();
        let Some(comment) = comments.get(&id) else {
            report.problem(format!("events: {cursor} names missing comment {id:016x}"));
            continue;
        };
        let expected_status = match event.kind {
            EventKind::Published => CommentStatus::Approved,
            EventKind::Retracted => CommentStatus::Rejected,
        };
        if event.status != expected_status {
            report.problem(format!(
                "events: {cursor}: {:?} leaves status {}",
                event.kind, event.status
            ));
        }
        if !t
            .article_events
            .contains_key(keys::article_event(&comment.article_id, event.cursor))?
        {
            report.problem(format!("article_events: event {cursor} missing"));
        }
        let was = visible.get(&id).copied().unwrap_or(false);
        match (event.kind, was) {
            (EventKind::Published, false) => {
                visible.insert(id, true);
            }
            (EventKind::Retracted, true) => {
                visible.insert(id, false);
            }
            (kind, _) => report.problem(format!(
                "events: {cursor}: {kind:?} of {id:016x} out of turn"
            )),
        }
    }
    report.last_cursor = previous;
    for entry in t.article_events.iter() {
        let (key, _) = entry?;
        report.index_entries += 1;
        let Some(cursor) = keys::trailing_u64(&key) else {
            report.problem(format!("article_events: bad key {key:?}"));
            continue;
        };
        let ok = match t.events.get(cursor.to_be_bytes())? {
            Some(v) => decode_event(&v).is_ok_and(|e| {
                comments.get(&e.comment_id.get()).is_some_and(|c| {
                    key.as_ref() == keys::article_event(&c.article_id, e.cursor).as_slice()
                })
            }),
            None => false,
        };
        if !ok {
            report.problem(format!("article_events: stray entry {key:?}"));
        }
    }
    for c in comments.values() {
        let published = visible.get(&c.id.get()).copied().unwrap_or(false);
        if published != (c.status == CommentStatus::Approved) {
            report.problem(format!(
                "{}: status {} but the event log says {}",
                c.id,
                c.status,
                if published {
                    "published"
                } else {
                    "not published"
                }
            ));
        }
    }
    Ok(())
}
