//! The typed event of each family from the borrowed fields, checked as `families`
//! checks them (same order of reads does not matter here: any problem at all means
//! [`Unsure`], and the `Value` path reports it).

use super::raw::{Data, Metadata, NativeCall as RawCall, Root, Val};
use crate::model::event::*;
use crate::model::identity::Identity;
use crate::model::parse::families::{data_name_of_number, time};

/// A check the `Value` path would report as a problem: the body is left to it.
#[derive(Debug)]
pub(super) struct Unsure;

type Sure<T> = Result<T, Unsure>;
type Field<'a> = Option<Val<'a>>;
type Typed = Sure<(Event, Identity)>;

/// Required string (`Check::string`).
fn string<'v>(f: &'v Field<'_>) -> Sure<&'v str> {
    match f {
        Some(Val::Str(s)) => Ok(s),
        _ => Err(Unsure),
    }
}

fn text(f: &Field<'_>) -> Sure<Text> {
    string(f).map(Text::from)
}

/// Missing or null, or a string (`Check::nullable`).
fn nullable(f: &Field<'_>) -> Sure<Option<Text>> {
    match f {
        None | Some(Val::Null) => Ok(None),
        Some(Val::Str(s)) => Ok(Some(s.as_ref().into())),
        Some(_) => Err(Unsure),
    }
}

/// Missing, or a string (`Check::optional`).
fn optional(f: &Field<'_>) -> Sure<Option<Text>> {
    match f {
        None => Ok(None),
        Some(Val::Str(s)) => Ok(Some(s.as_ref().into())),
        Some(_) => Err(Unsure),
    }
}

fn boolean(f: &Field<'_>) -> Sure<bool> {
    match f {
        Some(Val::Bool(b)) => Ok(*b),
        _ => Err(Unsure),
    }
}

fn nullable_bool(f: &Field<'_>) -> Sure<()> {
    match f {
        None | Some(Val::Null | Val::Bool(_)) => Ok(()),
        Some(_) => Err(Unsure),
    }
}

/// `Check::optional_int`: a boolean is an integer to Python.
fn optional_int(f: &Field<'_>) -> Sure<Option<i64>> {
    match f {
        None => Ok(None),
        Some(Val::Num(n)) if n.is_i64() || n.is_u64() => Ok(n.as_i64().or(Some(i64::MAX))),
        Some(Val::Bool(b)) => Ok(Some(i64::from(*b))),
        Some(_) => Err(Unsure),
    }
}

/// `check::lenient`: a string, or a number written as text.
fn lenient(f: &Field<'_>) -> Option<Text> {
    match f {
        Some(Val::Str(s)) => Some(s.as_ref().into()),
        Some(Val::Num(n)) => Some(n.to_string().into()),
        _ => None,
    }
}

pub(super) fn message(kind: MessageKind, d: &Data<'_>) -> Typed {
    let number_id = text(&d.number_id)?;
    let message_id = nullable(&d.message_id)?;
    let id = string(&d.id)?;
    let msg_type = match &d.msg_type {
        None => None,
        Some(Val::Str(s)) => Some(MessageType::parse(s).ok_or(Unsure)?),
        Some(_) => return Err(Unsure),
    };
    let from_me = boolean(&d.from_me)?;
    let created_at = time(Some(string(&d.created_at)?));
    let content = optional(&d.content)?;
    let correlation_id = optional(&d.correlation_id)?;
    let link = optional(&d.media_link)?;
    let media_type = optional(&d.media_type)?;
    let caption = optional(&d.media_caption)?;
    let filename = optional(&d.media_filename)?;
    let media = (link.is_some() || media_type.is_some() || caption.is_some() || filename.is_some())
        .then(|| {
            Box::new(Media {
                link,
                media_type,
                caption,
                filename,
            })
        });
    let (from, to, participant_name, extra);
    if kind.is_outbound() {
        from = optional(&d.from)?;
        to = text(&d.to)?;
        participant_name = None;
        extra = if kind == MessageKind::Failed {
            MessageExtra::Failed {
                error: text(&d.error)?,
                error_code: optional(&d.error_code)?,
            }
        } else {
            MessageExtra::None
        };
    } else {
        from = Some(text(&d.from)?);
        to = text(&d.to)?;
        participant_name = nullable(&d.participant_name)?;
        extra = match kind {
            MessageKind::Reply => MessageExtra::Reply {
                content_replied: optional(&d.content_replied)?,
                quoted_message_id: nullable(&d.quoted_message_id)?,
            },
            MessageKind::Group => MessageExtra::Group {
                group_id: optional(&d.group_id)?,
                group_name: nullable(&d.group_name)?,
            },
            MessageKind::Newsletter => MessageExtra::Newsletter {
                newsletter_id: optional(&d.newsletter_id)?,
                newsletter_name: nullable(&d.newsletter_name)?,
            },
            _ => MessageExtra::None,
        };
    }
    let identity = Identity::keyed(kind.name()).part(Some(id)).finish();
    let msg = Message {
        kind,
        id: id.into(),
        message_id,
        number_id,
        from,
        to,
        msg_type,
        from_me,
        created_at,
        content,
        correlation_id,
        participant_name,
        media,
        extra,
    };
    Ok((Event::Message(Box::new(msg)), identity))
}

pub(super) fn number(kind: NumberKind, d: &Data<'_>) -> Typed {
    let number_id = string(&d.number_id)?;
    let created_raw = string(&d.created_at)?;
    let ev = NumberEvent {
        number_id: number_id.into(),
        phone: text(&d.phone)?,
        display_name: text(&d.display_name)?,
        created_at: time(Some(created_raw)),
        profile_name: optional(&d.profile_name)?,
        error: optional(&d.error)?,
        error_code: optional(&d.error_code)?,
        kind,
    };
    let identity = Identity::keyed(&data_name_of_number(&ev.kind))
        .part(Some(number_id))
        .part(Some(created_raw))
        .finish();
    Ok((Event::Number(Box::new(ev)), identity))
}

