//! Small numbers never identify a child: the statistical protection of every aggregate shown to
//! someone who may not see the children behind it (after CBS's statistische beveiliging).
//!
//! - a count of 1 to `min_count - 1` (1–4) is shown as "<5", and one more cell of the same row
//!   or column is hidden so that a published total cannot give it away (secondary
//!   suppression; a line without another cell to hide hides its total);
//! - a category that touches care (5 onder a, youth care, R6) is rounded to `care_round` (5)
//!   and 0 to `care_hide_below - 1` (0–7) is hidden;
//! - a percentage is shown only over a denominator of at least `min_denominator` (10).
//!
//! Masking works on a whole table (the cube a page shows, after its filters), so every figure
//! published from it, and every difference of two of them, stays protected. Every masked
//! table says which rule it applied.

use serde::Serialize;

pub use schakel_core::domain::monitoring::Suppression;

/// How one figure is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "shown", content = "value", rename_all = "camelCase")]
pub enum Cell {
    /// the count itself
    Exact(u64),
    /// 1 to n−1: "<n"
    Below(u64),
    /// hidden so that another cell cannot be derived: "×"
    Hidden,
    /// a care category, rounded
    Rounded(u64),
    /// a care category, 0 to n−1: "<n"
    CareBelow(u64),
}

impl Cell {
    /// The figure as a page and a CSV show it.
    pub fn text(self) -> String {
        match self {
            Cell::Exact(n) | Cell::Rounded(n) => n.to_string(),
            Cell::Below(n) | Cell::CareBelow(n) => format!("<{n}"),
            Cell::Hidden => "×".into(),
        }
    }

    /// Whether the true value is not shown.
    pub fn is_masked(self) -> bool {
        !matches!(self, Cell::Exact(_))
    }

    /// The number shown, if one is.
    pub fn value(self) -> Option<u64> {
        match self {
            Cell::Exact(n) | Cell::Rounded(n) => Some(n),
            _ => None,
        }
    }
}

/// A table of counts with its totals: rows × columns, the total of each row and column and
/// the grand total (each the sum of its line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counts {
    pub cells: Vec<Vec<u64>>,
}

impl Counts {
    pub fn row_total(&self, r: usize) -> u64 {
        self.cells[r].iter().sum()
    }

    pub fn col_total(&self, c: usize) -> u64 {
        self.cells.iter().map(|row| row[c]).sum()
    }

    pub fn total(&self) -> u64 {
        self.cells.iter().flatten().sum()
    }

    fn width(&self) -> usize {
        self.cells.first().map_or(0, Vec::len)
    }
}

/// A table as published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Masked {
    pub cells: Vec<Vec<Cell>>,
    pub row_totals: Vec<Cell>,
    pub col_totals: Vec<Cell>,
    pub total: Cell,
    /// what protection was applied, in Dutch, for under the table
    pub rule: String,
}

/// Which rule a table falls under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// an ordinary count
    Count,
    /// a category that touches care: rounded, small ones hidden
    Care,
}

/// Shows `t` exactly (to a role entitled to the children behind it).
pub fn exact(t: &Counts) -> Masked {
    Masked {
        cells: t
            .cells
            .iter()
            .map(|r| r.iter().map(|n| Cell::Exact(*n)).collect())
            .collect(),
        row_totals: (0..t.cells.len())
            .map(|r| Cell::Exact(t.row_total(r)))
            .collect(),
        col_totals: (0..t.width())
            .map(|c| Cell::Exact(t.col_total(c)))
            .collect(),
        total: Cell::Exact(t.total()),
        rule: "Exacte aantallen: u bent bevoegd de kinderen achter deze cijfers te zien.".into(),
    }
}

/// Masks `t` for someone who may not see the children behind it.
pub fn mask(t: &Counts, kind: Kind, p: &Suppression) -> Masked {
    match kind {
        Kind::Care => care(t, p),
        Kind::Count => counts(t, p),
    }
}

fn care(t: &Counts, p: &Suppression) -> Masked {
    let one = |n: u64| {
        if n < p.care_hide_below {
            Cell::CareBelow(p.care_hide_below)
        } else {
            let r = p.care_round.max(1);
            Cell::Rounded((n + r / 2) / r * r)
        }
    };
    Masked {
        cells: t
            .cells
            .iter()
            .map(|r| r.iter().map(|n| one(*n)).collect())
            .collect(),
        row_totals: (0..t.cells.len()).map(|r| one(t.row_total(r))).collect(),
        col_totals: (0..t.width()).map(|c| one(t.col_total(c))).collect(),
        total: one(t.total()),
        rule: format!(
            "Zorggerelateerde categorie: afgerond op {}, aantallen onder de {} niet getoond.",
            p.care_round, p.care_hide_below
        ),
    }
}

