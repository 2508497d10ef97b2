//! Bad input gets the right status, names the field at fault, and changes
//! nothing.

use commentd::proto::{
    CheckCommentRequest, GetCommentRequest, ListCommentsRequest, ListReviewQueueRequest,
    ModerateCommentRequest, SubmitCommentRequest, WatchCommentsRequest,
};
use tonic::Code;
use tonic_types::StatusExt;

use crate::helpers::{Call, TestApp, call, spawn_app, submission};

fn submit(edit: impl FnOnce(&mut SubmitCommentRequest)) -> Call {
    let mut request = submission("kremlin-usa-visas", "reader-1", "A perfectly fine comment.");
    edit(&mut request);
    Call::Submit(request)
}

fn list(edit: impl FnOnce(&mut ListCommentsRequest)) -> Call {
    let mut request = ListCommentsRequest {
        article_id: "kremlin-usa-visas".into(),
        ..Default::default()
    };
    edit(&mut request);
    Call::List(request)
}

fn moderate(edit: impl FnOnce(&mut ModerateCommentRequest)) -> Call {
    let mut request = ModerateCommentRequest {
        id: "0000000000000001".into(),
        status: 1,
        moderator_id: "mod-1".into(),
        reason: String::new(),
    };
    edit(&mut request);
    Call::Moderate(request)
}

