//! The gRPC API: parses each request into domain types, calls the core, and
//! maps results and errors back. Nothing else in commentd knows the proto
//! types or `Status`.

mod codec;
mod convert;
mod encoded;
mod errors;
mod health;

use std::pin::Pin;
use std::sync::Arc;

use tokio_stream::{Stream, StreamExt};
use tonic::{Code, Request, Response, Status};

use self::convert::{PageToken, page_size};
use self::encoded::EventEncodings;
use self::errors::{Violations, comment_not_found, field_status, store_status};
use crate::core::Comments;
use crate::domain::{
    ArticleId, AuthorId, AuthorName, CommentBody, CommentId, CommentStatus, Cursor, DecisionReason,
    ModeratorDecision, ModeratorId, NewComment, RequestId, Timestamp,
};
use crate::proto;
use crate::proto::server::comment_service_server::CommentService;
use crate::store::Page;

pub use self::codec::RequestCodec;
pub use self::encoded::EncodedEvent;
pub use self::health::{ClosingHealth, health_service};
pub use crate::proto::server::comment_service_server::CommentServiceServer;

/// tonic reports a request message over the size limit as OUT_OF_RANGE;
/// the gRPC convention (what grpc-go, grpc-java and grpc-core return) is
/// RESOURCE_EXHAUSTED. This rewrites exactly that status.
pub fn oversized_requests_are_resource_exhausted<B>(
    mut response: http::Response<B>,
) -> http::Response<B> {
    let headers = response.headers_mut();
    let out_of_range = headers.get("grpc-status").is_some_and(|s| s == "11");
    let too_large = headers
        .get("grpc-message")
        .and_then(|m| m.to_str().ok())
        .is_some_and(|m| {
            m.contains("message%20length%20too%20large") || m.contains("message length too large")
        });
    if out_of_range && too_large {
        headers.insert("grpc-status", http::HeaderValue::from_static("8"));
    }
    response
}

/// A request that ran out of the server's time is DEADLINE_EXCEEDED (tonic's
/// own timeout says CANCELLED, which means the caller gave up and which
/// retry policies treat differently).
pub fn out_of_time_is_deadline_exceeded(err: tower::BoxError) -> tower::BoxError {
    if err.is::<tower::timeout::error::Elapsed>() {
        Box::new(Status::deadline_exceeded(
            "the request took longer than the server allows (--request-timeout-secs)",
        ))
    } else {
        err
    }
}

/// Limits the API enforces on requests.
#[derive(Debug, Clone)]
pub struct ApiLimits {
    /// Largest comment body, in bytes.
    pub max_body_bytes: usize,
}

impl Default for ApiLimits {
    fn default() -> Self {
        ApiLimits {
            max_body_bytes: 8 * 1024,
        }
    }
}

/// The `commentd.v1.CommentService` implementation.
pub struct Api {
    core: Arc<Comments>,
    limits: ApiLimits,
    encodings: Arc<EventEncodings>,
}

impl Api {
    pub fn new(core: Arc<Comments>, limits: ApiLimits) -> Self {
        Api {
            core,
            limits,
            encodings: Arc::default(),
        }
    }
}

/// Parses an optional identifier: empty means absent.
fn optional<T>(
    violations: &mut Violations,
    field: &str,
    value: &str,
    parse: impl FnOnce(&str) -> Result<T, crate::domain::Invalid>,
) -> Option<Option<T>> {
    if value.is_empty() {
        return Some(None);
    }
    violations.check(field, parse(value)).map(Some)
}

fn status_filter(raw: i32) -> Result<Option<CommentStatus>, String> {
    match proto::CommentStatus::try_from(raw) {
        Ok(proto::CommentStatus::Unspecified) => Ok(None),
        Ok(proto::CommentStatus::Approved) => Ok(Some(CommentStatus::Approved)),
        Ok(proto::CommentStatus::PendingReview) => Ok(Some(CommentStatus::PendingReview)),
        Ok(proto::CommentStatus::Rejected) => Ok(Some(CommentStatus::Rejected)),
        Err(_) => Err(format!("status {raw} is not a CommentStatus value")),
    }
}

fn status_name(status: Option<CommentStatus>) -> &'static str {
    match status {
        None => "any",
        Some(CommentStatus::Approved) => "approved",
        Some(CommentStatus::PendingReview) => "pending",
        Some(CommentStatus::Rejected) => "rejected",
    }
}

