//! Build-script helpers shared by Jiandu's crates.

use std::fmt::Write as _;
use std::path::Path;

/// Embeds every `*.<extension>` file of `dir` (sorted by name) as
/// `const <name>: &[(&str, &str)]` of (file name, contents) in
/// `$OUT_DIR/<out_file>`, for `include!`. Adding a file needs no code change.
///
/// # Panics
/// If `dir` cannot be read; a build script cannot go on without its data.
pub fn embed_dir(dir: &Path, extension: &str, name: &str, out_file: &str) {
    println!("cargo::rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == extension))
        .collect();
    files.sort();
    let mut out = format!(
        "/// Every embedded file: (file name, contents).\nconst {name}: &[(&str, &str)] = &[\n"
    );
    for path in files {
        let file = path
            .file_name()
            .expect("a file name")
            .to_string_lossy()
            .into_owned();
        let absolute = path.canonicalize().expect("an existing file");
        writeln!(
            out,
            "    ({file:?}, include_str!({:?})),",
            absolute.display().to_string()
        )
        .expect("writing to a String");
    }
    out.push_str("];\n");
    let out_dir = std::env::var("OUT_DIR").expect("run from a build script");
    std::fs::write(Path::new(&out_dir).join(out_file), out).expect("writing to OUT_DIR");
}
