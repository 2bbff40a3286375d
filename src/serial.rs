//! serde adapters for the store's snapshot. Its format (postcard) is compact and fast
//! but not self-describing: it cannot skip a field or read an internally tagged enum,
//! so the model types shaped for JSON go through JSON inside it, and the strings nearly
//! every record shares are interned again as they are read.

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A value serialised as its JSON text: for the few, small fields whose types carry
/// JSON-only serde attributes (`skip_serializing_if`, tags, renames).
pub mod as_json {
    use super::*;

    pub fn serialize<T: Serialize, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
        let text = serde_json::to_string(v).map_err(serde::ser::Error::custom)?;
        s.serialize_str(&text)
    }

    pub fn deserialize<'de, T: DeserializeOwned, D: Deserializer<'de>>(
        d: D,
    ) -> Result<T, D::Error> {
        let text = <&'de str>::deserialize(d)?;
        serde_json::from_str(text).map_err(serde::de::Error::custom)
    }
}

/// An `Arc<str>` shared by many records (a path): read back through
/// [`crate::record::intern`], so a million records share it again.
pub mod interned {
    use super::*;

    pub fn serialize<S: Serializer>(v: &Arc<str>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(v)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Arc<str>, D::Error> {
        let text = <&'de str>::deserialize(d)?;
        Ok(crate::record::intern(text))
    }
}

/// [`interned`], optional (a content type).
pub mod interned_opt {
    use super::*;

    pub fn serialize<S: Serializer>(v: &Option<Arc<str>>, s: S) -> Result<S::Ok, S::Error> {
        v.as_deref().serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Arc<str>>, D::Error> {
        let text = <Option<&'de str>>::deserialize(d)?;
        Ok(text.map(crate::record::intern))
    }
}

/// A time as whole seconds and nanoseconds (chrono's own serde form is RFC 3339 text:
/// parsing a million of them was a tenth of reading a snapshot back).
pub mod time {
    use super::*;
    use chrono::{DateTime, Utc};

    pub fn serialize<S: Serializer>(v: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        (v.timestamp(), v.timestamp_subsec_nanos()).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let (secs, nanos) = <(i64, u32)>::deserialize(d)?;
        DateTime::from_timestamp(secs, nanos)
            .ok_or_else(|| serde::de::Error::custom("time out of range"))
    }
}

/// [`time`], optional.
pub mod time_opt {
    use super::*;
    use chrono::{DateTime, Utc};

    pub fn serialize<S: Serializer>(v: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        v.map(|v| (v.timestamp(), v.timestamp_subsec_nanos()))
            .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        match <Option<(i64, u32)>>::deserialize(d)? {
            None => Ok(None),
            Some((secs, nanos)) => DateTime::from_timestamp(secs, nanos)
                .map(Some)
                .ok_or_else(|| serde::de::Error::custom("time out of range")),
        }
    }
}
