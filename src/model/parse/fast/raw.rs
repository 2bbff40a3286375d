//! The body's fields as borrowed values, read in one pass without a `serde_json::Value`.
//!
//! Every field a family parser looks at is kept with its JSON type ([`Val`]), so the
//! builders can apply the very checks `families` applies. Anything else is read and
//! dropped by [`Skip`], which goes through `deserialize_any` rather than `IgnoredAny`:
//! the latter accepts what the `Value` path refuses (numbers beyond `f64`, lone
//! surrogates), and the two paths must fail on the same bodies. A key read twice is an
//! error: the `Value` path keeps the last one, and working out which is not worth it.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Number;

/// A field as the JSON had it (a missing field is `None` around it).
#[derive(Debug)]
pub(crate) enum Val<'a> {
    Null,
    Bool(bool),
    Num(Number),
    Str(Cow<'a, str>),
    /// An array or an object: no family reads one where a `Val` is expected.
    Nested,
}

impl<'de> Deserialize<'de> for Val<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValVisitor)
    }
}

struct ValVisitor;

impl<'de> Visitor<'de> for ValVisitor {
    type Value = Val<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E>(self) -> Result<Val<'de>, E> {
        Ok(Val::Null)
    }
    fn visit_bool<E>(self, b: bool) -> Result<Val<'de>, E> {
        Ok(Val::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Val<'de>, E> {
        Ok(Val::Num(n.into()))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Val<'de>, E> {
        Ok(Val::Num(n.into()))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Val<'de>, E> {
        // As `Value` reads it (JSON has no NaN, so this is only for completeness).
        Ok(Number::from_f64(n).map_or(Val::Null, Val::Num))
    }
    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Val<'de>, E> {
        Ok(Val::Str(Cow::Borrowed(s)))
    }
    fn visit_str<E>(self, s: &str) -> Result<Val<'de>, E> {
        // Only a string with escapes comes here.
        Ok(Val::Str(Cow::Owned(s.to_owned())))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Val<'de>, A::Error> {
        SkipVisitor.visit_seq(seq).map(|()| Val::Nested)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Val<'de>, A::Error> {
        SkipVisitor.visit_map(map).map(|()| Val::Nested)
    }
}

/// Any JSON value, read in full (numbers and escapes checked) and dropped.
pub(crate) struct Skip;

impl<'de> Deserialize<'de> for Skip {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(SkipVisitor).map(|()| Skip)
    }
}

struct SkipVisitor;

impl<'de> Visitor<'de> for SkipVisitor {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<Skip>()?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_key::<Skip>()?.is_some() {
            map.next_value::<Skip>()?;
        }
        Ok(())
    }
}

/// An object key, borrowed unless it has escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Val::deserialize(d)? {
            Val::Str(s) => Ok(Key(s)),
            _ => Err(de::Error::custom("a key that is not a string")),
        }
    }
}

/// A struct of optional fields read from a JSON object by key; other keys are skipped.
macro_rules! object {
    ($(#[$doc:meta])* $name:ident { $($field:ident: $key:literal => $ty:ty,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Default)]
        pub(crate) struct $name<'a> {
            $(pub $field: Option<$ty>,)*
            _borrow: PhantomData<&'a str>,
        }

        impl<'de> Deserialize<'de> for $name<'de> {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = $name<'de>;

                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str("an object")
                    }
                    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                        let mut out = $name::default();
                        while let Some(Key(key)) = map.next_key()? {
                            match &*key {
                                $($key => {
                                    if out.$field.is_some() {
                                        return Err(de::Error::custom("duplicate key"));
                                    }
                                    out.$field = Some(map.next_value()?);
                                })*
                                _ => {
                                    map.next_value::<Skip>()?;
                                }
                            }
                        }
                        Ok(out)
                    }
                }
                d.deserialize_map(V)
            }
        }
    };
}

/// `null` or a value: `Option<T>` as serde reads it (`Value`'s `as_object`/`as_array`
/// make no difference between `null` and missing either).
type Or<T> = Option<T>;

