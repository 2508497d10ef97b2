//! The engine on arbitrary text: never panics, is deterministic, reports
//! spans on character boundaries of the body; normalising is idempotent.
#![no_main]

use std::sync::LazyLock;

use commentd::moderation::{Context, RuleSet, normalize};
use libfuzzer_sys::fuzz_target;

static RULES: LazyLock<RuleSet> = LazyLock::new(RuleSet::builtin);

fuzz_target!(|data: &[u8]| {
    let Ok(body) = std::str::from_utf8(data) else {
        return;
    };
    let context = Context::default();
    let verdict = RULES.moderate(body, &context);
    assert_eq!(verdict, RULES.moderate(body, &context), "not deterministic");
    for span in verdict.matches.iter().flat_map(|m| &m.spans) {
        let (start, end) = (span.start as usize, span.end as usize);
        assert!(start < end && end <= body.len(), "span {span:?} outside the body");
        assert!(body.is_char_boundary(start) && body.is_char_boundary(end), "span {span:?} splits a character");
    }
    let once = normalize(body);
    assert_eq!(normalize(&once), once, "normalising is not idempotent");
});
