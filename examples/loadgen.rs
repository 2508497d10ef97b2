//! Load generator for commentd (and for the bare baselines of
//! `examples/bare_server.rs`, which serve the same API).
//!
//! ```sh
//! # 64 closed-loop submitters, 200-byte bodies, 10 s after a 3 s warm-up:
//! cargo run --release --example loadgen -- run --target 127.0.0.1:50051 --submitters 64
//! # 1,000 watchers of one article while 100 comments/s are submitted:
//! cargo run --release --example loadgen -- run --subscribers 1000 --articles 1 --rate 100
//! # a million stored comments over 10,000 articles; page costs; readiness:
//! cargo run --release --example loadgen -- fill --comments 1000000 --articles 10000
//! cargo run --release --example loadgen -- list --article big --article small
//! cargo run --release --example loadgen -- wait-ready
//! ```
//!
//! `run` reports submits per second, submit latency (p50/p99/p99.9, from an
//! HDR histogram), events delivered per second, the delay from a submit's
//! acknowledgement to its event reaching each watcher (p50/p99) and each
//! event's spread from its first watcher to its last, as a table and, with
//! `--json`, as JSON. With `--server-pid` it adds the server's CPU time per
//! submit, by thread; `--watch-connections N` multiplexes the watchers over
//! N connections instead of one each.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use commentd::proto::comment_service_client::CommentServiceClient;
use commentd::proto::{ListCommentsRequest, SubmitCommentRequest, WatchCommentsRequest};
use hdrhistogram::Histogram;
use serde_json::json;
use tokio::sync::Notify;
use tokio_stream::StreamExt;
use tonic::transport::{Channel, Endpoint};

#[derive(Parser)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Submitters and watchers for a fixed time after a warm-up.
    Run(RunArgs),
    /// Store many comments quickly, spread over many articles.
    Fill(FillArgs),
    /// Time ListComments pages (first and deep) on given articles.
    List(ListArgs),
    /// Wait until the server answers health checks; print how long it took.
    WaitReady {
        #[arg(long, default_value = "127.0.0.1:50051")]
        target: SocketAddr,
        #[arg(long, default_value_t = 30)]
        timeout_secs: u64,
    },
}

#[derive(Parser, Clone)]
struct RunArgs {
    #[arg(long, default_value = "127.0.0.1:50051")]
    target: SocketAddr,
    /// Concurrent submitters (closed loop unless --rate is set).
    #[arg(long, default_value_t = 64)]
    submitters: usize,
    /// Approximate body size in bytes.
    #[arg(long, default_value_t = 200)]
    body_bytes: usize,
    /// Total submits per second; 0 for as fast as the server answers.
    #[arg(long, default_value_t = 0)]
    rate: u64,
    /// Watchers, spread over the articles.
    #[arg(long, default_value_t = 0)]
    subscribers: usize,
    /// Of the watchers, how many never read.
    #[arg(long, default_value_t = 0)]
    stalled: usize,
    /// Articles the comments (and watchers) are spread over.
    #[arg(long, default_value_t = 16)]
    articles: usize,
    /// Connections the submitters share.
    #[arg(long, default_value_t = 8)]
    connections: usize,
    /// Connections the reading watchers share, as streams multiplexed the
    /// way a gateway would; 0 for one connection per watcher.
    #[arg(long, default_value_t = 0)]
    watch_connections: usize,
    #[arg(long, default_value_t = 3)]
    warmup_secs: u64,
    #[arg(long, default_value_t = 10)]
    duration_secs: u64,
    /// A label for the report.
    #[arg(long, default_value = "run")]
    label: String,
    /// The server's process id (same machine, Linux): its CPU time over the
    /// measured window goes into the report, per submit and per thread.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Also write the report as JSON to this file.
    #[arg(long)]
    json: Option<std::path::PathBuf>,
}

