//! The rule file: TOML in, a validated [`RuleSet`] out, or every problem
//! found with the file, line and rule it is in.
//!
//! ```toml
//! name = "example"
//!
//! [sets]
//! ru_prefixes = ["", "на", "по", "за"]
//!
//! exceptions = ["scunthorpe"]          # allow-list for every term rule
//!
//! [[rule]]
//! id = "profanity-en"
//! description = "English profanity"
//! category = "profanity"
//! action = "reject"                    # approve | review | reject
//! terms = ["*fuck*", "shit*", "ass"]
//! exceptions = ["shi{,i}take*"]
//!
//! [[rule]]
//! id = "too-many-links"
//! category = "links"
//! action = "review"
//! links = { max = 2, block_domains = ["bit.ly"] }   # or disguised = true
//! ```
//!
//! Each rule has exactly one condition: `terms`, `regex`, `links`,
//! `capitals`, `repeated_chars`, `repeated_words`, `emoji`, `contact`,
//! `length` or `author_rate`.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;
use std::ops::Range;

use regex::{Regex, RegexBuilder};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use toml::Spanned;

use super::heuristics::{
    AuthorRateLimit, CapitalsLimit, ContactDetection, EmojiLimit, LengthLimits, LinkLimits,
    RepeatedCharsLimit, RepeatedWordsLimit,
};
use super::terms::{MatcherBuilder, Owner, Term};
use super::{Action, Condition, RegexTarget, Rule, RuleSet};

/// Largest compiled size of one regular expression.
pub const REGEX_SIZE_LIMIT: usize = 1 << 20;
/// Most rules a file may hold.
pub const MAX_RULES: usize = 10_000;

/// One problem with a rule file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleProblem {
    pub line: Option<usize>,
    pub rule_id: Option<String>,
    pub message: String,
}

/// Everything wrong with a rule file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct RuleFileError {
    pub origin: String,
    pub problems: Vec<RuleProblem>,
}

