//! Core ids are checked against the cores the process may run on, and the
//! feed thread never shares its core with a spinning consumer.

use super::{accepted, base, refused};

fn first_core() -> usize {
    tickwire::sys::init_core_list()[0]
}

#[test]
fn a_feed_core_beyond_the_machine_is_refused() {
    let mut c = base();
    c.engine.feed_core = Some(usize::MAX);
    let msg = refused(&c, "engine.feed_core");
    assert!(
        msg.contains(&first_core().to_string()),
        "lists the cores: {msg}"
    );
    c.engine.feed_core = Some(first_core());
    accepted(&c);
}

#[test]
fn a_consumer_core_beyond_the_machine_is_refused() {
    let mut c = base();
    c.engine.consumer_cores = vec![usize::MAX];
    let msg = refused(&c, "engine.consumer_cores[0]");
    assert!(msg.contains("available"), "{msg}");
}

#[test]
fn feed_and_consumer_on_one_core_are_refused() {
    let mut c = base();
    c.engine.feed_core = Some(first_core());
    c.engine.consumer_cores = vec![first_core()];
    let msg = refused(&c, "engine.consumer_cores[0]");
    assert!(msg.contains("engine.feed_core"), "{msg}");
}

#[test]
fn two_consumers_on_one_core_are_refused() {
    let mut c = base();
    c.engine.consumer_cores = vec![first_core(), first_core()];
    refused(&c, "engine.consumer_cores[1]");
}

#[test]
fn distinct_cores_of_the_machine_are_accepted() {
    let cores = tickwire::sys::init_core_list();
    let mut c = base();
    c.engine.feed_core = cores.first().copied();
    c.engine.consumer_cores = cores.iter().skip(1).take(1).copied().collect();
    accepted(&c);
}

#[test]
fn busy_polling_needs_a_feed_core() {
    // A spinning feed thread that the scheduler may move onto any core
    // takes a whole core from whatever else runs there.
    let mut c = base();
    c.engine.busy_poll = true;
    let msg = refused(&c, "engine.busy_poll");
    assert!(msg.contains("engine.feed_core"), "{msg}");
    c.engine.feed_core = Some(first_core());
    accepted(&c);
}
