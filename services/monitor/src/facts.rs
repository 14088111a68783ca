//! The facts behind a signal, said in Dutch for the contact person entitled to see them: which
//! school, which kind of verzuim, that there is youth care. These details never travel in a
//! notification; they are shown only on the signal page, after the read is audited.

use schakel_core::domain::events::{
    JeugdhulpData, JeugdhulpEvent, LeerplichtData, LeerplichtEvent, SchoolData, SchoolEvent,
    SchoolRef, VoorschoolData, VoorschoolEvent,
};
use schakel_core::domain::ids::ChildKey;
use schakel_core::domain::wording::dutch_date;

/// The kind of data a fact is, as audit records name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Category {
    Education,
    Voorschool,
    Verzuim,
    Vrijstelling,
    Jeugdhulp,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Education => "education",
            Category::Voorschool => "voorschool",
            Category::Verzuim => "verzuim",
            Category::Vrijstelling => "vrijstelling",
            Category::Jeugdhulp => "jeugdhulp",
        }
    }

    /// The heading of the category on a page.
    pub fn dutch(self) -> &'static str {
        match self {
            Category::Education => "Onderwijs",
            Category::Voorschool => "Voorschool",
            Category::Verzuim => "Verzuim",
            Category::Vrijstelling => "Vrijstelling",
            Category::Jeugdhulp => "Jeugdhulp",
        }
    }
}

/// One source fact, said in a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fact {
    pub child: ChildKey,
    pub category: Category,
    pub text: String,
}

fn school(s: &SchoolRef) -> String {
    format!("school {} (vestiging {})", s.brin, s.vestiging)
}

fn grade(sector: &str, grade: i32) -> String {
    match sector {
        "po" | "sbo" | "so" => format!("groep {grade}"),
        _ => format!("leerjaar {grade}"),
    }
}

pub fn of_school(e: &SchoolEvent) -> Fact {
    let text = match &e.data {
        SchoolData::EnrolmentRegistered {
            school: s,
            sector,
            grade: g,
            start_date,
        } => format!(
            "Ingeschreven bij {} ({}, {}) vanaf {}",
            school(s),
            sector.to_uppercase(),
            grade(sector, *g),
            dutch_date(*start_date)
        ),
        SchoolData::EnrolmentEnded {
            school: s,
            end_date,
            reason,
            ..
        } => format!(
            "Uitgeschreven bij {} per {} (reden: {reason})",
            school(s),
            dutch_date(*end_date)
        ),
        SchoolData::ApplicationRegistered { school: s, date } => {
            format!("Aangemeld bij {} op {}", school(s), dutch_date(*date))
        }
        SchoolData::AdmissionDecided {
            school: s,
            date,
            decision,
        } => format!(
            "Toelatingsbesluit van {}: {decision} ({})",
            school(s),
            dutch_date(*date)
        ),
        SchoolData::AdviceGiven { kind, level, date } => {
            format!("Schooladvies ({kind}): {level} ({})", dutch_date(*date))
        }
        SchoolData::SupportStarted {
            school: s,
            support,
            date,
        } => format!(
            "Ondersteuning ({}) gestart bij {} op {}",
            support.to_uppercase(),
            school(s),
            dutch_date(*date)
        ),
        SchoolData::SupportEnded {
            school: s,
            support,
            date,
        } => format!(
            "Ondersteuning ({}) beëindigd bij {} op {}",
            support.to_uppercase(),
            school(s),
            dutch_date(*date)
        ),
    };
    Fact {
        child: e.child.child_key.clone(),
        category: Category::Education,
        text,
    }
}

pub fn of_voorschool(e: &VoorschoolEvent) -> Fact {
    let (started, location, vve, date) = match &e.data {
        VoorschoolData::PlacementStarted {
            location,
            vve_indication,
            date,
            ..
        } => (true, location, vve_indication, date),
        VoorschoolData::PlacementEnded {
            location,
            vve_indication,
            date,
            ..
        } => (false, location, vve_indication, date),
    };
    let what = if started {
        "Geplaatst"
    } else {
        "Plaatsing beëindigd"
    };
    let vve = if *vve { "met" } else { "zonder" };
    Fact {
        child: e.child.child_key.clone(),
        category: Category::Voorschool,
        text: format!(
            "{what} op voorschoollocatie LRK {} ({vve} VVE-indicatie), {}",
            location.lrk,
            dutch_date(*date)
        ),
    }
}

