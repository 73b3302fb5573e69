// Package pgmigrate applies versioned, idempotent schema migrations for the
// PostgreSQL backends (pgdedupe, the comnorm and dsgo stores).
//
// Each component (a store and its table prefix) has an ordered list of
// migrations; the version reached is kept in the table notifykit_schema
// (component, version). Apply runs the missing ones in one transaction
// under a transaction-level advisory lock, so several instances starting at
// once against one database apply each migration exactly once, and a failed
// migration leaves nothing half done. Migrations are append-only: never edit
// one that shipped; add the next.
//
// A database migrated by a newer release (a higher version than the code
// knows) is refused with ErrSchemaTooNew rather than used blindly.
package pgmigrate
