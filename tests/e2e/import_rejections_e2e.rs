//! A large CSV export in which every row is invalid: the answer stays small (the first 1000
//! rejections in full, then counts per column and reason), the complete list is fetched as a
//! CSV by Import-Id (line, column and reason, never a value), and ingest's memory does not
//! grow with the file.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use schakel_e2e::rss::{rss_mib, RssSampler};
use schakel_e2e::{bin, bsns, eventually, wait_for_port, Env, Proc, Region, LAS_TOKEN};

/// Another token of the same school, which did not run the import.
const OTHER_LAS_TOKEN: &str = "test-las-12AB-other";
const TOKENS: &str = r#"
[[ingest.tokens]]
name = "las-12AB-other"
token = "test-las-12AB-other"
kinds = ["school"]
institutions = ["school:12AB"]
"#;

/// Starts ingest as `Env::spawn_ingest` does; the process and its pid.
fn spawn_ingest(env: &Env) -> (Proc, u32) {
    let log = env.dir.join("schakel-ingest-import.log");
    let child = Command::new(bin("schakel-ingest"))
        .env("SCHAKEL_CONFIG", &env.config_path)
        .env("SCHAKEL_LOG", "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log file"))
        .spawn()
        .expect("spawn ingest");
    let pid = child.id();
    let p = Proc::adopt("schakel-ingest", child, log);
    wait_for_port(env.ingest_port, Duration::from_secs(20));
    (p, pid)
}

const HEADER: &str =
    "leerlingnummer;bsn;geboortedatum;brin;vestiging;sector;groep;startdatum;voornamen;achternaam\r\n";

/// An enrolments export of about `bytes` in which every row is wrong in one of four ways;
/// the rows and, per column, how many are wrong there.
fn all_invalid(bytes: usize, children: &[String]) -> (Vec<u8>, u64, BTreeMap<String, u64>) {
    let mut csv = String::with_capacity(bytes + 200);
    csv.push_str(HEADER);
    let mut wrong: BTreeMap<String, u64> = BTreeMap::new();
    let mut rows = 0u64;
    while csv.len() < bytes {
        let i = rows as usize;
        let bsn = &children[i % children.len()];
        let (birth, sector, groep) = ("01-03-2016", "po", "5");
        let row = match i % 4 {
            0 => format!("{};{bsn};{birth};12AB;00;xx;{groep};01-08-2024;Testvoornaam;Testachternaam\r\n", 70_000 + i),
            1 => format!("{};{bsn};31-02-2016;12AB;00;{sector};{groep};01-08-2024;Testvoornaam;Testachternaam\r\n", 70_000 + i),
            2 => format!("{};{bsn};{birth};12AB;00;{sector};nul;01-08-2024;Testvoornaam;Testachternaam\r\n", 70_000 + i),
            _ => format!("{};{bsn};{birth};12AB;00\r\n", 70_000 + i),
        };
        *wrong
            .entry(["sector", "geboortedatum", "groep", ""][i % 4].to_owned())
            .or_default() += 1;
        csv.push_str(&row);
        rows += 1;
    }
    (csv.into_bytes(), rows, wrong)
}

