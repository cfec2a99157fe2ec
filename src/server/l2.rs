//! L2's operator commands as the wire carries them: the request's migrate action in, the
//! database's answers and errors out, each error with its own code. The CLI's offline path
//! (no daemon running) prints through the same conversions.

use crate::database::{self, L2Error};
use crate::protocol::{ErrorCode, MaintenanceReport, MigrateAction, MigrationInfo, WireError};

impl From<MigrateAction> for database::MigrateAction {
    fn from(action: MigrateAction) -> database::MigrateAction {
        match action {
            MigrateAction::Status => database::MigrateAction::Status,
            MigrateAction::Up(n) => database::MigrateAction::Up(n),
            MigrateAction::Down(n) => database::MigrateAction::Down(n),
        }
    }
}

impl From<database::MigrationInfo> for MigrationInfo {
    fn from(m: database::MigrationInfo) -> MigrationInfo {
        MigrationInfo {
            version: m.version,
            name: m.name.into(),
            applied_ms: m.applied_ms,
        }
    }
}

impl From<database::MaintenanceReport> for MaintenanceReport {
    fn from(r: database::MaintenanceReport) -> MaintenanceReport {
        MaintenanceReport {
            stale_deleted: r.stale_deleted,
            evicted: r.evicted,
            rows: r.rows,
            bytes: r.bytes,
            took: r.took,
        }
    }
}

impl From<L2Error> for WireError {
    fn from(e: L2Error) -> WireError {
        WireError::new(code(&e), format!("L2 database: {e}"))
    }
}

fn code(e: &L2Error) -> ErrorCode {
    match e {
        L2Error::Locked(_) => ErrorCode::Locked,
        L2Error::Migration { .. } => ErrorCode::MigrationFailed,
        L2Error::NoSpace { .. } => ErrorCode::NoSpace,
        L2Error::Busy(_) => ErrorCode::Timeout,
        L2Error::StillFailing(first) => code(first),
        L2Error::Open(_)
        | L2Error::Sync(_)
        | L2Error::Query(_)
        | L2Error::ConnectionLost(_)
        | L2Error::Opening
        | L2Error::Stopped => ErrorCode::Unavailable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_l2_failure_an_operator_meets_has_its_own_code() {
        let migration = L2Error::Migration {
            version: 1,
            name: "entries",
            direction: database::Direction::Up,
            reason: "ERROR: relation exists".into(),
        };
        for (error, code) in [
            (L2Error::Locked("held".into()), ErrorCode::Locked),
            (migration, ErrorCode::MigrationFailed),
            (
                L2Error::NoSpace {
                    space: "no space left on device".into(),
                    during: None,
                },
                ErrorCode::NoSpace,
            ),
            (L2Error::Opening, ErrorCode::Unavailable),
            (
                L2Error::StillFailing(Box::new(L2Error::Locked("held".into()))),
                ErrorCode::Locked,
            ),
        ] {
            let message = error.to_string();
            let wire = WireError::from(error);
            assert_eq!(wire.code, code, "{message}");
            assert!(wire.message.contains(&message), "{wire:?}");
        }
    }
}
