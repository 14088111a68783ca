//! What Schakel says about a rule and its steps, in the words a contact person reads: the
//! title of a notification and the reason a rule fires.

/// The title of a step of a rule's signal, in Dutch.
pub fn title(rule: &str, step: &str) -> String {
    let subject = match rule {
        "R1a" => "Warme overdracht voorschool → basisschool",
        "R1b" => "Peuter met VVE-indicatie nog niet aangemeld bij een basisschool",
        "R1c" => "Leerplichtig kind nergens ingeschreven (vermoeden absoluut verzuim)",
        "R2a" => "Leerling groep 8 nog niet aangemeld bij het voortgezet onderwijs",
        "R2b" => "Warme overdracht basisschool → voortgezet onderwijs",
        "R2c" => "Oud-leerling groep 8 op 1 oktober nergens ingeschreven",
        "R3a" => "Overgang 18-/18+ plannen voor een jongere met jeugdhulp",
        "R3b" => "Warme overdracht 18-/18+: van jeugdteam naar volwassenenzorg",
        "R3c" => "18 jaar geworden zonder geregeld vervolg op de jeugdhulp",
        "R3d" => "Warme overdracht 18+ zonder startkwalificatie: van leerplicht naar RMC",
        "R4" => "Thuiszitter: passend aanbod nodig",
        "R5" => "Uitgeschreven leerling zonder nieuwe inschrijving",
        "R6" => "Verzuimmelding bij een jongere met jeugdhulp",
        "C1" => "Configuratie: rol zonder contactpersoon in het adresboek",
        "C2" => "Configuratie: eindpunt van een contactpersoon uitgeschakeld",
        _ => "Signaal van Schakel",
    };
    match step {
        "opened" => subject.to_owned(),
        "reminded" => format!("Herinnering: {}", lower_first(subject)),
        "overdue" => format!("Termijn verstreken: {}", lower_first(subject)),
        "escalated" => format!("Escalatie: {}", lower_first(subject)),
        "resolved" => format!("Opgelost: {}", lower_first(subject)),
        "acknowledged" => format!("Bevestigd door de ontvanger: {}", lower_first(subject)),
        "completed" => format!("Afgerond: {}", lower_first(subject)),
        "cancelled" => format!("Vervallen: {}", lower_first(subject)),
        _ => subject.to_owned(),
    }
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Why a rule fires, in Dutch or (`en`) English; None for a rule Schakel does not have.
pub fn explain(rule: &str, en: bool) -> Option<&'static str> {
    match (rule, en) {
        ("R1a", false) => Some("Een peuter met VVE-indicatie bereikte de overdrachtsleeftijd en er is een aanmelding of inschrijving bij een basisschool bekend: warme overdracht van de VVE-mentor naar de intern begeleider, uiterlijk bij de start op de basisschool."),
        ("R1a", true) => Some("A toddler with a VVE indication reached the handoff age and a PO aanmelding or inschrijving is known: warm handoff from the VVE mentor to the school's IB, due at the start in primary school."),
        ("R1b", false) => Some("Een peuter met VVE-indicatie bereikte de signaleringsleeftijd zonder bekende aanmelding bij een basisschool."),
        ("R1b", true) => Some("A toddler with a VVE indication reached the signalling age with no known aanmelding at a primary school."),
        ("R1c", false) => Some("Het kind is leerplichtig (eerste dag van de maand na de 5e verjaardag) en nergens ingeschreven: vermoeden van absoluut verzuim."),
        ("R1c", true) => Some("The child is leerplichtig (first day of the month after the 5th birthday) and enrolled nowhere: absoluut verzuim suspected."),
        ("R2a", false) => Some("Een leerling in groep 8 heeft op de peildatum geen aanmelding bij het voortgezet onderwijs; zonder aanmelding op de escalatiedatum gaat het signaal naar het samenwerkingsverband."),
        ("R2a", true) => Some("A groep-8 pupil has no VO aanmelding on the deadline; still none on the escalation date, the signal goes to the samenwerkingsverband."),
        ("R2b", false) => Some("Een leerling met een ondersteuningscontext (OPP, arrangement, TLV, OZA, kernteam of jeugdhulp) is toegelaten of ingeschreven in het voortgezet onderwijs: warme overdracht van de intern begeleider naar de zorgcoördinator."),
        ("R2b", true) => Some("A pupil with a support context (OPP, arrangement, TLV, OZA, kernteam or youth care) was admitted to or enrolled in secondary school: warm handoff from the PO IB to the VO zorgcoördinator."),
        ("R2c", false) => Some("Op de peildatum in het nieuwe schooljaar is de oud-leerling van groep 8 nergens ingeschreven: vermoeden van absoluut verzuim."),
        ("R2c", true) => Some("On the check date of the new school year the former groep-8 pupil is enrolled nowhere: absoluut verzuim suspected."),
        ("R3a", false) => Some("Een jongere met actieve jeugdhulp bereikte de planningsleeftijd: het jeugdteam plant de overgang naar 18+."),
        ("R3a", true) => Some("A youth with active youth care reached the planning age: the jeugdteam plans the transition to 18+."),
        ("R3b", false) => Some("Een jongere met actieve jeugdhulp bereikte de overdrachtsleeftijd: warme overdracht van het jeugdteam naar de volwassenenzorg, uiterlijk op de 18e verjaardag."),
        ("R3b", true) => Some("A youth with active youth care reached the handoff age: warm handoff from the jeugdteam to adult care, due on the 18th birthday."),
        ("R3c", false) => Some("De 18e verjaardag is voorbij terwijl de jeugdhulp op 18 eindigt zonder vervolg, of doorloopt zonder besluit over verlengde jeugdhulp."),
        ("R3c", true) => Some("The 18th birthday passed while youth care ends at 18 without follow-up, or runs on without a verlengde-jeugdhulp decision."),
        ("R3d", false) => Some("Een jongere in het onderwijs zonder startkwalificatie bereikte de overdrachtsleeftijd: warme overdracht van leerplicht naar RMC, uiterlijk op de 18e verjaardag."),
        ("R3d", true) => Some("A youth in education without a startkwalificatie reached the handoff age: warm handoff from leerplicht to RMC, due on the 18th birthday."),
        ("R4", false) => Some("Een thuiszitterperiode (LRV-melding, registratie of absoluut verzuim) duurt de minimale periode: herinnering na de herinneringstermijn, escalatie naar de doorbraaktafel zonder passend aanbod."),
        ("R4", true) => Some("A thuiszitter episode (LRV melding, registration or absoluut verzuim) lasted the minimum period: reminder after the reminder term, escalation to the doorbraak table without passend aanbod."),
        ("R5", false) => Some("Een leerplichtige leerling is uitgeschreven zonder bekende nieuwe inschrijving binnen de termijn."),
        ("R5", true) => Some("A leerplichtig pupil was uitgeschreven with no new inschrijving known within the term."),
        ("R6", false) => Some("Een verzuimmelding voor een jongere met actieve jeugdhulp (alleen waar het regionale beleid deze uitwisseling toestaat)."),
        ("R6", true) => Some("A verzuim melding for a youth with active youth care (only where the regional policy allows this exchange)."),
        _ => None,
    }
}

const MONTHS: [&str; 12] = [
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
];

/// A date as Dutch readers write it: `12 juli 2026`.
pub fn dutch_date(d: jiff::civil::Date) -> String {
    format!(
        "{} {} {}",
        d.day(),
        MONTHS[(d.month() - 1) as usize],
        d.year()
    )
}

/// A month as Dutch readers write it: `maart 2026`.
pub fn dutch_month(year: i16, month: i8) -> String {
    let name = MONTHS
        .get(usize::try_from(month - 1).unwrap_or(usize::MAX))
        .copied()
        .unwrap_or("?");
    format!("{name} {year}")
}

/// Text made safe for HTML content and attribute values (`&`, `<`, `>`, `"`, `'`).
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
