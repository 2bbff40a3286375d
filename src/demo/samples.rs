//! Realistic payloads for every event family in PROTOCOL.md, with fresh ids and times:
//! what `pilotwatch send` posts and what the demo simulator builds its traffic from.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::model::EVENT_NAMES;

/// The parties and ids a sample is about. `Default` gives a plausible account.
#[derive(Debug, Clone)]
pub struct Context {
    pub number_id: String,
    pub number_phone: String,
    pub number_name: String,
    pub contact: String,
    pub contact_name: String,
    /// Pilot Status message id (shared by a message's status events).
    pub message_id: String,
    pub text: String,
    pub at: DateTime<Utc>,
}

impl Default for Context {
    fn default() -> Self {
        let n = Utc::now().timestamp_subsec_nanos();
        Self {
            number_id: "cmm0demo0number0centro01".into(),
            number_phone: "+5511940001000".into(),
            number_name: "Loja Centro".into(),
            contact: "+5511987650001".into(),
            contact_name: "Ana Souza".into(),
            message_id: format!("cm{n:08x}msg{:04x}", n % 0xffff),
            text: "Olá! Vocês abrem no sábado?".into(),
            at: Utc::now(),
        }
    }
}

pub fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn message(event: &str, c: &Context) -> Value {
    let outbound = matches!(
        event,
        "message.sent" | "message.delivered" | "message.read" | "message.failed"
    );
    let (from, to) = if outbound {
        (&c.number_phone, &c.contact)
    } else {
        (&c.contact, &c.number_phone)
    };
    let mut data = json!({
        "from": from,
        "to": to,
        "numberId": c.number_id,
        "messageId": format!("wamid.{}", c.message_id.to_uppercase()),
        "id": c.message_id,
        "type": "text",
        "fromMe": outbound,
        "content": c.text,
        "createdAt": stamp(c.at),
    });
    let d = data.as_object_mut().expect("object");
    match event {
        "message.failed" => {
            d.insert("messageId".into(), Value::Null);
            d.insert(
                "error".into(),
                json!("Failed to send message via Pilot Status."),
            );
            d.insert("errorCode".into(), json!("DELIVER_NOT_CONFIRMED"));
        }
        "message.received" => {
            d.insert("participantName".into(), json!(c.contact_name));
        }
        "message.reply" => {
            d.insert("participantName".into(), json!(c.contact_name));
            d.insert(
                "contentReplied".into(),
                json!("Seu pedido saiu para entrega 🚚"),
            );
            d.insert("quotedMessageId".into(), json!("wamid.ORIGINAL0001"));
        }
        "message.group" => {
            d.insert("participantName".into(), json!(c.contact_name));
            d.insert("groupId".into(), json!("120363000000000001@g.us"));
            d.insert("groupName".into(), json!("Equipe Loja"));
        }
        "message.newsletter" => {
            d.insert("participantName".into(), json!(c.contact_name));
            d.insert(
                "newsletterId".into(),
                json!("120363000000000002@newsletter"),
            );
            d.insert("newsletterName".into(), json!("Ofertas ACME"));
        }
        _ => {}
    }
    json!({"event": event, "data": data})
}

fn number(event: &str, c: &Context) -> Value {
    let mut data = json!({
        "numberId": c.number_id,
        "phone": c.number_phone,
        "displayName": c.number_name,
        "createdAt": stamp(c.at),
    });
    let d = data.as_object_mut().expect("object");
    match event {
        "number.connected" => {
            d.insert(
                "profileName".into(),
                json!(format!("{} Oficial", c.number_name)),
            );
        }
        "number.health_degraded" => {
            d.insert("error".into(), json!("Quality rating dropped to LOW"));
            d.insert("errorCode".into(), json!("QUALITY_LOW"));
        }
        _ => {}
    }
    json!({"event": event, "data": data})
}

fn digits(phone: &str) -> String {
    phone.chars().filter(char::is_ascii_digit).collect()
}

fn call(event: &str, c: &Context) -> Value {
    let call_id = format!("call_{}", &c.message_id[2..c.message_id.len().min(14)]);
    let (status, direction) = match event {
        "call.ringing" => ("RINGING", "INBOUND"),
        "call.connected" => ("ACCEPTED", "INBOUND"),
        "call.ended" => ("COMPLETED", "INBOUND"),
        "call.missed" => ("MISSED", "INBOUND"),
        _ => ("TEMPORARY", ""),
    };
    if event == "call.permission_updated" {
        return json!({
            "event": event, "callId": null, "direction": null, "status": status,
            "from": digits(&c.number_phone), "to": digits(&c.contact), "timestamp": stamp(c.at),
        });
    }
    let mut v = json!({
        "event": event,
        "callId": call_id,
        "externalCallId": format!("wacid.{}", call_id.to_uppercase()),
        "direction": direction,
        "status": status,
        "from": digits(&c.contact),
        "to": digits(&c.number_phone),
        "timestamp": stamp(c.at),
    });
    if event == "call.ended" {
        v["duration"] = json!(95);
    }
    v
}

