//! The key store: one wrapped data key per child in a file of its own, created atomically,
//! touched when an identity arrives, overwritten and unlinked on erasure.

use super::*;

impl Vault {
    pub(super) fn path(&self, child: &ChildKey) -> PathBuf {
        let k = child.as_str();
        self.dir.join(&k[..2]).join(format!("{k}.key"))
    }

    pub(super) fn read_key(
        &self,
        child: &ChildKey,
    ) -> Result<Option<(String, [u8; KEY_LEN])>, VaultError> {
        let path = self.path(child);
        let text = match fs::read(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(&path)(e)),
        };
        let kf: KeyFile = serde_json::from_slice(&text).map_err(|_| VaultError::Corrupt)?;
        let nonce = B64.decode(&kf.nonce).map_err(|_| VaultError::Corrupt)?;
        let wrapped = B64.decode(&kf.wrapped).map_err(|_| VaultError::Corrupt)?;
        if nonce.len() != NONCE_LEN {
            return Err(VaultError::Corrupt);
        }
        let aad = format!("{}:{}", child.as_str(), kf.key_id);
        let key = self
            .master
            .decrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &wrapped,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| VaultError::Corrupt)?;
        let key: [u8; KEY_LEN] = key.try_into().map_err(|_| VaultError::Corrupt)?;
        Ok(Some((kf.key_id, key)))
    }

    /// The child's data key, created when it has none. A key file that may not be durable yet
    /// is returned too (one created here, or by another writer in the last minute, whose sync
    /// may still be to come): nothing sealed with the key may leave the vault before
    /// [`Vault::durable`] was called with it. Marks the child as seen today.
    pub(super) fn data_key_deferred(
        &self,
        child: &ChildKey,
    ) -> Result<(String, [u8; KEY_LEN], Option<PathBuf>), VaultError> {
        if let Some((id, key)) = self.read_key(child)? {
            let fresh = self.touch(child);
            return Ok((id, key, fresh.then(|| self.path(child))));
        }
        let key: [u8; KEY_LEN] = random();
        let key_id = hex(&random::<16>());
        let nonce: [u8; NONCE_LEN] = random();
        let aad = format!("{}:{key_id}", child.as_str());
        let wrapped = self
            .master
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &key,
                    aad: aad.as_bytes(),
                },
            )
            .expect("encryption of 32 bytes cannot fail");
        let kf = KeyFile {
            key_id: key_id.clone(),
            nonce: B64.encode(nonce),
            wrapped: B64.encode(wrapped),
        };
        let path = self.path(child);
        let shard = path.parent().expect("sharded path");
        let tmp = shard.join(format!(".{}.tmp", hex(&random::<8>())));
        {
            // the shard's directory is made by the first key in it
            let mut f = match File::create(&tmp) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    fs::create_dir_all(shard).map_err(io(shard))?;
                    File::create(&tmp)
                }
                made => made,
            }
            .map_err(io(&tmp))?;
            f.write_all(&serde_json::to_vec(&kf).expect("key file serialises"))
                .map_err(io(&tmp))?;
        }
        // link fails when another writer created the child's key first: then use theirs (it
        // is made durable with ours: the sync covers the whole key store)
        let linked = fs::hard_link(&tmp, &path);
        let _ = fs::remove_file(&tmp);
        match linked {
            Ok(()) => Ok((key_id, key, Some(path))),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let (id, key) = self.read_key(child)?.ok_or(VaultError::Erased)?;
                Ok((id, key, Some(path)))
            }
            Err(e) => Err(io(&path)(e)),
        }
    }

    /// Makes the key files `created` (and their directory entries) durable: on Linux with one
    /// sync of the key store's file system however many there are (a batch of a thousand new
    /// children costs one sync, not two thousand), elsewhere file by file.
    pub(super) fn durable(&self, created: &[PathBuf]) -> Result<(), VaultError> {
        if created.is_empty() {
            return Ok(());
        }
        #[cfg(target_os = "linux")]
        {
            sync_fs(&self.dir).map_err(io(&self.dir))
        }
        #[cfg(not(target_os = "linux"))]
        {
            for path in created {
                File::open(path)
                    .and_then(|f| f.sync_all())
                    .map_err(io(path))?;
                if let Some(shard) = path.parent() {
                    sync_dir(shard);
                }
            }
            Ok(())
        }
    }

    /// Sets the key file's mtime to now when it is older than a day (never re-creates it).
    /// Whether the file was made (or last touched) less than a minute ago.
    pub(super) fn touch(&self, child: &ChildKey) -> bool {
        let path = self.path(child);
        let age = fs::metadata(&path)
            .and_then(|m| m.modified())
            .map(|m| m.elapsed().unwrap_or_default());
        match age {
            Ok(a) if a > Duration::from_secs(86_400) => {
                if let Ok(f) = OpenOptions::new().write(true).open(&path) {
                    let _ = f.set_modified(SystemTime::now());
                }
                false
            }
            Ok(a) => a < Duration::from_secs(60),
            Err(_) => true,
        }
    }
}

impl Vault {
    /// Whether the child has a data key.
    pub fn has_key(&self, child: &ChildKey) -> bool {
        self.path(child).exists()
    }

    /// Destroys the child's data key: overwritten, synced, unlinked. True when there was one.
    pub fn erase(&self, child: &ChildKey) -> Result<bool, VaultError> {
        let path = self.path(child);
        let len = match fs::metadata(&path) {
            Ok(m) => m.len() as usize,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(io(&path)(e)),
        };
        {
            let mut f = OpenOptions::new()
                .write(true)
                .open(&path)
                .map_err(io(&path))?;
            f.write_all(&vec![0u8; len]).map_err(io(&path))?;
            f.sync_all().map_err(io(&path))?;
        }
        fs::remove_file(&path).map_err(io(&path))?;
        if let Some(shard) = path.parent() {
            sync_dir(shard);
        }
        Ok(true)
    }

    /// The children whose last identity arrived longer than `term` before `now`.
    pub fn expired(&self, term: Duration, now: SystemTime) -> Result<Vec<ChildKey>, VaultError> {
        let mut out = Vec::new();
        let shards = match fs::read_dir(&self.dir) {
            Ok(s) => s,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(io(&self.dir)(e)),
        };
        for shard in shards.flatten() {
            let Ok(files) = fs::read_dir(shard.path()) else {
                continue;
            };
            for f in files.flatten() {
                let name = f.file_name();
                let Some(stem) = name.to_str().and_then(|n| n.strip_suffix(".key")) else {
                    continue;
                };
                let Ok(child) = ChildKey::parse(stem) else {
                    continue;
                };
                let modified = f.metadata().and_then(|m| m.modified()).ok();
                if modified.is_some_and(|m| now.duration_since(m).unwrap_or_default() > term) {
                    out.push(child);
                }
            }
        }
        out.sort();
        Ok(out)
    }
}

pub(super) fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Flushes everything written to the file system that holds `dir` (`syncfs(2)`): the data and
/// directory entries of every key file created before the call are on disk when it returns.
#[cfg(target_os = "linux")]
fn sync_fs(dir: &Path) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let d = File::open(dir)?;
    // SAFETY: syncfs takes a file descriptor and touches no memory of ours; `d` keeps the
    // descriptor open for the duration of the call.
    let rc = unsafe { libc::syncfs(d.as_raw_fd()) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}
