use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

use fake_kit::Clock;

use super::format::capture;
use super::*;
use crate::certificates::store::{CertificateMaterial, IssuancePolicy, IssuanceRequest};
use crate::secrets::store::SecretValue;
use crate::secrets::store::{NewSecretVersion, SecretStore};
use crate::state::{AppState, Settings};
use crate::store::Retention;

fn value(v: &str) -> NewSecretVersion {
    NewSecretVersion {
        payload: SecretValue {
            value: v.to_owned(),
            content_type: Some("text/plain".to_owned()),
        },
        ..NewSecretVersion::default()
    }
}

#[test]
fn capture_and_rebuild_keep_versions_and_deletions() {
    let mut store = SecretStore::default();
    store.set("Kept", value("a"), 10).unwrap();
    store.set("kept", value("b"), 20).unwrap();
    store.set("gone", value("c"), 30).unwrap();
    let retention = Retention {
        days: 7,
        purge_protection: false,
    };
    store.delete("gone", 40, retention).unwrap();
    let captured: Vec<ObjectState<SecretState>> = capture(&store);
    let text = serde_json::to_string(&captured).unwrap();
    let parsed: Vec<ObjectState<SecretState>> = serde_json::from_str(&text).unwrap();
    let rebuilt: SecretStore = rebuild(parsed).unwrap();
    assert_eq!(rebuilt.object("KEPT"), store.object("kept"));
    assert_eq!(rebuilt.deleted("gone"), store.deleted("gone"));
    assert_eq!(rebuilt.object("kept").unwrap().name, "Kept");
}

#[test]
fn certificates_survive_capture_and_rebuild() {
    use crate::certificates::store::{
        CertificateMaterial, CertificateStore, IssuanceRequest, default_policy, issue_self_signed,
    };
    let policy = IssuancePolicy {
        subject: "CN=kept".to_owned(),
        ..default_policy()
    };
    let (issued, csr) = issue_self_signed(&policy, 100).unwrap();
    let mut store = CertificateStore::default();
    store
        .set(
            "kept",
            crate::store::NewVersion {
                payload: CertificateMaterial {
                    cer: issued.chain[0].clone(),
                    policy,
                    request: Some(IssuanceRequest {
                        request_id: "r".repeat(32),
                        csr,
                    }),
                },
                tags: None,
                enabled: None,
                not_before: Some(issued.not_before),
                expires: Some(issued.expires),
            },
            100,
        )
        .unwrap();
    let captured: Vec<ObjectState<CertificateState>> = capture(&store);
    let text = serde_json::to_string(&captured).unwrap();
    let parsed: Vec<ObjectState<CertificateState>> = serde_json::from_str(&text).unwrap();
    let rebuilt: CertificateStore = rebuild(parsed).unwrap();
    assert_eq!(rebuilt.object("kept"), store.object("kept"));
}

fn durable_state(dir: &Path) -> AppState {
    let config = crate::EmulatorConfig::from_yaml(
        "vaults: [{name: Kv1, tenantId: 11111111-1111-1111-1111-111111111111}]",
    )
    .unwrap();
    let settings = Settings {
        state_file: Some(dir.join("state.json")),
        ..Settings::default()
    };
    let state = AppState::new(config, Clock::system(), settings).unwrap();
    state.persist().unwrap();
    state
}

fn journal_lines(dir: &Path) -> usize {
    read_journal(&dir.join("state.json.journal")).unwrap().len()
}

#[test]
fn journaled_changes_replay_over_the_snapshot_and_a_torn_tail_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let state = durable_state(dir.path());
    let vault = state.vault("kv1").unwrap();
    vault.secrets().set("a", value("1"), 10).unwrap();
    vault.secrets().set("a", value("2"), 11).unwrap();
    vault.secrets().set("b", value("3"), 12).unwrap();
    let retention = Retention {
        days: 7,
        purge_protection: false,
    };
    vault.secrets().delete("b", 13, retention).unwrap();
    state.sync().unwrap();
    assert_eq!(journal_lines(dir.path()), 4);
    // Nothing new: a covered ticket writes nothing.
    state.sync().unwrap();
    assert_eq!(journal_lines(dir.path()), 4);
    let expected = state.snapshot();

    // A crash mid-append: part of a record, no newline.
    let mut journal = OpenOptions::new()
        .append(true)
        .open(dir.path().join("state.json.journal"))
        .unwrap();
    journal
        .write_all(br#"{"seq":5,"vault":"kv1","secr"#)
        .unwrap();
    let loaded = Snapshot::load(&dir.path().join("state.json"))
        .unwrap()
        .unwrap();
    assert_eq!(loaded, expected);
    assert_eq!(loaded.journal_seq, 4);
    let restored = AppState::from_snapshot(loaded, Clock::system(), Settings::default())
        .unwrap()
        .vault("kv1")
        .unwrap();
    assert_eq!(restored.secrets().versions("a").len(), 2);
    assert!(restored.secrets().deleted("b").is_ok());

    // The same bytes anywhere but at the end are corruption, not a torn tail.
    journal.write_all(b"\n{}\n").unwrap();
    assert!(matches!(
        Snapshot::load(&dir.path().join("state.json")),
        Err(PersistError::Journal { line: 5, .. })
    ));
}

