//! Building and running the server: settings, start-up checks, the tonic
//! server with health and reflection, rule reloads and graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tonic_health::server::HealthReporter;

use crate::core::Comments;
use crate::feed::{Feed, FeedConfig};
use crate::grpc::{Api, ApiLimits, CommentServiceServer};
use crate::moderation::{RuleFileError, RuleSet};
use crate::store::{DEFAULT_CACHE_MB, Faults, OpenError, Store, StoreConfig, StoreError};

/// Everything the server can be told at start.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// Rule file; the built-in rules when `None`.
    pub rules: Option<PathBuf>,
    /// sled's page cache, in MiB.
    pub cache_mb: u64,
    pub max_body_bytes: usize,
    /// Largest gRPC request message, in bytes.
    pub max_request_bytes: usize,
    pub max_watchers: usize,
    /// Concurrent HTTP/2 streams per connection.
    pub max_streams_per_connection: u32,
    /// Deadline for a unary request (streams are not cut).
    pub request_timeout: Duration,
    pub keepalive_interval: Duration,
    pub keepalive_timeout: Duration,
    /// How long shutdown waits for requests in flight.
    pub shutdown_grace: Duration,
    /// Failure switches for tests.
    pub faults: Arc<Faults>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            listen: SocketAddr::from(([127, 0, 0, 1], 50051)),
            data_dir: PathBuf::from("./data"),
            rules: None,
            cache_mb: DEFAULT_CACHE_MB,
            max_body_bytes: ApiLimits::default().max_body_bytes,
            max_request_bytes: 64 * 1024,
            max_watchers: FeedConfig::default().max_watchers,
            max_streams_per_connection: 1024,
            request_timeout: Duration::from_secs(30),
            keepalive_interval: Duration::from_secs(30),
            keepalive_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(10),
            faults: Arc::default(),
        }
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot read rule file {path}: {source}")]
    RulesUnreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid rule file:\n{0}")]
    Rules(#[from] RuleFileError),
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error("loading recent activity failed: {0}")]
    Store(#[from] StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the server has stopped")]
    Stopped,
}

/// Why serving stopped with an error.
#[derive(Debug, thiserror::Error)]
#[error("server failed: {0}")]
pub struct ServeError(#[from] tonic::transport::Error);

/// Reads and validates a rule file, or returns the built-in rules.
pub fn load_rules(path: Option<&Path>) -> Result<RuleSet, StartError> {
    let Some(path) = path else {
        return Ok(RuleSet::builtin());
    };
    let source = std::fs::read_to_string(path).map_err(|source| StartError::RulesUnreadable {
        path: path.to_owned(),
        source,
    })?;
    Ok(RuleSet::from_toml(&source, &path.display().to_string())?)
}

/// A built server, bound to its port, not yet serving.
pub struct Application {
    settings: Settings,
    listener: TcpListener,
    local_addr: SocketAddr,
    store: Store,
    feed: Arc<Feed>,
    core: Arc<Comments>,
}

impl Application {
    /// Loads the rules, opens the store and binds the listener.
    pub async fn build(settings: Settings) -> Result<Application, StartError> {
        // The rules compile (about a third of a second for the built-in set)
        // while sled opens and replays its log.
        let rules_path = settings.rules.clone();
        let rules = tokio::task::spawn_blocking(move || load_rules(rules_path.as_deref()));
        let feed = Feed::new(FeedConfig {
            max_watchers: settings.max_watchers,
            ..FeedConfig::default()
        });
        let store_config = StoreConfig {
            cache_bytes: settings.cache_mb.saturating_mul(1024 * 1024),
            faults: Arc::clone(&settings.faults),
            ..StoreConfig::new(&settings.data_dir)
        };
        let store = Store::open(store_config, feed.clone());
        let rules = match rules.await {
            Ok(rules) => rules,
            Err(panicked) => std::panic::resume_unwind(panicked.into_panic()),
        };
        let (store, rules) = match (store, rules) {
            (Ok(store), Ok(rules)) => (store, rules),
            // A bad rule file is reported first, as the one thing to fix.
            (store, Err(err)) => {
                if let Ok(store) = store {
                    store.shutdown().await;
                }
                return Err(err);
            }
            (Err(err), Ok(_)) => return Err(err.into()),
        };
        let core =
            Arc::new(Comments::new(store.clone(), Arc::clone(&feed), Arc::new(rules)).await?);
        crate::memory::release_free_memory();
        let listener =
            TcpListener::bind(settings.listen)
                .await
                .map_err(|source| StartError::Listen {
                    addr: settings.listen,
                    source,
                })?;
        let local_addr = listener.local_addr().map_err(|source| StartError::Listen {
            addr: settings.listen,
            source,
        })?;
        Ok(Application {
            settings,
            listener,
            local_addr,
            store,
            feed,
            core,
        })
    }

    /// The address actually bound (the port when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// A handle that swaps in a new rule file.
    pub fn rules_reloader(&self) -> RulesReloader {
        RulesReloader {
            core: Arc::downgrade(&self.core),
            path: self.settings.rules.clone(),
        }
    }

    /// Serves until `shutdown` resolves, then shuts down gracefully: health
    /// turns NOT_SERVING, watch streams end with UNAVAILABLE and their last
    /// cursor, requests in flight finish (up to the grace period), and the
    /// store answers what it has queued and flushes.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        let Application {
            settings,
            listener,
            local_addr,
            store,
            feed,
            core,
        } = self;
        let reporter = HealthReporter::new();
        let health_closing = CancellationToken::new();
        let health_service = crate::grpc::health_service(reporter.clone(), health_closing.clone());
        reporter.set_serving::<CommentServiceServer<Api>>().await;
        let health_task = tokio::spawn(follow_store_health(store.clone(), reporter.clone()));

        let reflection_v1 = reflection_builder()
            .build_v1()
            .map_err(|e| tracing::error!(error = %e, "reflection v1 unavailable"))
            .ok();
        let reflection_v1alpha = reflection_builder()
            .build_v1alpha()
            .map_err(|e| tracing::error!(error = %e, "reflection v1alpha unavailable"))
            .ok();

        let api = CommentServiceServer::new(Api::new(
            core,
            ApiLimits {
                max_body_bytes: settings.max_body_bytes,
            },
        ))
        .max_decoding_message_size(settings.max_request_bytes)
        .max_encoding_message_size(settings.max_request_bytes.max(settings.max_body_bytes * 4));

        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let closing_feed = Arc::clone(&feed);
        let closing_reporter = reporter.clone();
        tokio::spawn(async move {
            shutdown.await;
            tracing::info!("shutting down: refusing new work, ending watch streams");
            closing_reporter
                .set_not_serving::<CommentServiceServer<Api>>()
                .await;
            closing_reporter
                .set_service_status("", tonic_health::ServingStatus::NotServing)
                .await;
            closing_feed.close();
            health_closing.cancel();
            let _ = stop_tx.send(());
        });

        tracing::info!(%local_addr, data_dir = %settings.data_dir.display(), "commentd listening");
        let server = Server::builder()
            .layer(tower::util::MapResponseLayer::new(
                crate::grpc::oversized_requests_are_resource_exhausted::<tonic::body::Body>,
            ))
            // tower's timeout rather than tonic's, which answers CANCELLED.
            .layer(tower::util::MapErrLayer::new(
                crate::grpc::out_of_time_is_deadline_exceeded,
            ))
            .layer(tower::timeout::TimeoutLayer::new(settings.request_timeout))
            .http2_keepalive_interval(Some(settings.keepalive_interval))
            .http2_keepalive_timeout(Some(settings.keepalive_timeout))
            .max_concurrent_streams(Some(settings.max_streams_per_connection))
            .tcp_nodelay(true)
            .add_service(health_service)
            .add_optional_service(reflection_v1)
            .add_optional_service(reflection_v1alpha)
            .add_service(api)
            // Accepted sockets get TCP_NODELAY here: the builder's setting
            // applies only to listeners tonic binds itself.
            .serve_with_incoming_shutdown(
                TcpIncoming::from(listener).with_nodelay(Some(true)),
                async {
                    let _ = stop_rx.await;
                },
            );

        let grace = settings.shutdown_grace;
        let result = tokio::select! {
            result = server => result.map_err(ServeError::from),
            () = async {
                // Bound the drain once shutdown has begun.
                feed.closed().await;
                tokio::time::sleep(grace).await;
            } => {
                tracing::warn!(?grace, "requests still in flight after the grace period; closing anyway");
                Ok(())
            }
        };
        health_task.abort();
        // The health task holds a store handle until it has really ended.
        let _ = health_task.await;
        store.shutdown().await;
        let started = std::time::Instant::now();
        match store.close_with_checkpoint().await {
            Ok(true) => {
                tracing::info!(took = ?started.elapsed(), "checkpoint written: the next start replays no log")
            }
            Ok(false) => tracing::warn!(
                "requests still hold the store: no checkpoint; the next start replays the log"
            ),
            Err(err) => {
                tracing::warn!(error = %err, "checkpoint failed; the next start replays the log")
            }
        }
        tracing::info!("commentd stopped");
        result
    }
}

