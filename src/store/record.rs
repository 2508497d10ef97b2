//! How comments and events are encoded in sled: protobuf messages defined
//! here with `prost` derives (not the API's messages), so fields can be added
//! without rewriting stored data.

use prost::Message;

use crate::domain::{
    ArticleId, AuthorId, AuthorName, Comment, CommentBody, CommentEvent, CommentId, Cursor,
    DecisionReason, EventKind, ModeratorDecision, ModeratorId, RequestId, Timestamp,
};
use crate::moderation::{Action, RuleMatch, Span, Verdict};

use super::keys::{status_byte, status_from_byte};

#[derive(Clone, PartialEq, Message)]
pub struct CommentRecord {
    #[prost(uint64, tag = "1")]
    pub id: u64,
    #[prost(string, tag = "2")]
    pub article_id: String,
    #[prost(uint64, optional, tag = "3")]
    pub parent_id: Option<u64>,
    #[prost(string, tag = "4")]
    pub author_id: String,
    #[prost(string, tag = "5")]
    pub author_name: String,
    #[prost(string, tag = "6")]
    pub body: String,
    #[prost(uint64, tag = "7")]
    pub created_micros: u64,
    #[prost(uint32, tag = "8")]
    pub status: u32,
    #[prost(message, optional, tag = "9")]
    pub verdict: Option<VerdictRecord>,
    #[prost(message, optional, tag = "10")]
    pub decision: Option<DecisionRecord>,
    #[prost(string, optional, tag = "11")]
    pub request_id: Option<String>,
}

#[derive(Clone, PartialEq, Message)]
pub struct VerdictRecord {
    #[prost(uint32, tag = "1")]
    pub action: u32,
    #[prost(string, tag = "2")]
    pub rule_set_version: String,
    #[prost(message, repeated, tag = "3")]
    pub matches: Vec<MatchRecord>,
}

#[derive(Clone, PartialEq, Message)]
pub struct MatchRecord {
    #[prost(string, tag = "1")]
    pub rule_id: String,
    #[prost(string, tag = "2")]
    pub category: String,
    #[prost(uint32, tag = "3")]
    pub action: u32,
    #[prost(string, tag = "4")]
    pub reason: String,
    /// Start and end offsets, alternating.
    #[prost(uint32, repeated, tag = "5")]
    pub spans: Vec<u32>,
}

#[derive(Clone, PartialEq, Message)]
pub struct DecisionRecord {
    #[prost(string, tag = "1")]
    pub moderator_id: String,
    #[prost(uint32, tag = "2")]
    pub status: u32,
    #[prost(string, tag = "3")]
    pub reason: String,
    #[prost(uint64, tag = "4")]
    pub decided_micros: u64,
}

#[derive(Clone, PartialEq, Message)]
/// An entry of the event log. It names its comment rather than copying it:
/// the comment is read when the event is replayed, with the status and the
/// moderator's decision the event gave it (nothing else of a comment
/// changes once stored).
pub struct EventRecord {
    #[prost(uint64, tag = "1")]
    pub cursor: u64,
    #[prost(uint32, tag = "2")]
    pub kind: u32,
    #[prost(uint64, tag = "3")]
    pub at_micros: u64,
    #[prost(uint64, tag = "5")]
    pub comment_id: u64,
    #[prost(uint32, tag = "6")]
    pub status: u32,
    /// The moderator's decision the comment carried right after the event
    /// (none for a comment approved by the rules).
    #[prost(message, optional, tag = "7")]
    pub decision: Option<DecisionRecord>,
    /// Set in every event written since the decision was recorded; older
    /// events replay with the comment's current decision.
    #[prost(bool, tag = "8")]
    pub decision_recorded: bool,
}

/// Stored data that does not decode into a valid domain value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("corrupt record: {0}")]
pub struct Corrupt(pub String);

fn corrupt(what: impl Into<String>) -> Corrupt {
    Corrupt(what.into())
}

fn action_code(action: Action) -> u32 {
    match action {
        Action::Approve => 1,
        Action::Review => 2,
        Action::Reject => 3,
    }
}

fn action_from_code(code: u32) -> Result<Action, Corrupt> {
    match code {
        1 => Ok(Action::Approve),
        2 => Ok(Action::Review),
        3 => Ok(Action::Reject),
        other => Err(corrupt(format!("unknown action {other}"))),
    }
}

