//! A component's `files`, read as Spin reads them: directories mounted where
//! the manifest says (`{ source = "dir", destination = "/x" }`) and glob
//! patterns (`"static/**/*"`) whose matches keep their paths from the
//! manifest's directory, less what `exclude_files` matches. Directory mounts
//! alone are preopened in place; with a pattern or an exclusion, the files
//! are copied into a staging directory first, which is mounted at `/`.
//! Either way the component sees them read-only.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::manifest::FilesEntry;

/// The directories to preopen for a component, each with where it is seen.
/// `staging` is this component's own directory for copies, emptied first when used.
pub fn preopens(
    entries: &[FilesEntry],
    exclude: &[String],
    manifest_dir: &Path,
    staging: &Path,
) -> anyhow::Result<Vec<(PathBuf, String)>> {
    let in_place = exclude.is_empty() && entries.iter().all(|e| matches!(e, FilesEntry::Mount(_)));
    if in_place {
        return entries
            .iter()
            .filter_map(|e| match e {
                FilesEntry::Mount(m) => Some(m),
                FilesEntry::Pattern(_) => None,
            })
            .map(|mount| {
                let source = manifest_dir.join(&mount.source);
                anyhow::ensure!(
                    source.is_dir(),
                    "files source {} is not a directory",
                    source.display()
                );
                Ok((source, mount.destination.clone()))
            })
            .collect();
    }
    if staging.exists() {
        std::fs::remove_dir_all(staging)
            .with_context(|| format!("emptying {}", staging.display()))?;
    }
    std::fs::create_dir_all(staging).with_context(|| format!("creating {}", staging.display()))?;
    let excluded = |relative: &str| exclude.iter().any(|p| matches(p, relative));
    for entry in entries {
        match entry {
            FilesEntry::Pattern(pattern) => {
                for relative in walk(manifest_dir)? {
                    if matches(pattern, &relative) && !excluded(&relative) {
                        copy(&manifest_dir.join(&relative), &staging.join(&relative))?;
                    }
                }
            }
            FilesEntry::Mount(mount) => {
                let source = manifest_dir.join(&mount.source);
                anyhow::ensure!(
                    source.is_dir(),
                    "files source {} is not a directory",
                    source.display()
                );
                let prefix = mount
                    .source
                    .to_string_lossy()
                    .trim_end_matches('/')
                    .to_owned();
                let target = staging.join(mount.destination.trim_start_matches('/'));
                for inner in walk(&source)? {
                    let relative = if prefix.is_empty() || prefix == "." {
                        inner.clone()
                    } else {
                        format!("{prefix}/{inner}")
                    };
                    if !excluded(&relative) {
                        copy(&source.join(&inner), &target.join(&inner))?;
                    }
                }
            }
        }
    }
    Ok(vec![(staging.to_owned(), "/".to_owned())])
}

/// Every file below `root`, as `/`-separated paths relative to it.
fn walk(root: &Path) -> anyhow::Result<Vec<String>> {
    let mut found = Vec::new();
    let mut pending = vec![PathBuf::new()];
    while let Some(dir) = pending.pop() {
        let full = root.join(&dir);
        for entry in
            std::fs::read_dir(&full).with_context(|| format!("reading {}", full.display()))?
        {
            let entry = entry?;
            let relative = dir.join(entry.file_name());
            if entry.file_type()?.is_dir() {
                pending.push(relative);
            } else {
                found.push(relative.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    found.sort();
    Ok(found)
}

fn copy(from: &Path, to: &Path) -> anyhow::Result<()> {
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::copy(from, to)
        .with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
    Ok(())
}

/// Whether the `/`-separated `path` matches the glob `pattern`: `**` is any
/// number of whole segments, `*` any characters within one, `?` one character.
pub fn matches(pattern: &str, path: &str) -> bool {
    let pattern: Vec<&str> = pattern.split('/').filter(|s| !s.is_empty()).collect();
    let path: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    segments(&pattern, &path)
}

fn segments(pattern: &[&str], path: &[&str]) -> bool {
    match pattern.split_first() {
        None => path.is_empty(),
        Some((&"**", rest)) => (0..=path.len()).any(|skip| segments(rest, &path[skip..])),
        Some((first, rest)) => path.split_first().is_some_and(|(name, tail)| {
            within(first.as_bytes(), name.as_bytes()) && segments(rest, tail)
        }),
    }
}

/// `*` and `?` within one segment.
fn within(pattern: &[u8], name: &[u8]) -> bool {
    match pattern.split_first() {
        None => name.is_empty(),
        Some((b'*', rest)) => (0..=name.len()).any(|skip| within(rest, &name[skip..])),
        Some((b'?', rest)) => !name.is_empty() && within(rest, &name[1..]),
        Some((c, rest)) => name.first() == Some(c) && within(rest, &name[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_as_spin_writes_them() {
        assert!(matches("static/**/*", "static/a.txt"));
        assert!(matches("static/**/*", "static/css/site.css"));
        assert!(!matches("static/**/*", "other/a.txt"));
        assert!(matches("*.md", "README.md"));
        assert!(!matches("*.md", "docs/README.md"));
        assert!(matches("**/*.md", "docs/deep/README.md"));
        assert!(matches("img/?.png", "img/a.png"));
        assert!(!matches("img/?.png", "img/ab.png"));
    }
}
