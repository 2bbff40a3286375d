"""Differential check of pilotwatch's parser against the official SDK.

Every corpus file, mutated at every field (deleted, or set to each of a set of odd
values), with every known event name swapped in, plus a few raw bodies, goes through
`parse_customer_webhook` (pilot-status on PyPI) and through `examples/verdict.rs`.
Verdicts and problem paths must agree, except where pilotwatch deliberately goes beyond
the SDK (typing number.health_*, calls, phone_line.*). Run it with `scripts/sdk-diff`.
"""

import copy, json, os, subprocess, sys

from pilot_status.webhooks.parse import WebhookParseError, parse_customer_webhook

corpus, verdict_bin = sys.argv[1], sys.argv[2]
base = []
for f in sorted(os.listdir(corpus)):
    if f.endswith(".json") and f != "verdicts.json":
        base.append(json.load(open(os.path.join(corpus, f))))

ODD = [None, 1, 1.5, True, False, "s", "", [], {}, ["a"], [1], {"a": 1}, -1]


def paths(o, p=()):
    items = o.items() if isinstance(o, dict) else enumerate(o) if isinstance(o, list) else []
    for k, v in items:
        yield p + (k,)
        yield from paths(v, p + (k,))


def with_value(o, p, v, delete=False):
    o = copy.deepcopy(o)
    t = o
    for k in p[:-1]:
        t = t[k]
    if delete:
        del t[p[-1]]
    else:
        t[p[-1]] = v
    return o


names = sorted({b["event"] for b in base if isinstance(b, dict) and isinstance(b.get("event"), str)})
names += ["number.health_ok", "phone_line.x", "calls", "message.other", "Message.sent"]
bodies = []
for b in base:
    bodies.append(b)
    if not isinstance(b, dict):
        continue
    for p in list(paths(b)):
        bodies.append(with_value(b, p, None, delete=True))
        bodies += [with_value(b, p, v) for v in ODD]
    for n in names:
        bodies.append(with_value(b, ("event",), n))
    # Optional fields of other families, added where they do not belong.
    for k in ["type", "content", "from", "participantName", "quotedMessageId", "errorCode",
              "profileName", "externalCallId", "duration", "isOrganic", "fields", "groupName"]:
        for v in [None, 1, "x", True, 2.0]:
            bodies.append(with_value(b, (k,), v))
            if isinstance(b.get("data"), dict):
                bodies.append(with_value(b, ("data", k), v))
raw = [json.dumps(b).encode() for b in bodies]
raw += [b"[]", b"1", b"null", b'\xef\xbb\xbf{"event":"x"}', b'{"event":"x","a":"\\ud800"}',
        b'{"event":"x","event":"message.sent"}', b' {"event":"x"} ']
# Nested far beyond serde_json's default 128 levels, within what Python's json reads
# (~1000, its recursion limit; deeper, the SDK's caller gets a RecursionError, no verdict).
deep = []
for depth in (129, 500, 900):
    for b in base[:6]:
        if isinstance(b, dict):
            d = with_value(b, ("extra",), None)
            d["extra"] = json.loads("[" * depth + "]" * depth)
            deep.append(json.dumps(d).encode())
            deep.append(json.dumps(dict(d, event="some.thing")).encode())
# Integers beyond 64 bits: an int to Python, whatever field takes one.
for b in base:
    if isinstance(b, dict):
        for p in list(paths(b)):
            for big in (10**30, -(10**30), 2**64):
                raw.append(json.dumps(with_value(b, p, big)).encode())
# The short form (CI): a deterministic sample of the mutations, every deep one.
if len(sys.argv) > 3 and sys.argv[3].startswith("--sample="):
    n = int(sys.argv[3].split("=", 1)[1])
    step = max(1, len(raw) // n)
    raw = raw[::step]
raw += deep


def sdk(body):
    try:
        obj = json.loads(body)
    except ValueError:
        return "notjson", []
    try:
        r = parse_customer_webhook(obj)
    except WebhookParseError as e:
        return "broken", [f"{i.path}: {i.message}" for i in e.issues]
    return ("unknown" if r is not obj and r.get("type") == "unknown" else "known"), []


ours = subprocess.run([verdict_bin], input=b"\0".join(raw), capture_output=True, check=True).stdout
ours = [json.loads(l) for l in ours.decode().splitlines()]
assert len(ours) == len(raw), (len(ours), len(raw))
mismatches = 0
for body, o in zip(raw, ours):
    sv, sp = sdk(body)
    try:
        ev = json.loads(body).get("event")
    except (ValueError, AttributeError):
        ev = None
    beyond = isinstance(ev, str) and (ev.startswith(("number.health_", "phone_line.")) or ev == "calls")
    if beyond and sv == "unknown" and o["verdict"] in ("known", "unknown"):
        continue
    if (sv, sp) != (o["verdict"], o["problems"]):
        mismatches += 1
        print(f"MISMATCH sdk={sv} {sp} ours={o['verdict']} {o['problems']}\n    {body[:240]!r}")
agree = 100.0 * (len(raw) - mismatches) / len(raw)
print(f"{len(raw)} payloads, {mismatches} mismatches: {agree:.2f} % agreement with the SDK")
sys.exit(1 if mismatches else 0)
