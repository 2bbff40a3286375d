//! Body bytes → a verdict: `known` (typed event), `unknown` (well-formed, name not known,
//! kept raw) or `broken` (with the JSON paths at fault). Follows the official SDK's
//! `parse_customer_webhook`, and additionally recognises the families the provider
//! documents but the SDK calls unknown (`number.health_*`, `calls`, `phone_line.*`).

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::check::{Check, lenient};
use super::event::*;
use super::identity::Identity;
use super::{EventName, Verdict};

/// What the parser made of a JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub verdict: Verdict,
    /// The `event` string, when there is one.
    pub name: Option<EventName>,
    /// The typed event, for `known` only.
    pub event: Option<Event>,
    /// For `broken`: what breaks the contract. For an `unknown` payload of a family we
    /// recognise beyond the SDK: why it was not typed.
    pub problems: Vec<String>,
    /// The dedupe key of this delivery (see [`Identity`]).
    pub identity: Identity,
}

/// The body is not JSON at all (the receiver answers 400 with this reason).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotJson(pub String);

impl std::fmt::Display for NotJson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Parse one delivery body. Never panics; only a body that is not JSON is an error.
pub fn parse(body: &[u8]) -> Result<Parsed, NotJson> {
    // A UTF-8 byte-order mark is tolerated, as Python's json.loads does.
    let json = body.strip_prefix(b"\xef\xbb\xbf").unwrap_or(body);
    let value: Value = match serde_json::from_slice(json) {
        Ok(v) => v,
        // JavaScript's JSON.stringify writes a lone surrogate (`"\ud83d"`) when a string
        // was cut inside an emoji; serde_json refuses it, Python accepts it. Read it with
        // U+FFFD in its place (the journal keeps the body as it came).
        Err(e) => repair_lone_surrogates(json)
            .and_then(|fixed| serde_json::from_slice(&fixed).ok())
            .ok_or_else(|| NotJson(format!("invalid JSON: {e}")))?,
    };
    Ok(classify(&value, body))
}

/// Replace `\uD800`–`\uDFFF` escapes that are not part of a valid pair by `\uFFFD`.
/// `None` when there is nothing to repair.
fn repair_lone_surrogates(json: &[u8]) -> Option<Vec<u8>> {
    let hex4 = |at: usize| -> Option<u16> {
        let s = std::str::from_utf8(json.get(at..at + 4)?).ok()?;
        u16::from_str_radix(s, 16).ok()
    };
    let escape_at = |at: usize| json.get(at) == Some(&b'\\') && json.get(at + 1) == Some(&b'u');
    let mut out = Vec::with_capacity(json.len());
    let (mut i, mut changed) = (0, false);
    while i < json.len() {
        if json[i] != b'\\' {
            out.push(json[i]);
            i += 1;
            continue;
        }
        if json.get(i + 1) != Some(&b'u') {
            // Any other escape, `\\` included: copy both bytes so `\\u` is not misread.
            out.extend_from_slice(&json[i..(i + 2).min(json.len())]);
            i += 2;
            continue;
        }
        match hex4(i + 2) {
            Some(0xD800..=0xDBFF)
                if escape_at(i + 6) && matches!(hex4(i + 8), Some(0xDC00..=0xDFFF)) =>
            {
                out.extend_from_slice(&json[i..i + 12]);
                i += 12;
            }
            Some(0xD800..=0xDFFF) => {
                out.extend_from_slice(b"\\ufffd");
                changed = true;
                i += 6;
            }
            _ => {
                out.extend_from_slice(&json[i..(i + 6).min(json.len())]);
                i += 6;
            }
        }
    }
    changed.then_some(out)
}