impl Api {
    fn parse_submit(&self, request: proto::SubmitCommentRequest) -> Result<NewComment, Status> {
        let proto::SubmitCommentRequest {
            article_id,
            author_id,
            author_name,
            body,
            parent_id,
            request_id,
        } = request;
        let mut v = Violations::default();
        let article_id = v.check("article_id", ArticleId::parse(&article_id));
        let author_id = v.check("author_id", AuthorId::parse(&author_id));
        let author_name = v.check("author_name", AuthorName::parse(&author_name));
        let body = v.check(
            "body",
            CommentBody::parse(&body, self.limits.max_body_bytes),
        );
        let parent_id = optional(&mut v, "parent_id", &parent_id, str::parse::<CommentId>);
        let request_id = optional(&mut v, "request_id", &request_id, RequestId::parse);
        match (
            article_id,
            author_id,
            author_name,
            body,
            parent_id,
            request_id,
        ) {
            (
                Some(article_id),
                Some(author_id),
                Some(author_name),
                Some(body),
                Some(parent_id),
                Some(request_id),
            ) if v.is_empty() => Ok(NewComment {
                article_id,
                author_id,
                author_name,
                body,
                parent_id,
                request_id,
            }),
            _ => Err(v.into_status()),
        }
    }

    fn page_response(&self, page: Page, query: &str) -> (Vec<proto::Comment>, String) {
        let next = page
            .next_after
            .map(|after| PageToken::encode(query, after))
            .unwrap_or_default();
        (page.comments.iter().map(convert::comment).collect(), next)
    }
}

type EventStream = Pin<Box<dyn Stream<Item = Result<EncodedEvent, Status>> + Send>>;

#[tonic::async_trait]
impl CommentService for Api {
    #[tracing::instrument(level = "debug", skip_all, fields(article_id = %request.get_ref().article_id, request_id = %request.get_ref().request_id))]
    async fn submit_comment(
        &self,
        request: Request<proto::SubmitCommentRequest>,
    ) -> Result<Response<proto::SubmitCommentResponse>, Status> {
        let new = self.parse_submit(request.into_inner())?;
        let submitted = self.core.submit(new).await?;
        let comment = &submitted.comment;
        // One line per comment would dominate the log of a busy site; the
        // verdict is stored with the comment.
        tracing::debug!(
            id = %comment.id,
            status = %comment.status,
            created = submitted.created,
            rules = comment.verdict.matches.len(),
            "comment submitted"
        );
        Ok(Response::new(proto::SubmitCommentResponse {
            comment: Some(convert::comment(comment)),
        }))
    }

    #[tracing::instrument(level = "debug", skip_all, fields(id = %request.get_ref().id))]
    async fn get_comment(
        &self,
        request: Request<proto::GetCommentRequest>,
    ) -> Result<Response<proto::GetCommentResponse>, Status> {
        let proto::GetCommentRequest { id } = request.into_inner();
        let mut v = Violations::default();
        let Some(id) = v.check("id", id.parse::<CommentId>()) else {
            return Err(v.into_status());
        };
        match self.core.get(id).await.map_err(store_status)? {
            Some(comment) => Ok(Response::new(proto::GetCommentResponse {
                comment: Some(convert::comment(&comment)),
            })),
            None => Err(comment_not_found(id)),
        }
    }

