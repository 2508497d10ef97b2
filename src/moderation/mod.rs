//! The moderation engine: a comment body and a rule set in, a verdict out.
//!
//! This module is pure: no I/O, no clock, no async, nothing from tonic,
//! prost, sled or tokio. The same body, rule set and [`Context`] always give
//! the same [`Verdict`], and no input makes it panic.
//!
//! ```
//! use commentd::moderation::{Action, Context, RuleSet};
//!
//! let rules = RuleSet::from_toml(r#"
//!     [[rule]]
//!     id = "profanity"
//!     category = "profanity"
//!     action = "reject"
//!     terms = ["*fuck*", "shit*"]
//! "#, "example.toml").unwrap();
//!
//! let verdict = rules.moderate("what the f.u.c.k", &Context::default());
//! assert_eq!(verdict.action, Action::Reject);
//! let span = &verdict.matches[0].spans[0];
//! assert_eq!(&"what the f.u.c.k"[span.start as usize..span.end as usize], "f.u.c.k");
//!
//! assert_eq!(rules.moderate("Scunthorpe won 3-1", &Context::default()).action, Action::Approve);
//! ```
//!
//! How a body is read: [`text`] normalises it and renders it into symbol
//! streams; [`terms`] finds every term of every rule in one Aho–Corasick pass;
//! [`heuristics`] judges links, capitals, repetition, emoji, contact details,
//! length and author activity; [`rules`] reads the TOML rule file.

mod fold;
mod heuristics;
mod rules;
mod terms;
mod text;

use std::collections::BTreeSet;
use std::sync::Arc;

use regex::Regex;

pub use self::heuristics::{
    AuthorRateLimit, CapitalsLimit, ContactDetection, EmojiLimit, LengthLimits, LinkLimits,
    RepeatedCharsLimit, RepeatedWordsLimit,
};
use self::heuristics::{Finding, find_links};
pub use self::rules::{RuleFileError, RuleProblem};
use self::terms::Matcher;
pub use self::terms::{Term, TermError};
use self::text::{NormText, Streams};

/// The rule set built into the binary, used unless `--rules` names a file.
pub const DEFAULT_RULES: &str = include_str!("default_rules.toml");

/// What a rule asks for. Ordered by severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    Approve,
    Review,
    Reject,
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Action::Approve => "approve",
            Action::Review => "review",
            Action::Reject => "reject",
        })
    }
}

/// A byte range of the original body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

/// A rule that fired, with why and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleMatch {
    pub rule_id: String,
    pub category: String,
    pub action: Action,
    pub reason: String,
    pub spans: Vec<Span>,
}

/// The outcome of moderating one body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The most severe action among the rules that fired; approve if none.
    pub action: Action,
    pub rule_set_version: String,
    /// Every rule that fired, in rule-file order.
    pub matches: Vec<RuleMatch>,
}

/// What the engine may know beyond the body: the clock and the author's
/// recent activity, both supplied by the caller so the engine stays pure.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Now, in Unix microseconds.
    pub now_micros: u64,
    /// Times (Unix microseconds) of the author's most recent comments; at
    /// most [`RuleSet::author_history_needed`] are read.
    pub author_recent_micros: Vec<u64>,
}

/// Which text a regular expression reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegexTarget {
    /// The normalised text: lower case, compatibility-folded, without
    /// invisible characters or accents.
    Normalized,
    /// The body exactly as sent.
    Original,
}

/// The condition of a rule.
#[derive(Debug)]
pub enum Condition {
    /// Term lists, matched by the rule set's shared matcher; `displays` are
    /// the terms as written, for explanations.
    Terms {
        displays: Vec<String>,
    },
    Regex {
        regex: Regex,
        /// The same pattern, searched anchored at the places its literal
        /// prefixes occur (see [`RegexPrefilter`]).
        anchored: regex_automata::meta::Regex,
        target: RegexTarget,
        exceptions: Vec<Regex>,
    },
    Links(LinkLimits),
    Capitals(CapitalsLimit),
    RepeatedChars(RepeatedCharsLimit),
    RepeatedWords(RepeatedWordsLimit),
    Emoji(EmojiLimit),
    Contact(ContactDetection),
    Length(LengthLimits),
    AuthorRate(AuthorRateLimit),
}

