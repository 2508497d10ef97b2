//! Every rule that fires says where, in bytes of the original body, so a
//! moderator screen can highlight exactly what the commenter wrote.

use commentd::moderation::{Action, Context, RuleSet, Verdict};

fn verdict(body: &str) -> Verdict {
    RuleSet::builtin().moderate(body, &Context::default())
}

/// The highlighted texts of every rule that fired.
fn highlighted(body: &str) -> Vec<String> {
    let verdict = verdict(body);
    let mut texts: Vec<String> = verdict
        .matches
        .iter()
        .flat_map(|m| &m.spans)
        .map(|s| body[s.start as usize..s.end as usize].to_owned())
        .collect();
    texts.sort();
    texts
}

#[test]
fn spans_cover_the_obfuscated_original() {
    let cases = [
        ("what the f.u.c.k", "f.u.c.k"),
        ("ѕhit happens", "ѕhit"),
        ("fu\u{200B}ck off", "fu\u{200B}ck"),
        ("ｆｕｃｋ this", "ｆｕｃｋ"),
        ("𝐟𝐮𝐜𝐤 this", "𝐟𝐮𝐜𝐤"),
        ("f*ck this", "f*ck"),
        ("fuuuuck this", "fuuuuck"),
        ("shït happens", "shït"),
        (
            "f\u{0336}u\u{0336}c\u{0336}k\u{0336} this",
            "f\u{0336}u\u{0336}c\u{0336}k\u{0336}",
        ),
        ("ну xyй с ним", "xyй"),
        ("идите нахуй", "нахуй"),
        ("s-h-i-t-t-y deal", "s-h-i-t-t-y"),
        ("f u c k you", "f u c k"),
        ("idi nahuy, drug", "nahuy"),
        ("what the f|_|ck", "f|_|ck"),
        ("what the f|\u{200B}_|ck", "f|\u{200B}_|ck"),
        ("what the f｜＿｜ck", "f｜＿｜ck"),
    ];
    for (body, expected) in cases {
        assert_eq!(verdict(body).action, Action::Reject, "{body}");
        assert!(
            highlighted(body).iter().any(|h| h == expected),
            "{body}: {:?} should include {expected:?}",
            highlighted(body)
        );
    }
}

#[test]
fn spans_lie_on_character_boundaries_of_the_body() {
    for body in [
        "Ёж ёлки-палки, ху3сос!",
        "👍 f.u.c.k 👍",
        "a\u{301}ss\u{200D}hole",
    ] {
        for m in verdict(body).matches {
            for s in m.spans {
                assert!(
                    body.is_char_boundary(s.start as usize)
                        && body.is_char_boundary(s.end as usize)
                );
                assert!(s.start < s.end && s.end as usize <= body.len());
            }
        }
    }
}

#[test]
fn each_rule_reports_its_id_category_action_and_reason() {
    let verdict = verdict("You idiot, f.u.c.k off and visit bit.ly/xyz");
    let ids: Vec<&str> = verdict.matches.iter().map(|m| m.rule_id.as_str()).collect();
    assert_eq!(ids, ["profanity-en", "insults-en", "link-shorteners"]);
    assert_eq!(verdict.action, Action::Reject);
    for m in &verdict.matches {
        assert!(!m.category.is_empty() && !m.reason.is_empty(), "{m:?}");
    }
    assert!(verdict.rule_set_version.starts_with("sha256:"));
}

#[test]
fn the_most_severe_action_decides() {
    assert_eq!(verdict("A fair point about visas.").action, Action::Approve);
    assert_eq!(verdict("You idiot.").action, Action::Review);
    assert_eq!(verdict("You idiot, fuck off.").action, Action::Reject);
}
