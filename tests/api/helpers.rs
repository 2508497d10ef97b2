//! Starting the real server on port 0 with a temporary data directory.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use commentd::app::{Application, RulesReloader, Settings};
use commentd::proto::comment_service_client::CommentServiceClient;
use commentd::proto::{self, SubmitCommentRequest};
use commentd::store::Faults;
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::Channel;

pub type Client = CommentServiceClient<Channel>;

/// One request to any RPC, for tables of requests.
pub enum Call {
    Submit(proto::SubmitCommentRequest),
    Get(proto::GetCommentRequest),
    List(proto::ListCommentsRequest),
    Check(proto::CheckCommentRequest),
    Watch(proto::WatchCommentsRequest),
    Queue(proto::ListReviewQueueRequest),
    Moderate(proto::ModerateCommentRequest),
}

/// Makes the call; only its status matters to the tables.
pub async fn call(client: &mut Client, call: Call) -> Result<(), tonic::Status> {
    match call {
        Call::Submit(r) => client.submit_comment(r).await.map(drop),
        Call::Get(r) => client.get_comment(r).await.map(drop),
        Call::List(r) => client.list_comments(r).await.map(drop),
        Call::Check(r) => client.check_comment(r).await.map(drop),
        Call::Watch(r) => client.watch_comments(r).await.map(drop),
        Call::Queue(r) => client.list_review_queue(r).await.map(drop),
        Call::Moderate(r) => client.moderate_comment(r).await.map(drop),
    }
}

/// A running server and what it needs to be stopped or restarted.
pub struct TestApp {
    pub addr: SocketAddr,
    pub client: Client,
    pub faults: Arc<Faults>,
    /// Swaps in the rule file again, as SIGHUP does.
    pub rules: RulesReloader,
    data_dir: TempDir,
    settings: Settings,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

fn init_logs() {
    // Silent unless TEST_LOG is set.
    if std::env::var_os("TEST_LOG").is_some() {
        commentd::telemetry::init();
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    init_logs();
    let data_dir = tempfile::tempdir().expect("temporary directory");
    let mut settings = Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: data_dir.path().to_owned(),
        ..Settings::default()
    };
    configure(&mut settings);
    start(settings, data_dir).await
}

async fn start(settings: Settings, data_dir: TempDir) -> TestApp {
    let app = Application::build(settings.clone())
        .await
        .expect("server starts");
    let addr = app.local_addr();
    let rules = app.rules_reloader();
    let (stop, stopped) = oneshot::channel();
    let task = tokio::spawn(async move {
        app.run_until(async {
            let _ = stopped.await;
        })
        .await
        .expect("server runs");
    });
    let client = connect(addr).await;
    TestApp {
        addr,
        client,
        faults: Arc::clone(&settings.faults),
        rules,
        data_dir,
        settings,
        stop: Some(stop),
        task: Some(task),
    }
}

pub async fn connect(addr: SocketAddr) -> Client {
    CommentServiceClient::connect(format!("http://{addr}"))
        .await
        .expect("client connects")
}

impl TestApp {
    pub fn data_dir(&self) -> &std::path::Path {
        self.data_dir.path()
    }

    /// Shuts the server down gracefully and waits until it has stopped.
    pub async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task ends cleanly");
        }
    }

    /// Stops the server and starts a new one on the same data directory.
    pub async fn restart(mut self) -> TestApp {
        self.stop().await;
        let data_dir = std::mem::replace(&mut self.data_dir, tempfile::tempdir().unwrap());
        let settings = Settings {
            faults: Arc::default(),
            ..self.settings.clone()
        };
        start(settings, data_dir).await
    }

    /// Submits as a new author each time, so per-author limits stay out of
    /// the way.
    pub async fn submit(&self, article: &str, body: &str) -> proto::Comment {
        static AUTHORS: AtomicU64 = AtomicU64::new(0);
        let author = format!("reader-{}", AUTHORS.fetch_add(1, Ordering::Relaxed));
        self.submit_as(article, &author, body).await
    }

    pub async fn submit_as(&self, article: &str, author: &str, body: &str) -> proto::Comment {
        self.client
            .clone()
            .submit_comment(submission(article, author, body))
            .await
            .expect("submit succeeds")
            .into_inner()
            .comment
            .expect("response holds the comment")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub fn submission(article: &str, author: &str, body: &str) -> SubmitCommentRequest {
    SubmitCommentRequest {
        article_id: article.into(),
        author_id: author.into(),
        author_name: "Reader".into(),
        body: body.into(),
        parent_id: String::new(),
        request_id: String::new(),
    }
}

pub fn status_of(comment: &proto::Comment) -> proto::CommentStatus {
    proto::CommentStatus::try_from(comment.status).expect("a known status")
}
