//! The monitor at the scale of a large region, in process: its state folded from a synthetic
//! log of `--children` children (an enrolment, for a share a youth-care assignment, and a
//! sealed identity each) and `--open` open signals (R3b and R2b tasks, R4 and R5 notices, with
//! steps, answers and deliveries); then the server time of the signal page (who may see it,
//! the page's facts, the identity opened from the vault, the HTML) and of the inbox (every
//! queue of a contact, the HTML), p50 and p99 over `--pages` pages each, and the memory of the
//! state per open signal.
//!
//! Not included: the audit record a signal page writes before it shows the child (one produce
//! to the broker with acks=all; `bench-broker` measures that floor), and HTTP itself.

use schakel_e2e::bench::{arg, percentile, text_arg, write_figures};
use std::collections::BTreeMap;
use std::time::Instant;

use jiff::civil::{date, Date};
use schakel_core::domain::catalogue::EventType;
use schakel_core::domain::dates::DatePrecision;
use schakel_core::domain::events::{
    ChildRef, DeliveryEvent, DeliveryStatus, DirectoryEntry, DirectoryItem, JeugdhulpData,
    JeugdhulpEvent, LeerplichtData, LeerplichtEvent, Preferences, Product, ResponseEvent,
    SchoolData, SchoolEvent, SchoolRef, SignalEvent,
};
use schakel_core::domain::ids::{hex, ChildKey};
use schakel_core::vault::{Identity, Vault};
use schakel_monitor::facts;
use schakel_monitor::pages::detail::detail;
use schakel_monitor::pages::layout::Who;
use schakel_monitor::pages::signal::{render, Child};
use schakel_monitor::pages::{dashboard, inbox};
use schakel_monitor::view::State;
use serde_json::json;

fn rss_mib() -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: f64 = s
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kb / 1024.0
}

/// A small deterministic generator.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % below
    }
}

const MUNICIPALITIES: [&str; 10] = [
    "0392", "0377", "0394", "0453", "0396", "0375", "0383", "0450", "0473", "0479",
];
const SCHOOLS: usize = 400;

fn key(i: usize) -> ChildKey {
    let mut b = [0u8; 32];
    b[..8].copy_from_slice(&(i as u64).to_be_bytes());
    b[8..16].copy_from_slice(&(i as u64).wrapping_mul(0x9E3779B97F4A7C15).to_be_bytes());
    ChildKey::parse(&hex(&b)).unwrap()
}

fn school(i: usize) -> SchoolRef {
    SchoolRef {
        brin: format!(
            "{:02}{}{}",
            i % 100,
            (b'A' + (i / 100 % 26) as u8) as char,
            'B'
        ),
        vestiging: "00".into(),
    }
}

/// The institution id of a school: `school:<BRIN>`.
fn inst(s: &SchoolRef) -> String {
    format!("school:{}", s.brin)
}

fn child_ref(i: usize) -> ChildRef {
    ChildRef {
        child_key: key(i),
        birth_date: date(
            2008 + (i % 12) as i16,
            1 + (i % 12) as i8,
            1 + (i % 28) as i8,
        ),
        birth_date_precision: DatePrecision::Day,
        residence_municipality: Some(MUNICIPALITIES[i % 10].into()),
    }
}

fn directory(s: &mut State) {
    let mut put = |id: String, inst: String, role: &str| {
        s.fold_directory(
            &format!("contact:{id}"),
            Some(DirectoryEntry {
                entry: DirectoryItem::Contact {
                    id: id.clone(),
                    name: format!("Team {id}"),
                    organisation: None,
                    institution: inst,
                    roles: vec![role.into()],
                    email: Some(format!("{id}@example.nl")),
                    webhook: None,
                    preferences: Some(Preferences::default()),
                },
            }),
        );
    };
    for m in MUNICIPALITIES {
        for role in ["jeugdteam", "volwassenen", "leerplicht", "doorbraak", "rmc"] {
            put(format!("{role}-{m}"), format!("gemeente:{m}"), role);
        }
    }
    for i in 0..SCHOOLS {
        let inst = inst(&school(i));
        for role in ["ib", "zorgcoordinator", "kernteam"] {
            put(format!("{role}-{}", school(i).brin), inst.clone(), role);
        }
    }
}