/// One rule of a rule set.
#[derive(Debug)]
pub struct Rule {
    pub id: String,
    pub description: String,
    pub category: String,
    pub action: Action,
    pub condition: Condition,
}

/// One pass over a text tells which regex rules can match it: the literal
/// prefixes each regex must start with (from regex-syntax's literal
/// extractor) all go into one Aho–Corasick automaton. A regex whose prefixes
/// do not occur is never run; one without a finite set of prefixes always is.
///
/// The automaton searches leftmost-longest, restarting one byte after each
/// match's start: every position where some literal starts yields its
/// longest literal there, and a match counts for every literal that is a
/// prefix of it. That finds every literal that occurs, as an overlapping
/// search would, at the cost of a plain search (which can use SIMD
/// prefilters).
#[derive(Debug, Default)]
struct RegexPrefilter {
    literals: Option<aho_corasick::AhoCorasick>,
    /// For each literal of `literals`, the rules of the literals that are
    /// prefixes of it (itself included).
    literal_rules: Vec<Vec<usize>>,
    /// Regex rules that must always run.
    always: Vec<usize>,
}

/// Literal prefixes longer than this are cut: the automaton only needs to
/// tell the regex might match.
const PREFILTER_LITERAL_LEN: usize = 8;

/// The literals every match of `regex` starts with, cut to
/// [`PREFILTER_LITERAL_LEN`] bytes; `None` when a match may start with
/// anything.
fn literal_prefixes(regex: &str) -> Option<Vec<Vec<u8>>> {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    regex_syntax::Parser::new()
        .parse(regex)
        .ok()
        .and_then(|hir| {
            let mut extractor = Extractor::new();
            extractor.kind(ExtractKind::Prefix).limit_total(500);
            let mut seq = extractor.extract(&hir);
            seq.keep_first_bytes(PREFILTER_LITERAL_LEN);
            seq.dedup();
            seq.literals()
                .map(|lits| lits.iter().map(|l| l.as_bytes().to_vec()).collect())
        })
        .filter(|lits: &Vec<Vec<u8>>| !lits.is_empty() && lits.iter().all(|l| !l.is_empty()))
}

impl RegexPrefilter {
    fn new(rules: &[Rule], target: RegexTarget) -> RegexPrefilter {
        let mut prefilter = RegexPrefilter::default();
        let mut literals: Vec<(Vec<u8>, usize)> = Vec::new();
        for (index, rule) in rules.iter().enumerate() {
            let Condition::Regex {
                regex, target: t, ..
            } = &rule.condition
            else {
                continue;
            };
            if *t != target {
                continue;
            }
            match literal_prefixes(regex.as_str()) {
                Some(lits) => literals.extend(lits.into_iter().map(|lit| (lit, index))),
                None => prefilter.always.push(index),
            }
        }
        prefilter.literal_rules = literals
            .iter()
            .map(|(literal, _)| {
                let mut rules: Vec<usize> = literals
                    .iter()
                    .filter(|(other, _)| literal.starts_with(other))
                    .map(|&(_, rule)| rule)
                    .collect();
                rules.sort_unstable();
                rules.dedup();
                rules
            })
            .collect();
        if literals.is_empty() {
            // An automaton without patterns would still scan every byte.
            return prefilter;
        }
        prefilter.literals = aho_corasick::AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::LeftmostLongest)
            .build(literals.iter().map(|(literal, _)| literal))
            .ok();
        if prefilter.literals.is_none() {
            // Cannot happen for byte strings; run everything rather than
            // nothing if it ever does.
            prefilter
                .always
                .extend(prefilter.literal_rules.drain(..).flatten());
        }
        prefilter
    }

    /// The regex rules that may match `text`, in rule order, each with
    /// where its matches can start.
    fn candidates(&self, text: &str) -> Vec<(usize, Starts)> {
        let mut at_positions: Vec<(usize, usize)> = Vec::new();
        if let Some(ac) = &self.literals {
            let mut at = 0;
            while let Some(m) = ac.find(aho_corasick::Input::new(text).range(at..)) {
                at_positions.extend(
                    self.literal_rules[m.pattern().as_usize()]
                        .iter()
                        .map(|&rule| (rule, m.start())),
                );
                at = m.start() + 1;
            }
        }
        at_positions.sort_unstable();
        at_positions.dedup();
        let mut candidates: Vec<(usize, Starts)> = self
            .always
            .iter()
            .map(|&rule| (rule, Starts::Anywhere))
            .collect();
        for group in at_positions.chunk_by(|a, b| a.0 == b.0) {
            candidates.push((
                group[0].0,
                Starts::At(group.iter().map(|&(_, p)| p).collect()),
            ));
        }
        candidates.sort_by_key(|&(rule, _)| rule);
        candidates
    }
}

