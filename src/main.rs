use std::process::ExitCode;

use clap::Parser;

// sled copies tree nodes on write and protobuf messages are built per
// request: the allocator is on every hot path, and mimalloc's is cheaper
// than glibc's for this load (see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = commentd::cli::Cli::parse();
    commentd::telemetry::init();
    commentd::cli::run(cli)
}
