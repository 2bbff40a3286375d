//! Column widths from what the visible rows hold. Fixed widths cut
//! `✗ RECIPIENT_NOT_ON_WHATSAPP` beside 90 blank cells at 200 columns and names to one
//! letter at 80; here each column asks for its widest visible cell (within bounds), the
//! columns that matter least give way first when the screen is narrow, and the free
//! text column takes what is left. A row's full text is in its detail view.

use ratatui::layout::Constraint;
use ratatui::text::Span;

/// Cells between columns.
pub const SPACING: u16 = 1;

/// The display width of a cell's text.
pub fn width(s: &str) -> u16 {
    u16::try_from(Span::raw(s).width()).unwrap_or(u16::MAX)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Col {
    /// Never narrower than this unless `0`; a column at 0 is left out.
    pub min: u16,
    pub max: u16,
    /// The widest cell seen (the header included), within `min..=max`.
    pub want: u16,
    /// Useless cut (an id, a phone): shown whole or not at all.
    pub whole: bool,
}

impl Col {
    pub fn new(header: &str, min: u16, max: u16) -> Self {
        Self {
            min,
            max,
            want: width(header).clamp(min, max),
            whole: false,
        }
    }

    pub fn fixed(w: u16) -> Self {
        Self {
            min: w,
            max: w,
            want: w,
            whole: false,
        }
    }

    /// Shown whole or left out.
    pub fn whole(mut self) -> Self {
        self.whole = true;
        self
    }

    /// Room for a cell of this width.
    pub fn fit(&mut self, w: u16) {
        self.want = self.want.max(w.min(self.max));
    }
}

/// Widths for `cols` in `total` cells. Each gets what it wants; when that is too much,
/// the columns listed in `give` give way in that order (each down to its `min`, a whole
/// one at once), and what a dropped whole column freed goes back to those cut before
/// it. What is left goes to `flex` (the free text), or stays blank at the right.
/// A width of 0 means: leave the column out.
pub fn fit(cols: &[Col], give: &[usize], flex: Option<usize>, total: u16) -> Vec<u16> {
    let mut w: Vec<u16> = cols.iter().map(|c| c.want).collect();
    let used = |w: &[u16]| -> u32 {
        let shown = w.iter().filter(|x| **x > 0).count() as u32;
        w.iter().map(|x| u32::from(*x)).sum::<u32>() + shown.saturating_sub(1) * u32::from(SPACING)
    };
    let total = u32::from(total);
    for &i in give {
        let over = used(&w).saturating_sub(total);
        if over == 0 {
            break;
        }
        let c = cols[i];
        w[i] = if c.whole {
            0
        } else {
            let over = u16::try_from(over).unwrap_or(u16::MAX);
            w[i].saturating_sub(over).max(c.min)
        };
    }
    // A whole column dropped may have freed more than was needed.
    for &i in give.iter().rev() {
        let spare = total.saturating_sub(used(&w));
        let c = cols[i];
        if spare == 0 {
            break;
        }
        if !c.whole && w[i] > 0 && w[i] < c.want {
            let add = u16::try_from(spare).unwrap_or(u16::MAX);
            w[i] = (w[i] + add).min(c.want);
        }
    }
    if let Some(f) = flex {
        let spare = total.saturating_sub(used(&w));
        w[f] = w[f].saturating_add(u16::try_from(spare).unwrap_or(u16::MAX));
    }
    w
}

/// The constraints of the columns shown (those not at 0).
pub fn constraints(widths: &[u16]) -> Vec<Constraint> {
    widths
        .iter()
        .filter(|w| **w > 0)
        .map(|w| Constraint::Length(*w))
        .collect()
}

/// Keep the items of the columns shown.
pub fn shown<T>(widths: &[u16], items: impl IntoIterator<Item = T>) -> Vec<T> {
    items
        .into_iter()
        .zip(widths)
        .filter(|(_, w)| **w > 0)
        .map(|(t, _)| t)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(want: u16, min: u16) -> Col {
        Col {
            min,
            max: 60,
            want,
            whole: false,
        }
    }

    #[test]
    fn each_column_gets_what_it_holds_and_the_text_the_rest() {
        let cols = [Col::fixed(8), col(27, 8), col(20, 12)];
        assert_eq!(fit(&cols, &[2, 1], Some(2), 200), [8, 27, 200 - 8 - 27 - 2]);
    }

    #[test]
    fn narrow_columns_give_way_in_order_down_to_their_minimum() {
        let cols = [col(28, 14), col(20, 12), col(27, 8)];
        // 75 wanted + 2 spacing in 60: the first gives 14 (to its minimum), the second 3.
        assert_eq!(fit(&cols, &[0, 1, 2], Some(1), 60), [14, 17, 27]);
    }

    #[test]
    fn a_whole_column_is_dropped_and_what_it_freed_goes_back() {
        let mut id = col(10, 0).whole();
        id.min = 0;
        let cols = [col(31, 10), col(14, 14).whole(), col(20, 6), id];
        // 75 + 3 in 40: the id goes (11), the name gives 21 (down to 10), the phone
        // goes (15), and the name takes back the 9 that freed beyond the need.
        let w = fit(&cols, &[3, 0, 1, 2], None, 40);
        assert_eq!(w, [19, 0, 20, 0]);
        assert_eq!(constraints(&w).len(), 2);
        assert_eq!(
            shown(&w, ["name", "phone", "health", "id"]),
            ["name", "health"]
        );
    }

    #[test]
    fn a_cell_widens_its_column_up_to_the_max() {
        let mut c = Col::new("status", 8, 30);
        assert_eq!(c.want, 8);
        c.fit(width("✗ RECIPIENT_NOT_ON_WHATSAPP"));
        assert_eq!(c.want, 27);
        c.fit(200);
        assert_eq!(c.want, 30);
    }
}
