//! The dashboard's filters: what a viewer asked for (`Filters`) and what is shown (`Chosen`):
//! the peildatum, as known then or now, the municipality, school, rows and the period.

use super::*;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Filters {
    /// YYYY-MM-DD
    pub peildatum: Option<String>,
    /// `nu` (every fact known now, the default) or `toen` (as known at the end of the
    /// peildatum: the figure a report of that day gave)
    pub bekend: Option<String>,
    /// a CBS code
    pub gemeente: Option<String>,
    /// an institution id (`school:12AB`)
    pub school: Option<String>,
    /// the start of the period (default: the school year's 1 August)
    pub vanaf: Option<String>,
    /// the rows: `gemeente` (default), `school` or `swv` (the latter two for exact viewers)
    pub rijen: Option<String>,
}

/// The filters, read.
#[derive(Debug, Clone)]
pub struct Chosen {
    pub peildatum: Date,
    pub now_known: bool,
    pub scope: Scope,
    pub from: Date,
}

pub(super) fn today() -> Date {
    day_of(jiff::Timestamp::now())
}

/// The peildata (`days` of the year) up to `today`, newest first (two years' worth).
pub fn recent_peildata(days: &[(i8, i8)], today: Date) -> Vec<Date> {
    let mut out: Vec<Date> = (today.year() - 2..=today.year())
        .flat_map(|y| days.iter().map(move |(m, d)| jiff::civil::date(y, *m, *d)))
        .filter(|d| *d <= today)
        .collect();
    out.sort_unstable_by(|a, b| b.cmp(a));
    out.truncate(8);
    out
}

/// A date from a form or query, in the years a monitoring report can be about (1900–2199):
/// anything else is ignored like a malformed date.
pub(super) fn plausible_date(s: &str) -> Option<Date> {
    s.parse::<Date>()
        .ok()
        .filter(|d| (1900..=2199).contains(&d.year()))
}

impl Filters {
    pub fn chosen(&self, days: &[(i8, i8)], today: Date) -> Chosen {
        let peildatum = self
            .peildatum
            .as_deref()
            .and_then(plausible_date)
            .unwrap_or_else(|| {
                recent_peildata(days, today)
                    .first()
                    .copied()
                    .unwrap_or(today)
            });
        let nonempty = |s: &Option<String>| {
            s.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        Chosen {
            peildatum,
            now_known: self.bekend.as_deref() != Some("toen"),
            scope: Scope {
                municipality: nonempty(&self.gemeente),
                school: nonempty(&self.school),
                rows: match self.rijen.as_deref() {
                    Some("school") => RowsBy::School,
                    Some("swv") => RowsBy::Swv,
                    _ => RowsBy::Municipality,
                },
                swv: Default::default(),
            },
            from: self
                .vanaf
                .as_deref()
                .and_then(plausible_date)
                .filter(|d| *d <= peildatum)
                .unwrap_or_else(|| figures::school_year_start(peildatum)),
        }
    }
}

impl Chosen {
    /// The municipality the figures are counted for: none for rows by municipality (a
    /// municipality's view is its row of the region's table), the chosen one otherwise.
    pub(super) fn limited_to(&self) -> Option<String> {
        match self.scope.rows {
            RowsBy::Municipality => None,
            _ => self.scope.municipality.clone(),
        }
    }

    /// The municipality row a view cuts from the region's table, if it shows one.
    pub(super) fn only(&self) -> Option<String> {
        match self.scope.rows {
            RowsBy::Municipality => self.scope.municipality.clone(),
            _ => None,
        }
    }

    pub(super) fn as_of(&self, now: bool) -> AsOf {
        let end = self
            .peildatum
            .tomorrow()
            .ok()
            .and_then(|d| {
                d.to_zoned(jiff::tz::TimeZone::get("Europe/Amsterdam").ok()?)
                    .ok()
            })
            .map(|z| z.timestamp());
        AsOf {
            peildatum: self.peildatum,
            known_at: if now { None } else { end },
        }
    }

    /// The query string of these filters.
    pub(super) fn query(&self) -> String {
        let mut q = format!(
            "peildatum={}&bekend={}&vanaf={}",
            self.peildatum,
            if self.now_known { "nu" } else { "toen" },
            self.from
        );
        if let Some(m) = &self.scope.municipality {
            q.push_str(&format!("&gemeente={}", crate::pages::encode(m)));
        }
        if let Some(s) = &self.scope.school {
            q.push_str(&format!("&school={}", crate::pages::encode(s)));
        }
        match self.scope.rows {
            RowsBy::Municipality => {}
            RowsBy::School => q.push_str("&rijen=school"),
            RowsBy::Swv => q.push_str("&rijen=swv"),
        }
        q
    }
}
