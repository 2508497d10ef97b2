//! Evaluates a rule set against a labelled corpus (JSON Lines): recall per
//! category on abusive and spam comments, false positives on innocent ones,
//! and every miss.
//!
//! Each line: `{"id", "label": "abusive"|"spam"|"innocent", "category",
//! "lang", "text", "expect_span"?, "trap"?}`; an innocent comment is a trap
//! when `trap` is true or its category is `trap`. An abusive or spam comment is
//! caught when the verdict is not approve; an innocent one is a false
//! positive when it is. `expect_span`, when given, must lie inside a span of
//! the verdict.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

use crate::moderation::{Action, Context, RuleSet, Verdict};

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Label {
    Abusive,
    Spam,
    Innocent,
}

/// One labelled comment.
#[derive(Debug, Clone, Deserialize)]
pub struct Sample {
    pub id: String,
    pub label: Label,
    pub category: String,
    #[serde(default)]
    pub lang: String,
    pub text: String,
    #[serde(default)]
    pub expect_span: Option<String>,
    #[serde(default)]
    pub trap: bool,
}

impl Sample {
    /// An innocent comment written to look like an offending one.
    pub fn is_trap(&self) -> bool {
        self.label == Label::Innocent && (self.trap || self.category == "trap")
    }
}

/// A line of the corpus that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct CorpusError {
    pub line: usize,
    pub message: String,
}

pub fn parse_corpus(source: &str) -> Result<Vec<Sample>, CorpusError> {
    source
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| CorpusError {
                line: i + 1,
                message: e.to_string(),
            })
        })
        .collect()
}

/// Why a sample counts against the rule set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MissKind {
    /// Abusive or spam, but approved.
    NotCaught,
    /// Innocent, but held or rejected.
    FalsePositive,
    /// Caught, but no span covers `expect_span`.
    SpanMissing,
}

#[derive(Debug, Clone)]
pub struct Miss {
    pub sample: Sample,
    pub kind: MissKind,
    pub verdict: Verdict,
}

/// Caught (or passed) out of total, per category.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub good: usize,
    pub total: usize,
}

