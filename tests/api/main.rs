//! The service's behaviour, driven through the generated gRPC client against
//! the real server on port 0 with a temporary data directory.

mod helpers;

mod bad_input;
mod durability;
mod faults;
mod idempotency;
mod inspection;
mod malformed;
mod moderation;
mod moderator_decisions;
mod pagination;
mod stress;
mod watch;
