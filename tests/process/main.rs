//! The `commentd` binary as operators run it: as a child process, killed,
//! restarted, signalled, misconfigured.

mod cli;
mod crash;
mod harness;
mod lifecycle;
