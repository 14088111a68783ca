//! The checks a policy must pass before a service starts with it: the orders of its ages, the
//! spelling of its school years, gemeentecodes and schools, and its positive day counts.

use super::{Policy, SchoolYear};

impl Policy {
    pub fn check(&self) -> Result<(), String> {
        let a = &self.adulthood;
        if !(a.planning_age.total_months() < a.handoff_age.total_months()
            && a.handoff_age.total_months() < a.adult_age.total_months())
        {
            return Err(
                "policy.adulthood: planning_age < handoff_age < adult_age must hold".into(),
            );
        }
        let v = &self.voorschool;
        if !(v.handoff_age.total_months() < v.no_application_age.total_months()
            && v.no_application_age.total_months() <= v.po_start_age.total_months())
        {
            return Err(
                "policy.voorschool: handoff_age < no_application_age <= po_start_age must hold"
                    .into(),
            );
        }
        self.monitoring
            .days()
            .map_err(|e| format!("policy.monitoring.peildata: {e}"))?;
        let s = &self.monitoring.suppression;
        if s.min_count < 2 || s.care_round == 0 || s.min_denominator == 0 {
            return Err("policy.monitoring.suppression: min_count must be at least 2, care_round and min_denominator at least 1".into());
        }
        for label in self.school_year.years.keys() {
            SchoolYear::parse(label)
                .map_err(|e| format!("policy.school_year.years.{label:?}: {e}"))?;
        }
        let code = |m: &str| m.len() == 4 && m.bytes().all(|b| b.is_ascii_digit());
        for m in &self.region.municipalities {
            if !code(m) {
                return Err(format!(
                    "policy.region.municipalities: {m:?} is not a 4-digit gemeentecode"
                ));
            }
        }
        for (school, m) in &self.routing.school_municipality {
            if !school.starts_with("school:") {
                return Err(format!(
                    "policy.routing.school_municipality: {school:?} is not school:<BRIN>"
                ));
            }
            if !code(m) {
                return Err(format!(
                    "policy.routing.school_municipality.{school:?}: {m:?} is not a 4-digit gemeentecode"
                ));
            }
        }
        let positive = [
            (
                "policy.leerplicht.school_change_days",
                self.leerplicht.school_change_days,
            ),
            (
                "policy.leerplicht.late_window_days",
                self.leerplicht.late_window_days,
            ),
            (
                "policy.thuiszitter.reminder_days",
                self.thuiszitter.reminder_days,
            ),
            (
                "policy.thuiszitter.min_days_out",
                self.thuiszitter.min_days_out,
            ),
            (
                "policy.handoff.cancel_grace_days",
                self.handoff.cancel_grace_days,
            ),
        ];
        for (name, v) in positive {
            if v <= 0 {
                return Err(format!("{name} must be positive, got {v}"));
            }
        }
        Ok(())
    }
}
