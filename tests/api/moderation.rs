//! Each comment is approved, held for review or rejected, with the rules
//! that fired and where.

use std::io::Write;

use commentd::proto::{self, CheckCommentRequest, CommentStatus, ListCommentsRequest, RuleAction};

use crate::helpers::{spawn_app, spawn_app_with, status_of};

fn span_texts(verdict: &proto::Verdict, rule: &str) -> Vec<String> {
    verdict
        .matches
        .iter()
        .filter(|m| m.rule_id == rule)
        .flat_map(|m| m.spans.iter().map(|s| s.text.clone()))
        .collect()
}

#[tokio::test]
async fn a_clean_comment_is_approved_with_an_empty_explanation() {
    let app = spawn_app().await;
    let comment = app
        .submit(
            "kremlin-usa-visas",
            "Good to see the embassies fully staffed again.",
        )
        .await;
    assert_eq!(status_of(&comment), CommentStatus::Approved);
    let verdict = comment.verdict.unwrap();
    assert_eq!(verdict.status(), CommentStatus::Approved);
    assert!(verdict.matches.is_empty());
    assert!(verdict.rule_set_version.starts_with("sha256:"));
}

#[tokio::test]
async fn an_insult_is_held_for_review_and_explained() {
    let app = spawn_app().await;
    let comment = app
        .submit("kremlin-usa-visas", "Only an idiot would sign this.")
        .await;
    assert_eq!(status_of(&comment), CommentStatus::PendingReview);
    let verdict = comment.verdict.unwrap();
    let m = &verdict.matches[0];
    assert_eq!(
        (m.rule_id.as_str(), m.category.as_str()),
        ("insults-en", "insult")
    );
    assert_eq!(m.action(), RuleAction::Review);
    assert!(!m.reason.is_empty());
    assert_eq!(span_texts(&verdict, "insults-en"), ["idiot"]);
}

#[tokio::test]
async fn obfuscated_profanity_is_rejected_with_spans_into_the_original_body() {
    let app = spawn_app().await;
    let body = "Ну и ѕhit, and what the f.u.c.k, сука";
    let comment = app.submit("kremlin-usa-visas", body).await;
    assert_eq!(status_of(&comment), CommentStatus::Rejected);
    let verdict = comment.verdict.unwrap();
    let spans: Vec<(u32, u32, String)> = verdict
        .matches
        .iter()
        .flat_map(|m| m.spans.iter().map(|s| (s.start, s.end, s.text.clone())))
        .collect();
    for (start, end, text) in &spans {
        assert_eq!(
            &body[*start as usize..*end as usize],
            text,
            "span offsets are bytes of the body"
        );
    }
    let texts: Vec<&str> = spans.iter().map(|(_, _, t)| t.as_str()).collect();
    for expected in ["ѕhit", "f.u.c.k", "сука"] {
        assert!(
            texts.contains(&expected),
            "{expected} highlighted in {texts:?}"
        );
    }
}

#[tokio::test]
async fn ordinary_words_containing_profanity_pass() {
    let app = spawn_app().await;
    for body in [
        "Scunthorpe beat Penistone, a classic.",
        "The assassin was seen near the embassy in Essex.",
        "Курс рубля упал, спуск корабля отложили, команда в шоке.",
        "Отличный скипидар, застрахуй машину заранее.",
    ] {
        let comment = app.submit("culture", body).await;
        assert_eq!(status_of(&comment), CommentStatus::Approved, "{body}");
    }
}

#[tokio::test]
async fn check_returns_the_verdict_and_stores_nothing() {
    let app = spawn_app().await;
    let mut client = app.client.clone();
    let verdict = client
        .check_comment(CheckCommentRequest {
            body: "this is bullshit".into(),
            author_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .verdict
        .unwrap();
    assert_eq!(verdict.status(), CommentStatus::Rejected);
    assert_eq!(span_texts(&verdict, "profanity-en"), ["bullshit"]);
    let listed = client
        .list_comments(ListCommentsRequest {
            article_id: "culture".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(listed.comments.is_empty());
}

#[tokio::test]
async fn a_rule_file_replaces_the_built_in_rules() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    writeln!(
        file,
        r#"
        [[rule]]
        id = "no-pineapple"
        description = "This site does not discuss pineapple on pizza"
        category = "off-topic"
        action = "reject"
        terms = ["pineapple*"]
        "#
    )
    .unwrap();
    let path = file.path().to_owned();
    let app = spawn_app_with(|s| s.rules = Some(path)).await;
    let rejected = app.submit("food", "Pineapples belong on pizza").await;
    assert_eq!(status_of(&rejected), CommentStatus::Rejected);
    // The built-in rules are gone.
    let approved = app.submit("food", "what the fuck").await;
    assert_eq!(status_of(&approved), CommentStatus::Approved);
}

#[tokio::test]
async fn an_author_posting_too_fast_is_held() {
    let app = spawn_app().await;
    let mut statuses = Vec::new();
    for i in 0..7 {
        let comment = app
            .submit_as(
                "kremlin-usa-visas",
                "prolific",
                &format!("Point number {i} about the visa talks."),
            )
            .await;
        statuses.push(status_of(&comment));
    }
    assert!(
        statuses[..5].iter().all(|s| *s == CommentStatus::Approved),
        "{statuses:?}"
    );
    assert!(
        statuses[5..]
            .iter()
            .all(|s| *s == CommentStatus::PendingReview),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn an_authors_recent_comments_still_count_after_a_restart() {
    let app = spawn_app().await;
    for i in 0..5 {
        let comment = app
            .submit_as("kremlin-usa-visas", "prolific", &format!("Point {i}."))
            .await;
        assert_eq!(status_of(&comment), CommentStatus::Approved);
    }
    let app = app.restart().await;
    let sixth = app
        .submit_as("kremlin-usa-visas", "prolific", "One more point.")
        .await;
    assert_eq!(status_of(&sixth), CommentStatus::PendingReview);
    let other = app
        .submit_as("kremlin-usa-visas", "newcomer", "A first point.")
        .await;
    assert_eq!(status_of(&other), CommentStatus::Approved);
}

#[tokio::test]
async fn reloading_swaps_the_rules_and_a_bad_file_keeps_the_old_ones() {
    let file = tempfile::NamedTempFile::new().unwrap();
    let write = |terms: &str| {
        std::fs::write(
            file.path(),
            format!("[[rule]]\nid = \"words\"\ncategory = \"test\"\naction = \"reject\"\nterms = [{terms}]\n"),
        )
        .unwrap()
    };
    write("\"apple\"");
    let path = file.path().to_owned();
    let app = spawn_app_with(|s| s.rules = Some(path)).await;
    let first = app.submit("a", "an apple and a pear").await;
    assert_eq!(status_of(&first), CommentStatus::Rejected);
    let first_version = first.verdict.unwrap().rule_set_version;

    write("\"pear\"");
    let version = app.rules.reload().expect("a valid file reloads");
    let second = app.submit("a", "an apple and a pear").await;
    assert_eq!(second.verdict.as_ref().unwrap().rule_set_version, version);
    assert_ne!(version, first_version);
    assert_eq!(
        span_texts(second.verdict.as_ref().unwrap(), "words"),
        ["pear"]
    );

    write("\"broken{\"");
    let err = app.rules.reload().expect_err("a bad file is refused");
    assert!(err.to_string().contains("unclosed"), "{err}");
    let third = app.submit("a", "an apple and a pear").await;
    assert_eq!(
        third.verdict.unwrap().rule_set_version,
        version,
        "the old rules stay"
    );
}
