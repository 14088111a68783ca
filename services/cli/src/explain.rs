//! `schakel explain SIGNAL-ID`: why a signal fired — its rule, steps, the facts (event ids)
//! and the policy values it rests on — in Dutch or English, without a BSN or a name (the log
//! holds neither) and without care details (product codes, reasons stay out).

use anyhow::{bail, Context};
use schakel_core::domain::catalogue::{EventType, Topic};
use schakel_core::domain::events::{
    JeugdhulpEvent, LeerplichtEvent, SchoolEvent, SignalEvent, VoorschoolEvent,
};
use schakel_core::log::kafka::read_to_end;
use schakel_core::Config;
use schakel_rules::rules::{describe, Rule};

struct Fact {
    id: String,
    kind: EventType,
    recorded: String,
}

fn facts_of(cfg: &Config, child: &str, ids: &[String]) -> anyhow::Result<Vec<Fact>> {
    let reg = schakel_core::log::schemas::registry();
    let mut out = Vec::new();
    macro_rules! scan {
        ($topic:expr, $ty:ty) => {
            for r in read_to_end(cfg, &cfg.topic($topic))? {
                let Some(v) = r.value.as_deref() else {
                    continue;
                };
                let Ok(e) = reg.decode::<$ty>($topic, v) else {
                    continue;
                };
                if e.child.child_key.as_str() == child && ids.contains(&e.id) {
                    out.push(Fact {
                        id: e.id,
                        kind: e.kind,
                        recorded: e.time.to_string(),
                    });
                }
            }
        };
    }
    scan!(Topic::SCHOOL, SchoolEvent);
    scan!(Topic::VOORSCHOOL, VoorschoolEvent);
    scan!(Topic::LEERPLICHT, LeerplichtEvent);
    scan!(Topic::JEUGDHULP, JeugdhulpEvent);
    Ok(out)
}

pub async fn explain(cfg: &Config, signal_id: &str, lang: &str) -> anyhow::Result<()> {
    let en = lang == "en";
    let reg = schakel_core::log::schemas::registry();
    let steps: Vec<SignalEvent> = read_to_end(cfg, &cfg.topic(Topic::SIGNALS))
        .context("reading hub.signals.v1")?
        .iter()
        .filter_map(|r| {
            reg.decode::<SignalEvent>(Topic::SIGNALS, r.value.as_deref()?)
                .ok()
        })
        .filter(|s| s.signal_id == signal_id)
        .collect();
    let Some(first) = steps.first() else {
        bail!("no signal with id {signal_id} on hub.signals.v1");
    };
    let rule = Rule::parse(&first.rule).context("unknown rule in the signal")?;
    let t = |nl: &'static str, e: &'static str| if en { e } else { nl };
    println!("{} {signal_id}", t("Signaal", "Signal"));
    println!(
        "{}: {} — {}",
        t("Regel", "Rule"),
        first.rule,
        describe(rule, lang)
    );
    if first.task {
        println!(
            "{}",
            t("Soort: warme-overdrachttaak", "Kind: warm-handoff task")
        );
    }
    println!(
        "{}: {}… ({})",
        t("Kind", "Child"),
        &first.child_key.as_str()[..12],
        t(
            "pseudoniem; BSN en naam staan alleen in de identiteitskluis",
            "pseudonym; BSN and name are only in the identity vault"
        )
    );
    if first.birth_date_uncertain {
        println!("{}", t(
            "Let op: de geboortedatum is onzeker; leeftijden gaan uit van de vroegst mogelijke datum.",
            "Note: the birth date is uncertain; ages use the earliest possible date.",
        ));
    }
    println!("\n{}:", t("Stappen", "Steps"));
    for s in &steps {
        let due = s
            .due_date
            .map(|d| format!(", {} {d}", t("uiterlijk", "due")))
            .unwrap_or_default();
        let at = s
            .municipality
            .as_deref()
            .map(|m| format!(", {} {m}", t("gemeente", "municipality")))
            .unwrap_or_default();
        println!(
            "  {}  {:<12} → {}{due}{at}",
            s.fired_on,
            s.step,
            s.recipients.join(", ")
        );
    }
    let mut routes: Vec<String> = Vec::new();
    for s in &steps {
        for (role, inst) in &s.routes {
            let r = format!("{role} → {inst}");
            if !routes.contains(&r) {
                routes.push(r);
            }
        }
    }
    if !routes.is_empty() {
        println!(
            "\n{}:",
            t("Rollen bij instellingen", "Roles at institutions")
        );
        for r in routes {
            println!("  {r}");
        }
    }
    println!("\n{}:", t("Beleidswaarden", "Policy values"));
    for (k, v) in &first.policy {
        println!("  policy.{k} = {v}");
    }
    let mut ids: Vec<String> = Vec::new();
    for s in &steps {
        for f in &s.facts {
            if !ids.contains(f) {
                ids.push(f.clone());
            }
        }
    }
    println!("\n{}:", t("Feiten (gebeurtenissen)", "Facts (events)"));
    let found = facts_of(cfg, first.child_key.as_str(), &ids)?;
    for id in &ids {
        match found.iter().find(|f| &f.id == id) {
            Some(f) => println!(
                "  {id}: {} ({} {})",
                f.kind,
                t("vastgelegd", "recorded"),
                f.recorded
            ),
            None => println!(
                "  {id}: {}",
                t("niet (meer) in het log", "not (or no longer) in the log")
            ),
        }
    }
    if ids.is_empty() {
        println!(
            "  {}",
            t(
                "geen: de regel gaat over iets dat ontbreekt",
                "none: the rule is about something missing"
            )
        );
    }
    Ok(())
}
