//! Policy values by their dotted names (`adulthood.handoff_age`), as signals cite them.

use super::Policy;

impl Policy {
    /// Every policy value by its dotted name, as signals cite them.
    pub fn value(&self, key: &str) -> Option<String> {
        let s = &self.school_year;
        let v = match key {
            "voorschool.handoff_age" => self.voorschool.handoff_age.to_string(),
            "voorschool.no_application_age" => self.voorschool.no_application_age.to_string(),
            "voorschool.po_start_age" => self.voorschool.po_start_age.to_string(),
            "voorschool.escalation_school_days" => {
                self.voorschool.escalation_school_days.to_string()
            }
            "leerplicht.start_age" => self.leerplicht.start_age.to_string(),
            "leerplicht.end_age" => self.leerplicht.end_age.to_string(),
            "leerplicht.school_change_days" => self.leerplicht.school_change_days.to_string(),
            "leerplicht.late_window_days" => self.leerplicht.late_window_days.to_string(),
            "school_year.start" => s.start.to_string(),
            "school_year.vo_application_deadline" => s.vo_application_deadline.to_string(),
            "school_year.vo_escalation" => s.vo_escalation.to_string(),
            "school_year.vo_handoff_due" => s.vo_handoff_due.to_string(),
            "school_year.vo_handoff_escalation_days" => s.vo_handoff_escalation_days.to_string(),
            "school_year.vo_enrolled_check" => s.vo_enrolled_check.to_string(),
            "adulthood.planning_age" => self.adulthood.planning_age.to_string(),
            "adulthood.handoff_age" => self.adulthood.handoff_age.to_string(),
            "adulthood.adult_age" => self.adulthood.adult_age.to_string(),
            "adulthood.escalation_days" => self.adulthood.escalation_days.to_string(),
            "adulthood.follow_up_grace_days" => self.adulthood.follow_up_grace_days.to_string(),
            "thuiszitter.min_days_out" => self.thuiszitter.min_days_out.to_string(),
            "thuiszitter.reminder_days" => self.thuiszitter.reminder_days.to_string(),
            "thuiszitter.escalation_months" => self.thuiszitter.escalation_months.to_string(),
            "verzuim_jeugdhulp.enabled" => self.verzuim_jeugdhulp.enabled.to_string(),
            "handoff.remind_days_before_due" => self.handoff.remind_days_before_due.to_string(),
            "handoff.cancel_grace_days" => self.handoff.cancel_grace_days.to_string(),
            "retention.identity_years" => self.retention.identity_years.to_string(),
            _ => return None,
        };
        Some(v)
    }
}
