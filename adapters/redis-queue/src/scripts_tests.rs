//! The scripts' typed answers.

use super::*;

#[test]
fn refusal_codes_round_trip() {
    for code in [-1, -2, -3, -6, -7, -4, i64::MIN] {
        assert_eq!(Refusal::check(code).map_err(Refusal::code), Err(code));
    }
    assert_eq!(Refusal::check(0), Ok(()));
    assert_eq!(Refusal::check(2), Ok(()));
}

#[test]
fn fail_answers_decode_to_their_outcome() {
    assert_eq!(
        fail_outcome(&[1, 2, 300]),
        Ok(FailOutcome::Delayed {
            attempts_made: 2,
            delay_ms: 300
        })
    );
    assert_eq!(
        fail_outcome(&[2, 1, 0]),
        Ok(FailOutcome::RetryNow { attempts_made: 1 })
    );
    assert_eq!(
        fail_outcome(&[0, 5, 0]),
        Ok(FailOutcome::Failed { attempts_made: 5 })
    );
    assert_eq!(fail_outcome(&[-6]), Err(Refusal::LockMismatch));
    assert_eq!(fail_outcome(&[]), Err(Refusal::Unexpected(i64::MIN)));
}