    #[tracing::instrument(level = "debug", skip_all, fields(article_id = %request.get_ref().article_id))]
    async fn list_comments(
        &self,
        request: Request<proto::ListCommentsRequest>,
    ) -> Result<Response<proto::ListCommentsResponse>, Status> {
        let proto::ListCommentsRequest {
            article_id,
            status,
            page_size: requested_size,
            page_token,
        } = request.into_inner();
        let mut v = Violations::default();
        let article_id = v.check("article_id", ArticleId::parse(&article_id));
        let status = status_filter(status).map_err(|e| v.add("status", e)).ok();
        let size = page_size(requested_size)
            .map_err(|e| v.add("page_size", format!("page_size {e}")))
            .ok();
        let (Some(article_id), Some(status), Some(size)) = (article_id, status, size) else {
            return Err(v.into_status());
        };
        let query = format!("article:{article_id}:{}", status_name(status));
        let after = PageToken::decode(&page_token, &query).map_err(|e| {
            field_status(
                Code::InvalidArgument,
                "page_token",
                format!("page_token {e}"),
            )
        })?;
        let page = self
            .core
            .list(article_id, status, after, size)
            .await
            .map_err(store_status)?;
        let (comments, next_page_token) = self.page_response(page, &query);
        Ok(Response::new(proto::ListCommentsResponse {
            comments,
            next_page_token,
        }))
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn check_comment(
        &self,
        request: Request<proto::CheckCommentRequest>,
    ) -> Result<Response<proto::CheckCommentResponse>, Status> {
        let proto::CheckCommentRequest { body, author_id } = request.into_inner();
        let mut v = Violations::default();
        let body = v.check(
            "body",
            CommentBody::parse(&body, self.limits.max_body_bytes),
        );
        let author = optional(&mut v, "author_id", &author_id, AuthorId::parse);
        let (Some(body), Some(author)) = (body, author) else {
            return Err(v.into_status());
        };
        let verdict = self.core.check(body.as_str(), author.as_ref());
        Ok(Response::new(proto::CheckCommentResponse {
            verdict: Some(convert::verdict(&verdict, body.as_str())),
        }))
    }

    type WatchCommentsStream = EventStream;

    #[tracing::instrument(level = "debug", skip_all, fields(article_id = %request.get_ref().article_id, after_cursor = ?request.get_ref().after_cursor))]
    async fn watch_comments(
        &self,
        request: Request<proto::WatchCommentsRequest>,
    ) -> Result<Response<Self::WatchCommentsStream>, Status> {
        let proto::WatchCommentsRequest {
            article_id,
            after_cursor,
        } = request.into_inner();
        let mut v = Violations::default();
        let Some(article) = optional(&mut v, "article_id", &article_id, ArticleId::parse) else {
            return Err(v.into_status());
        };
        let events = self.core.watch(article, after_cursor.map(Cursor::new))?;
        let encodings = Arc::clone(&self.encodings);
        let stream = events.map(move |item| match item {
            Ok(event) => Ok(encodings.get(&event)),
            Err(err) => Err(Status::from(err)),
        });
        Ok(Response::new(Box::pin(stream)))
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn list_review_queue(
        &self,
        request: Request<proto::ListReviewQueueRequest>,
    ) -> Result<Response<proto::ListReviewQueueResponse>, Status> {
        let proto::ListReviewQueueRequest {
            page_size: requested_size,
            page_token,
        } = request.into_inner();
        let size = page_size(requested_size).map_err(|e| {
            field_status(Code::InvalidArgument, "page_size", format!("page_size {e}"))
        })?;
        let query = "review-queue";
        let after = PageToken::decode(&page_token, query).map_err(|e| {
            field_status(
                Code::InvalidArgument,
                "page_token",
                format!("page_token {e}"),
            )
        })?;
        let page = self
            .core
            .review_queue(after, size)
            .await
            .map_err(store_status)?;
        let (comments, next_page_token) = self.page_response(page, query);
        Ok(Response::new(proto::ListReviewQueueResponse {
            comments,
            next_page_token,
        }))
    }

    #[tracing::instrument(level = "debug", skip_all, fields(id = %request.get_ref().id, moderator_id = %request.get_ref().moderator_id))]
    async fn moderate_comment(
        &self,
        request: Request<proto::ModerateCommentRequest>,
    ) -> Result<Response<proto::ModerateCommentResponse>, Status> {
        let proto::ModerateCommentRequest {
            id,
            status,
            moderator_id,
            reason,
        } = request.into_inner();
        let mut v = Violations::default();
        let id = v.check("id", id.parse::<CommentId>());
        let status = match status_filter(status) {
            Ok(Some(s @ (CommentStatus::Approved | CommentStatus::Rejected))) => Some(s),
            Ok(_) => {
                v.add(
                    "status",
                    "status must be COMMENT_STATUS_APPROVED or COMMENT_STATUS_REJECTED",
                );
                None
            }
            Err(e) => {
                v.add("status", e);
                None
            }
        };
        let moderator_id = v.check("moderator_id", ModeratorId::parse(&moderator_id));
        let reason = v.check("reason", DecisionReason::parse(&reason));
        let (Some(id), Some(status), Some(moderator_id), Some(reason)) =
            (id, status, moderator_id, reason)
        else {
            return Err(v.into_status());
        };
        let decision = ModeratorDecision {
            moderator_id,
            status,
            reason,
            decided_at: Timestamp::now(),
        };
        let comment = self.core.moderate(id, decision).await?;
        tracing::info!(id = %comment.id, status = %comment.status, "moderator decision recorded");
        Ok(Response::new(proto::ModerateCommentResponse {
            comment: Some(convert::comment(&comment)),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_out_of_time_is_deadline_exceeded_and_other_errors_pass() {
        let elapsed: tower::BoxError = Box::new(tower::timeout::error::Elapsed::new());
        let mapped = out_of_time_is_deadline_exceeded(elapsed);
        let status = mapped.downcast_ref::<Status>().expect("a status");
        assert_eq!(status.code(), tonic::Code::DeadlineExceeded);
        let other: tower::BoxError = "connection reset".into();
        assert!(
            out_of_time_is_deadline_exceeded(other)
                .downcast_ref::<Status>()
                .is_none()
        );
    }
}