#[test]
fn a_certificate_with_its_key_and_secret_replays_from_the_journal() {
    use crate::certificates::store::{Issued, default_policy, issue_self_signed};
    use crate::store::{NewVersion, new_version_id};
    fn new<P>(payload: P, issued: &Issued) -> NewVersion<P> {
        NewVersion {
            payload,
            tags: None,
            enabled: None,
            not_before: Some(issued.not_before),
            expires: Some(issued.expires),
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let state = durable_state(dir.path());
    let vault = state.vault("kv1").unwrap();
    let policy = IssuancePolicy {
        subject: "CN=journaled".to_owned(),
        ..default_policy()
    };
    let (issued, csr) = issue_self_signed(&policy, 10).unwrap();
    // What the certificate handlers store: three objects under one version id.
    let version = new_version_id();
    let certificate = CertificateMaterial {
        cer: issued.chain[0].clone(),
        policy,
        request: Some(IssuanceRequest {
            request_id: "r".repeat(32),
            csr,
        }),
    };
    vault
        .certificates()
        .set_version("Cert", version.clone(), new(certificate, &issued), 10)
        .unwrap();
    vault
        .secrets()
        .set_version("Cert", version.clone(), value("pem"), 10)
        .unwrap();
    vault
        .keys()
        .set_version(
            "Cert",
            version.clone(),
            new(issued.jwk.clone(), &issued),
            10,
        )
        .unwrap();
    state.sync().unwrap();
    let records = read_journal(&dir.path().join("state.json.journal")).unwrap();
    assert!(
        records
            .iter()
            .any(|r| matches!(r.change, KindChange::Certificates(_)))
    );
    let expected = state.snapshot();
    drop(vault);
    drop(state);

    // No compaction since the certificate was made: it comes back from the journal alone.
    assert!(
        Snapshot::read(&path).unwrap().unwrap().vaults[0]
            .certificates
            .is_empty()
    );
    let loaded = Snapshot::load(&path).unwrap().unwrap();
    assert_eq!(loaded, expected);
    let restored = AppState::from_snapshot(loaded, Clock::system(), Settings::default())
        .unwrap()
        .vault("kv1")
        .unwrap();
    let (name, found) = restored.certificates().get("cert", None).unwrap();
    assert_eq!((name.as_str(), &found.version), ("Cert", &version));
    assert_eq!(
        restored
            .secrets()
            .get("cert", Some(&version))
            .unwrap()
            .1
            .payload
            .value,
        "pem"
    );
    assert_eq!(
        restored
            .keys()
            .get("cert", Some(&version))
            .unwrap()
            .1
            .payload,
        issued.jwk
    );
}

#[test]
fn a_restart_after_compaction_keeps_every_write() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let state = durable_state(dir.path());
    let vault = state.vault("kv1").unwrap();
    vault.secrets().set("a", value("1"), 10).unwrap();
    state.sync().unwrap();
    state.persist().unwrap();
    assert_eq!(journal_lines(dir.path()), 0);
    assert_eq!(Snapshot::load(&path).unwrap().unwrap().journal_seq, 1);
    vault.secrets().set("a", value("2"), 11).unwrap();
    state.sync().unwrap();
    let expected = state.snapshot();
    drop(vault);
    drop(state);

    let loaded = Snapshot::load(&path).unwrap().unwrap();
    assert_eq!(loaded, expected);
    // The restarted state numbers its records after the replayed ones.
    let settings = Settings {
        state_file: Some(path.clone()),
        ..Settings::default()
    };
    let restarted = AppState::from_snapshot(loaded, Clock::system(), settings).unwrap();
    restarted.persist().unwrap();
    restarted
        .vault("kv1")
        .unwrap()
        .secrets()
        .set("a", value("3"), 12)
        .unwrap();
    restarted.sync().unwrap();
    let records = read_journal(&dir.path().join("state.json.journal")).unwrap();
    assert_eq!(records.iter().map(|r| r.seq).collect::<Vec<_>>(), [3]);
    let reloaded = Snapshot::load(&path).unwrap().unwrap();
    assert_eq!(reloaded, restarted.snapshot());
}

#[test]
fn a_snapshot_taken_after_a_crash_mid_compaction_skips_the_records_it_includes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let state = durable_state(dir.path());
    state
        .vault("kv1")
        .unwrap()
        .secrets()
        .set("a", value("1"), 10)
        .unwrap();
    state.sync().unwrap();
    let journal = std::fs::read(dir.path().join("state.json.journal")).unwrap();
    state.persist().unwrap();
    // A crash after the new snapshot's rename but before the journal was emptied.
    std::fs::write(dir.path().join("state.json.journal"), journal).unwrap();
    let loaded = Snapshot::load(&path).unwrap().unwrap();
    assert_eq!(loaded, state.snapshot());
    assert_eq!(
        loaded.vaults[0].secrets[0].versions.len(),
        1,
        "the record is not applied twice"
    );
}

