//! commentd: a comment-moderation service.
//!
//! See `ARCHITECTURE.md` for the map of modules and their invariants.

pub mod activity;
pub mod app;
pub mod cli;
pub mod core;
pub mod domain;
pub mod eval;
pub mod feed;
pub mod grpc;
pub mod memory;
pub mod moderation;
pub mod store;
pub mod telemetry;

/// Code generated from `proto/commentd/v1/commentd.proto`.
pub mod proto {
    #![allow(clippy::all, missing_docs)]
    tonic::include_proto!("commentd.v1");

    /// The encoded descriptor set of the API and everything it imports,
    /// served by reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        tonic::include_file_descriptor_set!("commentd_descriptor");

    /// The server side of the service: the same messages, except that
    /// watch events go out as [`crate::grpc::EncodedEvent`].
    pub mod server {
        include!(concat!(env!("OUT_DIR"), "/server/commentd.v1.rs"));
    }
}
