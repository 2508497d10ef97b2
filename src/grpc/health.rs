//! The standard health service (tonic-health), with one change: a `Watch`
//! ends when the server shuts down. Load balancers keep such a watch open;
//! it would otherwise hold the graceful shutdown for its whole grace period
//! and leave the store without its checkpoint.

use std::pin::Pin;

use futures_util::StreamExt;
use tokio_stream::Stream;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_server::{Health, HealthServer};
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};
use tonic_health::server::{HealthReporter, HealthService};

pub struct ClosingHealth {
    inner: HealthService,
    closing: CancellationToken,
}

/// The health service of `reporter`; its watches end, after a last
/// `NOT_SERVING`, once `closing` is cancelled.
pub fn health_service(
    reporter: HealthReporter,
    closing: CancellationToken,
) -> HealthServer<ClosingHealth> {
    HealthServer::new(ClosingHealth {
        inner: HealthService::from_health_reporter(reporter),
        closing,
    })
}

type WatchStream = Pin<Box<dyn Stream<Item = Result<HealthCheckResponse, Status>> + Send>>;

#[tonic::async_trait]
impl Health for ClosingHealth {
    async fn check(
        &self,
        request: Request<HealthCheckRequest>,
    ) -> Result<Response<HealthCheckResponse>, Status> {
        self.inner.check(request).await
    }

    type WatchStream = WatchStream;

    async fn watch(
        &self,
        request: Request<HealthCheckRequest>,
    ) -> Result<Response<WatchStream>, Status> {
        let statuses = self.inner.watch(request).await?.into_inner();
        let last = HealthCheckResponse {
            status: ServingStatus::NotServing as i32,
        };
        let stream = statuses
            .take_until(self.closing.clone().cancelled_owned())
            .chain(futures_util::stream::iter([Ok(last)]));
        Ok(Response::new(Box::pin(stream)))
    }
}