pub fn of_leerplicht(e: &LeerplichtEvent) -> Fact {
    let (category, text) = match &e.data {
        LeerplichtData::VerzuimReported {
            school: s,
            meldingsnummer,
            kind,
            first_absence_date,
        } => (
            Category::Verzuim,
            format!(
                "Verzuimmelding {meldingsnummer} ({kind}) van {}, eerste verzuimdag {}",
                school(s),
                dutch_date(*first_absence_date)
            ),
        ),
        LeerplichtData::VerzuimStatusChanged {
            meldingsnummer,
            status,
        } => (
            Category::Verzuim,
            format!("Verzuimmelding {meldingsnummer}: status {status}"),
        ),
        LeerplichtData::VrijstellingGranted { kind, from, until } => (
            Category::Vrijstelling,
            format!(
                "Vrijstelling {kind} vanaf {}{}",
                dutch_date(*from),
                until.map_or(String::new(), |u| format!(" tot {}", dutch_date(u)))
            ),
        ),
        LeerplichtData::VrijstellingEnded { kind, from, .. } => (
            Category::Vrijstelling,
            format!(
                "Vrijstelling {kind} (vanaf {}) beëindigd",
                dutch_date(*from)
            ),
        ),
        LeerplichtData::ThuiszitterRegistered { since, school: s } => (
            Category::Verzuim,
            format!(
                "Thuiszitter sinds {}{}",
                dutch_date(*since),
                s.as_ref().map_or(String::new(), |s| format!(
                    ", ingeschreven bij {}",
                    school(s)
                ))
            ),
        ),
        LeerplichtData::ThuiszitterResolved { date, offer } => (
            Category::Verzuim,
            format!("Passend aanbod ({offer}) per {}", dutch_date(*date)),
        ),
    };
    Fact {
        child: e.child.child_key.clone(),
        category,
        text,
    }
}

pub fn of_jeugdhulp(e: &JeugdhulpEvent) -> Fact {
    let text = match &e.data {
        JeugdhulpData::AssignmentIssued {
            toewijzing_nummer,
            product,
            ingangsdatum,
            einddatum,
            verlengde_jeugdhulp,
            ..
        } => format!(
            "Jeugdhulp toegewezen (toewijzing {toewijzing_nummer}, productcategorie {}) vanaf {}{}{}",
            product.categorie,
            dutch_date(*ingangsdatum),
            einddatum.map_or(String::new(), |d| format!(" tot {}", dutch_date(d))),
            if *verlengde_jeugdhulp == Some(true) {
                "; verlengde jeugdhulp"
            } else {
                ""
            }
        ),
        JeugdhulpData::AssignmentWithdrawn {
            toewijzing_nummer,
            date,
        } => format!(
            "Toewijzing {toewijzing_nummer} ingetrokken op {}",
            dutch_date(*date)
        ),
        JeugdhulpData::CareStarted {
            toewijzing_nummer,
            begindatum,
        } => format!(
            "Jeugdhulp gestart (toewijzing {toewijzing_nummer}) op {}",
            dutch_date(*begindatum)
        ),
        JeugdhulpData::CareStopped {
            toewijzing_nummer,
            einddatum,
            ..
        } => format!(
            "Jeugdhulp gestopt (toewijzing {toewijzing_nummer}) op {}",
            dutch_date(*einddatum)
        ),
        JeugdhulpData::CareWithdrawn {
            toewijzing_nummer,
            record,
            ..
        } => format!("Bericht ({record}) over toewijzing {toewijzing_nummer} ingetrokken"),
        JeugdhulpData::AssignmentRequested {
            product,
            ingangsdatum,
            ..
        } => format!(
            "Verzoek om toewijzing (productcategorie {}){}",
            product.categorie,
            ingangsdatum.map_or(String::new(), |d| format!(" vanaf {}", dutch_date(d)))
        ),
    };
    Fact {
        child: e.child.child_key.clone(),
        category: Category::Jeugdhulp,
        text,
    }
}
