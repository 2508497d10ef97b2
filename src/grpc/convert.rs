//! Proto messages to domain types and back.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use prost_types::Timestamp as ProtoTimestamp;

use crate::domain::{self, CommentEvent, CommentId, EventKind, Timestamp};
use crate::moderation::{Action, RuleMatch, Verdict};
use crate::proto;

pub fn timestamp(t: Timestamp) -> ProtoTimestamp {
    ProtoTimestamp::from(t.to_system_time())
}

pub fn status_to_proto(status: domain::CommentStatus) -> proto::CommentStatus {
    match status {
        domain::CommentStatus::Approved => proto::CommentStatus::Approved,
        domain::CommentStatus::PendingReview => proto::CommentStatus::PendingReview,
        domain::CommentStatus::Rejected => proto::CommentStatus::Rejected,
    }
}

fn action_to_proto(action: Action) -> proto::RuleAction {
    match action {
        Action::Approve => proto::RuleAction::Approve,
        Action::Review => proto::RuleAction::Review,
        Action::Reject => proto::RuleAction::Reject,
    }
}

fn action_status(action: Action) -> proto::CommentStatus {
    match action {
        Action::Approve => proto::CommentStatus::Approved,
        Action::Review => proto::CommentStatus::PendingReview,
        Action::Reject => proto::CommentStatus::Rejected,
    }
}

fn rule_match(m: &RuleMatch, body: &str) -> proto::RuleMatch {
    proto::RuleMatch {
        rule_id: m.rule_id.clone(),
        category: m.category.clone(),
        action: action_to_proto(m.action) as i32,
        reason: m.reason.clone(),
        spans: m
            .spans
            .iter()
            .map(|s| proto::TextSpan {
                start: s.start,
                end: s.end,
                text: body
                    .get(s.start as usize..s.end as usize)
                    .unwrap_or_default()
                    .to_owned(),
            })
            .collect(),
    }
}

pub fn verdict(verdict: &Verdict, body: &str) -> proto::Verdict {
    proto::Verdict {
        status: action_status(verdict.action) as i32,
        rule_set_version: verdict.rule_set_version.clone(),
        matches: verdict
            .matches
            .iter()
            .map(|m| rule_match(m, body))
            .collect(),
    }
}

pub fn comment(c: &domain::Comment) -> proto::Comment {
    proto::Comment {
        id: c.id.to_string(),
        article_id: c.article_id.to_string(),
        parent_id: c.parent_id.map(|p| p.to_string()).unwrap_or_default(),
        author_id: c.author_id.to_string(),
        author_name: c.author_name.as_str().to_owned(),
        body: c.body.as_str().to_owned(),
        create_time: Some(timestamp(c.created_at)),
        status: status_to_proto(c.status) as i32,
        verdict: Some(verdict(&c.verdict, c.body.as_str())),
        moderator_decision: c
            .moderator_decision
            .as_ref()
            .map(|d| proto::ModeratorDecision {
                moderator_id: d.moderator_id.to_string(),
                status: status_to_proto(d.status) as i32,
                reason: d.reason.as_str().to_owned(),
                decide_time: Some(timestamp(d.decided_at)),
            }),
    }
}

pub fn event(e: &CommentEvent) -> proto::WatchCommentsResponse {
    proto::WatchCommentsResponse {
        cursor: e.cursor.get(),
        r#type: match e.kind {
            EventKind::Published => proto::CommentEventType::Published,
            EventKind::Retracted => proto::CommentEventType::Retracted,
        } as i32,
        comment: Some(comment(&e.comment)),
        event_time: Some(timestamp(e.at)),
    }
}

/// A page token (AIP-158): where the next page starts, bound to the query it
/// came from. Opaque to clients; a forged one can only move within the same
/// query, which it may read anyway.
pub struct PageToken;

impl PageToken {
    pub fn encode(query: &str, after: CommentId) -> String {
        URL_SAFE_NO_PAD.encode(format!("v1\n{query}\n{after}"))
    }

    /// The position a token resumes after, if it was issued for `query`.
    pub fn decode(token: &str, query: &str) -> Result<Option<CommentId>, &'static str> {
        if token.is_empty() {
            return Ok(None);
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(token)
            .map_err(|_| "is not a page token issued by this service")?;
        let text =
            String::from_utf8(bytes).map_err(|_| "is not a page token issued by this service")?;
        let mut parts = text.splitn(3, '\n');
        match (parts.next(), parts.next(), parts.next()) {
            (Some("v1"), Some(q), Some(after)) if q == query => after
                .parse::<CommentId>()
                .map(Some)
                .map_err(|_| "is not a page token issued by this service"),
            (Some("v1"), Some(_), Some(_)) => {
                Err("belongs to a different query (article or status filter changed)")
            }
            _ => Err("is not a page token issued by this service"),
        }
    }
}

/// Default and largest page sizes (AIP-158).
pub const DEFAULT_PAGE_SIZE: usize = 50;
pub const MAX_PAGE_SIZE: usize = 1000;

pub fn page_size(requested: i32) -> Result<usize, &'static str> {
    match requested {
        n if n < 0 => Err("must not be negative"),
        0 => Ok(DEFAULT_PAGE_SIZE),
        n => Ok((n as usize).min(MAX_PAGE_SIZE)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_tokens_resume_only_their_own_query() {
        let token = PageToken::encode("article:a:any", CommentId::new(42));
        assert_eq!(
            PageToken::decode(&token, "article:a:any"),
            Ok(Some(CommentId::new(42)))
        );
        assert!(PageToken::decode(&token, "article:b:any").is_err());
        assert!(PageToken::decode("garbage!!", "article:a:any").is_err());
        assert!(
            PageToken::decode(
                &URL_SAFE_NO_PAD.encode("v1\narticle:a:any\nzz"),
                "article:a:any"
            )
            .is_err()
        );
        assert_eq!(PageToken::decode("", "q"), Ok(None));
    }

    #[test]
    fn page_sizes_follow_aip_158() {
        assert_eq!(page_size(0), Ok(DEFAULT_PAGE_SIZE));
        assert_eq!(page_size(5), Ok(5));
        assert_eq!(page_size(i32::MAX), Ok(MAX_PAGE_SIZE));
        assert!(page_size(-1).is_err());
    }
}
