//! The simulator: a seeded, I/O-free source of realistic traffic. It says what is due
//! at a given moment, so tests can run it for hours of simulated time in milliseconds.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::samples::{self, Context};

const NUMBERS: [(&str, &str, &str); 3] = [
    ("cmm0demo0number0centro01", "+5511940001000", "Loja Centro"),
    ("cmm0demo0number0suport02", "+5511940002000", "Suporte"),
    ("cmm0demo0number0vendas03", "+5521940003000", "Vendas RJ"),
];

const CONTACTS: [(&str, &str); 8] = [
    ("+5511987650001", "Ana Souza"),
    ("+5511987650002", "Bruno Lima"),
    ("+5521987650003", "Carla Dias"),
    ("+5531987650004", "Diego Alves"),
    ("+5511987650005", "Eva Rocha"),
    ("+5511987650006", "Fábio Nunes"),
    ("+5541987650007", "Gabriela Prado"),
    ("+5551987650008", "Heitor Campos"),
];

/// Someone without WhatsApp: messages to them fail with `RECIPIENT_NOT_ON_WHATSAPP`, and
/// they never write, call or reply (the provider could not have seen them).
const NOT_ON_WHATSAPP: (&str, &str) = ("+5511987650099", "Ivo Teixeira");

const INBOUND: [&str; 10] = [
    "Oi! Meu pedido 4821 ainda não chegou",
    "Vocês abrem no sábado?",
    "Obrigada, recebi certinho 😊",
    "Qual o prazo de entrega para Campinas?",
    "Posso trocar o tamanho?",
    "Bom dia! Tem em azul?",
    "Preciso da segunda via do boleto",
    "Pode me ligar?",
    "Vocês entregam no domingo?",
    "Qual o horário de atendimento?",
];

const OUTBOUND: [&str; 6] = [
    "Seu pedido 4821 saiu para entrega 🚚",
    "Olá! Seu agendamento é amanhã às 10h. Confirma?",
    "Recebemos seu pagamento, obrigado!",
    "Código de rastreio: BR123456789",
    "Seu orçamento está pronto, posso enviar?",
    "Promoção de hoje: frete grátis acima de R$ 150",
];

/// Failures a contact on WhatsApp can meet (one not on it meets only that).
const FAILURES: [(&str, &str); 2] = [
    (
        "DELIVER_NOT_CONFIRMED",
        "Failed to send message via Pilot Status.",
    ),
    ("RATE_LIMITED", "Too many messages to this recipient."),
];
const NOT_ON_WHATSAPP_ERROR: (&str, &str) = (
    "RECIPIENT_NOT_ON_WHATSAPP",
    "The recipient is not a WhatsApp user.",
);

/// What the simulator knows about a message it sent, to make replies quote it.
#[derive(Debug, Clone)]
struct Sent {
    /// When its `message.delivered` is due: no reply comes before.
    delivered: DateTime<Utc>,
    wamid: String,
    text: &'static str,
    contact: usize,
    number: usize,
}

#[derive(Debug)]
pub struct Simulator {
    rng: fastrand::Rng,
    /// Events scheduled for later (a delivery after a send, a call's end…).
    pending: BinaryHeap<Reverse<(DateTime<Utc>, u64, String)>>,
    order: u64,
    next_id: u64,
    sent: Vec<Sent>,
    /// Recent deliveries, to retry one now and then (the provider's at-least-once).
    recent: Vec<Value>,
    started: bool,
    flapping_up: bool,
    last_flap: Option<DateTime<Utc>>,
}

impl Simulator {
    pub fn new(seed: u64) -> Self {
        Self {
            rng: fastrand::Rng::with_seed(seed),
            pending: BinaryHeap::new(),
            order: 0,
            next_id: 0,
            sent: Vec::new(),
            recent: Vec::new(),
            started: false,
            flapping_up: true,
            last_flap: None,
        }
    }

