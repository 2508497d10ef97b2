//! Start-up, signals and shutdown of the real binary.

use std::time::{Duration, Instant};

use commentd::proto::{CheckCommentRequest, GetCommentRequest, WatchCommentsRequest};
use tokio_stream::StreamExt;
use tonic::Code;

use crate::harness::{Server, run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_keeps_every_acknowledged_comment_and_ends_streams() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path(), &[]);
    let mut watchers = Vec::new();
    for _ in 0..4 {
        let mut client = server.client().await;
        let stream = client
            .watch_comments(WatchCommentsRequest {
                article_id: String::new(),
                after_cursor: Some(0),
            })
            .await
            .unwrap()
            .into_inner();
        watchers.push(tokio::spawn(async move {
            let mut stream = stream;
            let mut last = 0;
            loop {
                match stream.next().await {
                    Some(Ok(event)) => last = event.cursor,
                    Some(Err(status)) => return Some((status, last)),
                    None => return None,
                }
            }
        }));
    }
    let mut submitters = Vec::new();
    for w in 0..4 {
        let mut client = server.client().await;
        submitters.push(tokio::spawn(async move {
            let mut acked = Vec::new();
            for n in 0.. {
                let request = commentd::proto::SubmitCommentRequest {
                    article_id: "a".into(),
                    author_id: format!("w{w}-{n}"),
                    author_name: String::new(),
                    body: format!("Comment {n} from writer {w} about the talks."),
                    parent_id: String::new(),
                    request_id: String::new(),
                };
                match client.submit_comment(request).await {
                    Ok(r) => acked.push(r.into_inner().comment.unwrap()),
                    Err(_) => return acked,
                }
            }
            acked
        }));
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    let signalled = Instant::now();
    server.signal("TERM");
    let status = tokio::task::spawn_blocking(move || {
        let status = server.wait_exit(Duration::from_secs(20));
        (status, server)
    })
    .await
    .unwrap();
    let (status, server) = status;
    let took = signalled.elapsed();
    assert!(
        status.expect("exits within the bound").success(),
        "exit status"
    );
    assert!(took < Duration::from_secs(15), "shutdown took {took:?}");
    assert!(server.logged("commentd stopped"));
    // A clean stop leaves sled a fresh snapshot: the next start reads it
    // instead of replaying the log.
    assert!(server.logged("checkpoint written"));
    drop(server);

    for watcher in watchers {
        let (status, last) = watcher
            .await
            .unwrap()
            .expect("the stream ends with a status");
        assert_eq!(status.code(), Code::Unavailable, "{}", status.message());
        assert!(
            status.message().contains(&format!("after_cursor={last}")),
            "{}",
            status.message()
        );
    }
    let mut acked = Vec::new();
    for s in submitters {
        acked.extend(s.await.unwrap());
    }
    assert!(!acked.is_empty());

    let server = Server::start(dir.path(), &[]);
    let mut client = server.client().await;
    for comment in &acked {
        let stored = client
            .get_comment(GetCommentRequest {
                id: comment.id.clone(),
            })
            .await
            .unwrap()
            .into_inner()
            .comment
            .unwrap();
        assert_eq!(&stored, comment);
    }
}

#[test]
fn unusable_data_directories_stop_start_up_with_one_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "not a directory").unwrap();
    let under_file = file.join("data");
    for (path, expected) in [
        (file.to_str().unwrap(), "not a directory"),
        (under_file.to_str().unwrap(), "Not a directory"),
    ] {
        let (status, _, stderr) = run(&["--listen", "127.0.0.1:0", "--data-dir", path]);
        assert!(!status.success(), "{path}");
        assert!(stderr.contains(expected), "{path}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "one message: {stderr}");
    }
}

#[test]
fn a_data_directory_held_by_another_commentd_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let _first = Server::start(dir.path(), &[]);
    let (status, _, stderr) = run(&[
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert!(!status.success());
    assert!(stderr.contains("in use by another process"), "{stderr}");
}

#[test]
fn an_unwritable_data_directory_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let locked = dir.path().join("locked");
    std::fs::create_dir(&locked).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o500)).unwrap();
    if std::fs::write(locked.join("probe"), "x").is_ok() {
        // Running as root: permissions do not bind, nothing to test.
        eprintln!("skipped: permissions do not apply to this user");
        return;
    }
    let (status, _, stderr) = run(&[
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        locked.to_str().unwrap(),
    ]);
    assert!(!status.success());
    assert!(stderr.contains("data directory"), "{stderr}");
}

#[test]
fn an_invalid_rule_file_stops_start_up_naming_file_line_and_rule() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.toml");
    std::fs::write(
        &rules,
        "[[rule]]\nid = \"x\"\ncategory = \"c\"\naction = \"reject\"\nterms = [\"a{b\"]\n",
    )
    .unwrap();
    let (status, _, stderr) = run(&[
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        dir.path().join("data").to_str().unwrap(),
        "--rules",
        rules.to_str().unwrap(),
    ]);
    assert!(!status.success());
    assert!(
        stderr.contains(&format!("{}:5: rule \"x\"", rules.display())),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_the_rules_and_a_bad_file_keeps_them() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.toml");
    let write = |term: &str| {
        std::fs::write(
            &rules,
            format!("[[rule]]\nid = \"w\"\ncategory = \"c\"\naction = \"reject\"\nterms = [\"{term}\"]\n"),
        )
        .unwrap()
    };
    write("apple");
    let server = Server::start(
        &dir.path().join("data"),
        &["--rules", rules.to_str().unwrap()],
    );
    let mut client = server.client().await;
    let mut version_of = async |body: &str| {
        client
            .check_comment(CheckCommentRequest {
                body: body.into(),
                author_id: String::new(),
            })
            .await
            .unwrap()
            .into_inner()
            .verdict
            .unwrap()
    };
    let before = version_of("apple").await;
    assert_eq!(before.status, 3);

    write("pear");
    server.signal("HUP");
    let mut after = version_of("pear").await;
    for _ in 0..100 {
        if after.rule_set_version != before.rule_set_version {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        after = version_of("pear").await;
    }
    assert_ne!(after.rule_set_version, before.rule_set_version);
    assert_eq!(after.status, 3, "pear is rejected now");

    write("bro{ken");
    server.signal("HUP");
    for _ in 0..100 {
        if server.logged("rules not reloaded") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(server.logged("rules not reloaded"));
    let kept = version_of("pear").await;
    assert_eq!(kept.rule_set_version, after.rule_set_version);
}