impl fmt::Display for RuleFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{}", self.origin)?;
            if let Some(line) = p.line {
                write!(f, ":{line}")?;
            }
            write!(f, ": ")?;
            if let Some(id) = &p.rule_id {
                write!(f, "rule \"{id}\": ")?;
            }
            write!(f, "{}", p.message)?;
        }
        Ok(())
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    name: Option<String>,
    #[serde(default)]
    sets: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    exceptions: Vec<Spanned<String>>,
    #[serde(default, rename = "rule")]
    rules: Vec<Spanned<RawRule>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: Spanned<String>,
    #[serde(default)]
    description: String,
    category: Spanned<String>,
    action: Spanned<RawAction>,
    terms: Option<Vec<Spanned<String>>>,
    exceptions: Option<Vec<Spanned<String>>>,
    transliterate: Option<bool>,
    regex: Option<Spanned<String>>,
    target: Option<RawTarget>,
    links: Option<RawLinks>,
    capitals: Option<RawCapitals>,
    repeated_chars: Option<RawRepeatedChars>,
    repeated_words: Option<RawRepeatedWords>,
    emoji: Option<RawEmoji>,
    contact: Option<RawContact>,
    length: Option<RawLength>,
    author_rate: Option<RawAuthorRate>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum RawAction {
    Approve,
    Review,
    Reject,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum RawTarget {
    Normalized,
    Original,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLinks {
    max: Option<usize>,
    #[serde(default)]
    allow_domains: Vec<String>,
    #[serde(default)]
    block_domains: Vec<String>,
    #[serde(default)]
    disguised: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCapitals {
    max_share: f64,
    #[serde(default = "default_min_letters")]
    min_letters: usize,
}

fn default_min_letters() -> usize {
    20
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRepeatedChars {
    max_run: usize,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRepeatedWords {
    max_repeats: usize,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEmoji {
    max_count: usize,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawContact {
    #[serde(default = "yes")]
    emails: bool,
    #[serde(default = "yes")]
    phones: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLength {
    min: Option<usize>,
    max: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAuthorRate {
    max: usize,
    window_seconds: u64,
}

/// Turns byte offsets of the source into line numbers.
struct Lines<'a>(&'a str);

impl Lines<'_> {
    fn of(&self, span: Range<usize>) -> usize {
        let at = span.start.min(self.0.len());
        self.0.as_bytes()[..at]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }
}

struct Problems<'a> {
    lines: Lines<'a>,
    list: Vec<RuleProblem>,
}

impl Problems<'_> {
    fn add(
        &mut self,
        span: Option<Range<usize>>,
        rule_id: Option<&str>,
        message: impl Into<String>,
    ) {
        self.list.push(RuleProblem {
            line: span.map(|s| self.lines.of(s)),
            rule_id: rule_id.map(str::to_owned),
            message: message.into(),
        });
    }
}

fn is_rule_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// A short, stable digest of the rule file, recorded in every verdict.
pub fn version_of(source: &str) -> String {
    let digest = Sha256::digest(source.as_bytes());
    let hex: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

pub(super) fn parse(source: &str, origin: &str) -> Result<RuleSet, RuleFileError> {
    let fail = |problems| RuleFileError {
        origin: origin.to_owned(),
        problems,
    };
    let raw: RawFile = toml::from_str(source).map_err(|err| {
        fail(vec![RuleProblem {
            line: err.span().map(|s| Lines(source).of(s)),
            rule_id: None,
            message: err.message().trim().to_owned(),
        }])
    })?;
    let mut problems = Problems {
        lines: Lines(source),
        list: Vec::new(),
    };
    if raw.rules.len() > MAX_RULES {
        problems.add(None, None, format!("more than {MAX_RULES} rules"));
        return Err(fail(problems.list));
    }
    // An empty file is what an interrupted write leaves; loading it would
    // approve everything.
    if raw.rules.is_empty() {
        problems.add(
            None,
            None,
            String::from("no [[rule]]: a rule set without rules would approve every comment"),
        );
        return Err(fail(problems.list));
    }

    let mut matcher = MatcherBuilder::default();
    for exception in &raw.exceptions {
        match Term::parse(exception.get_ref(), &raw.sets) {
            Ok(term) => {
                if let Err(err) = matcher.add(&term, Owner::Exception { rule: None }, false) {
                    problems.add(
                        Some(exception.span()),
                        None,
                        format!("exception \"{}\" {err}", exception.get_ref()),
                    );
                }
            }
            Err(err) => problems.add(
                Some(exception.span()),
                None,
                format!("exception \"{}\" {err}", exception.get_ref()),
            ),
        }
    }

    let mut rules = Vec::with_capacity(raw.rules.len());
    let mut ids = HashSet::new();
    for spanned in raw.rules {
        let rule_span = spanned.span();
        let raw_rule = spanned.into_inner();
        let id = raw_rule.id.get_ref().trim().to_owned();
        let index = rules.len() as u32;
        if !is_rule_id(&id) {
            problems.add(
                Some(raw_rule.id.span()),
                Some(&id),
                "the id must be 1 to 64 ASCII letters, digits, '-', '_' or '.'",
            );
        } else if !ids.insert(id.clone()) {
            problems.add(
                Some(raw_rule.id.span()),
                Some(&id),
                "the id is used by another rule",
            );
        }
        let category = raw_rule.category.get_ref().trim().to_owned();
        if category.is_empty() {
            problems.add(
                Some(raw_rule.category.span()),
                Some(&id),
                "the category must not be empty",
            );
        }
        let description = raw_rule.description.trim().to_owned();
        let action = match *raw_rule.action.get_ref() {
            RawAction::Approve => Action::Approve,
            RawAction::Review => Action::Review,
            RawAction::Reject => Action::Reject,
        };
        let condition = build_condition(
            raw_rule,
            &id,
            index,
            rule_span,
            &raw.sets,
            &mut matcher,
            &mut problems,
        );
        if let Some(condition) = condition {
            rules.push(Rule {
                id,
                description,
                category,
                action,
                condition,
            });
        }
    }
    if !problems.list.is_empty() {
        return Err(fail(problems.list));
    }
    Ok(RuleSet::assemble(
        raw.name.unwrap_or_else(|| origin.to_owned()),
        version_of(source),
        rules,
        matcher.build(),
    ))
}

fn build_condition(
    raw: RawRule,
    id: &str,
    index: u32,
    rule_span: Range<usize>,
    sets: &BTreeMap<String, Vec<String>>,
    matcher: &mut MatcherBuilder,
    problems: &mut Problems<'_>,
) -> Option<Condition> {
    let RawRule {
        id: _,
        description: _,
        category: _,
        action: _,
        terms,
        exceptions,
        transliterate,
        regex,
        target,
        links,
        capitals,
        repeated_chars,
        repeated_words,
        emoji,
        contact,
        length,
        author_rate,
    } = raw;
    let given: Vec<&str> = [
        ("terms", terms.is_some()),
        ("regex", regex.is_some()),
        ("links", links.is_some()),
        ("capitals", capitals.is_some()),
        ("repeated_chars", repeated_chars.is_some()),
        ("repeated_words", repeated_words.is_some()),
        ("emoji", emoji.is_some()),
        ("contact", contact.is_some()),
        ("length", length.is_some()),
        ("author_rate", author_rate.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, present)| present.then_some(name))
    .collect();
    let span = Some(rule_span.clone());
    match given.as_slice() {
        [] => {
            problems.add(span, Some(id), "has no condition: give one of terms, regex, links, capitals, repeated_chars, repeated_words, emoji, contact, length, author_rate");
            return None;
        }
        [_] => {}
        several => {
            problems.add(
                span,
                Some(id),
                format!(
                    "has several conditions ({}); give one per rule",
                    several.join(", ")
                ),
            );
            return None;
        }
    }
    if transliterate.is_some() && terms.is_none() {
        problems.add(
            span.clone(),
            Some(id),
            "'transliterate' applies only to term rules",
        );
    }
    if target.is_some() && regex.is_none() {
        problems.add(
            span.clone(),
            Some(id),
            "'target' applies only to regex rules",
        );
    }
    if exceptions.is_some() && terms.is_none() && regex.is_none() {
        problems.add(
            span.clone(),
            Some(id),
            "'exceptions' apply only to term and regex rules",
        );
    }

    if let Some(terms) = terms {
        if terms.is_empty() {
            problems.add(span, Some(id), "'terms' is empty");
            return None;
        }
        let mut displays = Vec::with_capacity(terms.len());
        for (k, raw_term) in terms.iter().enumerate() {
            let owner = Owner::Term {
                rule: index,
                term: k as u32,
            };
            let result = Term::parse(raw_term.get_ref(), sets).and_then(|term| {
                matcher
                    .add(&term, owner, transliterate.unwrap_or(true))
                    .map(|()| term)
            });
            match result {
                Ok(term) => displays.push(term.display),
                Err(err) => {
                    problems.add(
                        Some(raw_term.span()),
                        Some(id),
                        format!("term \"{}\" {err}", raw_term.get_ref()),
                    );
                    displays.push(raw_term.get_ref().clone());
                }
            }
        }
        for raw_exception in exceptions.iter().flatten() {
            let owner = Owner::Exception { rule: Some(index) };
            let result = Term::parse(raw_exception.get_ref(), sets)
                .and_then(|t| matcher.add(&t, owner, false));
            if let Err(err) = result {
                problems.add(
                    Some(raw_exception.span()),
                    Some(id),
                    format!("exception \"{}\" {err}", raw_exception.get_ref()),
                );
            }
        }
        return Some(Condition::Terms { displays });
    }

    if let Some(pattern) = regex {
        let compiled = compile_regex(pattern.get_ref())
            .map_err(|err| problems.add(Some(pattern.span()), Some(id), format!("regex {err}")))
            .ok()?;
        let mut exception_regexes = Vec::new();
        for raw_exception in exceptions.iter().flatten() {
            match compile_regex(raw_exception.get_ref()) {
                Ok(r) => exception_regexes.push(r),
                Err(err) => problems.add(
                    Some(raw_exception.span()),
                    Some(id),
                    format!("exception regex {err}"),
                ),
            }
        }
        let target = match target.unwrap_or(RawTarget::Normalized) {
            RawTarget::Normalized => RegexTarget::Normalized,
            RawTarget::Original => RegexTarget::Original,
        };
        let anchored = compile_anchored(pattern.get_ref())
            .map_err(|err| problems.add(Some(pattern.span()), Some(id), format!("regex {err}")))
            .ok()?;
        return Some(Condition::Regex {
            regex: compiled,
            anchored,
            target,
            exceptions: exception_regexes,
        });
    }

    let mut invalid = |message: String| {
        problems.add(span.clone(), Some(id), message);
        None
    };
    if let Some(links) = links {
        let normalise = |domains: Vec<String>| -> BTreeSet<String> {
            domains
                .into_iter()
                .map(|d| d.trim().trim_start_matches("www.").to_lowercase())
                .filter(|d| !d.is_empty())
                .collect()
        };
        if links.max.is_none() && links.block_domains.is_empty() && !links.disguised {
            return invalid("'links' needs 'max', 'block_domains' or 'disguised = true'".into());
        }
        return Some(Condition::Links(LinkLimits {
            max: links.max,
            allow_domains: normalise(links.allow_domains),
            block_domains: normalise(links.block_domains),
            block_disguised: links.disguised,
        }));
    }
    if let Some(capitals) = capitals {
        if !(0.0..1.0).contains(&capitals.max_share) {
            return invalid(format!(
                "'capitals.max_share' must be at least 0 and below 1, got {}",
                capitals.max_share
            ));
        }
        return Some(Condition::Capitals(CapitalsLimit {
            max_share: capitals.max_share,
            min_letters: capitals.min_letters,
        }));
    }
    if let Some(repeated) = repeated_chars {
        if repeated.max_run < 2 {
            return invalid("'repeated_chars.max_run' must be at least 2".into());
        }
        return Some(Condition::RepeatedChars(RepeatedCharsLimit {
            max_run: repeated.max_run,
        }));
    }
    if let Some(repeated) = repeated_words {
        if repeated.max_repeats < 1 {
            return invalid("'repeated_words.max_repeats' must be at least 1".into());
        }
        return Some(Condition::RepeatedWords(RepeatedWordsLimit {
            max_repeats: repeated.max_repeats,
        }));
    }
    if let Some(emoji) = emoji {
        return Some(Condition::Emoji(EmojiLimit {
            max_count: emoji.max_count,
        }));
    }
    if let Some(contact) = contact {
        if !contact.emails && !contact.phones {
            return invalid("'contact' must detect e-mails, phones or both".into());
        }
        return Some(Condition::Contact(ContactDetection {
            emails: contact.emails,
            phones: contact.phones,
        }));
    }
    if let Some(length) = length {
        match (length.min, length.max) {
            (None, None) => return invalid("'length' needs 'min' or 'max'".into()),
            (Some(min), Some(max)) if min > max => {
                return invalid(format!(
                    "'length.min' ({min}) is above 'length.max' ({max})"
                ));
            }
            _ => {}
        }
        return Some(Condition::Length(LengthLimits {
            min: length.min,
            max: length.max,
        }));
    }
    if let Some(rate) = author_rate {
        if rate.max == 0 || rate.window_seconds == 0 {
            return invalid(
                "'author_rate.max' and 'author_rate.window_seconds' must be positive".into(),
            );
        }
        return Some(Condition::AuthorRate(AuthorRateLimit {
            max: rate.max,
            window_seconds: rate.window_seconds,
        }));
    }
    None
}

/// The engine for anchored searches of a rule's regex, with the same limits.
fn compile_anchored(pattern: &str) -> Result<regex_automata::meta::Regex, String> {
    let config = regex_automata::meta::Config::new()
        .nfa_size_limit(Some(REGEX_SIZE_LIMIT))
        .hybrid_cache_capacity(2 * REGEX_SIZE_LIMIT);
    regex_automata::meta::Regex::builder()
        .configure(config)
        .build(pattern)
        .map_err(|err| format!("\"{pattern}\" is invalid: {err}"))
}

/// Compiles a rule's regular expression with commentd's limits. The regex
/// crate guarantees matching in time linear in the text.
pub fn compile_regex(pattern: &str) -> Result<Regex, String> {
    RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(2 * REGEX_SIZE_LIMIT)
        .build()
        .map_err(|err| match err {
            regex::Error::CompiledTooBig(limit) => {
                format!("\"{pattern}\" compiles to more than the {limit} bytes allowed")
            }
            other => format!("\"{pattern}\" is invalid: {other}"),
        })
}
