//! Domain types: values that can only hold what commentd accepts.
//!
//! Everything that crosses the gRPC edge is parsed into one of these types
//! once; the rest of the service never re-checks a field.

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::moderation::Verdict;

/// Why a field value was refused, in words a client developer can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

impl Invalid {
    fn new(message: impl Into<String>) -> Self {
        Invalid(message.into())
    }
}

/// Longest identifier accepted, in bytes.
pub const MAX_ID_LEN: usize = 128;

/// The characters identifiers may contain, as documented in the proto file.
fn is_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':' | '/')
}

fn parse_identifier(value: &str) -> Result<String, Invalid> {
    if value.is_empty() {
        return Err(Invalid::new("must not be empty"));
    }
    if value.len() > MAX_ID_LEN {
        return Err(Invalid::new(format!(
            "must be at most {MAX_ID_LEN} bytes, got {}",
            value.len()
        )));
    }
    if let Some(bad) = value.chars().find(|c| !is_id_char(*c)) {
        return Err(Invalid::new(format!(
            "contains {bad:?}; allowed are ASCII letters, digits and _ - . : /"
        )));
    }
    Ok(value.to_owned())
}

macro_rules! identifier {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// Parses an identifier: 1 to 128 bytes of ASCII letters, digits and `_ - . : /`.
            pub fn parse(value: &str) -> Result<Self, Invalid> {
                parse_identifier(value).map(Self)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

identifier!(
    /// The publisher's id of an article.
    ArticleId
);
identifier!(
    /// The publisher's id of a comment author.
    AuthorId
);
identifier!(
    /// A client-chosen idempotency key for a submit.
    RequestId
);
identifier!(
    /// The id of the moderator who decided on a comment.
    ModeratorId
);

/// Characters that are never accepted in free text: NUL and other control
/// characters (tab, line feed and carriage return excepted) and the Unicode
/// bidirectional embedding, override and isolate controls, which can make a
/// comment display differently from what it says.
fn forbidden_text_char(c: char) -> Option<&'static str> {
    match c {
        '\t' | '\n' | '\r' => None,
        '\0' => Some("NUL characters"),
        c if c.is_control() => Some("control characters"),
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => {
            Some("bidirectional override or isolate characters")
        }
        _ => None,
    }
}

fn check_text_chars(value: &str) -> Result<(), Invalid> {
    match value.chars().find_map(forbidden_text_char) {
        Some(what) => Err(Invalid::new(format!("must not contain {what}"))),
        None => Ok(()),
    }
}

/// A display name: at most 100 characters, single line. May be empty.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuthorName(String);

impl AuthorName {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(value: &str) -> Result<Self, Invalid> {
        let count = value.chars().count();
        if count > Self::MAX_CHARS {
            return Err(Invalid::new(format!(
                "must be at most {} characters, got {count}",
                Self::MAX_CHARS
            )));
        }
        if value.contains(['\n', '\r', '\t']) {
            return Err(Invalid::new("must be a single line"));
        }
        check_text_chars(value)?;
        Ok(AuthorName(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The text of a comment: not blank, within the configured size, free of
/// control and bidirectional override characters. Stored exactly as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommentBody(String);

impl CommentBody {
    pub fn parse(value: &str, max_bytes: usize) -> Result<Self, Invalid> {
        if value.trim().is_empty() {
            return Err(Invalid::new("must not be empty or only whitespace"));
        }
        if value.len() > max_bytes {
            return Err(Invalid::new(format!(
                "must be at most {max_bytes} bytes, got {}",
                value.len()
            )));
        }
        check_text_chars(value)?;
        Ok(CommentBody(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A moderator's explanation: at most 1000 characters, may be empty.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DecisionReason(String);

impl DecisionReason {
    pub const MAX_CHARS: usize = 1000;

    pub fn parse(value: &str) -> Result<Self, Invalid> {
        let count = value.chars().count();
        if count > Self::MAX_CHARS {
            return Err(Invalid::new(format!(
                "must be at most {} characters, got {count}",
                Self::MAX_CHARS
            )));
        }
        check_text_chars(value)?;
        Ok(DecisionReason(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A comment id, assigned by the store in increasing order. Shown to clients
/// as 16 lowercase hexadecimal digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CommentId(u64);

impl CommentId {
    pub const fn new(raw: u64) -> Self {
        CommentId(raw)
    }

    pub const fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for CommentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl FromStr for CommentId {
    type Err = Invalid;

    fn from_str(value: &str) -> Result<Self, Invalid> {
        if value.is_empty() {
            return Err(Invalid::new("must not be empty"));
        }
        let well_formed = value.len() == 16
            && value
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if !well_formed {
            return Err(Invalid::new(
                "is not a comment id (16 lowercase hexadecimal digits)",
            ));
        }
        u64::from_str_radix(value, 16)
            .map(CommentId)
            .map_err(|_| Invalid::new("is not a comment id"))
    }
}

/// Position of an event in the event log. Cursors start at 1 and only grow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Cursor(u64);

impl Cursor {
    /// The position before the first event: replaying after it replays everything.
    pub const BEGINNING: Cursor = Cursor(0);

    pub const fn new(raw: u64) -> Self {
        Cursor(raw)
    }

    pub const fn get(self) -> u64 {
        self.0
    }

    pub const fn next(self) -> Cursor {
        Cursor(self.0 + 1)
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Where a comment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CommentStatus {
    Approved,
    PendingReview,
    Rejected,
}

impl CommentStatus {
    pub const ALL: [CommentStatus; 3] = [
        CommentStatus::Approved,
        CommentStatus::PendingReview,
        CommentStatus::Rejected,
    ];

    pub fn is_visible(self) -> bool {
        self == CommentStatus::Approved
    }
}

impl fmt::Display for CommentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CommentStatus::Approved => "approved",
            CommentStatus::PendingReview => "pending review",
            CommentStatus::Rejected => "rejected",
        })
    }
}

/// A point in time with microsecond precision, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(u64);

impl Timestamp {
    pub fn now() -> Self {
        Self::from_system_time(SystemTime::now())
    }

    pub fn from_system_time(time: SystemTime) -> Self {
        let micros = time
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_micros().min(u128::from(u64::MAX)) as u64)
            .unwrap_or(0);
        Timestamp(micros)
    }

    pub const fn from_unix_micros(micros: u64) -> Self {
        Timestamp(micros)
    }

    pub const fn unix_micros(self) -> u64 {
        self.0
    }

    pub fn to_system_time(self) -> SystemTime {
        UNIX_EPOCH + Duration::from_micros(self.0)
    }

    pub fn saturating_sub(self, duration: Duration) -> Timestamp {
        let micros = duration.as_micros().min(u128::from(u64::MAX)) as u64;
        Timestamp(self.0.saturating_sub(micros))
    }
}

/// A comment as the submitter sent it, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewComment {
    pub article_id: ArticleId,
    pub author_id: AuthorId,
    pub author_name: AuthorName,
    pub body: CommentBody,
    pub parent_id: Option<CommentId>,
    pub request_id: Option<RequestId>,
}

/// A moderator's decision on a stored comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModeratorDecision {
    pub moderator_id: ModeratorId,
    pub status: CommentStatus,
    pub reason: DecisionReason,
    pub decided_at: Timestamp,
}

/// A stored comment.
#[derive(Debug, Clone, PartialEq)]
pub struct Comment {
    pub id: CommentId,
    pub article_id: ArticleId,
    pub parent_id: Option<CommentId>,
    pub author_id: AuthorId,
    pub author_name: AuthorName,
    pub body: CommentBody,
    pub created_at: Timestamp,
    pub status: CommentStatus,
    pub verdict: Verdict,
    pub moderator_decision: Option<ModeratorDecision>,
    pub request_id: Option<RequestId>,
}

impl Comment {
    /// Whether `new` asks for exactly this comment: the test an idempotent
    /// retry must pass to get the stored comment back.
    pub fn matches_submission(&self, new: &NewComment) -> bool {
        self.article_id == new.article_id
            && self.author_id == new.author_id
            && self.author_name == new.author_name
            && self.body == new.body
            && self.parent_id == new.parent_id
    }
}

/// What happened to a comment, as recorded in the event log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Published,
    Retracted,
}

/// An entry of the event log: the comment as it was when the event happened.
#[derive(Debug, Clone, PartialEq)]
pub struct CommentEvent {
    pub cursor: Cursor,
    pub kind: EventKind,
    pub at: Timestamp,
    pub comment: Comment,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_accept_the_documented_characters() {
        assert!(ArticleId::parse("2026/11/28/russia-usa_visas.v2:live").is_ok());
        assert_eq!(ArticleId::parse("").unwrap_err().0, "must not be empty");
        assert!(ArticleId::parse("has space").is_err());
        assert!(ArticleId::parse("кремль").is_err());
        assert!(ArticleId::parse(&"a".repeat(129)).is_err());
        assert!(ArticleId::parse(&"a".repeat(128)).is_ok());
    }

    #[test]
    fn bodies_refuse_blank_oversized_and_control_text() {
        assert!(CommentBody::parse("  \n\t", 100).is_err());
        assert!(CommentBody::parse("fine\nsecond line", 100).is_ok());
        assert!(CommentBody::parse("nul\0here", 100).is_err());
        assert!(CommentBody::parse("evil \u{202E}txt", 100).is_err());
        assert!(CommentBody::parse("bell\u{7}", 100).is_err());
        assert!(CommentBody::parse(&"x".repeat(101), 100).is_err());
    }

    #[test]
    fn comment_ids_round_trip_as_sixteen_hex_digits() {
        let id = CommentId::new(0x1234);
        assert_eq!(id.to_string(), "0000000000001234");
        assert_eq!("0000000000001234".parse::<CommentId>(), Ok(id));
        assert!("1234".parse::<CommentId>().is_err());
        assert!("000000000000123G".parse::<CommentId>().is_err());
        assert!("00000000000012AB".parse::<CommentId>().is_err());
    }
}