/// A snapshot of everything stored, to compare before and after.
async fn stored(app: &TestApp) -> Vec<String> {
    let mut client = app.client.clone();
    let mut all = Vec::new();
    for article in ["kremlin-usa-visas", "elsewhere"] {
        let page = client
            .list_comments(ListCommentsRequest {
                article_id: article.into(),
                page_size: 1000,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        all.extend(page.comments.iter().map(|c| format!("{c:?}")));
    }
    all
}

#[tokio::test]
async fn bad_requests_get_their_status_and_field_and_change_nothing() {
    let app = spawn_app().await;
    let existing = app.submit("kremlin-usa-visas", "The first comment.").await;
    let elsewhere = app
        .submit("elsewhere", "A comment on another article.")
        .await;
    let before = stored(&app).await;

    let parent_missing = "00000000000000ff".to_owned();
    let other_parent = elsewhere.id.clone();
    let cases: Vec<(&str, Call, Code, Option<&str>)> = vec![
        (
            "missing article",
            submit(|r| r.article_id.clear()),
            Code::InvalidArgument,
            Some("article_id"),
        ),
        (
            "missing author",
            submit(|r| r.author_id.clear()),
            Code::InvalidArgument,
            Some("author_id"),
        ),
        (
            "empty body",
            submit(|r| r.body.clear()),
            Code::InvalidArgument,
            Some("body"),
        ),
        (
            "blank body",
            submit(|r| r.body = " \n\t ".into()),
            Code::InvalidArgument,
            Some("body"),
        ),
        (
            "body over the limit",
            submit(|r| r.body = "a".repeat(8 * 1024 + 1)),
            Code::InvalidArgument,
            Some("body"),
        ),
        (
            "request over the size limit",
            submit(|r| r.body = "a".repeat(100_000)),
            Code::ResourceExhausted,
            None,
        ),
        (
            "NUL in body",
            submit(|r| r.body = "nul\0byte".into()),
            Code::InvalidArgument,
            Some("body"),
        ),
        (
            "control char in body",
            submit(|r| r.body = "bell\u{7}".into()),
            Code::InvalidArgument,
            Some("body"),
        ),
        (
            "bidi override in body",
            submit(|r| r.body = "abc \u{202E}cba".into()),
            Code::InvalidArgument,
            Some("body"),
        ),
        (
            "space in article id",
            submit(|r| r.article_id = "has space".into()),
            Code::InvalidArgument,
            Some("article_id"),
        ),
        (
            "non-ASCII article id",
            submit(|r| r.article_id = "статья".into()),
            Code::InvalidArgument,
            Some("article_id"),
        ),
        (
            "article id too long",
            submit(|r| r.article_id = "a".repeat(129)),
            Code::InvalidArgument,
            Some("article_id"),
        ),
        (
            "author name too long",
            submit(|r| r.author_name = "n".repeat(101)),
            Code::InvalidArgument,
            Some("author_name"),
        ),
        (
            "author name on two lines",
            submit(|r| r.author_name = "a\nb".into()),
            Code::InvalidArgument,
            Some("author_name"),
        ),
        (
            "malformed parent id",
            submit(|r| r.parent_id = "xyz".into()),
            Code::InvalidArgument,
            Some("parent_id"),
        ),
        (
            "unknown parent",
            submit(|r| r.parent_id = parent_missing.clone()),
            Code::NotFound,
            Some("parent_id"),
        ),
        (
            "parent in another article",
            submit(|r| r.parent_id = other_parent.clone()),
            Code::FailedPrecondition,
            Some("parent_id"),
        ),
        (
            "bad request id",
            submit(|r| r.request_id = "white space".into()),
            Code::InvalidArgument,
            Some("request_id"),
        ),
        (
            "empty comment id",
            Call::Get(GetCommentRequest { id: String::new() }),
            Code::InvalidArgument,
            Some("id"),
        ),
        (
            "malformed comment id",
            Call::Get(GetCommentRequest { id: "12".into() }),
            Code::InvalidArgument,
            Some("id"),
        ),
        (
            "unknown comment id",
            Call::Get(GetCommentRequest {
                id: "00000000000000aa".into(),
            }),
            Code::NotFound,
            None,
        ),
        (
            "list without article",
            list(|r| r.article_id.clear()),
            Code::InvalidArgument,
            Some("article_id"),
        ),
        (
            "negative page size",
            list(|r| r.page_size = -1),
            Code::InvalidArgument,
            Some("page_size"),
        ),
        (
            "forged page token",
            list(|r| r.page_token = "Zm9yZ2Vk".into()),
            Code::InvalidArgument,
            Some("page_token"),
        ),
        (
            "unknown status filter",
            list(|r| r.status = 99),
            Code::InvalidArgument,
            Some("status"),
        ),
        (
            "check empty body",
            Call::Check(CheckCommentRequest {
                body: String::new(),
                author_id: String::new(),
            }),
            Code::InvalidArgument,
            Some("body"),
        ),
        (
            "watch bad article",
            Call::Watch(WatchCommentsRequest {
                article_id: "a b".into(),
                after_cursor: None,
            }),
            Code::InvalidArgument,
            Some("article_id"),
        ),
        (
            "queue negative page size",
            Call::Queue(ListReviewQueueRequest {
                page_size: -5,
                page_token: String::new(),
            }),
            Code::InvalidArgument,
            Some("page_size"),
        ),
        (
            "moderate unknown comment",
            moderate(|r| r.id = "00000000000000ee".into()),
            Code::NotFound,
            None,
        ),
        (
            "moderate to pending",
            moderate(|r| {
                r.id = existing.id.clone();
                r.status = 2
            }),
            Code::InvalidArgument,
            Some("status"),
        ),
        (
            "moderate without moderator",
            moderate(|r| {
                r.id = existing.id.clone();
                r.moderator_id.clear()
            }),
            Code::InvalidArgument,
            Some("moderator_id"),
        ),
    ];

    let mut client = app.client.clone();
    for (name, request, code, field) in cases {
        let status = call(&mut client, request).await.expect_err(name);
        assert_eq!(status.code(), code, "{name}: {}", status.message());
        if let Some(field) = field {
            let violations = status
                .get_details_bad_request()
                .unwrap_or_else(|| panic!("{name}: BadRequest details"))
                .field_violations;
            assert!(
                violations.iter().any(|v| v.field == field),
                "{name}: {violations:?}"
            );
        }
    }
    assert_eq!(stored(&app).await, before, "nothing changed");
}
