//! The command-line tools: `rules check`, `eval`, `check`.

use crate::harness::run;

#[test]
fn rules_check_validates_without_starting_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.toml");
    std::fs::write(&good, commentd::moderation::DEFAULT_RULES).unwrap();
    let (status, stdout, _) = run(&["rules", "check", good.to_str().unwrap()]);
    assert!(status.success());
    assert!(
        stdout.contains("OK") && stdout.contains("sha256:"),
        "{stdout}"
    );

    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[[rule]]\nid = \"dup\"\ncategory = \"c\"\naction = \"reject\"\nregex = \"(\"\n",
    )
    .unwrap();
    let (status, _, stderr) = run(&["rules", "check", bad.to_str().unwrap()]);
    assert!(!status.success());
    assert!(
        stderr.contains("bad.toml:5: rule \"dup\": regex"),
        "{stderr}"
    );
}

#[test]
fn eval_reports_recall_false_positives_and_misses() {
    let corpus = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus/comments.jsonl");
    let (status, stdout, _) = run(&["eval", corpus]);
    assert!(status.success());
    for expected in [
        "recall on abusive comments",
        "false-positive rate",
        "false positives on traps",
    ] {
        assert!(stdout.contains(expected), "{stdout}");
    }
}

#[test]
fn check_of_a_missing_directory_fails_clearly() {
    let (status, _, stderr) = run(&["check", "--data-dir", "/nonexistent/commentd"]);
    assert_eq!(status.code(), Some(2));
    assert!(stderr.contains("/nonexistent/commentd"), "{stderr}");
}

#[test]
fn check_of_a_directory_without_a_store_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("db"), b"not a database").unwrap();
    let (status, _, stderr) = run(&["check", "--data-dir", dir.path().to_str().unwrap()]);
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("'conf' file is missing"), "{stderr}");
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["db"]);
    assert_eq!(
        std::fs::read(dir.path().join("db")).unwrap(),
        b"not a database"
    );
}