/// A sample of `event`, or `None` for a name we have no sample of (every one of
/// [`EVENT_NAMES`] has one).
pub fn sample(event: &str, c: &Context) -> Option<Value> {
    Some(match event {
        e if e.starts_with("message.") && EVENT_NAMES.contains(&e) => message(e, c),
        e if e.starts_with("number.") && EVENT_NAMES.contains(&e) => number(e, c),
        e if e.starts_with("call.") && EVENT_NAMES.contains(&e) => call(e, c),
        "calls" => json!({
            "event": "calls",
            "data": {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": digits(&c.number_phone), "phone_number_id": "1234567890"},
                "calls": [{
                    "id": format!("wacid.{}", c.message_id.to_uppercase()),
                    "from": digits(&c.contact),
                    "to": digits(&c.number_phone),
                    "event": "connect",
                    "timestamp": c.at.timestamp().to_string(),
                    "direction": "USER_INITIATED",
                    "session": {"sdp_type": "offer", "sdp": "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\n"},
                }],
            },
        }),
        "lead.received" => json!({
            "event": "lead.received",
            "data": {
                "leadId": format!("lead_{}", c.message_id),
                "leadgenId": format!("{}", c.at.timestamp_millis()),
                "whatsappNumberId": c.number_id,
                "pageId": "page_acme",
                "formId": "form_black_friday",
                "createdAt": stamp(c.at),
                "fullName": c.contact_name,
                "phone": c.contact,
                "fields": [{"key": "full_name", "label": "Nome", "values": [c.contact_name]}],
            },
        }),
        e if e.starts_with("phone_line.") => json!({
            "id": format!("evt_pl_{}", c.message_id),
            "event": e,
            "createdAt": stamp(c.at),
            "data": {
                "lineId": "pl_demo_1",
                "number": "+5511955554444",
                "name": "Linha de verificação",
                "activationId": "act_1",
                "code": if e == "phone_line.code_received" { json!("482913") } else { Value::Null },
            },
        }),
        _ => return None,
    })
}

/// Apply `path=value` overrides (`data.content=Hello`, `data.fromMe=false`): the value
/// is read as JSON when it is JSON, else taken as a string.
pub fn set(v: &mut Value, assignment: &str) -> Result<(), String> {
    let (path, raw) = assignment
        .split_once('=')
        .ok_or_else(|| format!("{assignment:?}: expected path=value"))?;
    let value = serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_owned()));
    let mut target = v;
    let parts: Vec<&str> = path.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        let obj = target
            .as_object_mut()
            .ok_or_else(|| format!("{path}: {part} is inside something that is not an object"))?;
        if last {
            obj.insert((*part).to_owned(), value);
            return Ok(());
        }
        target = obj.entry((*part).to_owned()).or_insert_with(|| json!({}));
    }
    Err(format!("{path}: empty path"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Verdict, parse};

    #[test]
    fn every_known_name_has_a_sample_that_parses_as_it() {
        let c = Context::default();
        for event in EVENT_NAMES {
            let v = sample(event, &c).unwrap_or_else(|| panic!("no sample for {event}"));
            let p = parse(&serde_json::to_vec(&v).unwrap()).unwrap();
            assert_eq!(p.verdict, Verdict::Known, "{event}: {:?}", p.problems);
            assert_eq!(p.name.unwrap().as_str(), *event);
        }
        assert!(sample("nope.nothing", &c).is_none());
    }

    #[test]
    fn overrides() {
        let mut v = sample("message.received", &Context::default()).unwrap();
        set(&mut v, "data.content=Hello there").unwrap();
        set(&mut v, "data.fromMe=true").unwrap();
        set(&mut v, "data.extra.deep=1").unwrap();
        assert_eq!(v["data"]["content"], "Hello there");
        assert_eq!(v["data"]["fromMe"], true);
        assert_eq!(v["data"]["extra"]["deep"], 1);
        assert!(set(&mut v, "data.content.x=1").is_err());
        assert!(set(&mut v, "nothing").is_err());
    }
}