    fn id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}{:06}{:04x}", self.next_id, self.rng.u16(..))
    }

    fn later(&mut self, at: DateTime<Utc>, after: Duration, v: Value) {
        self.order += 1;
        let when = at + chrono::Duration::from_std(after).unwrap_or_default();
        self.pending
            .push(Reverse((when, self.order, v.to_string())));
    }

    /// `contact` indexes [`CONTACTS`]; one past its end is [`NOT_ON_WHATSAPP`].
    fn ctx(&mut self, number: usize, contact: usize, text: &str, at: DateTime<Utc>) -> Context {
        let (id, phone, name) = NUMBERS[number];
        let (c, cname) = CONTACTS.get(contact).copied().unwrap_or(NOT_ON_WHATSAPP);
        Context {
            number_id: id.into(),
            number_phone: phone.into(),
            number_name: name.into(),
            contact: c.into(),
            contact_name: cname.into(),
            message_id: self.id("cmdemo"),
            text: text.into(),
            at,
        }
    }

    /// The deliveries due at `now`: everything scheduled before it, plus one new event
    /// (call it at the rate you want traffic).
    pub fn step(&mut self, now: DateTime<Utc>) -> Vec<Value> {
        let mut out = Vec::new();
        if !self.started {
            self.started = true;
            out.extend(self.opening(now));
        }
        while let Some(Reverse((when, _, _))) = self.pending.peek() {
            if *when > now {
                break;
            }
            let Reverse((_, _, v)) = self.pending.pop().expect("peeked");
            out.push(serde_json::from_str(&v).expect("we wrote it"));
        }
        out.extend(self.event(now));
        for v in &out {
            if self.recent.len() == 32 {
                self.recent.remove(0);
            }
            self.recent.push(v.clone());
        }
        out
    }

    /// The first second: numbers appear and connect, a couple of messages, a call.
    fn opening(&mut self, now: DateTime<Utc>) -> Vec<Value> {
        let mut out = Vec::new();
        for n in 0..NUMBERS.len() {
            let c = self.ctx(n, 0, "", now - chrono::Duration::hours(2));
            out.push(samples::sample("number.created", &c).expect("sample"));
            let c = self.ctx(n, 0, "", now - chrono::Duration::minutes(90));
            out.push(samples::sample("number.connected", &c).expect("sample"));
        }
        let c = self.ctx(1, 0, "", now - chrono::Duration::minutes(10));
        out.push(samples::sample("number.health_degraded", &c).expect("sample"));
        // A newcomer sees every state within seconds: "Vendas RJ" drops after 3 s.
        let down = Duration::from_secs(3);
        let c = self.ctx(2, 0, "", now + chrono::Duration::seconds(3));
        let v = samples::sample("number.disconnected", &c).expect("sample");
        self.later(now, down, v);
        self.flapping_up = false;
        self.last_flap = Some(now + chrono::Duration::seconds(3));
        out.extend(self.inbound(now, "message.received"));
        out.extend(self.outbound(now));
        out.extend(self.call(now));
        out
    }

    fn event(&mut self, now: DateTime<Utc>) -> Vec<Value> {
        let roll = self.rng.u32(0..100);
        match roll {
            0..=29 => self.inbound(now, "message.received"),
            30..=34 => self.image(now),
            35..=42 => self.reply(now),
            43..=48 => self.inbound(now, "message.group"),
            49..=51 => self.inbound(now, "message.newsletter"),
            52..=77 => self.outbound(now),
            78..=83 => self.call(now),
            84 => {
                let k = self.rng.usize(..CONTACTS.len());
                let c = self.ctx(0, k, "", now);
                vec![samples::sample("call.permission_updated", &c).expect("sample")]
            }
            85..=86 => {
                let k = self.rng.usize(..CONTACTS.len());
                let c = self.ctx(0, k, "", now);
                vec![samples::sample("lead.received", &c).expect("sample")]
            }
            87 => vec![
                json!({"event": "conversation.assigned", "data": {"id": self.id("conv_"), "agent": "ana"}}),
            ],
            88..=91 => self
                .recent
                .get(self.rng.usize(..self.recent.len().max(1)))
                .cloned()
                .into_iter()
                .collect(),
            92..=95 => self.flap(now),
            _ => {
                let c = self.ctx(0, 0, "", now);
                vec![samples::sample("calls", &c).expect("sample")]
            }
        }
    }

    fn inbound(&mut self, now: DateTime<Utc>, event: &str) -> Vec<Value> {
        let text = INBOUND[self.rng.usize(..INBOUND.len())];
        let (n, k) = (self.rng.usize(..2), self.rng.usize(..CONTACTS.len()));
        let c = self.ctx(n, k, text, now);
        samples::sample(event, &c).into_iter().collect()
    }

    fn image(&mut self, now: DateTime<Utc>) -> Vec<Value> {
        let mut v = self.inbound(now, "message.received");
        if let Some(v) = v.first_mut() {
            let d = &mut v["data"];
            d["type"] = json!("image");
            d["content"] = json!("Olha a foto do produto");
            d["mediaLink"] = json!("https://example.invalid/media/produto.jpg");
            d["mediaType"] = json!("image");
            d["mediaCaption"] = json!("Olha a foto do produto");
            d["mediaFilename"] = json!("produto.jpg");
        }
        v
    }

    fn reply(&mut self, now: DateTime<Utc>) -> Vec<Value> {
        let delivered: Vec<&Sent> = self.sent.iter().filter(|s| s.delivered <= now).collect();
        let Some(s) =
            (!delivered.is_empty()).then(|| delivered[self.rng.usize(..delivered.len())].clone())
        else {
            return self.inbound(now, "message.received");
        };
        let answer = [
            "Confirmo, obrigado!",
            "Chegou sim 👍",
            "Pode ser às 11h?",
            "Ótimo, aguardo",
        ][self.rng.usize(..4)];
        let c = self.ctx(s.number, s.contact, answer, now);
        let mut v = samples::sample("message.reply", &c).expect("sample");
        v["data"]["quotedMessageId"] = json!(s.wamid);
        v["data"]["contentReplied"] = json!(s.text);
        vec![v]
    }

    /// A message sent from the account: `sent` now, then delivered and read (or failed)
    /// with realistic delays.
    fn outbound(&mut self, now: DateTime<Utc>) -> Vec<Value> {
        let text = OUTBOUND[self.rng.usize(..OUTBOUND.len())];
        // Now and then to the one contact without WhatsApp (one past the list).
        let n = self.rng.usize(..2);
        let k = if self.rng.u32(0..100) < 4 {
            CONTACTS.len()
        } else {
            self.rng.usize(..CONTACTS.len())
        };
        let mut c = self.ctx(n, k, text, now);
        let sent = samples::sample("message.sent", &c).expect("sample");
        let wamid = sent["data"]["messageId"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let failure = if k == CONTACTS.len() {
            Some(NOT_ON_WHATSAPP_ERROR)
        } else {
            (self.rng.u32(0..100) < 6).then(|| FAILURES[self.rng.usize(..FAILURES.len())])
        };
        if let Some((code, error)) = failure {
            let after = Duration::from_millis(self.rng.u64(2000..6000));
            c.at = now + chrono::Duration::from_std(after).unwrap_or_default();
            let mut failed = samples::sample("message.failed", &c).expect("sample");
            failed["data"]["errorCode"] = json!(code);
            failed["data"]["error"] = json!(error);
            self.later(now, after, failed);
        } else {
            let d = Duration::from_millis(self.rng.u64(800..2500));
            c.at = now + chrono::Duration::from_std(d).unwrap_or_default();
            let delivered = samples::sample("message.delivered", &c).expect("sample");
            self.later(now, d, delivered);
            if self.rng.u32(0..100) < 70 {
                let r = d + Duration::from_millis(self.rng.u64(2000..12000));
                c.at = now + chrono::Duration::from_std(r).unwrap_or_default();
                let read = samples::sample("message.read", &c).expect("sample");
                self.later(now, r, read);
            }
            // Only a message that reaches its contact can be answered.
            self.sent.push(Sent {
                delivered: now + chrono::Duration::from_std(d).unwrap_or_default(),
                wamid,
                text,
                contact: k,
                number: n,
            });
            if self.sent.len() > 50 {
                self.sent.remove(0);
            }
        }
        vec![sent]
    }

    /// A call: ringing now, then connected and ended, or missed.
    fn call(&mut self, now: DateTime<Utc>) -> Vec<Value> {
        let k = self.rng.usize(..CONTACTS.len());
        let mut c = self.ctx(0, k, "", now);
        let ringing = samples::sample("call.ringing", &c).expect("sample");
        if self.rng.u32(0..100) < 30 {
            let d = Duration::from_secs(self.rng.u64(8..20));
            c.at = now + chrono::Duration::from_std(d).unwrap_or_default();
            let missed = samples::sample("call.missed", &c).expect("sample");
            self.later(now, d, missed);
        } else {
            let answer = Duration::from_secs(self.rng.u64(2..6));
            c.at = now + chrono::Duration::from_std(answer).unwrap_or_default();
            let connected = samples::sample("call.connected", &c).expect("sample");
            self.later(now, answer, connected);
            let talk = self.rng.u64(15..90);
            let end = answer + Duration::from_secs(talk);
            c.at = now + chrono::Duration::from_std(end).unwrap_or_default();
            let mut ended = samples::sample("call.ended", &c).expect("sample");
            ended["duration"] = json!(talk);
            self.later(now, end, ended);
        }
        vec![ringing]
    }

    /// The demo is stopping: everything still scheduled happens now, so no call is left
    /// ringing or in progress in the journal. A call not yet answered is missed; one in
    /// progress ends with the time it really lasted.
    pub fn finish(&mut self, now: DateTime<Utc>) -> Vec<Value> {
        let mut unanswered = std::collections::HashSet::new();
        let mut out = Vec::new();
        let stamp = samples::stamp(now);
        while let Some(Reverse((_, _, v))) = self.pending.pop() {
            let mut v: Value = serde_json::from_str(&v).expect("we wrote it");
            let call = v["callId"].as_str().map(str::to_owned);
            match (v["event"].as_str(), call) {
                (Some("call.connected"), Some(id)) => {
                    unanswered.insert(id);
                    continue;
                }
                (Some("call.ended"), Some(id)) if unanswered.contains(&id) => {
                    v["event"] = json!("call.missed");
                    v["status"] = json!("MISSED");
                    if let Some(o) = v.as_object_mut() {
                        o.remove("duration");
                    }
                }
                (Some("call.ended"), Some(_)) => {
                    let planned = v["timestamp"]
                        .as_str()
                        .and_then(|t| t.parse::<DateTime<Utc>>().ok());
                    let talk = v["duration"].as_i64().unwrap_or(0);
                    let lasted = planned.map_or(0, |end| {
                        (now - (end - chrono::Duration::seconds(talk)))
                            .num_seconds()
                            .max(0)
                    });
                    v["duration"] = json!(lasted);
                }
                _ => {}
            }
            if v.get("timestamp").is_some() {
                v["timestamp"] = json!(stamp);
            } else if v["data"].get("createdAt").is_some() {
                v["data"]["createdAt"] = json!(stamp);
            }
            out.push(v);
        }
        out
    }

    /// "Vendas RJ" flaps between connected and disconnected.
    fn flap(&mut self, now: DateTime<Utc>) -> Vec<Value> {
        if self
            .last_flap
            .is_some_and(|t| now - t < chrono::Duration::seconds(15))
        {
            return self.inbound(now, "message.received");
        }
        self.last_flap = Some(now);
        self.flapping_up = !self.flapping_up;
        let event = if self.flapping_up {
            "number.connected"
        } else {
            "number.disconnected"
        };
        let c = self.ctx(2, 0, "", now);
        samples::sample(event, &c).into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{EVENT_NAMES, Verdict, parse};

    #[test]
    fn an_hour_of_demo_traffic_keeps_the_sdk_contract_and_covers_every_family() {
        let mut sim = Simulator::new(42);
        let start = Utc::now();
        let mut seen = std::collections::BTreeSet::new();
        let mut total = 0;
        for i in 0..3600 {
            for v in sim.step(start + chrono::Duration::seconds(i)) {
                let body = serde_json::to_vec(&v).unwrap();
                let p = parse(&body).unwrap();
                assert_ne!(p.verdict, Verdict::Broken, "{v}: {:?}", p.problems);
                seen.insert(p.name.unwrap().to_string());
                total += 1;
            }
        }
        // Every known event but these, and one the SDK does not know.
        let never = [
            // The demo's numbers stay: never removed, so never restored.
            "number.removed",
            "number.restored",
            // Health only ever degrades, once, in the opening.
            "number.health_ok",
            // Phone lines are the provider's separate registry, not simulated.
            "phone_line.purchased",
            "phone_line.code_received",
            "phone_line.suspended",
        ];
        for name in never {
            assert!(EVENT_NAMES.contains(&name), "{name} is not a known event");
        }
        let expected = EVENT_NAMES.iter().filter(|n| !never.contains(n));
        for &family in expected.chain(&["conversation.assigned"]) {
            assert!(
                seen.contains(family),
                "{family} never happened in an hour: {seen:?}"
            );
        }
        assert!(total > 3600, "{total}");
    }

    /// What a newcomer must never see: a reply to a message that then failed (or was
    /// not delivered yet), a contact without WhatsApp writing or calling, that failure
    /// for anyone else, or a call left open when the demo stops.
    #[test]
    fn the_demo_makes_no_impossible_sequence_and_leaves_no_call_open() {
        let mut sim = Simulator::new(7);
        let start = Utc::now();
        let mut failed = std::collections::HashSet::new();
        let mut delivered = std::collections::HashSet::new();
        let mut open_calls = std::collections::HashSet::new();
        let mut first_down = None;
        let mut events: Vec<Value> = Vec::new();
        for i in 0..1800 {
            let now = start + chrono::Duration::seconds(i);
            for v in sim.step(now) {
                if v["event"] == "number.disconnected" && first_down.is_none() {
                    first_down = Some(i);
                }
                events.push(v);
            }
        }
        events.extend(sim.finish(start + chrono::Duration::seconds(1800)));
        for v in &events {
            let d = &v["data"];
            let wamid = d["messageId"].as_str().unwrap_or_default().to_owned();
            match v["event"].as_str().unwrap() {
                "message.failed" => {
                    let code = d["errorCode"].as_str().unwrap();
                    let to_ivo = d["to"] == NOT_ON_WHATSAPP.0;
                    assert_eq!(code == "RECIPIENT_NOT_ON_WHATSAPP", to_ivo, "{v}");
                    failed.insert(wamid);
                }
                "message.delivered" => {
                    delivered.insert(wamid);
                }
                "message.reply" => {
                    let quoted = d["quotedMessageId"].as_str().unwrap();
                    assert!(!failed.contains(quoted), "a reply to a failed message: {v}");
                    assert!(delivered.contains(quoted), "a reply before delivery: {v}");
                }
                "call.ringing" => {
                    open_calls.insert(v["callId"].as_str().unwrap().to_owned());
                }
                "call.ended" | "call.missed" => {
                    open_calls.remove(v["callId"].as_str().unwrap());
                }
                _ => {}
            }
            let from = d["from"]
                .as_str()
                .or(v["from"].as_str())
                .unwrap_or_default();
            assert!(
                !from.contains(&NOT_ON_WHATSAPP.0[1..]),
                "a contact without WhatsApp wrote or called: {v}"
            );
        }
        assert!(!failed.is_empty() && !delivered.is_empty());
        assert!(open_calls.is_empty(), "calls never ended: {open_calls:?}");
        assert!(
            first_down.is_some_and(|s| s <= 5),
            "a disconnected number within 5 s, not at {first_down:?}"
        );
    }
}