fn counts(t: &Counts, p: &Suppression) -> Masked {
    let small = |n: u64| n > 0 && n < p.min_count;
    let (rows, cols) = (t.cells.len(), t.width());
    // which cells, row totals, column totals and the total are hidden
    let mut cell: Vec<Vec<bool>> = t
        .cells
        .iter()
        .map(|r| r.iter().map(|n| small(*n)).collect())
        .collect();
    let mut row_t: Vec<bool> = (0..rows).map(|r| small(t.row_total(r))).collect();
    let mut col_t: Vec<bool> = (0..cols).map(|c| small(t.col_total(c))).collect();
    let mut grand = small(t.total());
    let primary = (cell.clone(), row_t.clone(), col_t.clone(), grand);
    // a line whose total is shown must not hide exactly one of its parts; repeat until no
    // line does (each step hides one more figure, so this ends)
    loop {
        let mut changed = false;
        for r in 0..rows {
            let hidden: Vec<usize> = (0..cols).filter(|&c| cell[r][c]).collect();
            if !row_t[r] && hidden.len() == 1 {
                let other = (0..cols)
                    .filter(|&c| !cell[r][c] && t.cells[r][c] > 0)
                    .min_by_key(|&c| (t.cells[r][c], c));
                match other {
                    Some(c) => cell[r][c] = true,
                    None => row_t[r] = true,
                }
                changed = true;
            }
        }
        for c in 0..cols {
            let hidden: Vec<usize> = (0..rows).filter(|&r| cell[r][c]).collect();
            if !col_t[c] && hidden.len() == 1 {
                let other = (0..rows)
                    .filter(|&r| !cell[r][c] && t.cells[r][c] > 0)
                    .min_by_key(|&r| (t.cells[r][c], r));
                match other {
                    Some(r) => cell[r][c] = true,
                    None => col_t[c] = true,
                }
                changed = true;
            }
        }
        // the totals are a line of their own: the grand total over the row totals and over
        // the column totals
        for (totals, count) in [(&mut row_t, rows), (&mut col_t, cols)] {
            let hidden = totals.iter().filter(|h| **h).count();
            if !grand && hidden == 1 && count > 1 {
                let values: Vec<u64> = if count == rows {
                    (0..rows).map(|r| t.row_total(r)).collect()
                } else {
                    (0..cols).map(|c| t.col_total(c)).collect()
                };
                let other = (0..count)
                    .filter(|&i| !totals[i] && values[i] > 0)
                    .min_by_key(|&i| (values[i], i));
                match other {
                    Some(i) => totals[i] = true,
                    None => grand = true,
                }
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let show = |n: u64, hidden: bool, was_small: bool| {
        if !hidden {
            Cell::Exact(n)
        } else if was_small {
            Cell::Below(p.min_count)
        } else {
            Cell::Hidden
        }
    };
    let secondary = cell
        .iter()
        .flatten()
        .zip(primary.0.iter().flatten())
        .any(|(a, b)| *a && !*b)
        || row_t.iter().zip(&primary.1).any(|(a, b)| *a && !*b)
        || col_t.iter().zip(&primary.2).any(|(a, b)| *a && !*b)
        || (grand && !primary.3);
    Masked {
        cells: (0..rows)
            .map(|r| {
                (0..cols)
                    .map(|c| show(t.cells[r][c], cell[r][c], primary.0[r][c]))
                    .collect()
            })
            .collect(),
        row_totals: (0..rows)
            .map(|r| show(t.row_total(r), row_t[r], primary.1[r]))
            .collect(),
        col_totals: (0..cols)
            .map(|c| show(t.col_total(c), col_t[c], primary.2[c]))
            .collect(),
        total: show(t.total(), grand, primary.3),
        rule: if secondary {
            format!(
                "Aantallen van 1 tot {} staan als \"<{}\"; met × is een extra cel verborgen, zodat een totaal ze niet verraadt.",
                p.min_count, p.min_count
            )
        } else {
            format!(
                "Aantallen van 1 tot {} staan als \"<{}\".",
                p.min_count, p.min_count
            )
        },
    }
}

/// A share in percent, shown only over a large enough denominator, and (to the masked) only
/// when neither the part nor the rest is a small count a percentage would give away.
pub fn percentage(part: u64, of: u64, p: &Suppression, exact: bool) -> Option<f64> {
    let small = |n: u64| n > 0 && n < p.min_count;
    let shown =
        exact || (of >= p.min_denominator && !small(part) && !small(of.saturating_sub(part)));
    (of > 0 && shown).then(|| 100.0 * part as f64 / of.max(part) as f64)
}

/// The median of some days, shown only over at least `min_denominator` of them (to the
/// masked).
pub fn median(days: &[i64], p: &Suppression, exact: bool) -> Option<i64> {
    if days.is_empty() || !(exact || days.len() as u64 >= p.min_denominator) {
        return None;
    }
    let mut v = days.to_vec();
    v.sort_unstable();
    Some(v[v.len() / 2])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn lines(m: &Masked) -> Vec<(Vec<Cell>, Cell)> {
        let mut out = Vec::new();
        for (r, row) in m.cells.iter().enumerate() {
            out.push((row.clone(), m.row_totals[r]));
        }
        for c in 0..m.col_totals.len() {
            out.push((m.cells.iter().map(|row| row[c]).collect(), m.col_totals[c]));
        }
        out.push((m.row_totals.clone(), m.total));
        out.push((m.col_totals.clone(), m.total));
        out
    }

    #[test]
    fn a_small_count_and_one_more_cell_are_hidden() {
        let t = Counts {
            cells: vec![vec![3, 20, 9], vec![40, 12, 30]],
        };
        let m = mask(&t, Kind::Count, &Suppression::default());
        assert_eq!(m.cells[0][0], Cell::Below(5));
        // its row and its column each hide one more
        assert_eq!(m.cells[0][2], Cell::Hidden, "the smallest other of its row");
        assert_eq!(m.cells[1][0], Cell::Hidden, "its column's other");
        assert_eq!(m.total, Cell::Exact(114));
        assert!(m.rule.contains('×'));
        assert_eq!(Cell::Below(5).text(), "<5");
    }

    #[test]
    fn care_is_rounded_and_small_care_hidden() {
        let t = Counts {
            cells: vec![vec![7, 12, 0]],
        };
        let m = mask(&t, Kind::Care, &Suppression::default());
        assert_eq!(
            m.cells[0],
            [Cell::CareBelow(8), Cell::Rounded(10), Cell::CareBelow(8)]
        );
        assert_eq!(m.total, Cell::Rounded(20));
        assert_eq!(percentage(3, 9, &Suppression::default(), false), None);
        assert_eq!(
            percentage(5, 10, &Suppression::default(), false),
            Some(50.0)
        );
        // a small part, or a small rest, is not given away by its percentage
        assert_eq!(percentage(3, 10, &Suppression::default(), false), None);
        assert_eq!(percentage(8, 10, &Suppression::default(), false), None);
        assert_eq!(percentage(0, 10, &Suppression::default(), false), Some(0.0));
        assert_eq!(median(&[9, 1, 5], &Suppression::default(), false), None);
        assert_eq!(median(&[9, 1, 5], &Suppression::default(), true), Some(5));
        assert_eq!(median(&[4; 10], &Suppression::default(), false), Some(4));
        assert_eq!(
            percentage(3, 9, &Suppression::default(), true).map(f64::round),
            Some(33.0)
        );
        assert_eq!(exact(&t).cells[0][0], Cell::Exact(7));
    }

    proptest! {
        /// No published table lets a small count be derived from its shown totals: a line
        /// whose total is shown hides none or at least two of its parts, and no shown figure
        /// is below the threshold.
        #[test]
        fn no_line_gives_away_a_hidden_count(
            cells in prop::collection::vec(prop::collection::vec(0u64..12, 1..6), 1..6)
        ) {
            let width = cells[0].len();
            let cells: Vec<Vec<u64>> = cells.into_iter().map(|mut r| { r.resize(width, 0); r }).collect();
            let t = Counts { cells };
            let p = Suppression::default();
            let m = mask(&t, Kind::Count, &p);
            for (parts, total) in lines(&m) {
                let hidden = parts.iter().filter(|c| c.is_masked()).count();
                if !total.is_masked() {
                    prop_assert!(hidden != 1, "{:?} with total {:?}", parts, total);
                }
            }
            for c in m.cells.iter().flatten().chain(&m.row_totals).chain(&m.col_totals) {
                if let Some(v) = c.value() {
                    prop_assert!(v == 0 || v >= p.min_count);
                }
            }
        }

        /// Care figures are never shown below the threshold and always as multiples.
        #[test]
        fn care_figures_are_coarse(cells in prop::collection::vec(0u64..40, 1..8)) {
            let p = Suppression::default();
            let m = mask(&Counts { cells: vec![cells] }, Kind::Care, &p);
            for c in m.cells.iter().flatten().chain(&m.row_totals).chain(&m.col_totals) {
                match c {
                    Cell::Rounded(v) => prop_assert!(v % 5 == 0 && *v >= 5),
                    Cell::CareBelow(8) => {}
                    other => prop_assert!(false, "{other:?}"),
                }
            }
        }
    }
}
