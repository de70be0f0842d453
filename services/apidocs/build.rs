//! Embeds every `schemas/*.json`, so a new schema is served without a code change.

fn main() {
    // At run time: a build script binary may be reused from another checkout.
    let root = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = std::path::Path::new(&root).join("../../schemas");
    jiandu_build_support::embed_dir(&dir, "json", "SCHEMAS", "schemas.rs");
}
