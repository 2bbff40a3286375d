"""POST a realistic burst of Pilot Status webhooks to a running pilotwatch (for
screenshots: a few minutes of history, sent in the order it happened). Usage:
    sample-traffic.py http://127.0.0.1:3000/hooks [SECRET]"""

import datetime as dt
import hashlib
import hmac
import json
import random
import sys
import time
import urllib.request

url = sys.argv[1]
secret = sys.argv[2] if len(sys.argv) > 2 else None
random.seed(7)
now = dt.datetime.now(dt.timezone.utc)


def ts(offset):
    return (now + dt.timedelta(seconds=offset)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


queued = []


def post(body):
    """Queue a delivery: the burst goes out in the order its events happened."""
    queued.append(body)


def when(body):
    """When the event happened, as the provider stamps it (untimed ones go last)."""
    data = body.get("data") if isinstance(body.get("data"), dict) else {}
    return data.get("createdAt") or body.get("timestamp") or "9999"


def send(body):
    raw = json.dumps(body, ensure_ascii=False).encode()
    req = urllib.request.Request(url, data=raw, method="POST", headers={"content-type": "application/json"})
    if secret:
        req.add_header("x-pilot-status-signature", hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest())
    try:
        urllib.request.urlopen(req, timeout=5).read()
    except urllib.error.HTTPError:
        pass
    time.sleep(0.02)


numbers = [
    ("num_centro", "+5511940001000", "Loja Centro", "Loja Centro Oficial"),
    ("num_suporte", "+5511940002000", "Suporte", "Suporte ACME"),
    ("num_vendas", "+5521940003000", "Vendas RJ", None),
]
contacts = [
    ("+5511987650001", "Ana Souza"), ("+5511987650002", "Bruno Lima"), ("+5521987650003", "Carla Dias"),
    ("+5531987650004", "Diego Alves"), ("+5511987650005", "Eva Rocha"), ("+5511987650006", "Fábio Nunes"),
]
inbound = [
    "Oi! Meu pedido 4821 ainda não chegou", "Vocês abrem no sábado?", "Obrigada, recebi certinho 😊",
    "Qual o prazo de entrega para Campinas?", "Posso trocar o tamanho?", "Bom dia! Tem em azul?",
    "Preciso da segunda via do boleto", "Pode me ligar?",
]
outbound = [
    "Seu pedido 4821 saiu para entrega 🚚", "Olá! Seu agendamento é amanhã às 10h. Confirma?",
    "Recebemos seu pagamento, obrigado!", "Código de rastreio: BR123456789", "Oi Bruno, seu orçamento está pronto",
]

for i, (nid, phone, name, profile) in enumerate(numbers):
    post({"event": "number.created", "data": {"numberId": nid, "phone": phone, "displayName": name, "createdAt": ts(-3600 + i)}})
    data = {"numberId": nid, "phone": phone, "displayName": name, "createdAt": ts(-3500 + i)}
    if profile:
        data["profileName"] = profile
    post({"event": "number.connected", "data": data})
post({"event": "number.disconnected", "data": {"numberId": "num_vendas", "phone": "+5521940003000", "displayName": "Vendas RJ", "createdAt": ts(-600)}})
post({"event": "number.health_degraded", "data": {"numberId": "num_suporte", "phone": "+5511940002000", "displayName": "Suporte", "createdAt": ts(-300), "error": "Quality rating dropped to LOW", "errorCode": "QUALITY_LOW"}})

sent_ids = []
for k in range(14):
    nid = random.choice(numbers[:2])[0]
    to, _ = random.choice(contacts)
    mid, wa = f"cm{k:04d}out{random.randint(1000, 9999)}", f"wamid.OUT{k:04d}"
    base = {"to": to, "from": "+5511940001000", "numberId": nid, "messageId": wa, "id": mid, "type": "text", "fromMe": True, "content": random.choice(outbound), "correlationId": f"corr_{k}"}
    t0 = -240 + k * 15
    post({"event": "message.sent", "data": {**base, "createdAt": ts(t0)}})
    if k % 7 == 3:
        post({"event": "message.failed", "data": {**base, "messageId": None, "createdAt": ts(t0 + 30), "error": "Failed to send message via Pilot Status.", "errorCode": random.choice(["DELIVER_NOT_CONFIRMED", "NUMBER_NOT_ON_WHATSAPP"])}})
        continue
    if k < 12:
        post({"event": "message.delivered", "data": {**base, "createdAt": ts(t0 + 2)}})
    if k < 9:
        post({"event": "message.read", "data": {**base, "createdAt": ts(t0 + 20 + k)}})
    if k == 5:
        post({"event": "message.sent", "data": {**base, "createdAt": ts(t0)}})  # a retry
    sent_ids.append((wa, base["content"], to, nid))

for k in range(12):
    frm, who = random.choice(contacts)
    nid = random.choice(numbers[:2])[0]
    data = {"from": frm, "to": "+5511940001000", "numberId": nid, "messageId": f"wamid.IN{k:04d}", "id": f"cm{k:04d}in", "type": "text", "fromMe": False, "content": random.choice(inbound), "participantName": who, "createdAt": ts(-200 + k * 17)}
    if k == 4:
        data.update(type="image", content="Olha a foto do produto", mediaLink="https://example.invalid/m/1", mediaType="image", mediaCaption="Olha a foto do produto", mediaFilename="produto.jpg")
    post({"event": "message.received", "data": data})

for k, (wa, text, to, nid) in enumerate(sent_ids[:3]):
    post({"event": "message.reply", "data": {"from": to, "to": "+5511940001000", "numberId": nid, "messageId": f"wamid.REP{k}", "id": f"cm{k:04d}rep", "type": "text", "fromMe": False, "content": ["Confirmo, obrigado!", "Chegou sim 👍", "Pode ser às 11h?"][k], "contentReplied": text, "quotedMessageId": wa, "participantName": "Cliente", "createdAt": ts(-20 + k)}})

post({"event": "message.group", "data": {"from": "+5511987650004", "to": "+5511940001000", "numberId": "num_centro", "messageId": "wamid.GRP1", "id": "cmgrp1", "type": "text", "fromMe": False, "content": "Reunião da equipe às 15h", "participantName": "Diego Alves", "groupId": "120363000000000001@g.us", "groupName": "Equipe Loja", "createdAt": ts(-60)}})
post({"event": "message.newsletter", "data": {"from": "+5511987650006", "to": "+5511940001000", "numberId": "num_centro", "messageId": "wamid.NL1", "id": "cmnl1", "type": "text", "fromMe": False, "content": "Promoção de fim de semana: 20% off", "participantName": "Fábio Nunes", "newsletterId": "120363000000000002@newsletter", "newsletterName": "Ofertas ACME", "createdAt": ts(-45)}})

calls = [("call_A1", "INBOUND", "5511987650001", "5511940001000"), ("call_B2", "OUTBOUND", "5511940001000", "5521987650003"), ("call_C3", "INBOUND", "5511987650005", "5511940001000")]
for n, (cid, d, f, t) in enumerate(calls):
    common = {"callId": cid, "externalCallId": f"wacid.{cid}", "direction": d, "from": f, "to": t}
    post({"event": "call.ringing", **common, "status": "RINGING", "timestamp": ts(-180 + n * 60)})
    if n == 1:
        post({"event": "call.missed", **common, "status": "MISSED", "timestamp": ts(-150 + n * 60)})
        continue
    post({"event": "call.connected", **common, "status": "ACCEPTED", "timestamp": ts(-175 + n * 60 if n == 0 else -35)})
    if n == 0:
        post({"event": "call.ended", **common, "status": "COMPLETED", "timestamp": ts(-40), "duration": 135})
post({"event": "call.permission_updated", "callId": None, "direction": None, "status": "TEMPORARY", "from": "5511940001000", "to": "5531987650004", "timestamp": ts(-30)})
post({"event": "lead.received", "data": {"leadId": "lead_9", "leadgenId": "889900", "whatsappNumberId": "num_centro", "pageId": "p1", "formId": "form_black_friday", "createdAt": ts(-25), "fullName": "Gabriela Prado", "phone": "+5511955554444", "fields": [{"key": "full_name", "values": ["Gabriela Prado"]}]}})
post({"event": "conversation.assigned", "data": {"id": "conv_1", "agent": "ana"}})
post({"event": "message.sent", "data": {"from": "+5511940001000", "numberId": "num_centro", "id": "cm_broken", "fromMe": True, "createdAt": ts(-5)}})

# A stable sort: events stamped alike (a retry of a `sent`) keep their order.
for body in sorted(queued, key=when):
    send(body)
