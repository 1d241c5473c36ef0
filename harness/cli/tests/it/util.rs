//! Helpers to run the real `contracts` binary from the workspace root.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The workspace root (where specs/ and fixtures/ live).
pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

/// `contracts ARGS` run from the workspace root.
pub(crate) fn contracts(args: &[&str]) -> Output {
    contracts_in(&root(), args, None)
}

/// `contracts ARGS` run in `dir`, with `stdin` piped in when given.
pub(crate) fn contracts_in(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_contracts"));
    cmd.args(args)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    let mut child = cmd.spawn().expect("spawn contracts");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().expect("stdin");
        // A child that exits early closes the pipe: that is its business, not a test failure.
        let _ = pipe.write_all(input);
    }
    child.wait_with_output().expect("wait for contracts")
}

/// `contracts ARGS` with `stdin`, from the workspace root.
pub(crate) fn contracts_stdin(args: &[&str], stdin: &[u8]) -> Output {
    contracts_in(&root(), args, Some(stdin))
}

/// stdout as text.
pub(crate) fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// stderr as text.
pub(crate) fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The exit code (panics if killed by a signal).
pub(crate) fn code(o: &Output) -> i32 {
    o.status.code().expect("exited normally")
}

/// A copy of the repository's specs, fixtures and docs in a fresh temp dir, to break on purpose.
pub(crate) fn scratch_copy() -> tempfile_lite::TempDir {
    let dir = tempfile_lite::TempDir::new();
    for part in ["specs", "fixtures", "docs", "corpus"] {
        copy_tree(&root().join(part), &dir.path().join(part));
    }
    dir
}

fn copy_tree(from: &Path, to: &Path) {
    if !from.exists() {
        return;
    }
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

/// A temp dir removed on drop, without a dependency for it.
pub(crate) mod tempfile_lite {
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicUsize, Ordering};

    static NEXT: AtomicUsize = AtomicUsize::new(0);

    pub(crate) struct TempDir(PathBuf);

    impl TempDir {
        pub(crate) fn new() -> Self {
            let n = NEXT.fetch_add(1, Ordering::SeqCst);
            let path =
                std::env::temp_dir().join(format!("contracts-it-{}-{n}", std::process::id()));
            let _ = std::fs::remove_dir_all(&path);
            std::fs::create_dir_all(&path).expect("mkdir temp");
            TempDir(path)
        }

        pub(crate) fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}