#[derive(Parser)]
struct FillArgs {
    #[arg(long, default_value = "127.0.0.1:50051")]
    target: SocketAddr,
    #[arg(long, default_value_t = 1_000_000)]
    comments: u64,
    #[arg(long, default_value_t = 10_000)]
    articles: u64,
    /// Comments on the article named `big`; `small` gets `--small`.
    #[arg(long, default_value_t = 100_000)]
    big: u64,
    #[arg(long, default_value_t = 100)]
    small: u64,
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
}

#[derive(Parser)]
struct ListArgs {
    #[arg(long, default_value = "127.0.0.1:50051")]
    target: SocketAddr,
    #[arg(long = "article", required = true)]
    articles: Vec<String>,
    #[arg(long, default_value_t = 2000)]
    iterations: usize,
    #[arg(long, default_value_t = 50)]
    page_size: i32,
    /// How deep the "deep" page is: pages followed from the first.
    #[arg(long, default_value_t = 1000)]
    deep_pages: usize,
}

type Client = CommentServiceClient<Channel>;

async fn channel(target: SocketAddr) -> Channel {
    Endpoint::from_shared(format!("http://{target}"))
        .expect("a valid address")
        .tcp_nodelay(true)
        .connect()
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {target}: {e}"))
}

async fn connect(target: SocketAddr) -> Client {
    CommentServiceClient::new(channel(target).await).max_decoding_message_size(16 << 20)
}