fn step(i: usize, rule: &str, step: &str, fired: Date) -> SignalEvent {
    let m = MUNICIPALITIES[i % 10];
    let sc = school(i % SCHOOLS);
    let (recipients, routes, due, task): (Vec<&str>, BTreeMap<String, String>, Option<Date>, bool) =
        match rule {
            "R3b" => (
                vec!["jeugdteam", "volwassenen"],
                BTreeMap::new(),
                Some(fired.saturating_add(jiff::Span::new().days(180))),
                true,
            ),
            "R2b" => (
                vec!["ib", "zorgcoordinator"],
                [
                    ("ib".to_owned(), inst(&sc)),
                    (
                        "zorgcoordinator".to_owned(),
                        inst(&school((i + 7) % SCHOOLS)),
                    ),
                ]
                .into(),
                Some(date(2027, 7, 1)),
                true,
            ),
            "R4" => (
                vec!["leerplicht", "kernteam"],
                [("kernteam".to_owned(), inst(&sc))].into(),
                Some(fired.saturating_add(jiff::Span::new().days(60))),
                false,
            ),
            _ => (vec!["leerplicht"], BTreeMap::new(), None, false),
        };
    let signal_id = format!("{:032x}", i as u128 * 0x9E37_79B9 + 1);
    SignalEvent {
        id: format!("{signal_id}-{step}"),
        kind: EventType::parse(&format!("nl.schakel.signal.{step}.v1")).unwrap(),
        step: step.into(),
        signal_id,
        rule: rule.into(),
        child_key: key(i),
        institution: Some(if rule == "R2b" || rule == "R4" {
            inst(&sc)
        } else {
            format!("gemeente:{m}")
        }),
        municipality: Some(m.into()),
        due_date: due,
        recipients: recipients.into_iter().map(String::from).collect(),
        task,
        fired_on: fired,
        birth_date_uncertain: false,
        facts: vec![format!("e-{i}"), format!("j-{i}")],
        policy: [("thuiszitter.escalation_months".to_owned(), "3".to_owned())].into(),
        routes,
        residence_derived_from: None,
    }
}

