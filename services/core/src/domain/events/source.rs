//! What source systems say: a fact's envelope, the child and the data of each source type.

use jiff::civil::Date;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::domain::catalogue::EventType;
use crate::domain::dates::{BirthDate, DatePrecision};
use crate::domain::ids::ChildKey;

/// The pseudonymous child carried by every source record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChildRef {
    pub child_key: ChildKey,
    pub birth_date: Date,
    pub birth_date_precision: DatePrecision,
    pub residence_municipality: Option<String>,
}

impl ChildRef {
    pub fn birth(&self) -> BirthDate {
        BirthDate::new(self.birth_date, self.birth_date_precision)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchoolRef {
    pub brin: String,
    pub vestiging: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocationRef {
    pub lrk: String,
}

/// A source fact: the CloudEvents envelope, the child and the type-specific data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceEvent<D> {
    pub id: String,
    pub source: String,
    #[serde(rename = "type")]
    pub kind: EventType,
    pub time: Timestamp,
    pub child: ChildRef,
    pub data: D,
}

/// The data of a source type: each variant is one type of the catalogue.
pub trait SourceData {
    fn event_type(&self) -> EventType;
}

impl<D: SourceData> SourceEvent<D> {
    /// A source fact whose `type` is the one its data is.
    pub fn new(id: String, source: String, time: Timestamp, child: ChildRef, data: D) -> Self {
        Self {
            id,
            source,
            kind: data.event_type(),
            time,
            child,
            data,
        }
    }
}

impl SourceData for SchoolData {
    fn event_type(&self) -> EventType {
        match self {
            SchoolData::EnrolmentRegistered { .. } => EventType::EnrolmentRegistered,
            SchoolData::EnrolmentEnded { .. } => EventType::EnrolmentEnded,
            SchoolData::ApplicationRegistered { .. } => EventType::ApplicationRegistered,
            SchoolData::AdmissionDecided { .. } => EventType::AdmissionDecided,
            SchoolData::AdviceGiven { .. } => EventType::AdviceGiven,
            SchoolData::SupportStarted { .. } => EventType::SupportStarted,
            SchoolData::SupportEnded { .. } => EventType::SupportEnded,
        }
    }
}

impl SourceData for VoorschoolData {
    fn event_type(&self) -> EventType {
        match self {
            VoorschoolData::PlacementStarted { .. } => EventType::PlacementStarted,
            VoorschoolData::PlacementEnded { .. } => EventType::PlacementEnded,
        }
    }
}

impl SourceData for LeerplichtData {
    fn event_type(&self) -> EventType {
        match self {
            LeerplichtData::VerzuimReported { .. } => EventType::VerzuimReported,
            LeerplichtData::VerzuimStatusChanged { .. } => EventType::VerzuimStatusChanged,
            LeerplichtData::VrijstellingGranted { .. } => EventType::VrijstellingGranted,
            LeerplichtData::VrijstellingEnded { .. } => EventType::VrijstellingEnded,
            LeerplichtData::ThuiszitterRegistered { .. } => EventType::ThuiszitterRegistered,
            LeerplichtData::ThuiszitterResolved { .. } => EventType::ThuiszitterResolved,
        }
    }
}

impl SourceData for JeugdhulpData {
    fn event_type(&self) -> EventType {
        match self {
            JeugdhulpData::AssignmentIssued { .. } => EventType::AssignmentIssued,
            JeugdhulpData::AssignmentWithdrawn { .. } => EventType::AssignmentWithdrawn,
            JeugdhulpData::CareStarted { .. } => EventType::CareStarted,
            JeugdhulpData::CareStopped { .. } => EventType::CareStopped,
            JeugdhulpData::CareWithdrawn { .. } => EventType::CareWithdrawn,
            JeugdhulpData::AssignmentRequested { .. } => EventType::AssignmentRequested,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SchoolData {
    #[serde(rename_all = "camelCase")]
    EnrolmentRegistered {
        school: SchoolRef,
        sector: String,
        grade: i32,
        start_date: Date,
    },
    #[serde(rename_all = "camelCase")]
    EnrolmentEnded {
        school: SchoolRef,
        end_date: Date,
        reason: String,
        destination: Option<SchoolRef>,
        #[serde(default)]
        startkwalificatie: Option<bool>,
    },
    ApplicationRegistered {
        school: SchoolRef,
        date: Date,
    },
    AdmissionDecided {
        school: SchoolRef,
        date: Date,
        decision: String,
    },
    AdviceGiven {
        kind: String,
        level: String,
        date: Date,
    },
    SupportStarted {
        school: SchoolRef,
        support: String,
        date: Date,
    },
    SupportEnded {
        school: SchoolRef,
        support: String,
        date: Date,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum VoorschoolData {
    #[serde(rename_all = "camelCase")]
    PlacementStarted {
        location: LocationRef,
        vve_indication: bool,
        date: Date,
        mentor: Option<String>,
    },
    #[serde(rename_all = "camelCase")]
    PlacementEnded {
        location: LocationRef,
        vve_indication: bool,
        date: Date,
        mentor: Option<String>,
    },
}

impl VoorschoolData {
    /// A placement that starts (`started`) or ends on `date`.
    pub fn placement(
        started: bool,
        location: LocationRef,
        vve_indication: bool,
        date: Date,
        mentor: Option<String>,
    ) -> Self {
        if started {
            Self::PlacementStarted {
                location,
                vve_indication,
                date,
                mentor,
            }
        } else {
            Self::PlacementEnded {
                location,
                vve_indication,
                date,
                mentor,
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum LeerplichtData {
    #[serde(rename_all = "camelCase")]
    VerzuimReported {
        school: SchoolRef,
        meldingsnummer: String,
        kind: String,
        first_absence_date: Date,
    },
    VerzuimStatusChanged {
        meldingsnummer: String,
        status: String,
    },
    VrijstellingGranted {
        kind: String,
        from: Date,
        until: Option<Date>,
    },
    VrijstellingEnded {
        kind: String,
        from: Date,
        until: Option<Date>,
    },
    ThuiszitterRegistered {
        since: Date,
        school: Option<SchoolRef>,
    },
    ThuiszitterResolved {
        date: Date,
        offer: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    pub categorie: String,
    pub code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum JeugdhulpData {
    #[serde(rename_all = "camelCase")]
    AssignmentIssued {
        toewijzing_nummer: String,
        product: Product,
        ingangsdatum: Date,
        einddatum: Option<Date>,
        toewijzing_tijdstip: Timestamp,
        verlengde_jeugdhulp: Option<bool>,
        gemeente: String,
    },
    #[serde(rename_all = "camelCase")]
    AssignmentWithdrawn {
        toewijzing_nummer: String,
        date: Date,
    },
    #[serde(rename_all = "camelCase")]
    CareStarted {
        toewijzing_nummer: String,
        begindatum: Date,
    },
    #[serde(rename_all = "camelCase")]
    CareStopped {
        toewijzing_nummer: String,
        begindatum: Date,
        einddatum: Date,
        reden_beeindiging: Option<String>,
    },
    /// An iJw start (`record` = "start") or stop ("stop") record withdrawn.
    #[serde(rename_all = "camelCase")]
    CareWithdrawn {
        toewijzing_nummer: String,
        record: String,
        begindatum: Date,
    },
    #[serde(rename_all = "camelCase")]
    AssignmentRequested {
        referentie_aanbieder: String,
        product: Product,
        ingangsdatum: Option<Date>,
        einddatum: Option<Date>,
        gemeente: String,
    },
}

pub type SchoolEvent = SourceEvent<SchoolData>;
pub type VoorschoolEvent = SourceEvent<VoorschoolData>;
pub type LeerplichtEvent = SourceEvent<LeerplichtData>;
pub type JeugdhulpEvent = SourceEvent<JeugdhulpData>;