/// Anchored searches at more starts than this could read the text this many
/// times over: the regex then searches the text once instead.
const MAX_ANCHORED_STARTS: usize = 16;

/// Where a candidate regex's matches can start.
#[derive(Debug)]
enum Starts {
    /// Anywhere: the regex has no literal prefixes.
    Anywhere,
    /// Only at these byte offsets, ascending: where its literal prefixes occur.
    At(Vec<usize>),
}

/// A compiled, immutable rule set. Build it once, share it (`Arc`), swap it
/// whole to change the rules.
#[derive(Debug)]
pub struct RuleSet {
    name: String,
    version: String,
    rules: Vec<Rule>,
    matcher: Matcher,
    normalized_regexes: RegexPrefilter,
    original_regexes: RegexPrefilter,
    needs_links: bool,
}

/// Work done by one moderation, for tests that bound it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Work {
    /// Characters of the normalised text.
    pub normalized_chars: u64,
    /// Symbols in the streams the automaton searched.
    pub stream_symbols: u64,
    /// Words looked at while segmenting the text.
    pub words_examined: u64,
    /// Regex searches started (each reads at most the rest of the text).
    pub regex_searches: u64,
    /// Automaton matches and exception checks examined.
    pub matches_examined: u64,
}

impl RuleSet {
    /// Parses and validates a rule file. `origin` names it in errors.
    pub fn from_toml(source: &str, origin: &str) -> Result<RuleSet, RuleFileError> {
        rules::parse(source, origin)
    }

    /// The rule set built into the binary.
    pub fn builtin() -> RuleSet {
        RuleSet::from_toml(DEFAULT_RULES, "built-in rules")
            .expect("the built-in rule file is validated by the test suite")
    }

