//! The HTTP contracts: the OpenAPI documents of ingest and the monitor name exactly the routes
//! the code serves, with their methods; each service serves its document at `/openapi.json`;
//! and schemathesis, generating requests from the documents against a running ingest and
//! monitor, finds no server error and no response the document does not describe.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::time::Duration;

use schakel_e2e::{Env, Region, JEUGDHULP_TOKEN};

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn repo(path: &str) -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(path);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The routes a router's source declares: path → methods, from each `.route("…", …)` call
/// (`ops::openapi(…)` serves GET).
fn routes_in(source: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut rest = source;
    while let Some(at) = rest.find(".route(") {
        let call = &rest[at + ".route(".len()..];
        let mut depth = 1;
        let end = call
            .char_indices()
            .find_map(|(i, c)| {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                (depth == 0).then_some(i)
            })
            .expect("a closed .route( call");
        let args = &call[..end];
        let path = args
            .split('"')
            .nth(1)
            .expect("a route's path is a string literal")
            .to_owned();
        let methods = out.entry(shape(&path)).or_default();
        for m in METHODS {
            let called = args.match_indices(&format!("{m}(")).any(|(i, _)| {
                i == 0
                    || !args.as_bytes()[i - 1].is_ascii_alphanumeric()
                        && args.as_bytes()[i - 1] != b'_'
            });
            if called {
                methods.insert(m.to_owned());
            }
        }
        if args.contains("ops::openapi(") {
            methods.insert("get".to_owned());
        }
        rest = &call[end..];
    }
    out
}

/// A path template with its parameters unnamed (`/v1/signals/{}`): names are the document's.
fn shape(path: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push_str("{}");
            }
            '}' => in_param = false,
            _ if in_param => {}
            _ => out.push(c),
        }
    }
    out
}

fn documented(document: &str) -> BTreeMap<String, BTreeSet<String>> {
    let doc: serde_json::Value = serde_json::from_str(document).expect("the document is JSON");
    assert_eq!(doc["openapi"], "3.1.0");
    doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .map(|(path, item)| {
            let methods = item
                .as_object()
                .expect("a path item")
                .keys()
                .filter(|k| METHODS.contains(&k.as_str()))
                .cloned()
                .collect();
            // `/v1/stats/{figure}.csv` is served by the route of `/v1/stats/{figure}`
            (shape(path).replace("{}.csv", "{}"), methods)
        })
        .collect()
}

fn check(service: &str, document: &str, sources: &[&str]) {
    let mut served = routes_in(&repo("services/core/src/runtime/ops.rs"));
    for s in sources {
        for (path, methods) in routes_in(&repo(s)) {
            served.entry(path).or_default().extend(methods);
        }
    }
    assert!(
        served.len() >= 5,
        "{service}: the routes were found: {served:?}"
    );
    assert_eq!(
        documented(document),
        served,
        "{service}: the OpenAPI document names exactly the routes and methods the code serves"
    );
}

#[test]
fn each_openapi_document_names_exactly_the_routes_of_its_service() {
    check(
        "ingest",
        schakel_ingest::OPENAPI,
        &["services/ingest/src/lib.rs"],
    );
    check(
        "monitor",
        &repo("services/monitor/openapi.json"),
        &[
            "services/monitor/src/lib.rs",
            "services/monitor/src/pages/mod.rs",
        ],
    );
    // the parser sees what a route adds
    let found =
        routes_in(r#"x.route("/a/{id}", get(show).post(act)).route("/b", ops::openapi(D))"#);
    assert_eq!(
        found["/a/{}"],
        BTreeSet::from(["get".to_owned(), "post".to_owned()])
    );
    assert_eq!(found["/b"], BTreeSet::from(["get".to_owned()]));
}

fn schemathesis(base: &str, document: &str, token: &str) {
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../infra/contracts/schemathesis.sh");
    let out = Command::new(script)
        .arg(base)
        .arg(document)
        .env("SCHAKEL_TOKEN", token)
        .output()
        .expect("run schemathesis");
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "schemathesis against {base} found:\n{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_services_serve_their_documents_and_schemathesis_finds_nothing() {
    let env = Region::new()
        .config("[[ingest.tokens]]\nname = \"wmo-haarlem\"\ntoken = \"test-contact-contracts\"\ncontact = \"wmo-haarlem\"\n")
        .start();
    let _ingest = env.spawn_ingest();
    let _monitor = env.spawn_monitor();
    Env::await_ready(env.ingest_port, Duration::from_secs(60)).await;
    Env::await_ready(env.monitor_port, Duration::from_secs(60)).await;
    let ingest = format!("http://127.0.0.1:{}", env.ingest_port);
    let monitor = env.monitor_url();
    for (base, file) in [
        (&ingest, "services/ingest/openapi.json"),
        (&monitor, "services/monitor/openapi.json"),
    ] {
        let res = reqwest::get(format!("{base}/openapi.json")).await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"], "application/json");
        let served: serde_json::Value = res.json().await.unwrap();
        let kept: serde_json::Value = serde_json::from_str(&repo(file)).unwrap();
        assert_eq!(served, kept, "{base} serves {file}");
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let (i, m) = (
        root.join("services/ingest/openapi.json"),
        root.join("services/monitor/openapi.json"),
    );
    let (ingest2, monitor2) = (ingest.clone(), monitor.clone());
    tokio::task::spawn_blocking(move || {
        schemathesis(&ingest2, i.to_str().unwrap(), JEUGDHULP_TOKEN);
        schemathesis(&monitor2, m.to_str().unwrap(), "test-contact-contracts");
    })
    .await
    .unwrap();
}
