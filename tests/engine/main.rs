//! The moderation engine's behaviour, without a server: the labelled
//! corpora, explanations, the rule language, and bounds on work.

mod corpus;
mod pathological;
mod properties;
mod reading;
mod rule_files;
mod spans;
