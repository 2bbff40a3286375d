//! One parser per family: each reads its fields in the SDK's order through [`Check`], so
//! problems read as the SDK's would, and gives the event its dedupe identity.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::Typed;
use crate::model::check::{Check, lenient};
use crate::model::event::*;
use crate::model::identity::Identity;

pub(super) fn with_data(
    obj: &Map<String, Value>,
    f: impl FnOnce(&Map<String, Value>, &mut Vec<String>) -> (Event, Identity),
) -> Typed {
    let Some(data) = obj.get("data").and_then(Value::as_object) else {
        return Err(vec!["$.data: expected object".into()]);
    };
    let mut problems = Vec::new();
    let typed = f(data, &mut problems);
    if problems.is_empty() {
        Ok(typed)
    } else {
        Err(problems)
    }
}

pub(super) fn time(s: Option<&str>) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s?)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

pub(super) fn message(
    kind: MessageKind,
    data: &Map<String, Value>,
    problems: &mut Vec<String>,
) -> (Event, Identity) {
    let mut c = Check::new("$.data", data, problems);
    // The base fields, in the SDK's order so problems read the same.
    let number_id = c.text("numberId");
    let message_id = c.nullable("messageId");
    let id = c.string("id");
    let msg_type = c.optional_one_of(
        "type",
        &MessageType::ALL.map(MessageType::as_str),
        MessageType::parse,
    );
    let from_me = c.boolean("fromMe").unwrap_or_default();
    let created_at = time(c.string("createdAt"));
    let content = c.optional("content");
    let correlation_id = c.optional("correlationId");
    let link = c.optional("mediaLink");
    let media_type = c.optional("mediaType");
    let caption = c.optional("mediaCaption");
    let filename = c.optional("mediaFilename");
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
        from = c.optional("from");
        to = c.text("to");
        participant_name = None;
        extra = if kind == MessageKind::Failed {
            MessageExtra::Failed {
                error: c.text("error"),
                error_code: c.optional("errorCode"),
            }
        } else {
            MessageExtra::None
        };
    } else {
        from = Some(c.text("from"));
        to = c.text("to");
        participant_name = c.nullable("participantName");
        extra = match kind {
            MessageKind::Reply => MessageExtra::Reply {
                content_replied: c.optional("contentReplied"),
                quoted_message_id: c.nullable("quotedMessageId"),
            },
            MessageKind::Group => MessageExtra::Group {
                group_id: c.optional("groupId"),
                group_name: c.nullable("groupName"),
            },
            MessageKind::Newsletter => MessageExtra::Newsletter {
                newsletter_id: c.optional("newsletterId"),
                newsletter_name: c.nullable("newsletterName"),
            },
            _ => MessageExtra::None,
        };
    }
    let identity = Identity::keyed(kind.name()).part(id).finish();
    let msg = Message {
        kind,
        id: id.unwrap_or_default().into(),
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
    (Event::Message(Box::new(msg)), identity)
}

pub(super) fn number(
    kind: NumberKind,
    data: &Map<String, Value>,
    problems: &mut Vec<String>,
) -> (Event, Identity) {
    let mut c = Check::new("$.data", data, problems);
    let number_id = c.string("numberId");
    let phone = c.text("phone");
    let display_name = c.text("displayName");
    let created_raw = c.string("createdAt");
    let ev = NumberEvent {
        number_id: number_id.unwrap_or_default().into(),
        phone,
        display_name,
        created_at: time(created_raw),
        profile_name: c.optional("profileName"),
        error: c.optional("error"),
        error_code: c.optional("errorCode"),
        kind,
    };
    let name = data_name_of_number(&ev.kind);
    let identity = Identity::keyed(&name)
        .part(number_id)
        .part(created_raw)
        .finish();
    (Event::Number(Box::new(ev)), identity)
}

pub(super) fn data_name_of_number(kind: &NumberKind) -> String {
    match kind {
        NumberKind::Created => "number.created".into(),
        NumberKind::Connected => "number.connected".into(),
        NumberKind::Disconnected => "number.disconnected".into(),
        NumberKind::Removed => "number.removed".into(),
        NumberKind::Restored => "number.restored".into(),
        NumberKind::Health(s) => format!("number.health_{s}"),
    }
}

pub(super) fn call(kind: CallKind, obj: &Map<String, Value>) -> Typed {
    let mut problems = Vec::new();
    let mut c = Check::new("$", obj, &mut problems);
    let call_id = c.nullable("callId");
    let external_call_id = c.nullable("externalCallId");
    let direction = c.nullable("direction");
    let status = c.string("status");
    let from = c.nullable("from");
    let to = c.nullable("to");
    let timestamp_raw = c.string("timestamp");
    let duration = c.optional_int("duration");
    let identity = Identity::keyed(kind.name())
        .part(call_id.as_deref())
        .part(status)
        .part(timestamp_raw)
        .finish();
    let ev = CallEvent {
        kind,
        call_id,
        external_call_id,
        direction,
        status: status.unwrap_or_default().into(),
        from,
        to,
        timestamp: time(timestamp_raw),
        duration,
    };
    if problems.is_empty() {
        Ok((Event::Call(Box::new(ev)), identity))
    } else {
        Err(problems)
    }
}

