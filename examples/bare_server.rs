//! The transport ceilings for `benches/e2e.sh`: `commentd.v1.CommentService`
//! with nothing behind it.
//!
//! * `SubmitComment` returns its request as a comment, at once: no
//!   moderation, no storage (the ceiling for submits).
//! * `WatchComments` streams every submitted comment to every watcher of its
//!   article through a broadcast channel: no storage, no catch-up (the
//!   ceiling for fan-out). Each watcher's stream encodes the event, as a
//!   plain tonic server does; with `--encode-once` the event is encoded once
//!   for all watchers, as commentd does.
//!
//! ```sh
//! cargo run --release --example bare_server -- --listen 127.0.0.1:50052
//! ```

use std::collections::HashMap;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use clap::Parser;
use commentd::grpc::EncodedEvent;
use commentd::proto::server::comment_service_server::{CommentService, CommentServiceServer};
use commentd::proto::*;
use tokio::sync::broadcast;
use tokio_stream::{Stream, StreamExt, wrappers::BroadcastStream};
use tonic::{Request, Response, Status};

#[derive(Parser)]
struct Args {
    #[arg(long, default_value = "127.0.0.1:50052")]
    listen: SocketAddr,
    /// Encode each event once for all watchers instead of once per watcher.
    #[arg(long)]
    encode_once: bool,
}

/// An event, and its encoding when it was encoded once for all watchers.
type Event = (Arc<WatchCommentsResponse>, Option<EncodedEvent>);

#[derive(Default)]
struct Bare {
    next: AtomicU64,
    encode_once: bool,
    articles: Mutex<HashMap<String, broadcast::Sender<Event>>>,
}

impl Bare {
    fn channel(&self, article: &str) -> broadcast::Sender<Event> {
        self.articles
            .lock()
            .unwrap()
            .entry(article.to_owned())
            .or_insert_with(|| broadcast::channel(4096).0)
            .clone()
    }
}

type Events = Pin<Box<dyn Stream<Item = Result<EncodedEvent, Status>> + Send>>;

#[tonic::async_trait]
impl CommentService for Bare {
    async fn submit_comment(
        &self,
        request: Request<SubmitCommentRequest>,
    ) -> Result<Response<SubmitCommentResponse>, Status> {
        let r = request.into_inner();
        let n = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let comment = Comment {
            id: format!("{n:016x}"),
            article_id: r.article_id,
            parent_id: r.parent_id,
            author_id: r.author_id,
            author_name: r.author_name,
            body: r.body,
            create_time: Some(std::time::SystemTime::now().into()),
            status: CommentStatus::Approved as i32,
            verdict: None,
            moderator_decision: None,
        };
        let sender = self.channel(&comment.article_id);
        if sender.receiver_count() > 0 {
            let event = WatchCommentsResponse {
                cursor: n,
                r#type: CommentEventType::Published as i32,
                comment: Some(comment.clone()),
                event_time: comment.create_time,
            };
            let encoded = self.encode_once.then(|| EncodedEvent::encode(&event));
            let _ = sender.send((Arc::new(event), encoded));
        }
        Ok(Response::new(SubmitCommentResponse {
            comment: Some(comment),
        }))
    }

    type WatchCommentsStream = Events;

    async fn watch_comments(
        &self,
        request: Request<WatchCommentsRequest>,
    ) -> Result<Response<Events>, Status> {
        let receiver = self.channel(&request.into_inner().article_id).subscribe();
        let stream = BroadcastStream::new(receiver).filter_map(|event| {
            let (event, encoded) = event.ok()?;
            Some(Ok(encoded.unwrap_or_else(|| EncodedEvent::encode(&event))))
        });
        Ok(Response::new(Box::pin(stream)))
    }

    async fn get_comment(
        &self,
        _: Request<GetCommentRequest>,
    ) -> Result<Response<GetCommentResponse>, Status> {
        Err(Status::unimplemented("bare server"))
    }
    async fn list_comments(
        &self,
        _: Request<ListCommentsRequest>,
    ) -> Result<Response<ListCommentsResponse>, Status> {
        Err(Status::unimplemented("bare server"))
    }
    async fn check_comment(
        &self,
        _: Request<CheckCommentRequest>,
    ) -> Result<Response<CheckCommentResponse>, Status> {
        Err(Status::unimplemented("bare server"))
    }
    async fn list_review_queue(
        &self,
        _: Request<ListReviewQueueRequest>,
    ) -> Result<Response<ListReviewQueueResponse>, Status> {
        Err(Status::unimplemented("bare server"))
    }
    async fn moderate_comment(
        &self,
        _: Request<ModerateCommentRequest>,
    ) -> Result<Response<ModerateCommentResponse>, Status> {
        Err(Status::unimplemented("bare server"))
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.listen).await?;
        eprintln!(
            "bare server listening local_addr={}",
            listener.local_addr()?
        );
        tonic::transport::Server::builder()
            .tcp_nodelay(true)
            .add_service(CommentServiceServer::new(Bare {
                encode_once: args.encode_once,
                ..Bare::default()
            }))
            .serve_with_incoming(
                tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true)),
            )
            .await?;
        Ok(())
    })
}