/// The part of a `WatchCommentsResponse` the load generator needs: decoding
/// only the comment id keeps the generator's cost per event small, so that
/// its own core is not what limits the measured delivery delay.
#[derive(Clone, PartialEq, prost::Message)]
struct EventId {
    #[prost(message, optional, tag = "3")]
    comment: Option<CommentId>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct CommentId {
    #[prost(string, tag = "1")]
    id: String,
}

/// `WatchComments` on `channel`, decoding each event as an [`EventId`].
async fn watch_ids(channel: Channel, request: WatchCommentsRequest) -> tonic::Streaming<EventId> {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.expect("channel ready");
    let path = http::uri::PathAndQuery::from_static("/commentd.v1.CommentService/WatchComments");
    grpc.server_streaming(
        tonic::Request::new(request),
        path,
        tonic_prost::ProstCodec::<WatchCommentsRequest, EventId>::default(),
    )
    .await
    .expect("watch starts")
    .into_inner()
}

/// Comment bodies the built-in rules approve, hold and reject, about
/// `bytes` long.
fn body(bytes: usize, n: u64) -> String {
    const APPROVE: &str = "The talks on visas and embassy staff went on for hours, and both sides said they would meet again next month. ";
    let (lead, filler) = match n % 10 {
        0 => ("Only an idiot would believe this. ", APPROVE),
        1 => ("What the f.u.c.k is this. ", APPROVE),
        _ => ("", APPROVE),
    };
    let mut text = format!("{n}. {lead}");
    while text.len() < bytes {
        text.push_str(filler);
    }
    let mut end = bytes.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text
}

fn percentiles(h: &Histogram<u64>) -> serde_json::Value {
    json!({
        "count": h.len(),
        "p50_us": h.value_at_quantile(0.50),
        "p99_us": h.value_at_quantile(0.99),
        "p999_us": h.value_at_quantile(0.999),
        "max_us": h.max(),
    })
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid bounds")
}

/// Comment id (hex) to a number, for compact maps.
fn id_number(id: &str) -> u64 {
    u64::from_str_radix(id, 16).unwrap_or(u64::MAX)
}

async fn run(args: RunArgs) -> serde_json::Value {
    let start = Instant::now();
    let measuring = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let watchers_stop = Arc::new(Notify::new());
    let articles: Vec<String> = (0..args.articles.max(1))
        .map(|i| format!("load-{i}"))
        .collect();
    // Acknowledgement times and article of the approved comments submitted
    // while measuring: the events the watchers of that article must get.
    let acked: Arc<Mutex<HashMap<u64, (Instant, usize)>>> = Arc::default();

    // Watchers: each records when each event arrived.
    let mut shared_watch_channels = Vec::new();
    for _ in 0..args.watch_connections {
        shared_watch_channels.push(channel(args.target).await);
    }
    let mut watchers = Vec::new();
    let mut readers_per_article = vec![0u64; articles.len()];
    for w in 0..args.subscribers {
        let article = articles[w % articles.len()].clone();
        if w >= args.stalled {
            readers_per_article[w % articles.len()] += 1;
        }
        let stalled = w < args.stalled;
        let target = args.target;
        let shared_channel = (!shared_watch_channels.is_empty())
            .then(|| shared_watch_channels[w % shared_watch_channels.len()].clone());
        let stopped = Arc::clone(&watchers_stop);
        watchers.push(tokio::spawn(async move {
            let request = WatchCommentsRequest {
                article_id: article,
                after_cursor: None,
            };
            let mut arrivals: Vec<(u64, Instant)> = Vec::new();
            if stalled {
                // A small window, so that the server really cannot send.
                let channel = Endpoint::from_shared(format!("http://{target}"))
                    .unwrap()
                    .initial_stream_window_size(16 * 1024)
                    .initial_connection_window_size(16 * 1024)
                    .connect()
                    .await
                    .expect("connect");
                let _stream = CommentServiceClient::new(channel)
                    .watch_comments(request)
                    .await
                    .expect("watch starts");
                stopped.notified().await;
                return arrivals;
            }
            let channel = match shared_channel {
                Some(shared) => shared,
                None => channel(target).await,
            };
            let mut stream = watch_ids(channel, request).await;
            let stopped = stopped.notified();
            tokio::pin!(stopped);
            loop {
                tokio::select! {
                    biased;
                    event = stream.next() => match event {
                        Some(Ok(event)) => {
                            let id = event.comment.map_or(u64::MAX, |c| id_number(&c.id));
                            arrivals.push((id, Instant::now()));
                        }
                        _ => return arrivals,
                    },
                    () = &mut stopped => return arrivals,
                }
            }
        }));
    }
    // Let the watchers subscribe before anything is submitted.
    tokio::time::sleep(Duration::from_millis(500 + args.subscribers as u64)).await;

    let mut clients = Vec::new();
    for _ in 0..args.connections.max(1) {
        clients.push(connect(args.target).await);
    }
    let latencies = Arc::new(Mutex::new(histogram()));
    let submitted = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let per_submitter_interval =
        (args.rate > 0).then(|| Duration::from_secs_f64(args.submitters as f64 / args.rate as f64));
    let mut submitters = Vec::new();
    for s in 0..args.submitters {
        let mut client = clients[s % clients.len()].clone();
        let (measuring, stop) = (Arc::clone(&measuring), Arc::clone(&stop));
        let (latencies, submitted, errors, acked) = (
            Arc::clone(&latencies),
            Arc::clone(&submitted),
            Arc::clone(&errors),
            Arc::clone(&acked),
        );
        let articles = articles.clone();
        let body_bytes = args.body_bytes;
        let run_id = start.elapsed().as_nanos();
        submitters.push(tokio::spawn(async move {
            let mut local = histogram();
            let mut next_at = Instant::now();
            for n in 0u64.. {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                if let Some(interval) = per_submitter_interval {
                    next_at += interval;
                    if let Some(wait) = next_at.checked_duration_since(Instant::now()) {
                        tokio::time::sleep(wait).await;
                    }
                }
                let seq = n * 1024 + s as u64;
                let article = (seq % articles.len() as u64) as usize;
                let request = SubmitCommentRequest {
                    article_id: articles[article].clone(),
                    author_id: format!("load-{s}-{n}"),
                    author_name: "Load Generator".into(),
                    body: body(body_bytes, seq),
                    parent_id: String::new(),
                    request_id: format!("{run_id}-{s}-{n}"),
                };
                let sent = Instant::now();
                match client.submit_comment(request).await {
                    Ok(response) => {
                        let done = Instant::now();
                        if measuring.load(Ordering::Relaxed) {
                            local.saturating_record(done.duration_since(sent).as_micros() as u64);
                            submitted.fetch_add(1, Ordering::Relaxed);
                            let comment = response.into_inner().comment;
                            if let Some(c) = comment.filter(|c| c.status == 1) {
                                acked
                                    .lock()
                                    .unwrap()
                                    .insert(id_number(&c.id), (done, article));
                            }
                        }
                    }
                    Err(_) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            latencies.lock().unwrap().add(&local).expect("same bounds");
        }));
    }

    tokio::time::sleep(Duration::from_secs(args.warmup_secs)).await;
    let cpu_before = args.server_pid.map(ServerCpu::sample);
    measuring.store(true, Ordering::Relaxed);
    let measured_from = Instant::now();
    tokio::time::sleep(Duration::from_secs(args.duration_secs)).await;
    measuring.store(false, Ordering::Relaxed);
    let measured = measured_from.elapsed();
    let cpu_after = args.server_pid.map(ServerCpu::sample);
    // Let the last events arrive before the watchers stop.
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    watchers_stop.notify_waiters();
    for s in submitters {
        s.await.expect("submitter");
    }
    let acked = acked.lock().unwrap().clone();
    let mut delays = histogram();
    let mut delivered = 0u64;
    // First and last arrival of each event over its watchers.
    let mut first_last: HashMap<u64, (Instant, Instant)> = HashMap::new();
    let readers = args.subscribers.saturating_sub(args.stalled);
    for w in watchers {
        let arrivals = w.await.expect("watcher");
        let mut seen = 0u64;
        for (id, at) in arrivals {
            if let Some((ack, _)) = acked.get(&id) {
                seen += 1;
                delays.saturating_record(at.saturating_duration_since(*ack).as_micros() as u64);
                let span = first_last.entry(id).or_insert((at, at));
                span.0 = span.0.min(at);
                span.1 = span.1.max(at);
            }
        }
        delivered += seen;
    }
    let mut spreads = histogram();
    for (first, last) in first_last.values() {
        spreads.saturating_record(last.duration_since(*first).as_micros() as u64);
    }
    let expected: u64 = acked
        .values()
        .map(|&(_, article)| readers_per_article[article])
        .sum();
    let secs = measured.as_secs_f64();
    let submitted = submitted.load(Ordering::Relaxed);
    let latencies = latencies.lock().unwrap().clone();
    let server_cpu = match (cpu_before, cpu_after) {
        (Some(before), Some(after)) => after.since(&before, secs, submitted),
        _ => serde_json::Value::Null,
    };
    json!({
        "label": args.label,
        "submitters": args.submitters,
        "body_bytes": args.body_bytes,
        "rate_target": args.rate,
        "subscribers": args.subscribers,
        "watch_connections": args.watch_connections,
        "stalled": args.stalled,
        "readers": readers,
        "articles": args.articles,
        "seconds": secs,
        "submits": submitted,
        "submits_per_sec": submitted as f64 / secs,
        "errors": errors.load(Ordering::Relaxed),
        "submit_latency": percentiles(&latencies),
        "approved": acked.len(),
        "events_expected": expected,
        "events_delivered": delivered,
        "events_delivered_per_sec": delivered as f64 / secs,
        "delivery_delay": percentiles(&delays),
        // How long one event took from its first watcher to its last: the
        // part of the delay that is one burst of deliveries, whatever the
        // acknowledgement's own timing.
        "delivery_spread": percentiles(&spreads),
        "server_cpu": server_cpu,
    })
}

/// CPU time a process has used, in all and by thread name (numbered
/// threads such as `sled-io-3` counted under one name), from `/proc`.
struct ServerCpu {
    total: f64,
    /// By thread id: the thread's name and its CPU seconds.
    threads: HashMap<String, (String, f64)>,
}

impl ServerCpu {
    /// Clock ticks of user and system time in a `/proc/.../stat` line.
    fn ticks(stat: &str) -> Option<f64> {
        // The command name may hold spaces; the fields follow its ')'.
        let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
        Some(fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?)
    }

    fn sample(pid: u32) -> ServerCpu {
        let ticks_per_second: f64 = std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|out| String::from_utf8(out.stdout).ok()?.trim().parse().ok())
            .unwrap_or(100.0);
        let read = |path: String| std::fs::read_to_string(path).unwrap_or_default();
        let seconds = |stat: String| Self::ticks(&stat).map(|t| t / ticks_per_second);
        let total = seconds(read(format!("/proc/{pid}/stat"))).unwrap_or(0.0);
        let mut threads = HashMap::new();
        let tasks = std::fs::read_dir(format!("/proc/{pid}/task"))
            .into_iter()
            .flatten();
        for task in tasks.flatten() {
            let dir = task.path().display().to_string();
            let name = read(format!("{dir}/comm"));
            let name = name
                .trim()
                .trim_end_matches(|c: char| c.is_ascii_digit() || c == '-');
            if let Some(used) = seconds(read(format!("{dir}/stat"))) {
                let id = task.file_name().to_string_lossy().into_owned();
                threads.insert(id, (name.to_owned(), used));
            }
        }
        ServerCpu { total, threads }
    }

    /// What was used between `before` and now: the share of one core, and
    /// microseconds per submit in all and by thread name. Threads that
    /// ended within the window are counted in the total only.
    fn since(&self, before: &ServerCpu, seconds: f64, submits: u64) -> serde_json::Value {
        let per_submit = |cpu: f64| (cpu * 1e6 / submits.max(1) as f64 * 10.0).round() / 10.0;
        let used = self.total - before.total;
        // Thread by thread, then summed by name: a thread that started in
        // the window counts whole, one that ended in it is in the total only.
        let mut by_name: HashMap<&str, f64> = HashMap::new();
        for (id, (name, now)) in &self.threads {
            let earlier = before.threads.get(id).map_or(0.0, |(_, used)| *used);
            *by_name.entry(name).or_insert(0.0) += now - earlier;
        }
        let by_thread: serde_json::Map<String, serde_json::Value> = by_name
            .into_iter()
            .map(|(name, used)| (name.to_owned(), json!(per_submit(used))))
            .collect();
        json!({
            "core_share": used / seconds,
            "us_per_submit": per_submit(used),
            "us_per_submit_by_thread": by_thread,
        })
    }
}

fn print_run(report: &serde_json::Value) {
    let ms = |v: &serde_json::Value| v.as_u64().unwrap_or(0) as f64 / 1000.0;
    let l = &report["submit_latency"];
    let d = &report["delivery_delay"];
    println!(
        "{:<24} submits/s {:>9.0}  latency ms p50 {:>6.2} p99 {:>6.2} p99.9 {:>6.2}  events/s {:>9.0} ({}/{} delivered)  delay ms p50 {:>6.2} p99 {:>6.2}  errors {}",
        report["label"].as_str().unwrap_or(""),
        report["submits_per_sec"].as_f64().unwrap_or(0.0),
        ms(&l["p50_us"]),
        ms(&l["p99_us"]),
        ms(&l["p999_us"]),
        report["events_delivered_per_sec"].as_f64().unwrap_or(0.0),
        report["events_delivered"],
        report["events_expected"],
        ms(&d["p50_us"]),
        ms(&d["p99_us"]),
        report["errors"],
    );
    let cpu = &report["server_cpu"];
    if let Some(per_submit) = cpu["us_per_submit"].as_f64() {
        let mut threads: Vec<_> = cpu["us_per_submit_by_thread"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(_, us)| us.as_f64().unwrap_or(0.0) >= 0.1)
            .map(|(name, us)| format!("{name} {us}"))
            .collect();
        threads.sort();
        println!(
            "{:<24} server CPU {:.0}% of a core, {per_submit} us per submit ({})",
            "",
            cpu["core_share"].as_f64().unwrap_or(0.0) * 100.0,
            threads.join(", ")
        );
    }
}

async fn fill(args: FillArgs) {
    let client = connect(args.target).await;
    let start = Instant::now();
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..args.concurrency {
        let mut client = client.clone();
        let next = Arc::clone(&next);
        let (total, big, small, articles) = (args.comments, args.big, args.small, args.articles);
        tasks.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= total {
                    return;
                }
                // The first `big` comments go to `big`, the next `small` to
                // `small`, the rest round the other articles.
                let article = if n < big {
                    "big".to_owned()
                } else if n < big + small {
                    "small".to_owned()
                } else {
                    format!("article-{}", n % articles.max(1))
                };
                let request = SubmitCommentRequest {
                    article_id: article,
                    author_id: format!("fill-{n}"),
                    author_name: String::new(),
                    body: body(200, n * 10 + 2),
                    parent_id: String::new(),
                    request_id: String::new(),
                };
                if let Err(e) = client.submit_comment(request).await {
                    panic!("fill failed at {n}: {e}");
                }
                if n % 100_000 == 0 && n > 0 {
                    eprintln!("fill: {n} comments");
                }
            }
        }));
    }
    for t in tasks {
        t.await.expect("filler");
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{}",
        json!({"filled": args.comments, "seconds": secs, "per_sec": args.comments as f64 / secs})
    );
}

