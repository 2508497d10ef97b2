//! The service core: what each operation does, in domain terms.
//!
//! It moderates with the current rule set, stores through the store and
//! streams through the feed. It knows nothing of gRPC: the `grpc` module
//! parses requests into the domain types taken here and maps the errors
//! returned here to statuses.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use crate::domain::{
    ArticleId, AuthorId, Comment, CommentId, CommentStatus, Cursor, ModeratorDecision, NewComment,
    Timestamp,
};
use crate::feed::{EventStream, Feed, WatchError};
use crate::moderation::{Context, RuleSet, Verdict};
use crate::store::{ModerateError, Page, Store, StoreError, SubmitError, Submitted};

/// Recent comment times per author, for per-author rules. Kept in memory
/// (loaded from the store at start-up) so that submits never read storage
/// for it.
#[derive(Debug, Default)]
pub struct AuthorActivity {
    recent: Mutex<RecentTimes>,
}

#[derive(Debug, Default)]
struct RecentTimes {
    by_author: HashMap<AuthorId, VecDeque<u64>>,
    /// Size at which quiet authors are next forgotten. It follows the number
    /// of authors still active after each sweep, so that a flood of distinct
    /// authors costs each submit amortised constant time, not a sweep each.
    sweep_at: usize,
    /// Sweeps so far.
    sweeps: u64,
}

/// Most comment times kept per author.
const MAX_TIMES_PER_AUTHOR: usize = 256;

/// Most comments whose authors and times are read back at start-up. Reading
/// the whole window after a burst (60 s at 8,000 comments/s is 480,000
/// comments) would take seconds; past this many, only authors who posted
/// more than this many comments ago within the window lose the history of
/// those comments, once, at a restart.
const MAX_RECOVERED_ACTIVITY: usize = 20_000;

/// The map is never swept below this many authors.
const MIN_SWEEP_AT: usize = 100_000;

impl AuthorActivity {
    /// The author's most recent comment times (Unix microseconds), at most
    /// `limit`.
    fn recent(&self, author: &AuthorId, limit: usize) -> Vec<u64> {
        if limit == 0 {
            return Vec::new();
        }
        let recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        recent
            .by_author
            .get(author)
            .map(|times| times.iter().rev().take(limit).copied().collect())
            .unwrap_or_default()
    }

    fn record(&self, author: &AuthorId, at: Timestamp, horizon: Duration) {
        let oldest = at.saturating_sub(horizon).unix_micros();
        let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        let times = recent.by_author.entry(author.clone()).or_default();
        times.push_back(at.unix_micros());
        while times.len() > MAX_TIMES_PER_AUTHOR || times.front().is_some_and(|&t| t < oldest) {
            times.pop_front();
        }
        // Forget quiet authors now and then, so the map holds only the
        // authors of the rules' window (and at most as many again).
        if recent.by_author.len() > recent.sweep_at.max(MIN_SWEEP_AT) {
            recent
                .by_author
                .retain(|_, times| times.back().is_some_and(|&t| t >= oldest));
            recent.sweep_at = 2 * recent.by_author.len();
            recent.sweeps += 1;
        }
    }

    /// Authors remembered, and sweeps so far.
    #[cfg(test)]
    fn size(&self) -> (usize, u64) {
        let recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        (recent.by_author.len(), recent.sweeps)
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    const MINUTE: Duration = Duration::from_secs(60);

    fn at_second(s: u64) -> Timestamp {
        Timestamp::from_unix_micros(1_800_000_000_000_000 + s * 1_000_000)
    }

    #[test]
    fn a_flood_of_distinct_authors_is_remembered_for_the_window_with_few_sweeps() -> TestResult {
        let activity = AuthorActivity::default();
        let authors = 3 * MIN_SWEEP_AT;
        for n in 0..authors {
            activity.record(&AuthorId::parse(&format!("a{n}"))?, at_second(0), MINUTE);
        }
        let (remembered, sweeps) = activity.size();
        assert_eq!(remembered, authors, "all are inside the window");
        assert!(sweeps <= 2, "{sweeps} sweeps for {authors} authors");
        assert_eq!(activity.recent(&AuthorId::parse("a7")?, 5).len(), 1);
        Ok(())
    }

    #[test]
    fn authors_quiet_for_longer_than_the_window_are_forgotten() -> TestResult {
        let activity = AuthorActivity::default();
        for n in 0..MIN_SWEEP_AT {
            activity.record(&AuthorId::parse(&format!("old{n}"))?, at_second(0), MINUTE);
        }
        for n in 0..=MIN_SWEEP_AT {
            activity.record(
                &AuthorId::parse(&format!("new{n}"))?,
                at_second(120),
                MINUTE,
            );
        }
        let (remembered, _) = activity.size();
        assert!(remembered <= MIN_SWEEP_AT + 1, "{remembered} remembered");
        assert!(activity.recent(&AuthorId::parse("old1")?, 5).is_empty());
        assert_eq!(activity.recent(&AuthorId::parse("new1")?, 5).len(), 1);
        Ok(())
    }

    #[test]
    fn an_author_keeps_only_the_times_inside_the_window() -> TestResult {
        let activity = AuthorActivity::default();
        let author = AuthorId::parse("busy")?;
        for s in 0..300 {
            activity.record(&author, at_second(s), MINUTE);
        }
        let times = activity.recent(&author, 1000);
        assert_eq!(times.len(), 61, "seconds 239..=299");
        assert_eq!(times[0], at_second(299).unix_micros(), "newest first");
        Ok(())
    }
}