impl Tally {
    pub fn rate(&self) -> f64 {
        if self.total == 0 {
            1.0
        } else {
            self.good as f64 / self.total as f64
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Recall of abusive comments per category.
    pub abusive: BTreeMap<String, Tally>,
    /// Recall of spam per category.
    pub spam: BTreeMap<String, Tally>,
    /// Innocent comments approved, per category.
    pub innocent: BTreeMap<String, Tally>,
    /// Innocent comments flagged `trap` that were approved.
    pub traps: Tally,
    /// Abusive comments with `expect_span` whose span was reported.
    pub spans: Tally,
    pub misses: Vec<Miss>,
}

impl Report {
    pub fn false_positive_rate(&self) -> f64 {
        let (bad, total) = self.innocent.values().fold((0, 0), |(b, t), tally| {
            (b + tally.total - tally.good, t + tally.total)
        });
        if total == 0 {
            0.0
        } else {
            bad as f64 / total as f64
        }
    }

    pub fn trap_false_positives(&self) -> usize {
        self.traps.total - self.traps.good
    }
}

pub fn evaluate(rules: &RuleSet, samples: &[Sample]) -> Report {
    let mut report = Report::default();
    let context = Context::default();
    for sample in samples {
        let verdict = rules.moderate(&sample.text, &context);
        let flagged = verdict.action != Action::Approve;
        let table = match sample.label {
            Label::Abusive => &mut report.abusive,
            Label::Spam => &mut report.spam,
            Label::Innocent => &mut report.innocent,
        };
        let tally = table.entry(sample.category.clone()).or_default();
        tally.total += 1;
        let good = match sample.label {
            Label::Innocent => !flagged,
            Label::Abusive | Label::Spam => flagged,
        };
        tally.good += usize::from(good);
        if sample.is_trap() {
            report.traps.total += 1;
            report.traps.good += usize::from(good);
        }
        if !good {
            let kind = if flagged {
                MissKind::FalsePositive
            } else {
                MissKind::NotCaught
            };
            report.misses.push(Miss {
                sample: sample.clone(),
                kind,
                verdict: verdict.clone(),
            });
            continue;
        }
        if let (Label::Abusive, Some(expected)) = (&sample.label, &sample.expect_span) {
            report.spans.total += 1;
            if span_reported(&sample.text, expected, &verdict) {
                report.spans.good += 1;
            } else {
                report.misses.push(Miss {
                    sample: sample.clone(),
                    kind: MissKind::SpanMissing,
                    verdict,
                });
            }
        }
    }
    report
}

/// Whether the verdict highlights an occurrence of `expected`: a span
/// covers it, or, for a phrase, spans overlap it.
fn span_reported(text: &str, expected: &str, verdict: &Verdict) -> bool {
    let phrase = expected.trim().contains(char::is_whitespace);
    text.match_indices(expected).any(|(at, m)| {
        let (start, end) = (at as u32, (at + m.len()) as u32);
        verdict.matches.iter().flat_map(|rm| &rm.spans).any(|s| {
            let covers = s.start <= start && end <= s.end;
            let overlaps = s.start < end && start < s.end;
            covers || (phrase && overlaps)
        })
    })
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let section = |f: &mut fmt::Formatter<'_>, title: &str, table: &BTreeMap<String, Tally>| {
            writeln!(f, "{title}")?;
            for (category, tally) in table {
                writeln!(
                    f,
                    "  {category:<16} {:>4}/{:<4} {:>6.1}%",
                    tally.good,
                    tally.total,
                    tally.rate() * 100.0
                )?;
            }
            Ok(())
        };
        section(
            f,
            "recall on abusive comments (held or rejected):",
            &self.abusive,
        )?;
        section(f, "recall on spam (held or rejected):", &self.spam)?;
        section(f, "innocent comments approved:", &self.innocent)?;
        writeln!(
            f,
            "false-positive rate on innocent comments: {:.2}%",
            self.false_positive_rate() * 100.0
        )?;
        writeln!(
            f,
            "false positives on traps: {} of {}",
            self.trap_false_positives(),
            self.traps.total
        )?;
        writeln!(
            f,
            "expected spans reported: {}/{}",
            self.spans.good, self.spans.total
        )?;
        if self.misses.is_empty() {
            return writeln!(f, "no misses");
        }
        writeln!(f, "misses ({}):", self.misses.len())?;
        for miss in &self.misses {
            let kind = match miss.kind {
                MissKind::NotCaught => "not caught",
                MissKind::FalsePositive => "false positive",
                MissKind::SpanMissing => "span missing",
            };
            let rules: Vec<String> = miss
                .verdict
                .matches
                .iter()
                .map(|m| {
                    let spans: Vec<String> = m
                        .spans
                        .iter()
                        .map(|s| {
                            miss.sample
                                .text
                                .get(s.start as usize..s.end as usize)
                                .unwrap_or("?")
                                .to_string()
                        })
                        .collect();
                    format!("{} {:?}", m.rule_id, spans)
                })
                .collect();
            writeln!(
                f,
                "  [{kind}] {} ({}): {:?}{}",
                miss.sample.id,
                miss.sample.category,
                miss.sample.text,
                if rules.is_empty() {
                    String::new()
                } else {
                    format!(" -> {}", rules.join("; "))
                }
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_innocent_comment_is_a_trap_by_its_flag_or_by_its_category() {
        let corpus = [
            r#"{"id": "a", "label": "innocent", "category": "trap", "text": "Scunthorpe won at home."}"#,
            r#"{"id": "b", "label": "innocent", "category": "news", "trap": true, "text": "A classic assassin film."}"#,
            r#"{"id": "c", "label": "innocent", "category": "news", "text": "The talks resume on Monday."}"#,
        ]
        .join("\n");
        let samples = parse_corpus(&corpus).unwrap();
        let report = evaluate(&RuleSet::builtin(), &samples);
        assert_eq!(report.traps.total, 2, "{report}");
        assert_eq!(report.trap_false_positives(), 0, "{report}");
    }
}
