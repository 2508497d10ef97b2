//! The rule file is validated on load; every problem names the file, the
//! line, the rule and what is wrong.

use commentd::moderation::{Action, Context, RuleSet};

fn problems(source: &str) -> String {
    RuleSet::from_toml(source, "rules.toml")
        .expect_err("the file is refused")
        .to_string()
}

#[test]
fn the_built_in_rules_are_valid() {
    let rules = RuleSet::builtin();
    assert!(rules.rules().len() > 20);
    assert!(rules.version().starts_with("sha256:"));
}

#[test]
fn a_file_without_rules_is_refused_rather_than_approving_everything() {
    for source in [
        "",
        "name = \"truncated\"\n",
        "exceptions = [\"scunthorpe\"]\n",
    ] {
        assert!(problems(source).contains("no [[rule]]"), "{source:?}");
    }
}

#[test]
fn errors_name_the_file_line_rule_and_problem() {
    let source = r#"
[[rule]]
id = "ok"
category = "profanity"
action = "reject"
terms = ["fine"]

[[rule]]
id = "broken"
category = "profanity"
action = "reject"
terms = ["good", "f{oo"]
"#;
    assert_eq!(
        problems(source),
        "rules.toml:12: rule \"broken\": term \"f{oo\" has an unclosed '{'"
    );
}

#[test]
fn every_kind_of_mistake_is_reported() {
    let cases = [
        ("id = \"x\"", "unknown field"),
        (
            "[[rule]]\nid = \"a\"\ncategory = \"c\"\naction = \"ban\"\nterms = [\"x\"]",
            "unknown variant `ban`",
        ),
        (
            "[[rule]]\nid = \"a\"\ncategory = \"c\"\naction = \"reject\"",
            "has no condition",
        ),
        (
            "[[rule]]\nid = \"a\"\ncategory = \"c\"\naction = \"reject\"\nterms = [\"x\"]\nregex = \"y\"",
            "has several conditions",
        ),
        (
            "[[rule]]\nid = \"a\"\ncategory = \"c\"\naction = \"reject\"\nregex = \"(\"",
            "regex \"(\" is invalid",
        ),
        (
            "[[rule]]\nid = \"a\"\ncategory = \"c\"\naction = \"reject\"\nregex = \"a{1000}{1000}\"",
            "compiles to more than",
        ),
        (
            "[[rule]]\nid = \"a\"\ncategory = \"c\"\naction = \"reject\"\nterms = [\"x\"]\n[[rule]]\nid = \"a\"\ncategory = \"c\"\naction = \"reject\"\nterms = [\"y\"]",
            "used by another rule",
        ),
        (
            "[[rule]]\nid = \"a\"\ncategory = \"c\"\naction = \"reject\"\nterms = [\"中文\"]",
            "outside the Latin and Cyrillic alphabets",
        ),
        (
            "[[rule]]\nid = \"a\"\ncategory = \"c\"\naction = \"reject\"\ncapitals = { max_share = 1.5 }",
            "max_share",
        ),
        (
            "[[rule]]\nid = \"a\"\ncategory = \"c\"\naction = \"reject\"\nterms = [\"{@nope}x\"]",
            "set 'nope'",
        ),
        (
            "[[rule]]\nid = \"bad id!\"\ncategory = \"c\"\naction = \"reject\"\nterms = [\"x\"]",
            "the id must be",
        ),
    ];
    for (source, expected) in cases {
        let message = problems(source);
        assert!(message.contains(expected), "{source:?}: {message}");
        assert!(message.starts_with("rules.toml:"), "{message}");
    }
}

#[test]
fn term_modes_wildcards_sets_and_exceptions() {
    let rules = RuleSet::from_toml(
        r#"
[sets]
pre = ["", "over", "under"]

[[rule]]
id = "words"
category = "test"
action = "review"
terms = ["cat", "dog*", "*mouse*", "{@pre}rat{,s}"]
exceptions = ["dogma*"]
"#,
        "test.toml",
    )
    .unwrap();
    let action = |body: &str| rules.moderate(body, &Context::default()).action;
    assert_eq!(action("a cat"), Action::Review);
    assert_eq!(action("a catalogue"), Action::Approve);
    assert_eq!(action("doghouse"), Action::Review);
    assert_eq!(action("dogmatic"), Action::Approve);
    assert_eq!(action("dormouses"), Action::Review);
    assert_eq!(action("overrats"), Action::Review);
    assert_eq!(action("pirats"), Action::Approve);
}