async fn import(env: &Env, token: &str, id: &str, body: Vec<u8>) -> (u16, serde_json::Value) {
    let resp = reqwest::Client::new()
        .post(format!(
            "http://127.0.0.1:{}/v1/imports/enrolments",
            env.ingest_port
        ))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .header("import-id", id)
        .body(body)
        .timeout(Duration::from_secs(600))
        .send()
        .await
        .expect("import");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread")]
async fn an_import_of_only_invalid_rows_answers_in_bounds_and_gives_its_memory_back() {
    let env = Region::new().config(TOKENS).start();
    let (_ingest, pid) = spawn_ingest(&env);
    let children = bsns(500, 201);

    // a small import first, so the baseline holds what any import needs
    let (small, _, _) = all_invalid(10_000, &children);
    let (s, p) = import(&env, LAS_TOKEN, "warm-up", small).await;
    assert_eq!(s, 200, "{p}");
    let before = rss_mib(pid);

    let (csv, rows, wrong) = all_invalid(32 << 20, &children);
    let sampler = RssSampler::start(pid);
    let started = Instant::now();
    let (s, answer) = import(&env, LAS_TOKEN, "all-invalid-1", csv).await;
    let took = started.elapsed();
    let peak = sampler.stop();
    assert_eq!(s, 200, "{answer}");

    // memory: no growth with the file while it is read, and given back afterwards
    eventually(Duration::from_secs(30), || rss_mib(pid) - before <= 40.0).await;
    let after = rss_mib(pid);
    eprintln!(
        "{rows} invalid rows (32 MiB) in {took:?}: ingest RSS {before:.0} MiB before, peak {peak:.0}, after {after:.0}; answer {} bytes",
        answer.to_string().len()
    );
    assert!(
        peak - before < 100.0,
        "reading 32 MiB of invalid rows grew ingest from {before:.0} to {peak:.0} MiB"
    );
    assert!(
        after - before < 40.0,
        "after the import ingest holds {after:.0} MiB (before: {before:.0})"
    );

    // the answer: counts, the first 1000 in full, the rest per column and reason
    assert_eq!(answer["rows"], rows);
    assert_eq!(answer["accepted"], 0);
    assert_eq!(
        answer["rejectedCount"],
        rows,
        "{}",
        &answer.to_string()[..500]
    );
    let first = answer["rejected"].as_array().unwrap();
    assert_eq!(first.len(), 1000, "the first 1000 rejections in full");
    let lines: Vec<u64> = first.iter().map(|r| r["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, (2..1002).collect::<Vec<u64>>(), "in line order");
    assert!(
        answer.to_string().len() < 512 * 1024,
        "a bounded answer: {} bytes",
        answer.to_string().len()
    );
    let mut by_column: BTreeMap<String, u64> = BTreeMap::new();
    for r in answer["rejectedByReason"].as_array().unwrap() {
        assert!(r["reason"].as_str().is_some_and(|s| !s.is_empty()), "{r}");
        *by_column
            .entry(r["column"].as_str().unwrap().to_owned())
            .or_default() += r["rows"].as_u64().unwrap();
    }
    assert_eq!(by_column, wrong, "rejections counted per column");

    // the complete list, by Import-Id: line, column and reason of every rejection, no values
    let list = answer["rejectedList"].as_str().expect("a link to the list");
    let url = format!("http://127.0.0.1:{}{list}", env.ingest_port);
    let resp = reqwest::Client::new()
        .get(&url)
        .bearer_auth(LAS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let text = resp.text().await.unwrap();
    let mut got = text.lines();
    assert_eq!(got.next(), Some("line,column,reason"));
    let mut listed: BTreeMap<String, u64> = BTreeMap::new();
    let mut last_line = 0;
    for l in got {
        let mut f = l.splitn(3, ',');
        let line: u64 = f.next().unwrap().parse().unwrap();
        assert!(line >= last_line, "in line order");
        last_line = line;
        *listed.entry(f.next().unwrap().to_owned()).or_default() += 1;
        assert!(f.next().is_some_and(|r| !r.is_empty()), "a reason: {l}");
    }
    assert_eq!(last_line, rows + 1, "every line up to the last");
    assert_eq!(listed, wrong, "the list names each rejection");
    for b in &children {
        assert!(!text.contains(b.as_str()), "the list echoes no BSN");
    }
    assert!(!text.contains("Testachternaam") && !text.contains("31-02-2016"));
    assert!(!answer.to_string().contains(&children[0]));

    // only the token that ran the import may fetch its list
    let other = reqwest::Client::new()
        .get(&url)
        .bearer_auth(OTHER_LAS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(other.status().as_u16(), 404);
}
