//! Fuzz target: any bytes through the whole render (YAML, spec, HOCON, model, objects, YAML out).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let source = emqx_render::input::Source {
        name: "fuzz.yaml".into(),
        text: text.to_string(),
    };
    if let Ok(c) = emqx_render::compile::compile(&[source], &Default::default()) {
        let _ = emqx_render::output::to_yaml(&c.manifest);
    }
});
