//! An iJw message as ingest reads it at `POST /v1/ijw`: parsed, split into products, each
//! product's event validated. Nothing may panic; each product gets an event or checks, and
//! every check carries a retour code.
#![no_main]

use libfuzzer_sys::fuzz_target;
use schakel_core::domain::ids::Pseudonymizer;
use schakel_ingest::{ijw, validate};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = ijw::parse_tree(text);
    let Ok(msg) = ijw::read_message(text) else {
        return;
    };
    let pseudo = Pseudonymizer::new(b"fuzz-pseudonym-secret-0123456789");
    for p in ijw::products(&msg) {
        match p.event {
            Ok(ev) => {
                if let Err(errors) = validate::validate_batch(std::slice::from_ref(&ev), &pseudo) {
                    for e in errors {
                        let c = ijw::check_for(&e);
                        assert!(c.code.len() == 4, "a retour code has four digits");
                    }
                }
            }
            Err(checks) => assert!(!checks.is_empty(), "a refused product says why"),
        }
    }
});
