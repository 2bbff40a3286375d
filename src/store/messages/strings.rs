//! A row's strings packed into one allocation.

use crate::model::event::Message;

/// A row's string fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Field {
    Id,
    NumberId,
    To,
    From,
    MessageId,
    CorrelationId,
    Content,
    ParticipantName,
    ApiStatus,
}

pub(super) const FIELDS: usize = 9;
/// [`FIELDS`] again: serde's derive shadows that name inside the struct.
const N: usize = FIELDS;

/// A row's strings in one allocation: nine ids and texts of their own would be nine
/// allocations per row, which at a million rows is most of the store. Field `i` is
/// `buf[ends[i - 1]..ends[i]]` when its bit is set in `present`.
#[derive(Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub(super) struct Strings {
    buf: Box<str>,
    ends: [u32; N],
    present: u16,
}

impl Strings {
    pub(super) fn new(values: [Option<&str>; FIELDS]) -> Self {
        let mut buf = String::with_capacity(values.iter().flatten().map(|v| v.len()).sum());
        let mut ends = [0; FIELDS];
        let mut present = 0;
        for (i, v) in values.iter().enumerate() {
            if let Some(v) = v {
                buf.push_str(v);
                present |= 1 << i;
            }
            // Bodies are capped far below 4 GiB, so an offset fits in a u32.
            ends[i] = u32::try_from(buf.len()).unwrap_or(u32::MAX);
        }
        Self {
            buf: buf.into_boxed_str(),
            ends,
            present,
        }
    }

    pub(super) fn get(&self, f: Field) -> Option<&str> {
        self.at(f as usize)
    }

    fn at(&self, i: usize) -> Option<&str> {
        if self.present & (1 << i) == 0 {
            return None;
        }
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        self.buf.get(start..self.ends[i] as usize)
    }

    fn all(&self) -> [Option<&str>; FIELDS] {
        std::array::from_fn(|i| self.at(i))
    }

    /// Fill the fields still absent; the allocation is rebuilt only when one is.
    pub(super) fn fill(&mut self, values: [Option<&str>; FIELDS]) {
        let missing = (0..FIELDS).any(|i| self.present & (1 << i) == 0 && values[i].is_some());
        if missing {
            let mut merged = self.all();
            for (slot, v) in merged.iter_mut().zip(values) {
                if slot.is_none() {
                    *slot = v;
                }
            }
            *self = Self::new(merged);
        }
    }

    pub(super) fn set(&mut self, f: Field, v: Option<&str>) {
        if self.get(f) != v {
            let mut all = self.all();
            all[f as usize] = v;
            *self = Self::new(all);
        }
    }
}

impl std::fmt::Debug for Strings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.all()).finish()
    }
}

/// The strings an event brings, in [`Field`] order.
pub(super) fn strings_of(m: &Message) -> [Option<&str>; FIELDS] {
    [
        Some(&m.id),
        Some(&m.number_id),
        Some(&m.to),
        m.from.as_deref(),
        m.message_id.as_deref(),
        m.correlation_id.as_deref(),
        m.content.as_deref(),
        m.participant_name.as_deref(),
        None,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_strings_keep_absent_empty_and_filled_apart() {
        let mut s = Strings::new([
            Some("m1"),
            Some(""),
            Some("+55"),
            None,
            None,
            None,
            None,
            None,
            None,
        ]);
        assert_eq!(s.get(Field::Id), Some("m1"));
        assert_eq!(s.get(Field::NumberId), Some(""), "empty is not absent");
        assert_eq!(s.get(Field::From), None);
        let mut later = [None; FIELDS];
        later[Field::Id as usize] = Some("other");
        later[Field::Content as usize] = Some("Olá 👋");
        s.fill(later);
        assert_eq!(
            s.get(Field::Id),
            Some("m1"),
            "a present field is not overwritten"
        );
        assert_eq!(s.get(Field::Content), Some("Olá 👋"));
        assert_eq!(s.get(Field::To), Some("+55"));
        s.set(Field::ApiStatus, Some("QUEUED"));
        s.set(Field::Content, None);
        assert_eq!(s.get(Field::ApiStatus), Some("QUEUED"));
        assert_eq!(s.get(Field::Content), None);
        assert_eq!(&*s.buf, "m1+55QUEUED", "one allocation holds them all");
    }
}
