//! `contracts`: the OneProtect contract harness command line.

#[cfg(feature = "broker")]
mod broker;
mod cmd;
mod diag;
mod error;
mod exit;
mod progress;
mod report;

use clap::{Parser, Subcommand};
use std::io::Write;
use std::process::ExitCode;

/// OneProtect contract harness: validate events, replay fixtures, generate and fuzz.
#[derive(Debug, Parser)]
#[command(name = "contracts", version, about)]
struct Cli {
    /// Draw no progress bars (they are drawn only on a terminal, and never under CI=true).
    #[arg(long, short, global = true)]
    quiet: bool,
    #[command(subcommand)]
    cmd: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Generate instances of a JSON Schema (valid, or mutated with --invalid) as JSON Lines.
    Gen(cmd::gen_::Args),
    /// Validate events (JSON Lines or JSON documents) against the contracts.
    Validate(cmd::validate::Args),
    /// Replay golden fixtures and the regression corpus; each must get exactly its declared verdict.
    Replay(cmd::replay::Args),
    /// Check that schemas, AsyncAPI, fixtures and docs agree (the conformance gate).
    Check(cmd::check::Args),
    /// Print docs/events.md generated from the schemas.
    Docs(cmd::docs::Args),
    /// Compare two schema versions: rule verdict plus generated counterexamples.
    Compat(cmd::compat::Args),
    /// Report which schema locations fixtures and generated events exercise.
    Coverage(cmd::coverage::Args),
    /// Drive a consumer with generated valid and mutated events.
    FuzzConsumer(cmd::fuzz_consumer::Args),
    /// Drive a processor (event in, events out) and check what it emits.
    FuzzProcessor(cmd::fuzz_processor::Args),
    /// Validate what a producer emits.
    CheckProducer(cmd::check_producer::Args),
    /// Run the gate and write one self-contained HTML report (verdict, failures, coverage, history).
    Report(cmd::report::Args),
    /// Validate event streams, then judge them by the cross-event rules (docs/streams.md).
    CheckStream(cmd::check_stream::Args),
    /// Generate a valid (or, with --invalid, mutated) event stream of one family as JSON Lines.
    GenStream(cmd::gen_stream::Args),
    /// Validate events and publish the valid ones to NATS JetStream (the publish gate).
    #[cfg(feature = "broker")]
    Publish(cmd::publish::Args),
    /// Judge the messages of a JetStream stream live; dead-letter violators.
    #[cfg(feature = "broker")]
    Monitor(cmd::monitor::Args),
    /// Run a local NATS JetStream server (`broker up`).
    #[cfg(feature = "broker")]
    Broker(cmd::broker::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    progress::set_quiet(cli.quiet);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let result = match &cli.cmd {
        Command::Gen(args) => cmd::gen_::run(args, &mut out),
        Command::Validate(args) => cmd::validate::run(args, &mut out),
        Command::Replay(args) => cmd::replay::run(args, &mut out),
        Command::Check(args) => cmd::check::run(args, &mut out),
        Command::Docs(args) => cmd::docs::run(args, &mut out),
        Command::Compat(args) => cmd::compat::run(args, &mut out),
        Command::Coverage(args) => cmd::coverage::run(args, &mut out),
        Command::FuzzConsumer(args) => cmd::fuzz_consumer::run(args, &mut out),
        Command::FuzzProcessor(args) => cmd::fuzz_processor::run(args, &mut out),
        Command::CheckProducer(args) => cmd::check_producer::run(args, &mut out),
        Command::Report(args) => cmd::report::run(args, &mut out),
        Command::CheckStream(args) => cmd::check_stream::run(args, &mut out),
        Command::GenStream(args) => cmd::gen_stream::run(args, &mut out),
        #[cfg(feature = "broker")]
        Command::Publish(args) => cmd::publish::run(args, &mut out),
        #[cfg(feature = "broker")]
        Command::Monitor(args) => cmd::monitor::run(args, &mut out),
        #[cfg(feature = "broker")]
        Command::Broker(args) => cmd::broker::run(args, &mut out),
    };
    let flushed = out.flush();
    match result {
        Ok(outcome) => {
            if let Err(e) = flushed {
                if e.kind() != std::io::ErrorKind::BrokenPipe {
                    return report(&error::CliError::io("stdout", e));
                }
            }
            outcome.code()
        }
        Err(e) if e.is_broken_pipe() => ExitCode::from(exit::OK),
        Err(e) => report(&e),
    }
}

/// Print `e` once, with its snippet, help and cause chain (each cause once), and give its exit code.
#[allow(clippy::print_stderr)] // the one place that prints errors
fn report(e: &error::CliError) -> ExitCode {
    use std::io::IsTerminal;
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    eprint!("{}", diag::render(e, color));
    e.code()
}
