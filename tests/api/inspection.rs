//! Operators can inspect the service with standard tools: health checks and
//! server reflection (both v1 and v1alpha).

use std::time::Duration;

use tokio_stream::StreamExt;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_reflection::pb::v1alpha::ServerReflectionRequest;
use tonic_reflection::pb::v1alpha::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1alpha::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1alpha::server_reflection_response::MessageResponse;

use crate::helpers::{spawn_app, spawn_app_with};

async fn channel(addr: std::net::SocketAddr) -> tonic::transport::Channel {
    tonic::transport::Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap()
}

#[tokio::test]
async fn health_reports_serving_for_the_server_and_the_service() {
    let app = spawn_app().await;
    let mut health = HealthClient::new(channel(app.addr).await);
    for service in ["", "commentd.v1.CommentService"] {
        let status = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner()
            .status();
        assert_eq!(status, ServingStatus::Serving, "{service:?}");
    }
}

#[tokio::test]
async fn an_open_health_watch_ends_with_not_serving_and_does_not_hold_up_shutdown() {
    let mut app = spawn_app_with(|s| s.shutdown_grace = Duration::from_secs(30)).await;
    let mut health = HealthClient::new(channel(app.addr).await);
    let mut watch = health
        .watch(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let first = watch.next().await.unwrap().unwrap();
    assert_eq!(first.status(), ServingStatus::Serving);
    tokio::time::timeout(Duration::from_secs(10), app.stop())
        .await
        .expect("shutdown does not wait out the grace period for the watch");
    let mut last = None;
    while let Some(Ok(update)) = watch.next().await {
        last = Some(update.status());
    }
    assert_eq!(last, Some(ServingStatus::NotServing));
}

async fn reflect(addr: std::net::SocketAddr, request: MessageRequest) -> MessageResponse {
    let mut client = ServerReflectionClient::new(channel(addr).await);
    let outbound = tokio_stream::iter(vec![ServerReflectionRequest {
        host: String::new(),
        message_request: Some(request),
    }]);
    let mut inbound = client
        .server_reflection_info(outbound)
        .await
        .unwrap()
        .into_inner();
    inbound
        .next()
        .await
        .unwrap()
        .unwrap()
        .message_response
        .unwrap()
}

#[tokio::test]
async fn reflection_v1alpha_lists_services_and_serves_imported_types() {
    let app = spawn_app().await;
    let MessageResponse::ListServicesResponse(list) =
        reflect(app.addr, MessageRequest::ListServices(String::new())).await
    else {
        panic!("a service list");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    for expected in [
        "commentd.v1.CommentService",
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} in {names:?}"
        );
    }
    for symbol in [
        "google.rpc.BadRequest",
        "google.protobuf.Timestamp",
        "commentd.v1.Verdict",
    ] {
        let response = reflect(
            app.addr,
            MessageRequest::FileContainingSymbol(symbol.into()),
        )
        .await;
        assert!(
            matches!(response, MessageResponse::FileDescriptorResponse(_)),
            "{symbol}: {response:?}"
        );
    }
}