    fn assemble(name: String, version: String, rules: Vec<Rule>, matcher: Matcher) -> RuleSet {
        let normalized_regexes = RegexPrefilter::new(&rules, RegexTarget::Normalized);
        let original_regexes = RegexPrefilter::new(&rules, RegexTarget::Original);
        let needs_links = rules
            .iter()
            .any(|r| matches!(r.condition, Condition::Links(_)));
        RuleSet {
            name,
            version,
            rules,
            matcher,
            normalized_regexes,
            original_regexes,
            needs_links,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// A digest of the rule file, recorded in every verdict.
    pub fn version(&self) -> &str {
        &self.version
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Patterns in the term automata, transliterations and masked variants
    /// included.
    pub fn pattern_count(&self) -> usize {
        self.matcher.pattern_count()
    }

    /// How many of an author's most recent comment times the per-author
    /// rules need in [`Context::author_recent_micros`]; 0 if none.
    pub fn author_history_needed(&self) -> usize {
        self.rules
            .iter()
            .filter_map(|r| match &r.condition {
                Condition::AuthorRate(limit) => Some(limit.max),
                _ => None,
            })
            .max()
            .unwrap_or(0)
    }

    /// The longest window any per-author rule looks back over, in seconds.
    pub fn author_window_seconds(&self) -> u64 {
        self.rules
            .iter()
            .filter_map(|r| match &r.condition {
                Condition::AuthorRate(limit) => Some(limit.window_seconds),
                _ => None,
            })
            .max()
            .unwrap_or(0)
    }

    /// Moderates `body`.
    pub fn moderate(&self, body: &str, context: &Context) -> Verdict {
        self.moderate_counting(body, context).0
    }

    /// Moderates `body` and reports the work done.
    pub fn moderate_counting(&self, body: &str, context: &Context) -> (Verdict, Work) {
        // The text views are rebuilt in buffers kept per thread, so that a
        // busy server does not allocate them anew for every comment.
        thread_local! {
            static SCRATCH: std::cell::RefCell<(NormText, Streams)> = Default::default();
        }
        SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
            Ok(mut scratch) => {
                let (norm, streams) = &mut *scratch;
                norm.fill(body);
                streams.fill(norm);
                self.moderate_views(body, norm, streams, context)
            }
            // Only reachable by re-entering moderation from within it.
            Err(_) => {
                let norm = NormText::new(body);
                let streams = Streams::build(&norm);
                self.moderate_views(body, &norm, &streams, context)
            }
        })
    }

    fn moderate_views(
        &self,
        body: &str,
        norm: &NormText,
        streams: &Streams,
        context: &Context,
    ) -> (Verdict, Work) {
        let mut work = Work {
            normalized_chars: norm.chars.len() as u64,
            stream_symbols: streams.all().map(|s| s.hay.len() as u64).sum(),
            words_examined: streams.gluing_steps,
            regex_searches: 0,
            matches_examined: 0,
        };

        let mut findings: Vec<Option<Finding>> = (0..self.rules.len()).map(|_| None).collect();
        self.find_terms(norm, streams, &mut work.matches_examined, &mut findings);
        self.find_regexes(body, norm, &mut work.regex_searches, &mut findings);

        let links = if self.needs_links {
            find_links(body, norm)
        } else {
            Vec::new()
        };
        for (i, rule) in self.rules.iter().enumerate() {
            let finding = match &rule.condition {
                Condition::Terms { .. } | Condition::Regex { .. } => continue,
                Condition::Links(limits) => limits.check(&links),
                Condition::Capitals(limit) => limit.check(norm),
                Condition::RepeatedChars(limit) => limit.check(norm),
                Condition::RepeatedWords(limit) => limit.check(norm),
                Condition::Emoji(limit) => limit.check(body),
                Condition::Contact(detection) => detection.check(norm),
                Condition::Length(limits) => limits.check(body),
                Condition::AuthorRate(limit) => {
                    limit.check(context.now_micros, &context.author_recent_micros)
                }
            };
            findings[i] = finding;
        }

        let matches: Vec<RuleMatch> = self
            .rules
            .iter()
            .zip(findings)
            .filter_map(|(rule, finding)| {
                let finding = finding?;
                Some(RuleMatch {
                    rule_id: rule.id.clone(),
                    category: rule.category.clone(),
                    action: rule.action,
                    reason: finding.reason,
                    spans: finding
                        .spans
                        .into_iter()
                        .take(terms::MAX_SPANS_PER_RULE)
                        .map(|(start, end)| Span { start, end })
                        .collect(),
                })
            })
            .collect();
        let action = matches
            .iter()
            .map(|m| m.action)
            .max()
            .unwrap_or(Action::Approve);
        let verdict = Verdict {
            action,
            rule_set_version: self.version.clone(),
            matches,
        };
        (verdict, work)
    }

    fn find_terms(
        &self,
        norm: &NormText,
        streams: &Streams,
        work: &mut u64,
        findings: &mut [Option<Finding>],
    ) {
        let hits = self.matcher.find(norm, streams, work);
        for group in hits.chunk_by(|a, b| a.rule == b.rule) {
            let rule_index = group[0].rule as usize;
            let Some(Rule {
                condition: Condition::Terms { displays },
                ..
            }) = self.rules.get(rule_index)
            else {
                continue;
            };
            let terms: BTreeSet<&str> = group
                .iter()
                .filter_map(|h| displays.get(h.term as usize).map(String::as_str))
                .collect();
            let quoted: Vec<String> = terms.iter().take(5).map(|t| format!("\"{t}\"")).collect();
            let more = terms.len().saturating_sub(quoted.len());
            let mut reason = format!(
                "matched term{} {}",
                if terms.len() > 1 { "s" } else { "" },
                quoted.join(", ")
            );
            if more > 0 {
                reason.push_str(&format!(" and {more} more"));
            }
            let mut spans: Vec<(u32, u32)> = group.iter().map(|h| (h.start, h.end)).collect();
            spans.sort_unstable();
            spans.dedup();
            findings[rule_index] = Some(Finding { reason, spans });
        }
    }

    /// Runs the regex rules that may match: those whose literal prefixes
    /// occur (see [`RegexPrefilter`]). Each regex is then searched on its
    /// own; a multi-pattern regex set would fall back to a slow engine on
    /// non-ASCII text.
    fn find_regexes(
        &self,
        body: &str,
        norm: &NormText,
        searches: &mut u64,
        findings: &mut [Option<Finding>],
    ) {
        let candidates = self
            .normalized_regexes
            .candidates(&norm.text)
            .into_iter()
            .chain(self.original_regexes.candidates(body));
        for (rule_index, starts) in candidates {
            let Condition::Regex {
                regex,
                anchored,
                target,
                exceptions,
            } = &self.rules[rule_index].condition
            else {
                continue;
            };
            let text = match target {
                RegexTarget::Normalized => norm.text.as_str(),
                RegexTarget::Original => body,
            };
            let found: Vec<std::ops::Range<usize>> = match starts {
                Starts::At(positions) if positions.len() <= MAX_ANCHORED_STARTS => {
                    // Anchored searches at each start, skipping starts inside
                    // a match already found, as `find_iter` would.
                    let mut found = Vec::new();
                    let mut free_from = 0;
                    for position in positions.into_iter().filter(|&p| text.is_char_boundary(p)) {
                        if position < free_from {
                            continue;
                        }
                        *searches += 1;
                        let input = regex_automata::Input::new(text)
                            .range(position..)
                            .anchored(regex_automata::Anchored::Yes);
                        if let Some(m) = anchored.search(&input).filter(|m| !m.is_empty()) {
                            free_from = m.end();
                            found.push(m.range());
                        }
                    }
                    found
                }
                // An anchored search may read to the end of the text: past a
                // few starts, one unanchored search keeps the work linear.
                Starts::At(_) | Starts::Anywhere => {
                    *searches += 1;
                    regex
                        .find_iter(text)
                        .filter(|m| !m.is_empty())
                        .map(|m| m.range())
                        .collect()
                }
            };
            if found.is_empty() {
                continue;
            }
            let matches = found.into_iter();
            let excepted: Vec<(usize, usize)> = exceptions
                .iter()
                .flat_map(|e| e.find_iter(text).map(|m| (m.start(), m.end())))
                .collect();
            let spans: Vec<(u32, u32)> = matches
                .filter(|m| !excepted.iter().any(|&(s, e)| s <= m.start && m.end <= e))
                .take(terms::MAX_SPANS_PER_RULE)
                .filter_map(|m| match target {
                    RegexTarget::Normalized => norm.original_span(m),
                    RegexTarget::Original => Some((m.start as u32, m.end as u32)),
                })
                .collect();
            if !spans.is_empty() {
                findings[rule_index] = Some(Finding {
                    reason: format!("matched pattern /{}/", regex.as_str()),
                    spans,
                });
            }
        }
    }
}

/// A shared, swappable handle to the current rule set.
pub type SharedRuleSet = Arc<RuleSet>;

/// The normalised form of `text` that regular expressions read: compatibility
/// decomposition, no combining marks or invisible characters, lower case.
pub fn normalize(text: &str) -> String {
    NormText::new(text).text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A regex runs only on the comments that contain one of the literals
    /// its matches start with. A regex without one, or with one that is a
    /// single letter (`\bt\s*\.`), runs on nearly every comment: one such
    /// rule made the built-in rules several times slower.
    #[test]
    fn every_built_in_regex_starts_with_a_literal_rarer_than_a_letter() {
        let rules = RuleSet::builtin();
        for rule in &rules.rules {
            let Condition::Regex { regex, .. } = &rule.condition else {
                continue;
            };
            let prefixes = literal_prefixes(regex.as_str());
            let common = |lit: &Vec<u8>| match lit.as_slice() {
                [byte] => byte.is_ascii_alphanumeric() || byte.is_ascii_whitespace(),
                _ => false,
            };
            assert!(
                prefixes
                    .as_ref()
                    .is_some_and(|lits| !lits.iter().any(common)),
                "{}: literal prefixes {prefixes:?}",
                rule.id
            );
        }
    }
}
