//! The figures as CSV (`;`-separated, as Dutch spreadsheets read it).

use super::*;

pub(super) fn csv_field(s: &str) -> String {
    if s.contains([';', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// A figure as CSV (`;`-separated, as Dutch spreadsheets read it), with the rule and the
/// peildatum under it.
pub fn to_csv(
    f: &Figure,
    m: &Masked,
    measures: &[(&'static str, Vec<String>, String)],
    c: &Chosen,
) -> String {
    let mut out = String::from("\u{feff}");
    out.push_str(&csv_field(f.title));
    for col in f.cols.iter().map(String::as_str).chain(["Totaal"]) {
        out.push(';');
        out.push_str(&csv_field(col));
    }
    for (label, _, _) in measures {
        out.push(';');
        out.push_str(&csv_field(label));
    }
    out.push_str("\r\n");
    for (r, name) in f.rows.iter().enumerate() {
        out.push_str(&csv_field(name));
        for cell in m.cells[r].iter().chain([&m.row_totals[r]]) {
            out.push(';');
            out.push_str(&cell.text());
        }
        for (_, rows, _) in measures {
            out.push(';');
            out.push_str(&rows[r]);
        }
        out.push_str("\r\n");
    }
    out.push_str("Totaal");
    for cell in m.col_totals.iter().chain([&m.total]) {
        out.push(';');
        out.push_str(&cell.text());
    }
    for (_, _, total) in measures {
        out.push(';');
        out.push_str(total);
    }
    out.push_str("\r\n");
    out.push_str(&format!(
        "Peildatum {};Periode vanaf {};{}\r\n{}\r\n",
        c.peildatum,
        c.from,
        if c.now_known {
            "zoals nu bekend"
        } else {
            "zoals bekend op de peildatum"
        },
        csv_field(&m.rule)
    ));
    out
}
