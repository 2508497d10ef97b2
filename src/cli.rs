//! The command line: `commentd` serves; subcommands check rules, evaluate a
//! corpus and check a data directory.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::app::{Application, Settings, load_rules, shutdown_signal};

#[derive(Debug, Parser)]
#[command(
    name = "commentd",
    version,
    about = "Comment moderation service",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the service (the default).
    Serve(ServeArgs),
    /// Work with rule files.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// Evaluate the rules on a labelled corpus (JSON Lines): recall per
    /// category, false positives, every miss.
    Eval {
        corpus: PathBuf,
        /// Rule file; the built-in rules when absent.
        #[arg(long)]
        rules: Option<PathBuf>,
    },
    /// Check a data directory offline: indexes, comments and the event log
    /// agree. Exits 1 on any inconsistency.
    Check {
        #[arg(long, env = "COMMENTD_DATA_DIR", default_value = "./data")]
        data_dir: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Validate a rule file without starting the server.
    Check { file: PathBuf },
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "COMMENTD_LISTEN", default_value = "127.0.0.1:50051")]
    pub listen: SocketAddr,
    /// Directory of the sled database.
    #[arg(long, env = "COMMENTD_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Rule file (TOML); the built-in rules when absent. SIGHUP reloads it.
    #[arg(long, env = "COMMENTD_RULES")]
    pub rules: Option<PathBuf>,
    /// sled page cache, in MiB.
    #[arg(
        long,
        env = "COMMENTD_CACHE_MB",
        default_value_t = crate::store::DEFAULT_CACHE_MB,
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    pub cache_mb: u64,
    /// Largest comment body, in bytes.
    #[arg(long, env = "COMMENTD_MAX_BODY_BYTES", default_value_t = 8192, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub max_body_bytes: usize,
    /// Largest gRPC request message, in bytes.
    #[arg(long, env = "COMMENTD_MAX_REQUEST_BYTES", default_value_t = 65536, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub max_request_bytes: usize,
    /// Most WatchComments streams at once.
    #[arg(long, env = "COMMENTD_MAX_WATCHERS", default_value_t = 10_000, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub max_watchers: usize,
    /// Concurrent HTTP/2 streams per connection.
    #[arg(
        long,
        env = "COMMENTD_MAX_STREAMS_PER_CONNECTION",
        default_value_t = 1024,
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub max_streams_per_connection: u32,
    /// Deadline for unary requests, in seconds.
    #[arg(long, env = "COMMENTD_REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    pub request_timeout_secs: u64,
    /// How long shutdown waits for requests in flight, in seconds.
    #[arg(long, env = "COMMENTD_SHUTDOWN_GRACE_SECS", default_value_t = 10)]
    pub shutdown_grace_secs: u64,
}

impl ServeArgs {
    pub fn settings(&self) -> Settings {
        Settings {
            listen: self.listen,
            data_dir: self.data_dir.clone(),
            rules: self.rules.clone(),
            cache_mb: self.cache_mb,
            max_body_bytes: self.max_body_bytes,
            max_request_bytes: self.max_request_bytes,
            max_watchers: self.max_watchers,
            max_streams_per_connection: self.max_streams_per_connection,
            request_timeout: Duration::from_secs(self.request_timeout_secs),
            shutdown_grace: Duration::from_secs(self.shutdown_grace_secs),
            ..Settings::default()
        }
    }
}

/// Runs the command and says how it went.
pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        None => serve(&cli.serve),
        Some(Command::Serve(args)) => serve(&args),
        Some(Command::Rules {
            command: RulesCommand::Check { file },
        }) => match load_rules(Some(&file)) {
            Ok(rules) => {
                println!(
                    "{}: OK: {} rules, {} patterns, version {}",
                    file.display(),
                    rules.rules().len(),
                    rules.pattern_count(),
                    rules.version()
                );
                ExitCode::SUCCESS
            }
            Err(err) => {
                eprintln!("{err}");
                ExitCode::FAILURE
            }
        },
        Some(Command::Eval { corpus, rules }) => eval(&corpus, rules.as_deref()),
        Some(Command::Check { data_dir }) => match crate::store::check(&data_dir) {
            Ok(report) => {
                print!("{report}");
                if report.is_consistent() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                }
            }
            Err(err) => {
                eprintln!("{err}");
                ExitCode::from(2)
            }
        },
    }
}

fn eval(corpus: &std::path::Path, rules: Option<&std::path::Path>) -> ExitCode {
    let rules = match load_rules(rules) {
        Ok(rules) => rules,
        Err(err) => {
            eprintln!("{err}");
            return ExitCode::from(2);
        }
    };
    let source = match std::fs::read_to_string(corpus) {
        Ok(source) => source,
        Err(err) => {
            eprintln!("cannot read {}: {err}", corpus.display());
            return ExitCode::from(2);
        }
    };
    let samples = match crate::eval::parse_corpus(&source) {
        Ok(samples) => samples,
        Err(err) => {
            eprintln!("{}: {err}", corpus.display());
            return ExitCode::from(2);
        }
    };
    let report = crate::eval::evaluate(&rules, &samples);
    let mut out = std::io::stdout().lock();
    let written = writeln!(
        out,
        "{} comments, rules {} ({})",
        samples.len(),
        rules.name(),
        rules.version()
    )
    .and_then(|()| write!(out, "{report}"));
    match written {
        // Piped into `head`: the reader has what it wanted.
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("cannot write the report: {err}");
            ExitCode::FAILURE
        }
        Ok(()) => ExitCode::SUCCESS,
    }
}

fn serve(args: &ServeArgs) -> ExitCode {
    // A body must fit in a request with the other fields around it.
    if args.max_body_bytes >= args.max_request_bytes {
        eprintln!(
            "commentd: --max-body-bytes ({}) must be smaller than --max-request-bytes ({})",
            args.max_body_bytes, args.max_request_bytes
        );
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let settings = args.settings();
    runtime.block_on(async {
        let app = match Application::build(settings).await {
            Ok(app) => app,
            Err(err) => {
                eprintln!("commentd: {err}");
                return ExitCode::FAILURE;
            }
        };
        let signal = shutdown_signal(app.rules_reloader());
        match app.run_until(signal).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("commentd: {err}");
                ExitCode::FAILURE
            }
        }
    })
}
