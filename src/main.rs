use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = commentd::cli::Cli::parse();
    commentd::telemetry::init();
    commentd::cli::run(cli)
}
