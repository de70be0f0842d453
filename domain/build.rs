//! Embeds every `calendar/<year>.txt`, so adding a year's schedule needs no code change.

fn main() {
    // At run time: a build script binary may be reused from another checkout.
    let root = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = std::path::Path::new(&root).join("calendar");
    jiandu_build_support::embed_dir(&dir, "txt", "CALENDAR_FILES", "calendar_files.rs");
}
