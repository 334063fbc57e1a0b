//! Secret key files in `DATA_DIR/keys/`: made on first use, readable by their owner only.
//! Several servers on one PostgreSQL database must share the same files.

use std::path::Path;

use anyhow::Context as _;

/// Reads `DATA_DIR/keys/{file}`, or makes it with `generate` if it does not exist yet.
/// Returns the bytes and whether the file was just made.
pub fn load_or_create(
    data_dir: &Path,
    file: &str,
    generate: impl FnOnce() -> anyhow::Result<Vec<u8>>,
) -> anyhow::Result<(Vec<u8>, bool)> {
    let dir = data_dir.join("keys");
    let path = dir.join(file);
    match std::fs::read(&path) {
        Ok(bytes) => Ok((bytes, false)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            store::create_private_dir(&dir).with_context(|| format!("create {}", dir.display()))?;
            let bytes = generate()?;
            match write_private(&path, &bytes) {
                Ok(()) => Ok((bytes, true)),
                // Another process (the CLI next to a running server) made it first: use theirs.
                Err(e)
                    if e.downcast_ref::<std::io::Error>()
                        .is_some_and(|io| io.kind() == std::io::ErrorKind::AlreadyExists) =>
                {
                    Ok((std::fs::read(&path).with_context(|| format!("read {}", path.display()))?, false))
                }
                Err(e) => Err(e),
            }
        }
        Err(e) => Err(e).with_context(|| format!("read {}", path.display())),
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
        f.write_all(bytes).with_context(|| format!("write {}", path.display()))?;
        f.sync_all()?;
        Ok(())
    }
    #[cfg(not(unix))]
    {
        std::fs::write(path, bytes).with_context(|| format!("write {}", path.display()))
    }
}
