use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    commentd::memory::limit_arenas();
    let cli = commentd::cli::Cli::parse();
    commentd::telemetry::init();
    commentd::cli::run(cli)
}
