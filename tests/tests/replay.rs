//! Recorded workflow histories replay against the current workflow code: a
//! change that would break running workflows (nondeterminism) fails here.
//! Re-record with `JIANDU_RECORD_HISTORIES=1 cargo xtask test` after a
//! deliberate, versioned (patched) change, and keep the earlier histories
//! under a new name (`<name>.before-<patch>.binpb`): workflows started before
//! the change still run, and must still replay.

#[test]
fn recorded_histories_replay_against_the_current_code() {
    let dir = jiandu_tests::repo().join("tests/histories");
    let mut histories = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("tests/histories exists") {
        let path = entry.expect("a directory entry").path();
        if path.extension().is_some_and(|e| e == "binpb") {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            histories.push((name, std::fs::read(&path).expect("read a history")));
        }
    }
    // One of each workflow type at least, or the test proves nothing.
    assert!(
        histories.len() >= 3,
        "only {} histories in {}",
        histories.len(),
        dir.display()
    );
    let replayed = jiandu_tests::runtime()
        .block_on(jiandu_workflows::history::replay(histories))
        .unwrap_or_else(|e| panic!("histories no longer replay:\n{e}"));
    assert!(replayed >= 3);
}