object!(
    /// The top level of every family (the union of what each reads there).
    Root {
        event: "event" => Val<'a>,
        data: "data" => Or<Data<'a>>,
        entry: "entry" => Or<Vec<Entry<'a>>>,
        id: "id" => Val<'a>,
        created_at: "createdAt" => Val<'a>,
        call_id: "callId" => Val<'a>,
        external_call_id: "externalCallId" => Val<'a>,
        direction: "direction" => Val<'a>,
        status: "status" => Val<'a>,
        from: "from" => Val<'a>,
        to: "to" => Val<'a>,
        timestamp: "timestamp" => Val<'a>,
        duration: "duration" => Val<'a>,
    }
);

object!(
    /// `data`, the union of what each family reads there.
    Data {
        id: "id" => Val<'a>,
        number_id: "numberId" => Val<'a>,
        message_id: "messageId" => Val<'a>,
        msg_type: "type" => Val<'a>,
        from_me: "fromMe" => Val<'a>,
        created_at: "createdAt" => Val<'a>,
        content: "content" => Val<'a>,
        correlation_id: "correlationId" => Val<'a>,
        media_link: "mediaLink" => Val<'a>,
        media_type: "mediaType" => Val<'a>,
        media_caption: "mediaCaption" => Val<'a>,
        media_filename: "mediaFilename" => Val<'a>,
        from: "from" => Val<'a>,
        to: "to" => Val<'a>,
        error: "error" => Val<'a>,
        error_code: "errorCode" => Val<'a>,
        participant_name: "participantName" => Val<'a>,
        content_replied: "contentReplied" => Val<'a>,
        quoted_message_id: "quotedMessageId" => Val<'a>,
        group_id: "groupId" => Val<'a>,
        group_name: "groupName" => Val<'a>,
        newsletter_id: "newsletterId" => Val<'a>,
        newsletter_name: "newsletterName" => Val<'a>,
        phone: "phone" => Val<'a>,
        display_name: "displayName" => Val<'a>,
        profile_name: "profileName" => Val<'a>,
        lead_id: "leadId" => Val<'a>,
        leadgen_id: "leadgenId" => Val<'a>,
        whatsapp_number_id: "whatsappNumberId" => Val<'a>,
        page_id: "pageId" => Val<'a>,
        form_id: "formId" => Val<'a>,
        page_name: "pageName" => Val<'a>,
        form_name: "formName" => Val<'a>,
        ad_id: "adId" => Val<'a>,
        adset_id: "adsetId" => Val<'a>,
        campaign_id: "campaignId" => Val<'a>,
        ad_name: "adName" => Val<'a>,
        adset_name: "adsetName" => Val<'a>,
        campaign_name: "campaignName" => Val<'a>,
        platform: "platform" => Val<'a>,
        full_name: "fullName" => Val<'a>,
        email: "email" => Val<'a>,
        conversation_id: "conversationId" => Val<'a>,
        is_organic: "isOrganic" => Val<'a>,
        consent_given: "consentGiven" => Val<'a>,
        fields: "fields" => Or<Vec<LeadField<'a>>>,
        line_id: "lineId" => Val<'a>,
        number: "number" => Val<'a>,
        name: "name" => Val<'a>,
        metadata: "metadata" => Or<Metadata<'a>>,
        calls: "calls" => Or<Vec<NativeCall<'a>>>,
        entry: "entry" => Or<Vec<Entry<'a>>>,
    }
);

object!(
    /// One of `lead.received`'s `data.fields`.
    LeadField {
        key: "key" => Val<'a>,
        label: "label" => Val<'a>,
        values: "values" => Or<Vec<Val<'a>>>,
    }
);

object!(
    /// Meta's `entry[]` of a `calls` envelope.
    Entry {
        changes: "changes" => Or<Vec<Change<'a>>>,
    }
);

object!(
    Change {
        value: "value" => Or<CallsValue<'a>>,
    }
);

object!(
    /// `entry[].changes[].value` of a `calls` envelope.
    CallsValue {
        metadata: "metadata" => Or<Metadata<'a>>,
        calls: "calls" => Or<Vec<NativeCall<'a>>>,
    }
);

object!(
    Metadata {
        phone_number_id: "phone_number_id" => Val<'a>,
    }
);

object!(
    /// One call of a `calls` envelope.
    NativeCall {
        id: "id" => Val<'a>,
        event: "event" => Val<'a>,
        from: "from" => Val<'a>,
        to: "to" => Val<'a>,
        direction: "direction" => Val<'a>,
        timestamp: "timestamp" => Val<'a>,
    }
);
