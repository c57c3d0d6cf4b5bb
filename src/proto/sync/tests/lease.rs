//! Every branch of the lease check, with leasing on and off.

use crate::proto::sync::{may_write, Meta, LEASE_SECONDS};

const NOW: i64 = 1_700_000_000;

fn meta(owner: &str, time: i64) -> Meta {
    Meta::new(owner, time)
}

#[test]
fn an_absent_key_takes_any_write() {
    for leasing in [true, false] {
        for delta in [true, false] {
            assert!(may_write(None, &meta("b", 0), NOW, delta, leasing));
        }
    }
}

#[test]
fn the_owner_may_rewrite_at_any_time_even_with_an_older_timestamp() {
    let held = meta("b", NOW);
    assert!(may_write(
        Some(&held),
        &meta("b", NOW - 100),
        NOW,
        false,
        true
    ));
    assert!(may_write(
        Some(&held),
        &meta("b", NOW - 100),
        NOW,
        true,
        true
    ));
}

#[test]
fn a_non_owner_delta_passes_only_without_leasing() {
    let held = meta("a", NOW);
    let write = meta("b", NOW - 5);
    assert!(may_write(Some(&held), &write, NOW, true, false));
    assert!(!may_write(Some(&held), &write, NOW, true, true));
    assert!(
        !may_write(Some(&held), &write, NOW, false, false),
        "an older plain write still loses without leasing"
    );
}

#[test]
fn a_key_written_over_an_hour_ago_is_free() {
    let write = meta("b", NOW);
    let lapsed = meta("a", NOW - LEASE_SECONDS - 1);
    assert!(may_write(Some(&lapsed), &write, NOW, false, true));
    let exactly_an_hour = meta("a", NOW - LEASE_SECONDS);
    assert!(
        !may_write(Some(&exactly_an_hour), &write, NOW, false, true),
        "the lapse is strict: time < now - 3600"
    );
}

#[test]
fn a_same_second_conflict_goes_to_the_smaller_owner() {
    let held = meta("b", NOW);
    assert!(may_write(Some(&held), &meta("a", NOW), NOW, false, true));
    assert!(!may_write(
        Some(&meta("a", NOW)),
        &meta("b", NOW),
        NOW,
        false,
        true
    ));
}

#[test]
fn owners_compare_as_bytes_not_as_base58_integers() {
    // As integers "22" (59) > "z" (57); as bytes "z" > "22": the held "z" yields.
    let held = meta("z", NOW);
    assert!(may_write(Some(&held), &meta("22", NOW), NOW, false, true));
    assert!(!may_write(
        Some(&meta("22", NOW)),
        &meta("z", NOW),
        NOW,
        false,
        true
    ));
}

#[test]
fn a_newer_write_wins_only_without_leasing() {
    let held = meta("a", NOW - 10);
    let write = meta("b", NOW - 5);
    assert!(may_write(Some(&held), &write, NOW, false, false));
    assert!(!may_write(Some(&held), &write, NOW, false, true));
    let older = meta("b", NOW - 20);
    assert!(!may_write(Some(&held), &older, NOW, false, false));
}
