//! Recent comment times per author, for the per-author rules.
//!
//! Kept in memory (loaded from the store at start-up) so that submits never
//! read storage for it. Its size follows the number of authors active in the
//! rules' window, and a flood of distinct authors is the case to size it
//! for: each costs one hash-table slot of 24 bytes, with nothing allocated
//! for an author who has posted once.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, RandomState};
use std::sync::Mutex;
use std::time::Duration;

use crate::domain::{AuthorId, Timestamp};

#[derive(Debug, Default)]
pub struct AuthorActivity {
    recent: Mutex<RecentTimes>,
}

#[derive(Debug, Default)]
struct RecentTimes {
    /// Keyed by a 64-bit hash of the author id rather than the id, which
    /// would cost a string allocation per author. The hash is keyed with a
    /// secret chosen at start-up, so no one can pick an id whose history
    /// merges with another author's; two ids meet by chance with odds of
    /// about n² / 2⁶⁵ for n authors in the window.
    by_author: HashMap<u64, Times>,
    author_key: RandomState,
    /// Size at which quiet authors are next forgotten. It follows the number
    /// of authors still active after each sweep, so that a flood of distinct
    /// authors costs each submit amortised constant time, not a sweep each.
    sweep_at: usize,
    /// Sweeps so far.
    sweeps: u64,
}

/// One author's comment times (Unix microseconds).
#[derive(Debug)]
struct Times {
    newest: u64,
    /// The times before `newest`, oldest first; `None` for most authors,
    /// who have posted once in the window.
    #[allow(
        clippy::box_collection,
        reason = "a box keeps each author's slot at 24 bytes, not 48, and most authors never fill it"
    )]
    earlier: Option<Box<VecDeque<u64>>>,
}

impl Times {
    fn record(&mut self, at: u64, oldest_kept: u64) {
        let earlier = self.earlier.get_or_insert_with(Box::default);
        earlier.push_back(std::mem::replace(&mut self.newest, at));
        while earlier.len() >= MAX_TIMES_PER_AUTHOR
            || earlier.front().is_some_and(|&t| t < oldest_kept)
        {
            earlier.pop_front();
        }
        if earlier.is_empty() {
            self.earlier = None;
        }
    }

    /// Newest first.
    fn newest_first(&self) -> impl Iterator<Item = u64> + '_ {
        let earlier = self.earlier.iter().flat_map(|times| times.iter().rev());
        std::iter::once(self.newest).chain(earlier.copied())
    }
}

/// Most comment times kept per author.
const MAX_TIMES_PER_AUTHOR: usize = 256;

/// The map is never swept below this many authors.
const MIN_SWEEP_AT: usize = 100_000;

impl AuthorActivity {
    /// The author's most recent comment times (Unix microseconds), newest
    /// first, at most `limit`.
    pub fn recent(&self, author: &AuthorId, limit: usize) -> Vec<u64> {
        if limit == 0 {
            return Vec::new();
        }
        let recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        let key = recent.author_key.hash_one(author.as_str());
        recent
            .by_author
            .get(&key)
            .map(|times| times.newest_first().take(limit).collect())
            .unwrap_or_default()
    }

    /// Remembers that `author` commented `at`; times older than `horizon`
    /// before it may be forgotten.
    pub fn record(&self, author: &AuthorId, at: Timestamp, horizon: Duration) {
        let at_micros = at.unix_micros();
        let oldest_kept = at.saturating_sub(horizon).unix_micros();
        let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        let key = recent.author_key.hash_one(author.as_str());
        recent
            .by_author
            .entry(key)
            .and_modify(|times| times.record(at_micros, oldest_kept))
            .or_insert(Times {
                newest: at_micros,
                earlier: None,
            });
        // Forget quiet authors now and then, so the map holds only the
        // authors of the rules' window (and at most as many again). The
        // table keeps its capacity: it grows back to twice what is left
        // before the next sweep, and shrinking it would only rehash every
        // author twice more, under the lock, on a submit.
        if recent.by_author.len() > recent.sweep_at.max(MIN_SWEEP_AT) {
            recent
                .by_author
                .retain(|_, times| times.newest >= oldest_kept);
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
        assert!(times.windows(2).all(|w| w[0] > w[1]), "newest first");
        Ok(())
    }

    #[test]
    fn an_author_keeps_at_most_the_newest_times_of_a_burst() -> TestResult {
        let activity = AuthorActivity::default();
        let author = AuthorId::parse("burst")?;
        let start = at_second(0).unix_micros();
        for n in 0..1000 {
            activity.record(&author, Timestamp::from_unix_micros(start + n), MINUTE);
        }
        let times = activity.recent(&author, usize::MAX);
        assert_eq!(times.len(), MAX_TIMES_PER_AUTHOR);
        assert_eq!(times[0], start + 999);
        assert_eq!(
            activity.recent(&author, 3),
            [start + 999, start + 998, start + 997]
        );
        Ok(())
    }

    #[test]
    fn an_author_who_posted_once_costs_one_24_byte_slot() {
        assert_eq!(std::mem::size_of::<(u64, Times)>(), 24);
    }

    #[test]
    fn authors_histories_are_kept_apart() -> TestResult {
        let activity = AuthorActivity::default();
        let (alice, bob) = (AuthorId::parse("alice")?, AuthorId::parse("bob")?);
        activity.record(&alice, at_second(1), MINUTE);
        activity.record(&alice, at_second(2), MINUTE);
        activity.record(&bob, at_second(3), MINUTE);
        assert_eq!(
            activity.recent(&alice, 10),
            [at_second(2).unix_micros(), at_second(1).unix_micros()]
        );
        assert_eq!(activity.recent(&bob, 10), [at_second(3).unix_micros()]);
        assert!(activity.recent(&AuthorId::parse("carol")?, 10).is_empty());
        Ok(())
    }
}