/// Classify an already-decoded body (`raw` is only used for the identity of payloads
/// that have no identity of their own).
pub fn classify(value: &Value, raw: &[u8]) -> Parsed {
    let by_bytes = || Identity::of_bytes(raw);
    let Some(obj) = value.as_object() else {
        return broken(None, vec!["$: expected object".into()], by_bytes());
    };
    let name = match obj.get("event") {
        Some(Value::String(s)) => s.as_str(),
        _ => {
            // The SDK goes on to check `data` before giving up.
            let mut problems = vec!["$.event: expected string".to_owned()];
            if !obj.get("data").is_some_and(Value::is_object) {
                problems.push("$.data: expected object".into());
            }
            return broken(None, problems, by_bytes());
        }
    };
    let event_name = EventName::new(name);

    if let Some(kind) = CallKind::ALL.into_iter().find(|k| k.name() == name) {
        return sdk_known(event_name, call(kind, obj), by_bytes);
    }
    if let Some(kind) = MessageKind::ALL.into_iter().find(|k| k.name() == name) {
        return sdk_known(
            event_name,
            with_data(obj, |d, p| message(kind, d, p)),
            by_bytes,
        );
    }
    if let Some(kind) = NumberKind::from_name(name) {
        let is_health = matches!(kind, NumberKind::Health(_));
        let typed = with_data(obj, |d, p| number(kind, d, p));
        return if is_health {
            beyond_sdk(event_name, typed, by_bytes)
        } else {
            sdk_known(event_name, typed, by_bytes)
        };
    }
    if name == "lead.received" {
        return sdk_known(event_name, with_data(obj, lead), by_bytes);
    }
    if name == "calls" {
        return beyond_sdk(event_name, native_calls(obj), by_bytes);
    }
    if let Some(kind) = name.strip_prefix("phone_line.") {
        return beyond_sdk(event_name, phone_line(kind, obj), by_bytes);
    }
    Parsed {
        verdict: Verdict::Unknown,
        name: Some(event_name),
        event: None,
        problems: vec![],
        identity: by_bytes(),
    }
}

/// A typed event with its identity, or the problems that kept it from being one.
type Typed = Result<(Event, Identity), Vec<String>>;

fn broken(name: Option<EventName>, problems: Vec<String>, identity: Identity) -> Parsed {
    Parsed {
        verdict: Verdict::Broken,
        name,
        event: None,
        problems,
        identity,
    }
}

/// An event the SDK knows: a contract failure is a broken payload.
fn sdk_known(name: EventName, typed: Typed, by_bytes: impl Fn() -> Identity) -> Parsed {
    typed_or(name, typed, Verdict::Broken, by_bytes)
}

/// An event the SDK calls unknown but the provider documents: typed when its shape is
/// as documented, otherwise kept as `unknown` (never `broken`: the SDK would accept it).
fn beyond_sdk(name: EventName, typed: Typed, by_bytes: impl Fn() -> Identity) -> Parsed {
    typed_or(name, typed, Verdict::Unknown, by_bytes)
}

fn typed_or(
    name: EventName,
    typed: Typed,
    otherwise: Verdict,
    by_bytes: impl Fn() -> Identity,
) -> Parsed {
    let (verdict, event, problems, identity) = match typed {
        Ok((event, identity)) => (Verdict::Known, Some(event), vec![], identity),
        Err(problems) => (otherwise, None, problems, by_bytes()),
    };
    Parsed {
        verdict,
        name: Some(name),
        event,
        problems,
        identity,
    }
}

