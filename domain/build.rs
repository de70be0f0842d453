//! Embeds every `calendar/<year>.txt` file, so adding a year's schedule needs
//! no code change.

use std::fmt::Write as _;

fn main() {
    let dir = std::path::Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("calendar");
    println!("cargo::rerun-if-changed={}", dir.display());
    let mut years: Vec<_> = std::fs::read_dir(&dir)
        .expect("domain/calendar exists")
        .map(|e| e.expect("readable calendar entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    years.sort();
    let mut out = String::from(
        "/// Every embedded calendar file: (file name, contents).\npub(crate) const CALENDAR_FILES: &[(&str, &str)] = &[\n",
    );
    for path in years {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        writeln!(
            out,
            "    ({name:?}, include_str!({:?})),",
            path.display().to_string()
        )
        .unwrap();
    }
    out.push_str("];\n");
    let dest = std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("calendar_files.rs");
    std::fs::write(dest, out).unwrap();
}
