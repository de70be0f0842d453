//! The commissions' sealing keys (HPKE, X25519): `data/keys/<org>/` holds
//! one file per key, named `<created unix seconds>-<key id>.key` (0600), so
//! the newest sorts last. `jiandu keys rotate` adds one; `jiandu keys
//! public` prints the `sealing_keys` variable (public keys only, for intake)
//! and `jiandu keys private` the `reader_keys` variable (every key, old ones
//! included, for the one component that serves audited views).

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use jiandu_guest::seal::{PrivateKeyList, PublicKeyList, key_pair};

/// The key directory.
#[derive(Debug, Clone)]
pub struct KeyStore {
    dir: PathBuf,
}

impl KeyStore {
    /// Keys under `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// Adds a new key for `org`; it is sealed to from now on, and the old
    /// ones stay readable. Returns its key id.
    pub fn rotate(&self, org: &str, now: i64) -> anyhow::Result<String> {
        anyhow::ensure!(
            !org.is_empty() && org.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'),
            "`{org}` is not an org id"
        );
        let staging = self.dir.join(org).join(format!("{now}-new.key"));
        let ikm = crate::keyfile::create(&staging)?;
        let (_, public) = key_pair(org, &ikm);
        let path = self.dir.join(org).join(format!("{now}-{}.key", public.kid));
        std::fs::rename(&staging, &path).with_context(|| format!("naming {}", path.display()))?;
        Ok(public.kid)
    }

    /// Whether `org` has a key.
    pub fn has(&self, org: &str) -> anyhow::Result<bool> {
        Ok(!self.files(org)?.is_empty())
    }

    /// `org`'s key files, oldest first.
    fn files(&self, org: &str) -> anyhow::Result<Vec<PathBuf>> {
        let dir = self.dir.join(org);
        let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
            Ok(entries) => entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "key") && !is_staging(p))
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
        };
        files.sort();
        Ok(files)
    }

    /// The orgs that have keys, sorted.
    fn orgs(&self) -> anyhow::Result<Vec<String>> {
        let mut orgs: Vec<String> = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries
                .filter_map(Result::ok)
                .filter(|e| e.path().is_dir())
                .filter_map(|e| e.file_name().into_string().ok())
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e).with_context(|| format!("reading {}", self.dir.display())),
        };
        orgs.sort();
        Ok(orgs)
    }

    /// Every key pair, per org oldest first.
    fn pairs(&self) -> anyhow::Result<(PrivateKeyList, PublicKeyList)> {
        let (mut private, mut public) = (PrivateKeyList::default(), PublicKeyList::default());
        for org in self.orgs()? {
            for file in self.files(&org)? {
                let (sk, pk) = key_pair(&org, &crate::keyfile::read(&file)?);
                private.keys.push(sk);
                public.keys.push(pk);
            }
        }
        Ok((private, public))
    }

    /// The `sealing_keys` variable.
    pub fn public(&self) -> anyhow::Result<PublicKeyList> {
        Ok(self.pairs()?.1)
    }

    /// The `reader_keys` variable.
    pub fn private(&self) -> anyhow::Result<PrivateKeyList> {
        Ok(self.pairs()?.0)
    }
}

/// A key file still being written by [`KeyStore::rotate`].
fn is_staging(path: &Path) -> bool {
    path.file_stem()
        .and_then(|s| s.to_str())
        .is_some_and(|s| s.ends_with("-new"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_adds_a_newest_key_and_keeps_the_old_readable() {
        let dir = tempfile::tempdir().unwrap();
        let store = KeyStore::new(dir.path());
        assert!(!store.has("370400").unwrap());
        let first = store.rotate("370400", 100).unwrap();
        let second = store.rotate("370400", 200).unwrap();
        store.rotate("370000", 100).unwrap();
        let public = store.public().unwrap();
        let kids: Vec<_> = public
            .keys
            .iter()
            .map(|k| (k.org.as_str(), k.kid.as_str()))
            .collect();
        assert_eq!(
            kids[1..],
            [("370400", first.as_str()), ("370400", second.as_str())]
        );
        assert_eq!(store.private().unwrap().keys.len(), 3);
        #[cfg(unix)]
        for file in store.files("370400").unwrap() {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(
                std::fs::metadata(file).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        assert!(store.rotate("../x", 1).is_err());
    }
}