pub(super) fn lead(data: &Map<String, Value>, problems: &mut Vec<String>) -> (Event, Identity) {
    let mut c = Check::new("$.data", data, problems);
    let lead_id = c.text("leadId");
    let leadgen_id = c.string("leadgenId");
    let whatsapp_number_id = c.text("whatsappNumberId");
    let page_id = c.text("pageId");
    let form_id = c.text("formId");
    let created_at = time(c.string("createdAt"));
    let mut strings = [None, None, None];
    for key in [
        "pageName",
        "formName",
        "adId",
        "adsetId",
        "campaignId",
        "adName",
        "adsetName",
        "campaignName",
        "platform",
        "fullName",
        "email",
        "phone",
        "conversationId",
    ] {
        let v = c.nullable(key);
        match key {
            "fullName" => strings[0] = v,
            "phone" => strings[1] = v,
            "email" => strings[2] = v,
            _ => {}
        }
    }
    c.optional_nullable_bool("isOrganic");
    c.optional_nullable_bool("consentGiven");
    let mut fields = Vec::new();
    match data.get("fields") {
        Some(Value::Array(entries)) => {
            for (i, entry) in entries.iter().enumerate() {
                let Some(field) = entry.as_object() else {
                    c.problems
                        .push(format!("$.data.fields[{i}]: expected object"));
                    continue;
                };
                let key = match field.get("key") {
                    Some(Value::String(s)) => s.as_str(),
                    _ => {
                        c.problems
                            .push(format!("$.data.fields[{i}].key: expected string"));
                        ""
                    }
                };
                let label = match field.get("label") {
                    None => None,
                    Some(Value::String(s)) => Some(s.as_str().into()),
                    Some(_) => {
                        c.problems
                            .push(format!("$.data.fields[{i}].label: expected string"));
                        None
                    }
                };
                let values = match field.get("values") {
                    Some(Value::Array(vs)) if vs.iter().all(Value::is_string) => vs
                        .iter()
                        .filter_map(Value::as_str)
                        .map(Text::from)
                        .collect(),
                    _ => {
                        c.problems.push(format!(
                            "$.data.fields[{i}].values: expected array of strings"
                        ));
                        Vec::new()
                    }
                };
                fields.push(LeadField {
                    key: key.into(),
                    label,
                    values,
                });
            }
        }
        _ => c.problems.push("$.data.fields: expected array".into()),
    }
    let identity = Identity::keyed("lead.received").part(leadgen_id).finish();
    let [full_name, phone, email] = strings;
    let lead = Lead {
        lead_id,
        leadgen_id: leadgen_id.unwrap_or_default().into(),
        whatsapp_number_id,
        page_id,
        form_id,
        created_at,
        full_name,
        phone,
        email,
        fields,
    };
    (Event::Lead(Box::new(lead)), identity)
}

/// Meta's envelope, either as the provider wraps it (`data.calls[]`) or as Meta sends it
/// (`entry[].changes[].value.calls[]`).
pub(super) fn native_calls(obj: &Map<String, Value>) -> Typed {
    let mut values: Vec<&Map<String, Value>> = Vec::new();
    if let Some(data) = obj.get("data").and_then(Value::as_object) {
        values.push(data);
    }
    for root in [Some(obj), obj.get("data").and_then(Value::as_object)]
        .into_iter()
        .flatten()
    {
        for entry in root
            .get("entry")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            for change in entry
                .get("changes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(v) = change.get("value").and_then(Value::as_object) {
                    values.push(v);
                }
            }
        }
    }
    let mut out = NativeCalls::default();
    let mut identity = Identity::keyed("calls");
    for value in values {
        if out.phone_number_id.is_none() {
            out.phone_number_id = value
                .get("metadata")
                .and_then(Value::as_object)
                .and_then(|m| lenient(m, "phone_number_id"));
        }
        for call in value
            .get("calls")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(call) = call.as_object() else {
                continue;
            };
            let c = NativeCall {
                id: lenient(call, "id"),
                event: lenient(call, "event"),
                from: lenient(call, "from"),
                to: lenient(call, "to"),
                direction: lenient(call, "direction"),
            };
            identity = identity
                .part(c.id.as_deref())
                .part(c.event.as_deref())
                .part(lenient(call, "timestamp").as_deref());
            out.calls.push(c);
        }
    }
    if out.calls.is_empty() {
        return Err(vec![
            "$.data.calls: expected a non-empty array of calls".into(),
        ]);
    }
    Ok((Event::Calls(Box::new(out)), identity.finish()))
}

pub(super) fn phone_line(kind: &str, obj: &Map<String, Value>) -> Typed {
    let mut problems = Vec::new();
    let mut c = Check::new("$", obj, &mut problems);
    let id = c.string("id");
    let created_at = time(c.string("createdAt"));
    let data = obj.get("data").and_then(Value::as_object);
    if data.is_none() {
        c.problems.push("$.data: expected object".into());
    }
    let (Some(data), true) = (data, problems.is_empty()) else {
        return Err(problems);
    };
    let ev = PhoneLineEvent {
        id: id.unwrap_or_default().into(),
        kind: kind.into(),
        created_at,
        line_id: lenient(data, "lineId"),
        number: lenient(data, "number"),
        name: lenient(data, "name"),
    };
    let identity = Identity::keyed("phone_line")
        .part(Some(kind))
        .part(id)
        .finish();
    Ok((Event::PhoneLine(Box::new(ev)), identity))
}
