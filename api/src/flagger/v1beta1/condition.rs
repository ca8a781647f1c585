//! The condition shape of the Flagger kinds.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::meta::ConditionStatus;

/// A status condition as Flagger writes it: like a Kubernetes condition, with the time of
/// the last update besides the time of the last status change, and no observed generation.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FlaggerCondition {
    /// The aspect this condition reports on; a Canary has one condition, `Promoted`.
    #[serde(rename = "type")]
    pub type_: String,
    /// `True`, `False` or `Unknown`.
    pub status: String,
    /// When the condition was last written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_update_time: Option<Time>,
    /// When `status` last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<Time>,
    /// A one-word CamelCase reason for the status; for a Canary, the phase name.
    pub reason: String,
    /// A human-readable explanation of the status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl FlaggerCondition {
    /// Whether the status is `True`.
    pub fn is_true(&self) -> bool {
        self.status == ConditionStatus::True.as_str()
    }
}

/// Sets condition `type_` in `conditions`, replacing any previous one of that type.
///
/// `lastUpdateTime` is set to `now`; `lastTransitionTime` is kept when the status does not
/// change. Returns false, and leaves the list untouched, when a condition of that type
/// already has the same status and reason (Flagger then skips the status write).
pub fn set_flagger_condition(
    conditions: &mut Vec<FlaggerCondition>,
    type_: &str,
    status: ConditionStatus,
    reason: &str,
    message: &str,
    now: Time,
) -> bool {
    let status = status.as_str();
    let existing = conditions.iter_mut().find(|c| c.type_ == type_);
    let last_transition_time = match &existing {
        Some(old) if old.status == status && old.reason == reason => return false,
        Some(old) if old.status == status => old.last_transition_time.clone(),
        _ => Some(now.clone()),
    };
    let condition = FlaggerCondition {
        type_: type_.to_owned(),
        status: status.to_owned(),
        last_update_time: Some(now),
        last_transition_time,
        reason: reason.to_owned(),
        message: Some(message.to_owned()),
    };
    match existing {
        Some(slot) => *slot = condition,
        None => conditions.push(condition),
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Time {
        Time(jiff::Timestamp::from_second(seconds).expect("valid timestamp"))
    }

    #[test]
    fn transition_time_moves_only_when_the_status_changes() {
        let mut conditions = Vec::new();
        let unknown = ConditionStatus::Unknown;
        assert!(set_flagger_condition(
            &mut conditions,
            "Promoted",
            unknown,
            "Initializing",
            "starting",
            at(1)
        ));
        assert!(!set_flagger_condition(
            &mut conditions,
            "Promoted",
            unknown,
            "Initializing",
            "again",
            at(2)
        ));
        assert!(set_flagger_condition(
            &mut conditions,
            "Promoted",
            unknown,
            "Progressing",
            "analysing",
            at(3)
        ));
        assert_eq!(conditions.len(), 1);
        assert_eq!(conditions[0].last_transition_time, Some(at(1)));
        assert_eq!(conditions[0].last_update_time, Some(at(3)));
        assert!(set_flagger_condition(
            &mut conditions,
            "Promoted",
            ConditionStatus::True,
            "Succeeded",
            "done",
            at(4)
        ));
        assert_eq!(conditions[0].last_transition_time, Some(at(4)));
        assert!(conditions[0].is_true());
    }
}
