//! The identity vault end to end: identities reach hub.identities.v1 sealed, an entitled read
//! is audited, and after `schakel vault erase` the old records can never be read again.

use schakel_core::domain::catalogue::Topic;
use schakel_core::domain::events::{AuditEvent, IdentityRecord};
use schakel_core::vault::{Vault, VaultError};
use schakel_e2e::{assignment_event, bsns, Env, Region, JEUGDHULP_TOKEN, VAULT_MASTER_KEY};

fn identities(env: &Env) -> Vec<(String, Option<IdentityRecord>)> {
    let reg = schakel_core::log::schemas::registry();
    env.read(Topic::IDENTITIES)
        .into_iter()
        .map(|r| {
            let v = r
                .value
                .map(|v| reg.decode(Topic::IDENTITIES, &v).expect("identity record"));
            (r.key.unwrap_or_default(), v)
        })
        .collect()
}

fn audits(env: &Env) -> Vec<AuditEvent> {
    let reg = schakel_core::log::schemas::registry();
    env.read(Topic::AUDIT)
        .into_iter()
        .filter_map(|r| r.value)
        .map(|v| reg.decode(Topic::AUDIT, &v).expect("audit event"))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn identities_are_sealed_read_with_an_audit_trail_and_erased_for_good() {
    let env = Region::new().start();
    let _ingest = env.spawn_ingest();
    let b = bsns(2, 41);
    let (kept, erased) = (&b[0], &b[1]);
    let events = vec![
        assignment_event("v-1", kept, "2010-03-01", "T1"),
        assignment_event("v-2", erased, "2010-04-01", "T2"),
        // the same child again: the vault already has this identity
        assignment_event("v-3", erased, "2010-04-01", "T3"),
    ];
    let (status, body) = env.post_batch(JEUGDHULP_TOKEN, &events.into()).await;
    assert_eq!(status, 202, "{body}");

    let recs = identities(&env);
    assert_eq!(recs.len(), 2, "one sealed record per child: {recs:?}");
    for (_, r) in &recs {
        let wire = serde_json::to_string(r).unwrap();
        assert!(!wire.contains(kept.as_str()) && !wire.contains(erased.as_str()));
        assert!(!wire.contains("Testachternaam") && !wire.contains("Testvoornaam"));
    }
    let vault = Vault::open(env.dir.join("vault"), VAULT_MASTER_KEY).unwrap();
    for (_, r) in &recs {
        let id = vault
            .open_record(r.as_ref().unwrap())
            .expect("opens with its key");
        assert_eq!(id.family.as_deref(), Some("Testachternaam"));
    }

    // an entitled read shows the identity and leaves an audit record first
    let out = env.schakel(&[
        "vault",
        "reveal",
        erased,
        "--reason",
        "verzoek leerplicht 2026-17",
        "--actor",
        "lpa-1",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(erased.as_str()) && text.contains("Testvoornaam Testachternaam"),
        "{text}"
    );
    let a = audits(&env);
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].kind, "nl.schakel.audit.identity-revealed.v1");
    assert_eq!(a[0].actor, "lpa-1");
    assert_eq!(a[0].reason, "verzoek leerplicht 2026-17");

    // erase one child: its key is gone, its records on the log no longer open
    let old = recs
        .iter()
        .filter_map(|(_, r)| r.clone())
        .find(|r| vault.open_record(r).unwrap().bsn.as_deref() == Some(erased.as_str()))
        .unwrap();
    env.schakel(&[
        "vault",
        "erase",
        erased,
        "--reason",
        "bewaartermijn verstreken",
    ]);
    assert!(matches!(vault.open_record(&old), Err(VaultError::Erased)));
    // not with a freshly opened vault either, nor with any key file left on disk
    let fresh = Vault::open(env.dir.join("vault"), VAULT_MASTER_KEY).unwrap();
    assert!(matches!(fresh.open_record(&old), Err(VaultError::Erased)));
    let failed = env.schakel_may_fail(&["vault", "reveal", erased, "--reason", "nogmaals"]);
    assert!(!failed.status.success());
    assert!(!String::from_utf8_lossy(&failed.stdout).contains(erased.as_str()));
    // the other child is untouched
    let other = env.schakel(&["vault", "reveal", kept, "--reason", "controle"]);
    assert!(String::from_utf8_lossy(&other.stdout).contains(kept.as_str()));
    // the log: a tombstone for the erased child (compaction drops its records), audit trail
    let of_erased: Vec<bool> = identities(&env)
        .into_iter()
        .filter(|(k, _)| k == old.child_key.as_str())
        .map(|(_, v)| v.is_none())
        .collect();
    assert_eq!(of_erased, [false, true], "its record, then a tombstone");
    // (one partition per child, so compare per child; the refused read revealed nothing)
    let trail = |child: &str| -> Vec<String> {
        audits(&env)
            .into_iter()
            .filter(|a| a.child_key.as_str() == child)
            .map(|a| a.kind.name().to_owned())
            .collect()
    };
    assert_eq!(
        trail(old.child_key.as_str()),
        [
            "nl.schakel.audit.identity-revealed.v1",
            "nl.schakel.audit.identity-erased.v1",
        ]
    );
    let kept_key = recs
        .iter()
        .map(|(k, _)| k)
        .find(|k| *k != old.child_key.as_str())
        .unwrap();
    assert_eq!(trail(kept_key), ["nl.schakel.audit.identity-revealed.v1"]);

    // a later fact about the erased child starts a new identity under a new key
    let (status, _) = env
        .post_batch(
            JEUGDHULP_TOKEN,
            &vec![assignment_event("v-4", erased, "2010-04-01", "T4")].into(),
        )
        .await;
    assert_eq!(status, 202);
    let newest = identities(&env)
        .into_iter()
        .rfind(|(k, _)| k == old.child_key.as_str())
        .and_then(|(_, v)| v)
        .expect("a new identity record");
    assert_ne!(newest.key_id, old.key_id);
    assert!(fresh.open_record(&newest).is_ok());
    assert!(matches!(fresh.open_record(&old), Err(VaultError::Erased)));
}
