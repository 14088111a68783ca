use super::*;

const WAITS: [Duration; 2] = [Duration::from_secs(60), Duration::from_secs(600)];

fn t(s: i64) -> Timestamp {
    Timestamp::from_second(s).unwrap()
}

fn step(state: Option<&DeliveryState>, o: Outcome) -> Result<DeliveryState, IllegalStep> {
    next(state, o, &Schedule::new(&WAITS, "d"), t(1_000))
}

#[test]
fn a_delivery_that_fails_twice_then_succeeds_walks_the_lifecycle() {
    use Outcome::*;
    let mut s = step(None, Planned).unwrap();
    assert_eq!(s, DeliveryState::Queued);
    let mut seen = vec![s.status()];
    for o in [Attempt, Failed, Attempt, Failed, Attempt, Sent] {
        s = step(Some(&s), o).unwrap();
        seen.push(s.status());
    }
    assert_eq!(
        seen.iter().map(|x| x.as_str()).collect::<Vec<_>>(),
        [
            "queued",
            "in-flight",
            "failed",
            "in-flight",
            "failed",
            "in-flight",
            "succeeded"
        ]
    );
    assert_eq!(s, DeliveryState::Delivered { attempt: 3 });
}

#[test]
fn a_failure_with_no_wait_left_is_a_dead_letter() {
    let s = DeliveryState::InFlight { attempt: 3 };
    assert_eq!(
        step(Some(&s), Outcome::Failed),
        Ok(DeliveryState::DeadLettered { attempt: 3 })
    );
    // an operator's retry gets one attempt
    let once = next(
        Some(&DeliveryState::InFlight { attempt: 4 }),
        Outcome::Failed,
        &Schedule::single("d"),
        t(1_000),
    );
    assert_eq!(once, Ok(DeliveryState::DeadLettered { attempt: 4 }));
}

#[test]
fn a_retry_is_scheduled_after_the_spread_wait() {
    let s = step(
        Some(&DeliveryState::InFlight { attempt: 1 }),
        Outcome::Failed,
    )
    .unwrap();
    let DeliveryState::RetryScheduled { attempt: 1, at } = s else {
        panic!("not a retry: {s:?}");
    };
    let wait = at.duration_since(t(1_000)).as_secs_f64();
    assert!((54.0..66.0).contains(&wait), "{wait}");
    assert_eq!(s.next_attempt_at(), Some(at));
    // the same delivery and attempt wait the same every time; another delivery may not
    let sched = Schedule::new(&WAITS, "d");
    assert_eq!(sched.wait(1), sched.wait(1));
    let spread: std::collections::HashSet<_> = (0..50)
        .map(|i| Schedule::new(&WAITS, &format!("d{i}")).wait(1).unwrap())
        .collect();
    assert!(spread.len() > 10, "the waits are spread");
    assert!(spread
        .iter()
        .all(|w| *w >= Duration::from_secs(54) && *w < Duration::from_secs(66)));
    assert_eq!(sched.wait(3), None);
}

#[test]
fn a_resumed_attempt_keeps_its_number_and_a_retry_counts_on() {
    use DeliveryState as S;
    let at = t(2_000);
    for (from, want) in [
        (S::InFlight { attempt: 2 }, 2),
        (S::RetryScheduled { attempt: 2, at }, 3),
        (S::RetryRequested { attempt: 3 }, 4),
        (S::DigestScheduled { attempt: 2, at }, 2),
    ] {
        assert_eq!(
            step(Some(&from), Outcome::Attempt),
            Ok(S::InFlight { attempt: want }),
            "{from:?}"
        );
    }
}

#[test]
fn digests_schedule_and_reschedule() {
    let at = t(5_000);
    let s = step(Some(&DeliveryState::Queued), Outcome::Digest { at }).unwrap();
    assert_eq!(s, DeliveryState::DigestScheduled { attempt: 1, at });
    let s = step(Some(&s), Outcome::Attempt).unwrap();
    let s = step(Some(&s), Outcome::DigestFailed).unwrap();
    assert!(
        matches!(s, DeliveryState::DigestScheduled { attempt: 2, .. }),
        "{s:?}"
    );
}

#[test]
fn refused_ends_any_open_delivery_and_names_the_attempt_it_stopped() {
    use DeliveryState as S;
    let at = t(2_000);
    for (from, attempt) in [
        (S::Queued, 1),
        (S::InFlight { attempt: 2 }, 2),
        (S::RetryScheduled { attempt: 2, at }, 3),
        (S::RetryRequested { attempt: 3 }, 4),
    ] {
        assert_eq!(
            step(Some(&from), Outcome::Refused),
            Ok(S::DeadLettered { attempt })
        );
    }
}

#[test]
fn only_a_retry_request_reopens_a_dead_letter_or_an_unroutable_step() {
    use DeliveryState as S;
    let dead = S::DeadLettered { attempt: 3 };
    assert_eq!(
        step(Some(&dead), Outcome::RetryRequested),
        Ok(S::RetryRequested { attempt: 3 })
    );
    let u = step(None, Outcome::NoContact).unwrap();
    assert_eq!(u, S::Unroutable);
    let r = step(Some(&u), Outcome::RetryRequested).unwrap();
    assert_eq!(step(Some(&r), Outcome::Rerouted), Ok(S::Rerouted));
}

#[test]
fn illegal_steps_are_refused() {
    use DeliveryState as S;
    use Outcome::*;
    let at = t(2_000);
    let cases: [(Option<S>, Outcome); 10] = [
        (None, Attempt),
        (None, Sent),
        (Some(S::Queued), Sent),
        (Some(S::Queued), Planned),
        (Some(S::Delivered { attempt: 1 }), Attempt),
        (Some(S::Delivered { attempt: 1 }), Refused),
        (Some(S::Delivered { attempt: 1 }), RetryRequested),
        (Some(S::InFlight { attempt: 1 }), RetryRequested),
        (Some(S::Unroutable), Attempt),
        (Some(S::RetryScheduled { attempt: 1, at }), Sent),
    ];
    for (from, o) in cases {
        let err = step(from.as_ref(), o).expect_err("illegal");
        assert_eq!(err.outcome, o);
        assert_eq!(err.from, from.as_ref().map_or("not recorded", S::label));
    }
}

#[test]
fn every_state_reads_back_from_its_own_record() {
    use DeliveryState as S;
    let at = t(3_000);
    for s in [
        S::Queued,
        S::InFlight { attempt: 2 },
        S::Delivered { attempt: 2 },
        S::RetryScheduled { attempt: 2, at },
        S::DeadLettered { attempt: 2 },
        S::RetryRequested { attempt: 2 },
        S::DigestScheduled { attempt: 2, at },
        S::Unroutable,
        S::Rerouted,
    ] {
        let ev = DeliveryEvent {
            id: "d".into(),
            kind: s.status().event_type(),
            signal_id: "s".into(),
            signal_event_id: "se".into(),
            step: "opened".into(),
            contact: "c".into(),
            channel: "webhook".into(),
            attempt: s.attempt(),
            status: s.status(),
            error: None,
            at: t(1_000),
            next_attempt_at: s.next_attempt_at(),
            signal_partition: None,
            signal_offset: None,
        };
        assert_eq!(DeliveryState::of(&ev), Some(s));
    }
}
