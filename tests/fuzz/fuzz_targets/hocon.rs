//! Fuzz target: any bytes through the EMQX-dialect HOCON reader.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = emqx_render::hocon::parse(text);
    }
});