pub(super) fn call(kind: CallKind, root: &Root<'_>) -> Typed {
    let call_id = nullable(&root.call_id)?;
    let status = string(&root.status)?;
    let timestamp_raw = string(&root.timestamp)?;
    let ev = CallEvent {
        kind,
        external_call_id: nullable(&root.external_call_id)?,
        direction: nullable(&root.direction)?,
        status: status.into(),
        from: nullable(&root.from)?,
        to: nullable(&root.to)?,
        timestamp: time(Some(timestamp_raw)),
        duration: optional_int(&root.duration)?,
        call_id,
    };
    let identity = Identity::keyed(kind.name())
        .part(ev.call_id.as_deref())
        .part(Some(status))
        .part(Some(timestamp_raw))
        .finish();
    Ok((Event::Call(Box::new(ev)), identity))
}

pub(super) fn lead(d: &Data<'_>) -> Typed {
    let leadgen_id = string(&d.leadgen_id)?;
    let unkept = [
        &d.page_name,
        &d.form_name,
        &d.ad_id,
        &d.adset_id,
        &d.campaign_id,
        &d.ad_name,
        &d.adset_name,
        &d.campaign_name,
        &d.platform,
        &d.conversation_id,
    ];
    for f in unkept {
        nullable(f)?;
    }
    nullable_bool(&d.is_organic)?;
    nullable_bool(&d.consent_given)?;
    let Some(Some(entries)) = &d.fields else {
        return Err(Unsure);
    };
    let mut fields = Vec::with_capacity(entries.len());
    for field in entries {
        let Some(Some(values)) = &field.values else {
            return Err(Unsure);
        };
        let values = values
            .iter()
            .map(|v| match v {
                Val::Str(s) => Ok(Text::from(s.as_ref())),
                _ => Err(Unsure),
            })
            .collect::<Sure<_>>()?;
        fields.push(LeadField {
            key: text(&field.key)?,
            label: optional(&field.label)?,
            values,
        });
    }
    let lead = Lead {
        lead_id: text(&d.lead_id)?,
        leadgen_id: leadgen_id.into(),
        whatsapp_number_id: text(&d.whatsapp_number_id)?,
        page_id: text(&d.page_id)?,
        form_id: text(&d.form_id)?,
        created_at: time(Some(string(&d.created_at)?)),
        full_name: nullable(&d.full_name)?,
        phone: nullable(&d.phone)?,
        email: nullable(&d.email)?,
        fields,
    };
    let identity = Identity::keyed("lead.received")
        .part(Some(leadgen_id))
        .finish();
    Ok((Event::Lead(Box::new(lead)), identity))
}

/// Where a `calls` envelope keeps its calls: `data` itself, then each
/// `entry[].changes[].value` at the top level, then those inside `data`.
type Source<'r, 'a> = (Option<&'r Metadata<'a>>, Option<&'r [RawCall<'a>]>);

pub(super) fn native_calls(root: &Root<'_>) -> Typed {
    let data = root.data.as_ref().and_then(Option::as_ref);
    let mut sources: Vec<Source<'_, '_>> = Vec::new();
    if let Some(d) = data {
        sources.push((d.metadata.iter().flatten().next(), calls_of(&d.calls)));
    }
    for entry in [Some(&root.entry), data.map(|d| &d.entry)]
        .into_iter()
        .flatten()
    {
        for e in entry.iter().flatten().flatten() {
            for change in e.changes.iter().flatten().flatten() {
                if let Some(Some(v)) = &change.value {
                    sources.push((v.metadata.iter().flatten().next(), calls_of(&v.calls)));
                }
            }
        }
    }
    let mut out = NativeCalls::default();
    let mut identity = Identity::keyed("calls");
    for (metadata, calls) in sources {
        if out.phone_number_id.is_none() {
            out.phone_number_id = metadata.and_then(|m| lenient(&m.phone_number_id));
        }
        for call in calls.into_iter().flatten() {
            let c = NativeCall {
                id: lenient(&call.id),
                event: lenient(&call.event),
                from: lenient(&call.from),
                to: lenient(&call.to),
                direction: lenient(&call.direction),
            };
            identity = identity
                .part(c.id.as_deref())
                .part(c.event.as_deref())
                .part(lenient(&call.timestamp).as_deref());
            out.calls.push(c);
        }
    }
    if out.calls.is_empty() {
        return Err(Unsure);
    }
    Ok((Event::Calls(Box::new(out)), identity.finish()))
}

fn calls_of<'r, 'a>(calls: &'r Option<Option<Vec<RawCall<'a>>>>) -> Option<&'r [RawCall<'a>]> {
    calls.as_ref()?.as_deref()
}

pub(super) fn phone_line(kind: &str, root: &Root<'_>) -> Typed {
    let id = string(&root.id)?;
    let created_at = time(Some(string(&root.created_at)?));
    let data = root.data.as_ref().and_then(Option::as_ref).ok_or(Unsure)?;
    let ev = PhoneLineEvent {
        id: id.into(),
        kind: kind.into(),
        created_at,
        line_id: lenient(&data.line_id),
        number: lenient(&data.number),
        name: lenient(&data.name),
    };
    let identity = Identity::keyed("phone_line")
        .part(Some(kind))
        .part(Some(id))
        .finish();
    Ok((Event::PhoneLine(Box::new(ev)), identity))
}
