//! The table's rules one by one: store, delete, delta, dump entries.

use crate::proto::sync::{Change, Meta, Refusal, Table};
use crate::wire::Value;

const NOW: i64 = 1_700_000_000;

fn key(k: &str) -> Vec<u8> {
    k.as_bytes().to_vec()
}

fn map(pairs: &[(&str, i64)]) -> Value {
    Value::Map(
        pairs
            .iter()
            .map(|(k, v)| (Value::from(*k), Value::from(*v)))
            .collect(),
    )
}

fn fields(value: Value) -> Vec<(Value, Value)> {
    match value {
        Value::Map(pairs) => pairs,
        _ => unreachable!("test maps only"),
    }
}

#[test]
fn a_store_sets_value_and_metadata_and_reports_them() {
    let mut table = Table::new(true);
    let change = table.store(key("k"), Value::from("v"), Meta::new("a", NOW), NOW);
    assert_eq!(
        change,
        Ok(Change::Update {
            key: key("k"),
            value: Value::from("v"),
            meta: Meta::new("a", NOW)
        })
    );
    let entry = table.get(b"k").expect("stored");
    assert_eq!(entry.value, Value::from("v"));
    assert_eq!(entry.meta, Meta::new("a", NOW));
}

#[test]
fn a_delete_removes_value_and_metadata_so_anyone_may_write_next() {
    let mut table = Table::new(true);
    table
        .store(key("k"), Value::from(1i64), Meta::new("a", NOW), NOW)
        .expect("free key");
    assert_eq!(
        table.store(key("k"), Value::Nil, Meta::new("b", NOW - 1), NOW),
        Err(Refusal::Leased),
        "a delete is lease-checked like any write"
    );
    assert_eq!(
        table.store(key("k"), Value::Nil, Meta::new("a", NOW), NOW),
        Ok(Change::Delete { key: key("k") })
    );
    assert!(table.get(b"k").is_none() && table.is_empty());
    assert!(table
        .store(key("k"), Value::from(2i64), Meta::new("b", NOW - 1), NOW)
        .is_ok());
}

#[test]
fn deleting_a_missing_key_is_a_no_op() {
    let mut table = Table::new(true);
    assert_eq!(
        table.store(key("k"), Value::Nil, Meta::new("a", NOW), NOW),
        Err(Refusal::MissingKey)
    );
    assert!(table.is_empty());
}

#[test]
fn a_delta_merges_into_the_map_its_fields_winning_and_moves_ownership() {
    let mut table = Table::new(false);
    table
        .delta(
            key("m"),
            fields(map(&[("x", 1), ("y", 2)])),
            Meta::new("a", NOW),
            NOW,
        )
        .expect("absent key: merged into {}");
    let change = table.delta(
        key("m"),
        fields(map(&[("y", 20), ("z", 30)])),
        Meta::new("b", NOW + 1),
        NOW,
    );
    let merged = map(&[("x", 1), ("y", 20), ("z", 30)]);
    assert_eq!(
        change,
        Ok(Change::Update {
            key: key("m"),
            value: merged.clone(),
            meta: Meta::new("b", NOW + 1)
        }),
        "the event reports the merged map"
    );
    let entry = table.get(b"m").expect("stored");
    assert_eq!(entry.value, merged);
    assert_eq!(entry.meta.owner, b"b");
}

#[test]
fn a_delta_keys_compare_as_python_dict_keys() {
    let mut table = Table::new(true);
    let one = vec![(Value::UInt(1), Value::from("int"))];
    let one_float = vec![(Value::F64(1.0), Value::from("float"))];
    table
        .delta(key("m"), one, Meta::new("a", NOW), NOW)
        .expect("free");
    table
        .delta(key("m"), one_float, Meta::new("a", NOW), NOW)
        .expect("owner");
    let entry = table.get(b"m").expect("stored");
    assert_eq!(
        entry.value,
        Value::Map(vec![(Value::UInt(1), Value::from("float"))])
    );
}

#[test]
fn a_delta_onto_a_non_map_is_ignored() {
    let mut table = Table::new(false);
    table
        .store(key("k"), Value::from("text"), Meta::new("a", NOW), NOW)
        .expect("free");
    assert_eq!(
        table.delta(key("k"), fields(map(&[("x", 1)])), Meta::new("a", NOW), NOW),
        Err(Refusal::NotAMap)
    );
    let entry = table.get(b"k").expect("kept");
    assert_eq!(entry.value, Value::from("text"));
    assert_eq!(entry.meta, Meta::new("a", NOW));
}

#[test]
fn a_non_owner_delta_is_refused_with_leasing() {
    let mut table = Table::new(true);
    table
        .delta(key("m"), fields(map(&[("x", 1)])), Meta::new("a", NOW), NOW)
        .expect("free");
    assert_eq!(
        table.delta(
            key("m"),
            fields(map(&[("x", 2)])),
            Meta::new("b", NOW + 1),
            NOW
        ),
        Err(Refusal::Leased)
    );
}

#[test]
fn a_dump_entry_is_ignored_while_a_truthy_value_is_held() {
    let mut table = Table::new(false);
    table
        .store(key("k"), Value::from("mine"), Meta::new("a", NOW), NOW)
        .expect("free");
    assert_eq!(
        table.dump_entry(
            key("k"),
            Value::from("theirs"),
            Meta::new("b", NOW + 9),
            NOW
        ),
        Err(Refusal::HoldingValue),
        "even a newer write without leasing"
    );
}

#[test]
fn a_dump_entry_replaces_a_falsy_value_through_the_lease_check() {
    let falsy = [
        Value::Bool(false),
        Value::UInt(0),
        Value::F64(0.0),
        Value::from(""),
        Value::Bin(vec![]),
        Value::Array(vec![]),
        Value::Map(vec![]),
    ];
    for held in falsy {
        let mut table = Table::new(true);
        table
            .store(key("k"), held.clone(), Meta::new("b", NOW), NOW)
            .expect("free");
        assert_eq!(
            table.dump_entry(key("k"), Value::from("x"), Meta::new("c", NOW), NOW),
            Err(Refusal::Leased),
            "held {held:?}: a same-second entry from a larger owner still loses"
        );
        assert!(
            table
                .dump_entry(key("k"), Value::from("x"), Meta::new("a", NOW), NOW)
                .is_ok(),
            "held {held:?}: replaced"
        );
        assert_eq!(table.get(b"k").expect("kept").meta, Meta::new("a", NOW));
    }
}

#[test]
fn a_dump_entry_for_an_absent_key_keeps_its_original_owner_and_time() {
    let mut table = Table::new(true);
    let old = Meta::new("z", NOW - 50_000);
    table
        .dump_entry(key("k"), Value::from("v"), old.clone(), NOW)
        .expect("absent");
    assert_eq!(table.get(b"k").expect("stored").meta, old);
}
