//! Compiles `proto/` with protox (no system `protoc`) and generates the
//! messages, the tonic client and server, and the encoded descriptor set
//! served by reflection.

use std::{env, fs, path::PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protos = ["proto/commentd/v1/commentd.proto"];
    println!("cargo:rerun-if-changed=proto");

    let mut compiler = protox::Compiler::new(["proto"])?;
    compiler.include_imports(true).include_source_info(true);
    compiler.open_files(protos)?;

    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    fs::write(
        out_dir.join("commentd_descriptor.bin"),
        compiler.encode_file_descriptor_set(),
    )?;

    let descriptors = compiler.file_descriptor_set();
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(false)
        .compile_fds(descriptors.clone())?;
    // The server apart, on the same messages, except that it sends watch
    // events as bytes encoded once per event for all its watchers rather
    // than once per watcher (`grpc::EncodedEvent`), and that a request that
    // does not decode is INVALID_ARGUMENT (`grpc::RequestCodec`).
    let server_dir = out_dir.join("server");
    fs::create_dir_all(&server_dir)?;
    tonic_prost_build::configure()
        .build_client(false)
        .build_server(true)
        .out_dir(&server_dir)
        .codec_path("crate::grpc::RequestCodec")
        .extern_path(".commentd.v1", "crate::proto")
        .extern_path(
            ".commentd.v1.WatchCommentsResponse",
            "crate::grpc::EncodedEvent",
        )
        .compile_fds(descriptors)?;
    Ok(())
}