/// Reflection serves the API and everything it imports, plus the health and
/// both reflection services, so either reflection version lists them all.
fn reflection_builder() -> tonic_reflection::server::Builder<'static> {
    tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(crate::proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
}

/// Turns health NOT_SERVING while storage refuses writes, and back.
async fn follow_store_health(store: Store, reporter: HealthReporter) {
    let mut writes_ok = store.writes_ok();
    loop {
        let ok = *writes_ok.borrow_and_update();
        let status = if ok {
            tonic_health::ServingStatus::Serving
        } else {
            tonic_health::ServingStatus::NotServing
        };
        reporter
            .set_service_status("commentd.v1.CommentService", status)
            .await;
        reporter.set_service_status("", status).await;
        if writes_ok.changed().await.is_err() {
            return;
        }
    }
}

/// Swaps in the rule file again (on SIGHUP). A bad file keeps the old rules.
/// It does not keep a stopped server alive.
#[derive(Clone)]
pub struct RulesReloader {
    core: std::sync::Weak<Comments>,
    path: Option<PathBuf>,
}

impl RulesReloader {
    pub fn reload(&self) -> Result<String, StartError> {
        let rules = load_rules(self.path.as_deref())?;
        let version = rules.version().to_owned();
        let core = self.core.upgrade().ok_or(StartError::Stopped)?;
        core.replace_rules(Arc::new(rules));
        Ok(version)
    }
}

/// Resolves on SIGINT or SIGTERM; reloads the rules on SIGHUP meanwhile.
pub async fn shutdown_signal(reloader: RulesReloader) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut int), Ok(mut hup)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
            signal(SignalKind::hangup()),
        ) else {
            tracing::error!("cannot install signal handlers; stop with SIGKILL");
            return std::future::pending().await;
        };
        loop {
            tokio::select! {
                _ = term.recv() => return,
                _ = int.recv() => return,
                _ = hup.recv() => match reloader.reload() {
                    Ok(version) => tracing::info!(%version, "rules reloaded"),
                    Err(err) => tracing::error!(error = %err, "rules not reloaded; keeping the current rules"),
                },
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = reloader;
        let _ = tokio::signal::ctrl_c().await;
    }
}