fn verdict_record(verdict: &Verdict) -> VerdictRecord {
    VerdictRecord {
        action: action_code(verdict.action),
        rule_set_version: verdict.rule_set_version.clone(),
        matches: verdict
            .matches
            .iter()
            .map(|m| MatchRecord {
                rule_id: m.rule_id.clone(),
                category: m.category.clone(),
                action: action_code(m.action),
                reason: m.reason.clone(),
                spans: m.spans.iter().flat_map(|s| [s.start, s.end]).collect(),
            })
            .collect(),
    }
}

fn verdict_from(record: VerdictRecord) -> Result<Verdict, Corrupt> {
    let matches = record
        .matches
        .into_iter()
        .map(|m| {
            if m.spans.len() % 2 != 0 {
                return Err(corrupt("odd number of span offsets"));
            }
            Ok(RuleMatch {
                rule_id: m.rule_id,
                category: m.category,
                action: action_from_code(m.action)?,
                reason: m.reason,
                spans: m
                    .spans
                    .chunks_exact(2)
                    .map(|p| Span {
                        start: p[0],
                        end: p[1],
                    })
                    .collect(),
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(Verdict {
        action: action_from_code(record.action)?,
        rule_set_version: record.rule_set_version,
        matches,
    })
}

impl CommentRecord {
    pub fn from_comment(comment: &Comment) -> Self {
        CommentRecord {
            id: comment.id.get(),
            article_id: comment.article_id.as_str().to_owned(),
            parent_id: comment.parent_id.map(CommentId::get),
            author_id: comment.author_id.as_str().to_owned(),
            author_name: comment.author_name.as_str().to_owned(),
            body: comment.body.as_str().to_owned(),
            created_micros: comment.created_at.unix_micros(),
            status: u32::from(status_byte(comment.status)),
            verdict: Some(verdict_record(&comment.verdict)),
            decision: comment
                .moderator_decision
                .as_ref()
                .map(DecisionRecord::from_decision),
            request_id: comment.request_id.as_ref().map(|r| r.as_str().to_owned()),
        }
    }

    pub fn into_comment(self) -> Result<Comment, Corrupt> {
        let status = |code: u32| {
            u8::try_from(code)
                .ok()
                .and_then(status_from_byte)
                .ok_or_else(|| corrupt(format!("unknown status {code}")))
        };
        let field = |name: &str, err: crate::domain::Invalid| corrupt(format!("{name} {err}"));
        Ok(Comment {
            id: CommentId::new(self.id),
            article_id: ArticleId::parse(&self.article_id).map_err(|e| field("article_id", e))?,
            parent_id: self.parent_id.map(CommentId::new),
            author_id: AuthorId::parse(&self.author_id).map_err(|e| field("author_id", e))?,
            author_name: AuthorName::parse(&self.author_name)
                .map_err(|e| field("author_name", e))?,
            // Stored bodies were checked on the way in; the size limit may
            // have changed since, so it is not checked again.
            body: CommentBody::parse(&self.body, usize::MAX).map_err(|e| field("body", e))?,
            created_at: Timestamp::from_unix_micros(self.created_micros),
            status: status(self.status)?,
            verdict: verdict_from(self.verdict.ok_or_else(|| corrupt("missing verdict"))?)?,
            moderator_decision: self
                .decision
                .map(DecisionRecord::into_decision)
                .transpose()?,
            request_id: self
                .request_id
                .map(|r| RequestId::parse(&r).map_err(|e| field("request_id", e)))
                .transpose()?,
        })
    }
}

impl DecisionRecord {
    fn from_decision(decision: &ModeratorDecision) -> Self {
        DecisionRecord {
            moderator_id: decision.moderator_id.as_str().to_owned(),
            status: u32::from(status_byte(decision.status)),
            reason: decision.reason.as_str().to_owned(),
            decided_micros: decision.decided_at.unix_micros(),
        }
    }

    fn into_decision(self) -> Result<ModeratorDecision, Corrupt> {
        let field = |name: &str, err: crate::domain::Invalid| corrupt(format!("{name} {err}"));
        Ok(ModeratorDecision {
            moderator_id: ModeratorId::parse(&self.moderator_id)
                .map_err(|e| field("moderator_id", e))?,
            status: u8::try_from(self.status)
                .ok()
                .and_then(status_from_byte)
                .ok_or_else(|| corrupt(format!("unknown status {}", self.status)))?,
            reason: DecisionReason::parse(&self.reason).map_err(|e| field("reason", e))?,
            decided_at: Timestamp::from_unix_micros(self.decided_micros),
        })
    }
}

pub fn encode_comment(comment: &Comment) -> Vec<u8> {
    CommentRecord::from_comment(comment).encode_to_vec()
}

pub fn decode_comment(bytes: &[u8]) -> Result<Comment, Corrupt> {
    CommentRecord::decode(bytes)
        .map_err(|e| corrupt(e.to_string()))?
        .into_comment()
}

/// The author and creation time of a stored comment: the two fields of
/// [`CommentRecord`] that per-author rules need, decoded without the rest.
#[derive(Clone, PartialEq, Message)]
struct ActivityRecord {
    #[prost(string, tag = "4")]
    author_id: String,
    #[prost(uint64, tag = "7")]
    created_micros: u64,
}

pub fn decode_activity(bytes: &[u8]) -> Result<(AuthorId, Timestamp), Corrupt> {
    let record = ActivityRecord::decode(bytes).map_err(|e| corrupt(e.to_string()))?;
    let author =
        AuthorId::parse(&record.author_id).map_err(|e| corrupt(format!("author_id: {e}")))?;
    Ok((author, Timestamp::from_unix_micros(record.created_micros)))
}

pub fn encode_event(event: &CommentEvent) -> Vec<u8> {
    EventRecord {
        cursor: event.cursor.get(),
        kind: match event.kind {
            EventKind::Published => 1,
            EventKind::Retracted => 2,
        },
        at_micros: event.at.unix_micros(),
        comment_id: event.comment.id.get(),
        status: u32::from(status_byte(event.comment.status)),
        decision: event
            .comment
            .moderator_decision
            .as_ref()
            .map(DecisionRecord::from_decision),
        decision_recorded: true,
    }
    .encode_to_vec()
}

/// An event as stored: everything but the comment itself.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub cursor: Cursor,
    pub kind: EventKind,
    pub at: Timestamp,
    pub comment_id: CommentId,
    /// The comment's status right after the event.
    pub status: crate::domain::CommentStatus,
    /// Its moderator's decision right after the event; `None` in events
    /// written before decisions were recorded with them.
    pub decision: Option<Option<ModeratorDecision>>,
}

impl StoredEvent {
    /// The event with its comment as it was then: only the status and the
    /// moderator's decision change after a comment is stored.
    pub fn with_comment(self, mut comment: Comment) -> CommentEvent {
        comment.status = self.status;
        if let Some(decision) = self.decision {
            comment.moderator_decision = decision;
        }
        CommentEvent {
            cursor: self.cursor,
            kind: self.kind,
            at: self.at,
            comment,
        }
    }
}

pub fn decode_event(bytes: &[u8]) -> Result<StoredEvent, Corrupt> {
    let record = EventRecord::decode(bytes).map_err(|e| corrupt(e.to_string()))?;
    Ok(StoredEvent {
        cursor: Cursor::new(record.cursor),
        kind: match record.kind {
            1 => EventKind::Published,
            2 => EventKind::Retracted,
            other => return Err(corrupt(format!("unknown event kind {other}"))),
        },
        at: Timestamp::from_unix_micros(record.at_micros),
        comment_id: CommentId::new(record.comment_id),
        status: u8::try_from(record.status)
            .ok()
            .and_then(status_from_byte)
            .ok_or_else(|| corrupt(format!("unknown status {}", record.status)))?,
        decision: if record.decision_recorded {
            Some(
                record
                    .decision
                    .map(DecisionRecord::into_decision)
                    .transpose()?,
            )
        } else {
            None
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::CommentStatus;

    #[test]
    fn the_activity_of_a_stored_comment_reads_back_without_the_rest() {
        let comment = Comment {
            id: CommentId::new(7),
            article_id: ArticleId::parse("kremlin-usa-visas").unwrap(),
            parent_id: Some(CommentId::new(3)),
            author_id: AuthorId::parse("reader-42").unwrap(),
            author_name: AuthorName::parse("Reader").unwrap(),
            body: CommentBody::parse("The visa talks again.", 8192).unwrap(),
            created_at: Timestamp::from_unix_micros(1_764_000_000_123_456),
            status: CommentStatus::Approved,
            verdict: Verdict {
                action: Action::Approve,
                rule_set_version: "v1".into(),
                matches: Vec::new(),
            },
            moderator_decision: None,
            request_id: None,
        };
        let (author, at) = decode_activity(&encode_comment(&comment)).unwrap();
        assert_eq!(author, comment.author_id);
        assert_eq!(at, comment.created_at);
    }
}
