//! The hand-written JSON codec against serde_json: same accept / reject on
//! random and mutated input, same object fields and array items, same
//! decoded strings.
use proptest::prelude::*;
use tabphone_json as json;

/// Random JSON values, as serde_json writes them.
fn value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(|n| serde_json::json!(n)),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| serde_json::json!(f)),
        any::<String>().prop_map(serde_json::Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..6)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Text near JSON: pieces of JSON syntax, escapes and junk.
fn near_json() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("{"),
        Just("}"),
        Just("["),
        Just("]"),
        Just(":"),
        Just(","),
        Just("\""),
        Just("\\"),
        Just("\\u00e9"),
        Just("\\ud83d"),
        Just("\\n"),
        Just("\\x"),
        Just("1"),
        Just("-"),
        Just("0"),
        Just("."),
        Just("e"),
        Just("+"),
        Just("true"),
        Just("nul"),
        Just("null"),
        Just(" "),
        Just("\n"),
        Just("a"),
        Just("\u{1}"),
        Just("é"),
    ];
    prop::collection::vec(piece, 0..24).prop_map(|v| v.concat())
}

fn serde_accepts(text: &str) -> bool {
    serde_json::from_str::<&serde_json::value::RawValue>(text).is_ok()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn accepts_every_serde_value(v in value()) {
        let text = serde_json::to_string(&v).unwrap();
        prop_assert!(json::validate(&text).is_ok(), "{}", text);
        if let serde_json::Value::Object(map) = &v {
            let fields = json::fields(&text).unwrap();
            prop_assert_eq!(fields.len(), map.len());
            for (k, raw) in fields {
                // The raw text of each field is exactly the text serde_json wrote for it.
                prop_assert_eq!(raw, serde_json::to_string(&map[k.as_ref()]).unwrap());
            }
        }
        if let serde_json::Value::Array(items) = &v {
            let raw = json::items(&text).unwrap();
            prop_assert_eq!(raw.len(), items.len());
            for (raw, item) in raw.into_iter().zip(items) {
                prop_assert_eq!(raw, serde_json::to_string(item).unwrap());
            }
        }
        if let serde_json::Value::String(s) = &v {
            prop_assert_eq!(json::as_str(&text).unwrap(), s.as_str());
        }
    }

    #[test]
    fn same_verdict_as_serde(text in near_json()) {
        prop_assert_eq!(json::validate(&text).is_ok(), serde_accepts(&text), "{:?}", text);
        // An array's items: read exactly when serde reads the text as an array.
        let serde_items = serde_json::from_str::<Vec<&serde_json::value::RawValue>>(&text);
        prop_assert_eq!(json::items(&text).is_ok(), serde_items.is_ok(), "{:?}", text);
    }

    #[test]
    fn strings_written_are_read_back(s in any::<String>()) {
        let mut out = String::new();
        json::push_str(&mut out, &s);
        prop_assert_eq!(serde_json::from_str::<String>(&out).unwrap(), s.clone());
        prop_assert_eq!(json::as_str(&out).unwrap(), s);
    }
}
