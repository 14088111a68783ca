//! A signal is always routable to someone (issue 17 item 2). An LAS export without the
//! optional `gemeente` column, then an uitschrijving without a new school: R5 has no reported
//! residence. With the school's municipality in the policy it goes to that municipality's
//! leerplicht and says the residence was derived; without it, the configuration signal C1 it
//! raises reaches the region's own `beheer`.

use jiff::civil::date;
use std::process::Command;
use std::time::Duration;

use schakel_e2e::receiver::Receiver;
use schakel_e2e::{bin, bsns, eventually, Env, Region, LAS_TOKEN};

const SECRET_LP: &str = "whsec_dGVzdC1zZWNyZXQtbGVlcnBsaWNodC0wMTIzNDU2Nzg5";
const SECRET_BH: &str = "whsec_dGVzdC1zZWNyZXQtYmVoZWVyLXJlZ2lvLTAxMjM0NTY3";

fn directory(rx: &Receiver) -> String {
    format!(
        r#"
[[institution]]
id = "gemeente:0392"
name = "Gemeente Haarlem"

[[institution]]
id = "regio:leerplein"
name = "Leerplein Zuid-Kennemerland"

[[institution]]
id = "school:12AB"
name = "Basisschool De Linde"

[[contact]]
id = "leerplicht-haarlem"
name = "Leerplicht Haarlem"
institution = "gemeente:0392"
roles = ["leerplicht"]
webhook = {{ url = "{}", secret = "{SECRET_LP}" }}

[[contact]]
id = "beheer-regio"
name = "Functioneel beheer Leerplein"
institution = "regio:leerplein"
roles = ["beheer"]
webhook = {{ url = "{}", secret = "{SECRET_BH}" }}
"#,
        rx.contact("leerplicht-haarlem", SECRET_LP),
        rx.contact("beheer-regio", SECRET_BH)
    )
}

/// Imports an LAS export without the `gemeente` column: a pupil enrolled from August 2024 and
/// unenrolled on 9 January 2026, then ticks past the R5 term (7 days).
fn import_and_tick(env: &Env, rx: &Receiver) {
    env.apply_directory(&directory(rx));
    let bsn = &bsns(1, 91)[0];
    let csv = format!(
        "leerlingnummer;bsn;geboortedatum;brin;vestiging;sector;groep;startdatum;einddatum\r\n\
         4711;{bsn};01-03-2014;12AB;00;po;6;01-08-2024;09-01-2026\r\n"
    );
    let file = env.write("leerlingen.csv", &csv);
    let out = Command::new(bin("schakel"))
        .args([
            "import",
            "enrolments",
            file.to_str().unwrap(),
            "--url",
            &format!("http://127.0.0.1:{}", env.ingest_port),
        ])
        .env("SCHAKEL_CONFIG", &env.config_path)
        .env("SCHAKEL_TOKEN", LAS_TOKEN)
        .output()
        .expect("schakel import");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    env.tick_days(date(2026, 1, 9), date(2026, 1, 20));
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_reported_residence_r5_goes_to_the_municipality_of_the_school() {
    let env = Region::new()
        .config("[policy.routing]\nschool_municipality = { \"school:12AB\" = \"0392\" }")
        .start();
    let rx = Receiver::start(Duration::ZERO).await;
    let (_ingest, _rules, _notify) = (env.spawn_ingest(), env.spawn_rules(), env.spawn_notify());
    import_and_tick(&env, &rx);
    assert!(
        eventually(Duration::from_secs(60), || !rx.received().is_empty()).await,
        "the R5 signal reached someone"
    );
    let got = rx.received();
    let r5 = got
        .iter()
        .find(|r| r.body["data"]["rule"] == "R5")
        .expect("an R5 webhook");
    assert_eq!(r5.contact, "leerplicht-haarlem");
    assert_eq!(r5.body["data"]["municipality"], "0392");
    assert_eq!(r5.body["data"]["residenceDerivedFrom"], "school");
    let signal = env
        .signals()
        .into_iter()
        .find(|s| s.rule == "R5")
        .expect("R5 in the log");
    assert_eq!(signal.municipality.as_deref(), Some("0392"));
    assert_eq!(signal.residence_derived_from.as_deref(), Some("school"));
    assert!(
        env.signals().iter().all(|s| s.rule != "C1"),
        "nothing was unroutable"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unroutable_step_without_municipality_is_told_to_the_regions_beheer() {
    let env = Region::new().start();
    let rx = Receiver::start(Duration::ZERO).await;
    let (_ingest, _rules, _notify) = (env.spawn_ingest(), env.spawn_rules(), env.spawn_notify());
    import_and_tick(&env, &rx);
    assert!(
        eventually(Duration::from_secs(60), || !rx.received().is_empty()).await,
        "the configuration signal reached someone"
    );
    let got = rx.received();
    let c1 = got
        .iter()
        .find(|r| r.body["data"]["rule"] == "C1")
        .expect("a C1 webhook");
    assert_eq!(c1.contact, "beheer-regio", "the region's beheer is told");
    assert_eq!(c1.body["data"]["missingRole"], "leerplicht");
    let r5 = env
        .signals()
        .into_iter()
        .find(|s| s.rule == "R5")
        .expect("R5 in the log");
    assert_eq!(
        r5.municipality, None,
        "no residence, no school municipality"
    );
    // the configuration signal is dated on the step's tick, not on the wall clock
    let c1 = env
        .signals()
        .into_iter()
        .find(|s| s.rule == "C1")
        .expect("C1 in the log");
    assert_eq!(c1.fired_on, r5.fired_on);
    assert_eq!(c1.institution.as_deref(), Some("regio:leerplein"));
}
