//! Manifest fixtures: every `ok/*.toml` parses to the form in its `.json`
//! twin; every `invalid/*.toml` is refused with the text in its `.err` twin.
//! Set `JIANDU_BLESS=1` to (re)write the `.json` files after a deliberate change.

use std::path::Path;

use jiandu_host::manifest::Manifest;

fn fixtures(kind: &str) -> Vec<std::path::PathBuf> {
    // At run time: a test binary may be reused from another checkout.
    let root = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = Path::new(&root).join("tests/fixtures/manifest").join(kind);
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no {kind} fixtures");
    files
}

#[test]
fn ok_manifests_parse_to_their_expected_form() {
    for path in fixtures("ok") {
        let manifest =
            Manifest::from_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let parsed = serde_json::to_value(&manifest).unwrap();
        let expected_path = path.with_extension("json");
        if std::env::var_os("JIANDU_BLESS").is_some() {
            std::fs::write(
                &expected_path,
                serde_json::to_string_pretty(&parsed).unwrap() + "\n",
            )
            .unwrap();
        }
        let expected: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(&expected_path)
                .unwrap_or_else(|_| panic!("missing {}", expected_path.display())),
        )
        .unwrap();
        assert_eq!(parsed, expected, "{}", path.display());
    }
}

#[test]
fn invalid_manifests_are_refused_with_a_message_that_says_what_to_fix() {
    for path in fixtures("invalid") {
        let expected = std::fs::read_to_string(path.with_extension("err")).unwrap();
        let error = match Manifest::from_file(&path) {
            Ok(_) => panic!("{} was accepted", path.display()),
            Err(e) => e.to_string(),
        };
        assert!(
            error.contains(expected.trim()),
            "{}: expected {:?} in {error:?}",
            path.display(),
            expected.trim()
        );
    }
}
