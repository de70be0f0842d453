//! Embeds every `calendar/<year>.txt`, so adding a year's schedule needs no code change.

fn main() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("calendar");
    jiandu_build_support::embed_dir(&dir, "txt", "CALENDAR_FILES", "calendar_files.rs");
}
