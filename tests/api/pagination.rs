//! Listing an article's comments page by page (AIP-158).

use commentd::proto::{CommentStatus, ListCommentsRequest, ListReviewQueueRequest};
use tonic::Code;

use crate::helpers::{spawn_app, status_of};

fn list(article: &str, size: i32, token: &str) -> ListCommentsRequest {
    ListCommentsRequest {
        article_id: article.into(),
        status: 0,
        page_size: size,
        page_token: token.into(),
    }
}

#[tokio::test]
async fn pages_cover_every_comment_once_oldest_first() {
    let app = spawn_app().await;
    let mut expected = Vec::new();
    for i in 0..120 {
        expected.push(
            app.submit("long-thread", &format!("Comment number {i}."))
                .await
                .id,
        );
        if i % 10 == 0 {
            app.submit("other-article", "Not in the thread.").await;
        }
    }
    let mut client = app.client.clone();
    let (mut seen, mut sizes, mut token) = (Vec::new(), Vec::new(), String::new());
    loop {
        let page = client
            .list_comments(list("long-thread", 50, &token))
            .await
            .unwrap()
            .into_inner();
        sizes.push(page.comments.len());
        seen.extend(page.comments.into_iter().map(|c| c.id));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(sizes, [50, 50, 20]);
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn a_status_filter_lists_only_that_status() {
    let app = spawn_app().await;
    let approved = app.submit("a", "Sensible remark.").await;
    let rejected = app.submit("a", "fuck this").await;
    let held = app.submit("a", "what a moron").await;
    let mut client = app.client.clone();
    for (status, expected) in [
        (CommentStatus::Approved, &approved),
        (CommentStatus::Rejected, &rejected),
        (CommentStatus::PendingReview, &held),
    ] {
        let page = client
            .list_comments(ListCommentsRequest {
                status: status as i32,
                ..list("a", 0, "")
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(page.comments.len(), 1, "{status:?}");
        assert_eq!(page.comments[0].id, expected.id);
        assert_eq!(status_of(&page.comments[0]), status);
    }
}

#[tokio::test]
async fn page_tokens_only_continue_their_own_query() {
    let app = spawn_app().await;
    for i in 0..3 {
        app.submit("a", &format!("Comment {i}")).await;
    }
    let mut client = app.client.clone();
    let token = client
        .list_comments(list("a", 1, ""))
        .await
        .unwrap()
        .into_inner()
        .next_page_token;
    assert!(!token.is_empty());
    let other_article = client
        .list_comments(list("b", 1, &token))
        .await
        .unwrap_err();
    assert_eq!(other_article.code(), Code::InvalidArgument);
    let other_filter = client
        .list_comments(ListCommentsRequest {
            status: CommentStatus::Approved as i32,
            ..list("a", 1, &token)
        })
        .await
        .unwrap_err();
    assert_eq!(other_filter.code(), Code::InvalidArgument);
    let forged = client
        .list_comments(list("a", 1, "not-a-token"))
        .await
        .unwrap_err();
    assert_eq!(forged.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn the_review_queue_lists_held_comments_across_articles() {
    let app = spawn_app().await;
    let first = app.submit("a", "you idiot").await;
    app.submit("b", "Perfectly fine.").await;
    let second = app.submit("b", "what a moron").await;
    let mut client = app.client.clone();
    let page = client
        .list_review_queue(ListReviewQueueRequest {
            page_size: 1,
            page_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.comments[0].id, first.id);
    let next = client
        .list_review_queue(ListReviewQueueRequest {
            page_size: 1,
            page_token: page.next_page_token,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(next.comments[0].id, second.id);
    assert!(next.next_page_token.is_empty());
}
