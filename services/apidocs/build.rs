//! Embeds every `schemas/*.json`, so a new schema is served without a code change.

fn main() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas");
    jiandu_build_support::embed_dir(&dir, "json", "SCHEMAS", "schemas.rs");
}