fn main() {
    if std::env::args().any(|a| a == "--help" || a == "-h") {
        println!(
            "bench-monitor [--children N (1000000)] [--open N (250000)] [--pages N (5000)] [--out FILE]\n\n\
             Folds a synthetic region into the monitor's state in process, then times the\n\
             signal page and the inbox (p50, p99 of server time without the audit write),\n\
             the dashboard's first page and filter changes (p50, p99; both variants, as known\n\
             now and then, masked, HTML; --dashboard-runs N, default 5) and every figure as\n\
             of a past peildatum, against one pass per figure and a bare pass over the facts\n\
             measured in the same run; and reports the state's memory per open signal. JSON to .run/bench/bench-monitor.json."
        );
        return;
    }
    let children = arg("--children", 1_000_000);
    let open = arg("--open", 250_000).min(children);
    let pages = arg("--pages", 5_000).min(open);
    let out = text_arg("--out").unwrap_or_else(|| ".run/bench/bench-monitor.json".into());
    let mut rng = Lcg(42);
    let base = rss_mib();
    let mut s = State::default();
    directory(&mut s);

    // every child: an enrolment, a youth-care assignment for one in four, a sealed identity
    let vault_dir =
        std::env::temp_dir().join(format!("bench-monitor-vault-{}", std::process::id()));
    let vault = Vault::open(&vault_dir, &"7".repeat(64)).expect("a vault");
    let started = Instant::now();
    let t = jiff::Timestamp::from_second(1_767_225_600).unwrap();
    let sealed_sample = pages; // identities sealed for real for the children whose pages are read
    for i in 0..children {
        let c = child_ref(i);
        let e = SchoolEvent::new(
            format!("e-{i}"),
            "urn:nld:brin:12AB:systeem:las".into(),
            t,
            c.clone(),
            SchoolData::EnrolmentRegistered {
                school: school(i % SCHOOLS),
                sector: "po".into(),
                grade: 8,
                start_date: date(2019, 8, 26),
            },
        );
        s.fold_fact(e.id.clone(), facts::of_school(&e), c.clone());
        if i % 4 == 0 || i < open {
            let j = JeugdhulpEvent::new(
                format!("j-{i}"),
                "urn:nld:gemeente:0392:systeem:jeugd".into(),
                t,
                c.clone(),
                JeugdhulpData::AssignmentIssued {
                    toewijzing_nummer: format!("T{i}"),
                    product: Product {
                        categorie: "45".into(),
                        code: None,
                    },
                    ingangsdatum: date(2025, 6, 1),
                    einddatum: None,
                    toewijzing_tijdstip: t,
                    verlengde_jeugdhulp: None,
                    gemeente: MUNICIPALITIES[i % 10].into(),
                },
            );
            s.fold_fact(j.id.clone(), facts::of_jeugdhulp(&j), c.clone());
        }
        let identity = Identity {
            bsn: Some(format!("{:09}", 900_000_000 + i)),
            onderwijsnummer: None,
            given: Some("Voornaam".into()),
            family: Some(format!("Achternaam{i}")),
        };
        let rec = if i < sealed_sample {
            vault
                .seal(&c.child_key, &identity, "bench", t)
                .expect("seal")
        } else {
            // the same size as a sealed record, without a key file per child on disk
            schakel_core::domain::events::IdentityRecord {
                child_key: c.child_key.clone(),
                key_id: "k1".into(),
                nonce: "n".repeat(32),
                ciphertext: "c".repeat(160),
                source: "bench".into(),
                recorded_at: t,
            }
        };
        s.fold_identity(c.child_key.as_str(), Some(rec));
        // one in five has a leerplicht fact: a registration, an LRV melding or a vrijstelling
        let day = date(2025, 9, 1).saturating_add(jiff::Span::new().days((i % 400) as i64));
        let lp = match i % 15 {
            0 => Some(LeerplichtData::ThuiszitterRegistered {
                since: day,
                school: None,
            }),
            1 => Some(LeerplichtData::VerzuimReported {
                school: school(i % SCHOOLS),
                meldingsnummer: format!("M{i}"),
                kind: "lrv".into(),
                first_absence_date: day,
            }),
            2 => Some(LeerplichtData::VrijstellingGranted {
                kind: "5-onder-b".into(),
                from: day,
                until: None,
            }),
            _ => None,
        };
        if let Some(data) = lp {
            let e = LeerplichtEvent::new(
                format!("l-{i}"),
                "urn:nld:gemeente:0392:systeem:leerplicht".into(),
                t,
                c.clone(),
                data,
            );
            s.stats.leerplicht(
                &e,
                t.checked_add(jiff::SignedDuration::from_hours((i % 5000) as i64))
                    .unwrap(),
            );
        }
    }
    let children_rss = rss_mib();
    let children_s = started.elapsed().as_secs_f64();

    // the open signals, with their steps, answers and deliveries
    let started = Instant::now();
    let rules = ["R3b", "R2b", "R4", "R5"];
    let mut events = 0usize;
    for i in 0..open {
        let rule = rules[i % 4];
        let fired = date(2026, 1, 1).saturating_add(jiff::Span::new().days((i % 300) as i64));
        let first = step(i, rule, "opened", fired);
        s.fold_signal(first.clone());
        events += 1;
        if rng.next(4) == 0 {
            s.fold_signal(step(
                i,
                rule,
                "reminded",
                fired.saturating_add(jiff::Span::new().days(20)),
            ));
            events += 1;
        }
        if first.task && rng.next(3) == 0 {
            let receiver = if rule == "R3b" {
                "volwassenen"
            } else {
                "zorgcoordinator"
            };
            s.fold_response(ResponseEvent {
                id: format!("a-{i}"),
                source: "urn:nld:bench".into(),
                kind: EventType::HandoffAcknowledged,
                time: t,
                child_key: first.child_key.clone(),
                signal_id: first.signal_id.clone(),
                contact: format!("{receiver}-x"),
                at: t,
                note: None,
                roles: vec![receiver.into()],
            });
            events += 1;
        }
        for (n, r) in first.recipients.iter().enumerate() {
            s.fold_delivery(DeliveryEvent {
                id: format!("d-{i}-{n}"),
                kind: EventType::DeliverySucceeded,
                signal_id: first.signal_id.clone(),
                signal_event_id: first.id.clone(),
                step: "opened".into(),
                contact: format!("{r}-contact"),
                channel: "email".into(),
                attempt: 1,
                status: DeliveryStatus::Succeeded,
                error: None,
                at: t,
                next_attempt_at: None,
                signal_partition: None,
                signal_offset: None,
            });
            events += 1;
        }
    }
    let signals_rss = rss_mib();
    let signals_s = started.elapsed().as_secs_f64();
    let per_signal = (signals_rss - children_rss) * 1024.0 * 1024.0 / open as f64;
    eprintln!(
        "state: {children} children in {children_s:.1} s ({:.0} MiB), {open} open signals ({events} records) in {signals_s:.1} s (+{:.0} MiB, {per_signal:.0} bytes per open signal)",
        children_rss - base,
        signals_rss - children_rss
    );

    // the signal page: the first `pages` signals (their children's identities are sealed)
    let today = date(2026, 12, 5);
    let mut signal_ms = Vec::with_capacity(pages);
    let mut shown = 0usize;
    for i in 0..pages {
        let id = format!("{:032x}", i as u128 * 0x9E37_79B9 + 1);
        let rule = rules[i % 4];
        let sc = school(i % SCHOOLS);
        let contact = match rule {
            "R3b" => format!("jeugdteam-{}", MUNICIPALITIES[i % 10]),
            "R2b" => format!("ib-{}", sc.brin),
            _ => format!("leerplicht-{}", MUNICIPALITIES[i % 10]),
        };
        let started = Instant::now();
        let roles = s.entitled_roles(&contact, &id);
        assert!(!roles.is_empty(), "{contact} may see {id}");
        let d = detail(&s, &id, &contact, roles, today).expect("a page");
        let first = s.signals[&id].first().unwrap().clone();
        let identity = s
            .identities
            .get(first.child_key.as_str())
            .and_then(|r| vault.open_record(r).ok());
        let child = Child {
            name: identity.as_ref().and_then(|x| x.family.clone()),
            bsn: identity.as_ref().and_then(|x| x.bsn.clone()),
            onderwijsnummer: None,
            birth_date: s
                .children
                .get(first.child_key.as_str())
                .map(|c| c.birth_date),
            residence_municipality: None,
            identity_known: identity.is_some(),
        };
        let html = render(
            "voorbeeld-theme",
            &d,
            &child,
            "csrf",
            &Who {
                name: "Team",
                csrf: "csrf",
                dashboard: false,
            },
        );
        signal_ms.push(started.elapsed().as_secs_f64() * 1e3);
        shown += html.len() / html.len().max(1) * usize::from(child.identity_known);
    }
    assert_eq!(shown, pages, "every page showed its child");

    // the inbox: every contact of the municipalities and a sample of schools, all their queues
    let mut inbox_ms = Vec::new();
    let mut rows = 0usize;
    let mut contacts: Vec<(String, String, Vec<&str>)> = Vec::new();
    for m in MUNICIPALITIES {
        for role in ["jeugdteam", "volwassenen", "leerplicht", "doorbraak"] {
            contacts.push((format!("{role}-{m}"), format!("gemeente:{m}"), vec![role]));
        }
    }
    for i in 0..SCHOOLS.min(pages) {
        contacts.push((
            format!("ib-{}", school(i).brin),
            inst(&school(i)),
            vec!["ib", "kernteam"],
        ));
    }
    for (_, inst, roles) in &contacts {
        let started = Instant::now();
        let queues: inbox::Queues = roles
            .iter()
            .map(|r| {
                (
                    r.to_string(),
                    inst.clone(),
                    inbox::queue(&s, r, inst, false, 1),
                )
            })
            .collect();
        let html = inbox::render(
            "voorbeeld-theme",
            &queues,
            false,
            today,
            &Who {
                name: "Team",
                csrf: "csrf",
                dashboard: false,
            },
        );
        inbox_ms.push(started.elapsed().as_secs_f64() * 1e3);
        rows += queues.iter().map(|q| q.2.items.len()).sum::<usize>();
        std::hint::black_box(html);
    }
    let largest = contacts
        .iter()
        .map(|(_, inst, roles)| {
            roles
                .iter()
                .map(|r| {
                    s.queues
                        .get(&(r.to_string(), inst.clone()))
                        .map_or(0, |q| q.len())
                })
                .sum::<usize>()
        })
        .max()
        .unwrap_or(0);
    // the dashboard: the first page (the region, as known now), a filter change (one
    // municipality as known on the peildatum) and every figure of a past peildatum
    let days: Vec<(i8, i8)> = vec![(10, 1), (1, 1), (4, 1), (7, 1)];
    let p = schakel_core::domain::monitoring::Suppression::default();
    let page = |f: &dashboard::Filters| {
        let started = Instant::now();
        let c = f.chosen(&days, today);
        let only = c.scope.municipality.clone();
        let (chosen, other) = dashboard::both(&s, &c);
        let figures: Vec<_> = chosen
            .into_iter()
            .zip(other)
            .map(|(f, o)| {
                let (f, m) = dashboard::view(f, false, &p, only.as_deref());
                let o = dashboard::view(o, false, &p, only.as_deref()).1;
                (f, m, Some(o))
            })
            .collect();
        let html = dashboard::render(
            "voorbeeld-theme",
            &days,
            &Who {
                name: "Team",
                csrf: "csrf",
                dashboard: true,
            },
            &c,
            &[],
            &[],
            &figures,
            today,
            false,
            &p,
        );
        std::hint::black_box(html);
        started.elapsed().as_secs_f64() * 1e3
    };
    // baselines from the same run: the figures one pass each (as they were first written),
    // and the floor, a bare pass over every child's facts
    let (separate, floor, single) = {
        use schakel_monitor::stats::figures as fig;
        let c = dashboard::Filters::default().chosen(&days, today);
        let sc = fig::Scope::default();
        let a = fig::AsOf {
            peildatum: c.peildatum,
            known_at: None,
        };
        let separate: Vec<f64> = (0..3)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box((
                    fig::thuiszitters_by_duration(&s.stats, &sc, a),
                    fig::thuiszitters_by_kind(&s.stats, &sc, a),
                    fig::thuiszitters_flow(&s.stats, &sc, a, c.from),
                    fig::vrijstellingen(&s.stats, &sc, a),
                    fig::verzuim(&s.stats, &sc, a, false),
                    fig::verzuim(&s.stats, &sc, a, true),
                    fig::youth_care_by_age(&s.stats, &sc, a),
                ));
                for (rule, _) in fig::HANDOFFS {
                    std::hint::black_box(fig::handoffs(&s, &sc, c.from, a, rule));
                }
                std::hint::black_box(fig::out_of_view(&s, &sc, c.from, a, false));
                std::hint::black_box(fig::out_of_view(&s, &sc, c.from, a, true));
                std::hint::black_box(fig::doorbraak(&s, &sc, c.from, a));
                t.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        let floor: Vec<f64> = (0..3)
            .map(|_| {
                let t = Instant::now();
                // every fact's receipt time and every step's day read, compared with a moment
                // the compiler cannot know
                let moment = std::hint::black_box(jiff::Timestamp::now());
                let day = std::hint::black_box(today);
                let n: usize = s
                    .stats
                    .children
                    .values()
                    .map(|c| c.facts.iter().filter(|k| k.at <= moment).count())
                    .sum::<usize>()
                    + s.signals
                        .values()
                        .map(|v| v.steps.iter().filter(|x| x.fired_on <= day).count())
                        .sum::<usize>();
                std::hint::black_box(n);
                t.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        let single: Vec<f64> = (0..3)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(dashboard::all(&s, &c, true));
                t.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        (
            percentile(&separate, 0.5),
            percentile(&floor, 0.5),
            percentile(&single, 0.5),
        )
    };
    let runs = arg("--dashboard-runs", 5);
    let first: Vec<f64> = (0..runs)
        .map(|_| {
            page(&dashboard::Filters {
                peildatum: Some("2026-10-01".into()),
                ..Default::default()
            })
        })
        .collect();
    let filtered: Vec<f64> = (0..runs)
        .map(|k| {
            page(&dashboard::Filters {
                peildatum: Some("2026-07-01".into()),
                bekend: Some("toen".into()),
                gemeente: Some(MUNICIPALITIES[k % 10].into()),
                ..Default::default()
            })
        })
        .collect();
    let started = Instant::now();
    let past = dashboard::Filters {
        peildatum: Some("2026-01-01".into()),
        bekend: Some("toen".into()),
        ..Default::default()
    }
    .chosen(&days, today);
    std::hint::black_box(dashboard::all(&s, &past, false));
    let past_s = started.elapsed().as_secs_f64();
    let first_p50 = percentile(&first, 0.5);
    eprintln!(
        "dashboard: first page p50 {first_p50:.0} ms, filter change p50 {:.0} ms, a past peildatum {past_s:.2} s; every figure of one variant: one pass per figure {separate:.0} ms, one pass in all {single:.0} ms; a bare pass over the facts {floor:.0} ms",
        percentile(&filtered, 0.5)
    );

    let report = json!({
        "dashboard": {
            "first_page_ms": {"p50": percentile(&first, 0.5), "p99": percentile(&first, 0.99), "runs": runs},
            "filter_change_ms": {"p50": percentile(&filtered, 0.5), "p99": percentile(&filtered, 0.99), "runs": runs},
            "past_peildatum_s": past_s,
            "baseline_one_pass_per_figure_ms": separate,
            "floor_bare_pass_ms": floor,
            "one_variant_single_pass_ms": single,
            "single_pass_vs_one_pass_per_figure": single / separate,
            "single_pass_vs_floor": single / floor,
        },
        "children": children, "open_signals": open, "records": events,
        "state_mib": signals_rss - base, "children_mib": children_rss - base,
        "bytes_per_open_signal": per_signal.round(),
        "signal_page_ms": {"p50": percentile(&signal_ms, 0.5), "p99": percentile(&signal_ms, 0.99), "pages": pages},
        "inbox_ms": {"p50": percentile(&inbox_ms, 0.5), "p99": percentile(&inbox_ms, 0.99), "pages": contacts.len(),
                     "rows_per_page": rows / contacts.len().max(1), "largest_queue": largest},
    });
    println!("{}", serde_json::to_string_pretty(&report).unwrap());
    write_figures(&out, &report);
    let _ = std::fs::remove_dir_all(&vault_dir);
}
