//! The service core: what each operation does, in domain terms.
//!
//! It moderates with the current rule set, stores through the store and
//! streams through the feed. It knows nothing of gRPC: the `grpc` module
//! parses requests into the domain types taken here and maps the errors
//! returned here to statuses.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use crate::activity::AuthorActivity;
use crate::domain::{
    ArticleId, AuthorId, Comment, CommentId, CommentStatus, Cursor, ModeratorDecision, NewComment,
    Timestamp,
};
use crate::feed::{EventStream, Feed, WatchError};
use crate::moderation::{Context, RuleSet, Verdict};
use crate::store::{ModerateError, Page, Store, StoreError, SubmitError, Submitted};

/// Most comments whose authors and times are read back at start-up. Reading
/// the whole window after a burst (60 s at 8,000 comments/s is 480,000
/// comments) would take seconds; past this many, only authors who posted
/// more than this many comments ago within the window lose the history of
/// those comments, once, at a restart.
const MAX_RECOVERED_ACTIVITY: usize = 20_000;

/// The comment service.
pub struct Comments {
    store: Store,
    feed: Arc<Feed>,
    rules: RwLock<Arc<RuleSet>>,
    activity: AuthorActivity,
}

impl Comments {
    /// Builds the core; loads recent author activity from the store.
    pub async fn new(
        store: Store,
        feed: Arc<Feed>,
        rules: Arc<RuleSet>,
    ) -> Result<Self, StoreError> {
        let comments = Comments {
            store,
            feed,
            rules: RwLock::new(rules),
            activity: AuthorActivity::default(),
        };
        let horizon = comments.activity_horizon();
        if !horizon.is_zero() {
            let since = Timestamp::now().saturating_sub(horizon);
            let mut recent = comments
                .store
                .recent_activity(since, MAX_RECOVERED_ACTIVITY)
                .await?;
            recent.reverse();
            for (author, at) in recent {
                comments.activity.record(&author, at, horizon);
            }
        }
        Ok(comments)
    }

    /// The rule set in force.
    pub fn rules(&self) -> Arc<RuleSet> {
        Arc::clone(&self.rules.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// Replaces the rule set. Requests already moderating keep the old one.
    pub fn replace_rules(&self, rules: Arc<RuleSet>) {
        *self.rules.write().unwrap_or_else(|p| p.into_inner()) = rules;
    }

    fn activity_horizon(&self) -> Duration {
        Duration::from_secs(self.rules().author_window_seconds())
    }

    fn context(&self, rules: &RuleSet, author: Option<&AuthorId>) -> Context {
        Context {
            now_micros: Timestamp::now().unix_micros(),
            author_recent_micros: author
                .map(|a| self.activity.recent(a, rules.author_history_needed()))
                .unwrap_or_default(),
        }
    }

    /// The verdict the current rules give `body`, without storing anything.
    pub fn check(&self, body: &str, author: Option<&AuthorId>) -> Verdict {
        let rules = self.rules();
        rules.moderate(body, &self.context(&rules, author))
    }

    /// Moderates and stores a comment; returns once it is durable.
    pub async fn submit(&self, new: NewComment) -> Result<Submitted, SubmitError> {
        let verdict = self.check(new.body.as_str(), Some(&new.author_id));
        let submitted = self.store.submit(new, verdict).await?;
        if submitted.created {
            let horizon = self.activity_horizon();
            if !horizon.is_zero() {
                let c = &submitted.comment;
                self.activity.record(&c.author_id, c.created_at, horizon);
            }
        }
        Ok(submitted)
    }

    pub async fn get(&self, id: CommentId) -> Result<Option<Comment>, StoreError> {
        self.store.get(id).await
    }

    pub async fn list(
        &self,
        article: ArticleId,
        status: Option<CommentStatus>,
        after: Option<CommentId>,
        limit: usize,
    ) -> Result<Page, StoreError> {
        self.store.list_article(article, status, after, limit).await
    }

    pub async fn review_queue(
        &self,
        after: Option<CommentId>,
        limit: usize,
    ) -> Result<Page, StoreError> {
        self.store.list_review_queue(after, limit).await
    }

    pub async fn moderate(
        &self,
        id: CommentId,
        decision: ModeratorDecision,
    ) -> Result<Comment, ModerateError> {
        self.store.moderate(id, decision).await
    }

    pub fn watch(
        &self,
        article: Option<ArticleId>,
        after: Option<Cursor>,
    ) -> Result<EventStream, WatchError> {
        self.feed.watch(self.store.clone(), article, after)
    }
}
