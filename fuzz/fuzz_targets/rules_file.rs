//! The rule-file parser on arbitrary text: never panics; a file it accepts
//! yields a rule set that moderates without panicking.
#![no_main]

use commentd::moderation::{Context, RuleSet};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(rules) = RuleSet::from_toml(source, "fuzz.toml") {
        let _ = rules.moderate("a probe: f.u.c.k, xyй, https://bit.ly/x", &Context::default());
    }
});