fn with_data(
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

fn time(s: Option<&str>) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s?)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn message(
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

fn number(
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

fn data_name_of_number(kind: &NumberKind) -> String {
    match kind {
        NumberKind::Created => "number.created".into(),
        NumberKind::Connected => "number.connected".into(),
        NumberKind::Disconnected => "number.disconnected".into(),
        NumberKind::Removed => "number.removed".into(),
        NumberKind::Restored => "number.restored".into(),
        NumberKind::Health(s) => format!("number.health_{s}"),
    }
}

fn call(kind: CallKind, obj: &Map<String, Value>) -> Typed {
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

fn lead(data: &Map<String, Value>, problems: &mut Vec<String>) -> (Event, Identity) {
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
fn native_calls(obj: &Map<String, Value>) -> Typed {
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

fn phone_line(kind: &str, obj: &Map<String, Value>) -> Typed {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(body: &str) -> (Verdict, Vec<String>) {
        let p = parse(body.as_bytes()).expect("JSON");
        (p.verdict, p.problems)
    }

    #[test]
    fn not_json_is_an_error_with_a_reason() {
        let err = parse(b"{\"event\":").unwrap_err();
        assert!(err.0.starts_with("invalid JSON: "), "{err}");
        assert!(!err.0.contains('\n'));
    }

    #[test]
    fn known_event_with_bad_data_is_broken() {
        assert_eq!(
            problems(r#"{"event":"message.sent","data":[]}"#),
            (Verdict::Broken, vec!["$.data: expected object".into()])
        );
        assert_eq!(
            problems(r#"{"event":3,"data":{}}"#),
            (Verdict::Broken, vec!["$.event: expected string".into()])
        );
    }

    #[test]
    fn every_problem_is_reported_in_sdk_order() {
        let body = r#"{"event":"message.failed","data":{"numberId":1,"id":"m","type":"gif","fromMe":true,"createdAt":"x","to":"+1"}}"#;
        let (verdict, found) = problems(body);
        assert_eq!(verdict, Verdict::Broken);
        assert_eq!(
            found,
            vec![
                "$.data.numberId: expected string",
                "$.data.type: expected one of ['audio', 'contacts', 'document', 'image', 'location', 'reaction', 'sticker', 'text', 'video']",
                "$.data.error: expected string",
            ]
        );
    }

    #[test]
    fn nullable_and_optional_follow_the_sdk() {
        // messageId may be null; content may be absent but not null.
        let ok = r#"{"event":"message.sent","data":{"numberId":"n","messageId":null,"id":"m","fromMe":true,"createdAt":"t","to":"+1"}}"#;
        assert_eq!(problems(ok), (Verdict::Known, vec![]));
        let bad = r#"{"event":"message.sent","data":{"numberId":"n","id":"m","fromMe":true,"createdAt":"t","to":"+1","content":null}}"#;
        assert_eq!(
            problems(bad),
            (
                Verdict::Broken,
                vec!["$.data.content: expected string".into()]
            )
        );
    }

    #[test]
    fn call_duration_must_be_an_integer() {
        let call = |d: &str| {
            format!(
                r#"{{"event":"call.ended","callId":"c","direction":"INBOUND","status":"COMPLETED","from":"1","to":"2","timestamp":"t","duration":{d}}}"#
            )
        };
        assert_eq!(problems(&call("120")).0, Verdict::Known);
        assert_eq!(
            problems(&call("120.5")).1,
            vec!["$.duration: expected integer".to_owned()]
        );
        assert_eq!(
            problems(&call("null")).1,
            vec!["$.duration: expected integer".to_owned()]
        );
        // Python's bool is an int: the SDK accepts it, and so do we.
        assert_eq!(problems(&call("true")).0, Verdict::Known);
    }

    #[test]
    fn documented_family_with_odd_shape_is_unknown_not_broken() {
        let (verdict, found) = problems(r#"{"event":"number.health_ok","data":{"numberId":5}}"#);
        assert_eq!(verdict, Verdict::Unknown);
        assert!(found.contains(&"$.data.numberId: expected string".to_owned()));
        assert_eq!(
            problems(r#"{"event":"calls","data":{}}"#).0,
            Verdict::Unknown
        );
    }

    #[test]
    fn no_event_and_no_data_reports_both_like_the_sdk() {
        assert_eq!(
            problems("{}").1,
            vec!["$.event: expected string", "$.data: expected object"]
        );
    }

    #[test]
    fn lone_surrogates_and_a_bom_are_read_not_rejected() {
        // JSON.stringify of a string cut inside an emoji.
        let body = r#"{"event":"conversation.x","data":{"t":"cut \ud83d","pair":"\ud83d\ude00","esc":"\\ud800"}}"#;
        assert_eq!(parse(body.as_bytes()).unwrap().verdict, Verdict::Unknown);
        let mut with_bom = b"\xef\xbb\xbf".to_vec();
        with_bom.extend_from_slice(br#"{"event":"conversation.x"}"#);
        assert_eq!(parse(&with_bom).unwrap().verdict, Verdict::Unknown);
        assert_eq!(
            repair_lone_surrogates(br#""a\udc00b\\ud800""#).unwrap(),
            br#""a\ufffdb\\ud800""#.to_vec()
        );
        assert!(repair_lone_surrogates(br#""\ud83d\ude00""#).is_none());
    }

    #[test]
    fn meta_style_calls_envelope_is_read() {
        let body = r#"{"event":"calls","entry":[{"changes":[{"value":{"calls":[{"id":"wacid.1","event":"terminate"}]}}]}]}"#;
        let p = parse(body.as_bytes()).unwrap();
        let Some(Event::Calls(calls)) = p.event else {
            panic!("{p:?}")
        };
        assert_eq!(calls.calls[0].id.as_deref(), Some("wacid.1"));
    }
}
