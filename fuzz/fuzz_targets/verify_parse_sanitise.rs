//! verify → parse → sanitise → journal line, on arbitrary bytes: nothing panics, a
//! correct signature always verifies and anything else never does, sanitised text holds
//! no control character, and a journal line round-trips.
//!
//! `cargo +nightly fuzz run verify_parse_sanitise -- -max_total_time=300`
#![no_main]

use libfuzzer_sys::fuzz_target;
use pilotwatch::journal::line;
use pilotwatch::signature::{sign, verify};
use pilotwatch::record::{Record, SignatureCheck};
use pilotwatch::sanitize;
use pilotwatch::secret::Secret;

const SECRET: &str = "whsec_fuzz_0123456789";

fn clean(s: &str) {
    let shown = sanitize::line(s, 4096);
    assert!(
        !shown.chars().any(|c| c.is_control()),
        "control character survived: {shown:?}"
    );
}

fuzz_target!(|data: &[u8]| {
    let secrets = [Secret::new(SECRET)];
    let good = sign(SECRET, data);
    assert_eq!(
        verify(&secrets, [good.as_bytes()].into_iter(), data),
        SignatureCheck::Valid
    );
    // The body's own first bytes as a header: valid only if they are the signature.
    let head = &data[..data.len().min(64)];
    let check = verify(&secrets, [head].into_iter(), data);
    assert!(check != SignatureCheck::Valid || head == good.as_bytes());

    let record = Record::delivery(1, data);
    for p in &record.problems {
        clean(p);
    }
    if let Some(e) = &record.event {
        clean(e.as_str());
    }
    clean(&String::from_utf8_lossy(data));

    let mut out = Vec::new();
    line::encode(&record, &mut out);
    let back = line::decode(out.strip_suffix(b"\n").unwrap_or(&out)).expect("own line decodes");
    assert_eq!(back.body, record.body);
    assert_eq!(back.verdict, record.verdict);
});