#[test]
fn a_journal_that_does_not_continue_the_snapshot_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let state = durable_state(dir.path());
    let vault = state.vault("kv1").unwrap();
    vault.secrets().set("a", value("1"), 10).unwrap();
    vault.secrets().set("a", value("2"), 11).unwrap();
    state.sync().unwrap();
    let journal = dir.path().join("state.json.journal");
    let text = std::fs::read_to_string(&journal).unwrap();
    let second = text.lines().nth(1).unwrap();
    std::fs::write(&journal, format!("{second}\n")).unwrap();
    assert!(matches!(
        Snapshot::load(&path),
        Err(PersistError::Invalid(message)) if message.contains("does not continue")
    ));
}

#[test]
fn saving_a_snapshot_drops_the_journal_of_the_state_it_replaces() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let state = durable_state(dir.path());
    let imported = state.snapshot();
    state
        .vault("kv1")
        .unwrap()
        .secrets()
        .set("a", value("1"), 10)
        .unwrap();
    state.sync().unwrap();
    imported.save(&path).unwrap();
    assert_eq!(Snapshot::load(&path).unwrap().unwrap(), imported);
}

#[test]
fn another_format_is_refused() {
    let dir = std::env::temp_dir().join(format!("fake-akv-format-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("state.json");
    std::fs::write(&path, r#"{"format": 2, "backupKey": "", "vaults": []}"#).unwrap();
    assert!(matches!(
        Snapshot::load(&path),
        Err(PersistError::Format { found: 2 })
    ));
    assert!(Snapshot::load(&dir.join("absent.json")).unwrap().is_none());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_crash_at_any_point_of_a_rotation_replays_every_write() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let (journal, folding) = (journal_path(&path), folding_journal_path(&path));
    let state = durable_state(dir.path());
    let vault = state.vault("kv1").unwrap();
    let before = std::fs::read(&path).unwrap();
    vault.secrets().set("a", value("1"), 10).unwrap();
    state.sync().unwrap();
    let first = std::fs::read(&journal).unwrap();
    let after_first = state.snapshot();
    state.persist().unwrap();
    let folded = std::fs::read(&path).unwrap();
    vault.secrets().set("a", value("2"), 11).unwrap();
    state.sync().unwrap();
    let second = std::fs::read(&journal).unwrap();
    let after_second = state.snapshot();
    drop(vault);
    drop(state);

    // (moment of the crash, snapshot, previous segment, current segment, what must load)
    let moments = [
        (
            "segment renamed, no fresh one yet",
            &before,
            Some(&first),
            None,
            &after_first,
        ),
        (
            "a write in the fresh segment, the snapshot not yet renamed",
            &before,
            Some(&first),
            Some(&second),
            &after_second,
        ),
        (
            "snapshot renamed, the previous segment not yet removed",
            &folded,
            Some(&first),
            Some(&second),
            &after_second,
        ),
        (
            "previous segment removed",
            &folded,
            None,
            Some(&second),
            &after_second,
        ),
    ];
    for (moment, snapshot, previous, current, expected) in moments {
        std::fs::write(&path, snapshot).unwrap();
        for (file, contents) in [(&folding, previous), (&journal, current)] {
            match contents {
                Some(contents) => std::fs::write(file, contents).unwrap(),
                None => drop(std::fs::remove_file(file)),
            }
        }
        let loaded = Snapshot::load(&path).unwrap().unwrap();
        assert_eq!(&loaded, expected, "crash with {moment}");
    }
}

#[test]
fn a_grown_journal_is_folded_into_a_snapshot_while_writes_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let state = durable_state(dir.path());
    let vault = state.vault("kv1").unwrap();
    let big = "x".repeat(32 << 10);
    let grown = COMPACT_AT_LEAST / big.len() as u64 + 1;
    for _ in 0..grown {
        vault.secrets().set("big", value(&big), 10).unwrap();
    }
    // Writes the records, then rotates: this sync does not wait for the snapshot.
    state.sync().unwrap();
    for n in 0..20 {
        vault
            .secrets()
            .set("after", value(&n.to_string()), 11)
            .unwrap();
        state.sync().unwrap();
    }
    let started = std::time::Instant::now();
    while folding_journal_path(&path).exists() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "the background compaction never finished"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let on_disk: Snapshot = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert!(
        on_disk.journal_seq >= grown,
        "the snapshot folds the rotated segment (journalSeq {})",
        on_disk.journal_seq
    );
    let current = read_journal(&journal_path(&path)).unwrap();
    assert!(
        current.iter().all(|r| r.seq > grown) && current.len() <= 20,
        "the fresh segment holds only later records: {:?}",
        current.iter().map(|r| r.seq).collect::<Vec<_>>()
    );
    assert_eq!(Snapshot::load(&path).unwrap().unwrap(), state.snapshot());
}