async fn list(args: ListArgs) {
    let mut client = connect(args.target).await;
    let mut report = Vec::new();
    for article in &args.articles {
        let request = |page_token: &str| ListCommentsRequest {
            article_id: article.clone(),
            status: 0,
            page_size: args.page_size,
            page_token: page_token.to_owned(),
        };
        // A deep page: follow up to `deep_pages` tokens (or to the last page).
        let mut token = String::new();
        for _ in 0..args.deep_pages {
            let page = client
                .list_comments(request(&token))
                .await
                .expect("list")
                .into_inner();
            if page.next_page_token.is_empty() {
                break;
            }
            token = page.next_page_token;
        }
        let deep = token;
        for (which, token) in [("first", String::new()), ("deep", deep)] {
            let mut h = histogram();
            for _ in 0..args.iterations {
                let started = Instant::now();
                let page = client
                    .list_comments(request(&token))
                    .await
                    .expect("list")
                    .into_inner();
                h.saturating_record(started.elapsed().as_micros() as u64);
                assert!(!page.comments.is_empty(), "{article}: empty page");
            }
            report.push(json!({"article": article, "page": which, "latency": percentiles(&h)}));
        }
    }
    println!("{}", serde_json::to_string_pretty(&report).unwrap());
}

async fn wait_ready(target: SocketAddr, timeout: Duration) {
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::pb::health_client::HealthClient;
    let start = Instant::now();
    loop {
        if let Ok(channel) = Endpoint::from_shared(format!("http://{target}"))
            .unwrap()
            .connect()
            .await
        {
            let ok = HealthClient::new(channel)
                .check(HealthCheckRequest {
                    service: String::new(),
                })
                .await
                .is_ok_and(|r| r.into_inner().status == 1);
            if ok {
                println!(
                    "{}",
                    json!({"ready_ms": start.elapsed().as_secs_f64() * 1000.0})
                );
                return;
            }
        }
        if start.elapsed() > timeout {
            eprintln!("not ready after {timeout:?}");
            std::process::exit(1);
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

fn main() {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        match args.command {
            Command::Run(run_args) => {
                let json_path = run_args.json.clone();
                let report = run(run_args).await;
                print_run(&report);
                if let Some(path) = json_path {
                    std::fs::write(path, serde_json::to_string_pretty(&report).unwrap())
                        .expect("write json");
                }
            }
            Command::Fill(fill_args) => fill(fill_args).await,
            Command::List(list_args) => list(list_args).await,
            Command::WaitReady {
                target,
                timeout_secs,
            } => wait_ready(target, Duration::from_secs(timeout_secs)).await,
        }
    });
}
