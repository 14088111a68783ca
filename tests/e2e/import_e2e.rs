//! A CSV import of 10 000 enrolments, interrupted by a crash of ingest and run again, lands
//! exactly 10 000 facts.

use std::collections::HashSet;
use std::process::{Command, Stdio};
use std::time::Duration;

use schakel_core::domain::catalogue::Topic;
use schakel_e2e::{bin, bsns, Env, Region, LAS_TOKEN};

#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_import_of_10000_enrolments_lands_exactly_10000_facts() {
    let env = Region::new().start();
    let mut ingest = env.spawn_ingest();
    let n = 10_000;
    let mut csv = String::from(
        "leerlingnummer;bsn;geboortedatum;brin;vestiging;sector;groep;startdatum;voornamen;achternaam\r\n",
    );
    for (i, b) in bsns(n, 77).iter().enumerate() {
        csv.push_str(&format!(
            "{};{b};{:02}-0{}-2016;12AB;00;po;{};01-08-2024;Importvoornaam;Importachternaam{i}\r\n",
            50_000 + i,
            1 + i % 28,
            1 + i % 9,
            1 + i % 8
        ));
    }
    let file = env.write("leerlingen.csv", &csv);
    let url = format!("http://127.0.0.1:{}", env.ingest_port);
    let import = || {
        Command::new(bin("schakel"))
            .args([
                "import",
                "enrolments",
                file.to_str().unwrap(),
                "--url",
                &url,
            ])
            .env("SCHAKEL_CONFIG", &env.config_path)
            .env("SCHAKEL_TOKEN", LAS_TOKEN)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("schakel import")
    };

    // first run: ingest is killed after some chunks are written
    let first = import();
    // the import got going
    Env::await_metric(
        env.ingest_port,
        "schakel_ingest_events_accepted_total",
        1500,
        Duration::from_secs(60),
    )
    .await;
    ingest.kill9();
    let out = first.wait_with_output().unwrap();
    assert!(!out.status.success(), "the interrupted run fails");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("run the same command again"), "{stderr}");
    let written_before = env.read(Topic::SCHOOL).len();
    assert!(
        (1500..n).contains(&written_before),
        "interrupted midway: {written_before}"
    );

    // second run: resumes, skipping what the first wrote
    let _ingest = env.spawn_ingest();
    let out = import().wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(&format!("{n} rows:")), "{stdout}");
    assert!(stdout.contains("0 rejected"), "{stdout}");
    assert!(
        !stdout.contains(" 0 already imported"),
        "the re-run skips rows: {stdout}"
    );

    let records = env.read(Topic::SCHOOL);
    let reg = schakel_core::log::schemas::registry();
    let ids: HashSet<String> = records
        .iter()
        .map(|r| {
            reg.decode::<schakel_core::domain::events::SchoolEvent>(
                Topic::SCHOOL,
                r.value.as_ref().unwrap(),
            )
            .unwrap()
            .id
        })
        .collect();
    assert_eq!(ids.len(), n, "exactly {n} distinct facts");
    assert!(
        records.len() <= n + 500,
        "at most one chunk written twice: {} records",
        records.len()
    );
    // a third run adds nothing at all
    let before = records.len();
    let out = import().wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("0 accepted"));
    assert_eq!(env.read(Topic::SCHOOL).len(), before);
    // identities went to the vault, sealed
    let keys: HashSet<String> = env
        .read(Topic::IDENTITIES)
        .into_iter()
        .filter_map(|r| r.key)
        .collect();
    assert_eq!(keys.len(), n);
}
