//! Where the threads run: every configured core must be one the process may
//! run on, and each spinning thread gets a core of its own.
//!
//! A pin that cannot be honoured is refused here, at start-up, instead of
//! running unpinned with a warning: a latency-sensitive deployment that asked
//! for a core and did not get it is misconfigured, not degraded.

use super::{ConfigError, EngineSection, invalid};

/// Checks `engine.feed_core` and `engine.consumer_cores` against `available`
/// (the process's cores as read at start-up, see
/// [`crate::sys::init_core_list`]).
pub(super) fn check_cores(e: &EngineSection, available: &[usize]) -> Result<(), ConfigError> {
    let known = |key: &str, core: usize| {
        if available.contains(&core) {
            Ok(())
        } else if available.is_empty() {
            Err(invalid(
                key,
                format!("core {core}: this platform reports no cores to pin to; leave it unset"),
            ))
        } else {
            Err(invalid(
                key,
                format!(
                    "core {core} is not available; available: {}",
                    list(available)
                ),
            ))
        }
    };
    if let Some(core) = e.feed_core {
        known("engine.feed_core", core)?;
    } else if e.busy_poll {
        return Err(invalid(
            "engine.busy_poll",
            "spins the feed thread: set engine.feed_core to give it a core of its own",
        ));
    }
    for (i, &core) in e.consumer_cores.iter().enumerate() {
        let key = format!("engine.consumer_cores[{i}]");
        known(&key, core)?;
        if e.feed_core == Some(core) {
            return Err(invalid(
                key,
                format!(
                    "core {core} is engine.feed_core: a spinning consumer would starve the feed thread"
                ),
            ));
        }
        if let Some(j) = e.consumer_cores[..i].iter().position(|&c| c == core) {
            return Err(invalid(
                key,
                format!("core {core} is already engine.consumer_cores[{j}]: one consumer per core"),
            ));
        }
    }
    Ok(())
}

/// `0, 1, 2` (or `none`).
fn list(cores: &[usize]) -> String {
    if cores.is_empty() {
        return "none".to_owned();
    }
    let text: Vec<String> = cores.iter().map(usize::to_string).collect();
    text.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(e: &EngineSection, available: &[usize]) -> String {
        match check_cores(e, available) {
            Err(ConfigError::Invalid { key, .. }) => key,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn cores_are_checked_against_the_given_list() {
        let e = EngineSection {
            feed_core: Some(3),
            consumer_cores: vec![2, 5],
            ..EngineSection::default()
        };
        assert_eq!(key(&e, &[0, 1, 2, 3]), "engine.consumer_cores[1]");
        assert!(check_cores(&e, &[2, 3, 5]).is_ok());
        assert_eq!(key(&e, &[]), "engine.feed_core");
        assert!(check_cores(&EngineSection::default(), &[]).is_ok());
    }
}
