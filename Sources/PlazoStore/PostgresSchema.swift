import Foundation

/// The PostgreSQL schema: the same tables, columns and rules as the SQLite store after every step
/// of ``AppDatabase/migrationOrder``, in PostgreSQL's dialect.
///
/// - Integers are `BIGINT` (the store reads every integer as 64 bits), byte strings `BYTEA`,
///   dates `TEXT` in GRDB's format (so a store copied from SQLite keeps its exact values).
/// - Append-only tables refuse `UPDATE` and `DELETE` with a trigger, as on SQLite.
/// - `plazo_migration` lists the steps applied. A step this binary does not know means a newer
///   Plazo wrote the schema: the store is refused (``StoreError/newerSchema``).
///
/// Steps are applied in one transaction holding the writer lock, so replicas that start together
/// apply each step once.
public enum PostgresSchema {
    /// One schema step of the PostgreSQL store.
    struct Step {
        let identifier: String
        let sql: String
    }

    /// Every step, in order. Append only: a shipped step is never edited.
    static let steps: [Step] = [
        Step(identifier: "pg-v1-through-2026-12-releases-public", sql: #"""
            CREATE FUNCTION plazo_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION '%', TG_ARGV[0]; END $$;

            CREATE TABLE privacy_budget_change (
                id BIGSERIAL PRIMARY KEY,
                scope TEXT,
                rho_units BIGINT NOT NULL CHECK (rho_units >= 0),
                rho_requested TEXT NOT NULL,
                changed_at TEXT NOT NULL,
                changed_by TEXT NOT NULL CHECK (changed_by <> '')
            );
            CREATE INDEX privacy_budget_change_by_scope ON privacy_budget_change(scope, id);
            CREATE TABLE privacy_spend (
                id BIGSERIAL PRIMARY KEY,
                spent_at TEXT NOT NULL,
                purpose TEXT NOT NULL CHECK (purpose <> ''),
                requester TEXT NOT NULL CHECK (requester <> ''),
                cost_kind TEXT NOT NULL CHECK (cost_kind IN ('zcdp', 'pure_dp')),
                cost_value TEXT NOT NULL,
                rho_units BIGINT NOT NULL CHECK (rho_units > 0)
            );
            CREATE TABLE privacy_spend_scope (
                spend_id BIGINT NOT NULL REFERENCES privacy_spend(id),
                scope TEXT NOT NULL,
                PRIMARY KEY (spend_id, scope)
            );
            CREATE INDEX privacy_spend_scope_by_scope ON privacy_spend_scope(scope);
            CREATE TABLE privacy_budget_reason (
                change_id BIGINT PRIMARY KEY REFERENCES privacy_budget_change(id),
                reason TEXT NOT NULL CHECK (reason <> ''),
                previous_units BIGINT,
                flags TEXT NOT NULL DEFAULT ''
            );

            CREATE TABLE agency (
                id BIGSERIAL PRIMARY KEY CHECK (id BETWEEN 1 AND 4294967295),
                name TEXT NOT NULL UNIQUE,
                type BIGINT NOT NULL CHECK (type BETWEEN 0 AND 255),
                created_at BIGINT NOT NULL
            );
            CREATE TABLE agency_key (
                key_id BYTEA PRIMARY KEY CHECK (length(key_id) = 8),
                agency_id BIGINT NOT NULL REFERENCES agency(id),
                public_key BYTEA NOT NULL UNIQUE CHECK (length(public_key) = 32),
                status TEXT NOT NULL CHECK (status IN ('active', 'retired', 'revoked')),
                added_at BIGINT NOT NULL,
                retired_at BIGINT
            );
            CREATE UNIQUE INDEX agency_key_one_active ON agency_key(agency_id) WHERE status = 'active';

            CREATE TABLE batch (
                seq BIGSERIAL PRIMARY KEY,
                batch_id BYTEA NOT NULL UNIQUE CHECK (length(batch_id) = 16),
                agency_id BIGINT NOT NULL REFERENCES agency(id),
                signing_key_id BYTEA NOT NULL CHECK (length(signing_key_id) = 8),
                created_at BIGINT NOT NULL,
                received_at BIGINT NOT NULL,
                record_count BIGINT NOT NULL CHECK (record_count >= 1),
                accepted BIGINT NOT NULL,
                new_events BIGINT NOT NULL,
                digest BYTEA NOT NULL CHECK (length(digest) = 32),
                bytes BYTEA NOT NULL,
                receipt BYTEA NOT NULL
            );
            CREATE INDEX batch_by_agency ON batch(agency_id, seq);

            CREATE TABLE api_token (
                id BIGSERIAL PRIMARY KEY,
                name TEXT NOT NULL CHECK (name <> ''),
                role TEXT NOT NULL CHECK (role IN ('oversight', 'researcher', 'steward')),
                hash_prefix BYTEA NOT NULL CHECK (length(hash_prefix) = 8),
                token_hash BYTEA NOT NULL UNIQUE CHECK (length(token_hash) = 32),
                created_at BIGINT NOT NULL,
                created_by TEXT NOT NULL CHECK (created_by <> ''),
                revoked_at BIGINT
            );
            CREATE INDEX api_token_by_prefix ON api_token(hash_prefix);
            CREATE UNIQUE INDEX api_token_active_name ON api_token(name) WHERE revoked_at IS NULL;

            CREATE TABLE release (
                id BIGINT PRIMARY KEY,
                created_at TEXT NOT NULL,
                requester TEXT NOT NULL CHECK (requester <> ''),
                title TEXT NOT NULL,
                cutoff TEXT NOT NULL,
                cohorts TEXT NOT NULL,
                total_rho TEXT NOT NULL,
                spend_id BIGINT NOT NULL UNIQUE REFERENCES privacy_spend(id),
                code_version TEXT NOT NULL,
                document BYTEA NOT NULL,
                batch_seq BIGINT
            );
            CREATE INDEX release_by_cutoff ON release(cutoff, id);
            CREATE TABLE release_draft (
                id BIGSERIAL PRIMARY KEY,
                created_at TEXT NOT NULL,
                requester TEXT NOT NULL CHECK (requester <> ''),
                title TEXT NOT NULL,
                spec BYTEA NOT NULL
            );
            CREATE TABLE release_status (
                id BIGSERIAL PRIMARY KEY,
                release_id BIGINT REFERENCES release(id),
                draft_id BIGINT REFERENCES release_draft(id),
                status TEXT NOT NULL CHECK (status IN ('draft', 'published', 'withdrawn')),
                changed_at TEXT NOT NULL,
                changed_by TEXT NOT NULL CHECK (changed_by <> ''),
                reason TEXT,
                CHECK (release_id IS NOT NULL OR draft_id IS NOT NULL)
            );
            CREATE INDEX release_status_by_release ON release_status(release_id, id);
            CREATE INDEX release_status_by_draft ON release_status(draft_id, id);
            CREATE TABLE release_public (
                release_id BIGINT PRIMARY KEY REFERENCES release(id),
                made_public_at TEXT NOT NULL,
                made_public_by TEXT NOT NULL CHECK (made_public_by <> '')
            );

            CREATE TRIGGER privacy_budget_change_append_only BEFORE UPDATE OR DELETE ON privacy_budget_change
                FOR EACH ROW EXECUTE FUNCTION plazo_refuse('the privacy ledger is append-only');
            CREATE TRIGGER privacy_spend_append_only BEFORE UPDATE OR DELETE ON privacy_spend
                FOR EACH ROW EXECUTE FUNCTION plazo_refuse('the privacy ledger is append-only');
            CREATE TRIGGER privacy_spend_scope_append_only BEFORE UPDATE OR DELETE ON privacy_spend_scope
                FOR EACH ROW EXECUTE FUNCTION plazo_refuse('the privacy ledger is append-only');
            CREATE TRIGGER privacy_budget_reason_append_only BEFORE UPDATE OR DELETE ON privacy_budget_reason
                FOR EACH ROW EXECUTE FUNCTION plazo_refuse('the privacy ledger is append-only');
            CREATE TRIGGER api_token_no_delete BEFORE DELETE ON api_token
                FOR EACH ROW EXECUTE FUNCTION plazo_refuse('tokens are revoked, never deleted');
            CREATE TRIGGER release_immutable BEFORE UPDATE OR DELETE ON release
                FOR EACH ROW EXECUTE FUNCTION plazo_refuse('releases are immutable');
            CREATE TRIGGER release_draft_append_only BEFORE UPDATE OR DELETE ON release_draft
                FOR EACH ROW EXECUTE FUNCTION plazo_refuse('release history is append-only');
            CREATE TRIGGER release_status_append_only BEFORE UPDATE OR DELETE ON release_status
                FOR EACH ROW EXECUTE FUNCTION plazo_refuse('release history is append-only');
            CREATE TRIGGER release_public_one_way BEFORE UPDATE OR DELETE ON release_public
                FOR EACH ROW EXECUTE FUNCTION plazo_refuse('a public release stays public; withdraw it instead');
            """#),
        Step(identifier: "pg-v2-2026-12-continual-streams", sql: #"""
            CREATE TABLE continual_step (
                cohort TEXT NOT NULL,
                table_key TEXT NOT NULL,
                step BIGINT NOT NULL CHECK (step BETWEEN 1 AND 31),
                release_id BIGINT NOT NULL REFERENCES release(id),
                horizon BIGINT NOT NULL CHECK (horizon BETWEEN 1 AND 31),
                lifetime_rho TEXT NOT NULL,
                encoded TEXT NOT NULL,
                sizes TEXT,
                PRIMARY KEY (cohort, table_key, step)
            );
            CREATE INDEX continual_step_by_release ON continual_step(release_id);
            CREATE TRIGGER continual_step_immutable BEFORE UPDATE OR DELETE ON continual_step
                FOR EACH ROW EXECUTE FUNCTION plazo_refuse('continual release steps are immutable');
            """#),
    ]

    /// The identifiers of every step, in order.
    public static var stepIdentifiers: [String] { steps.map(\.identifier) }

    /// The SQLite migration a PostgreSQL store's schema corresponds to (for `plazo store copy`).
    public static let equivalentSQLiteMigration = "2026-12-batch-by-agency"

    /// Applies the steps this store lacks; refuses a store with steps this binary does not know.
    static func migrate(_ engine: PostgresEngine) async throws {
        try await engine.withConnection { conn in
            try await conn.transaction {
                try await conn.execute("CREATE TABLE IF NOT EXISTS plazo_migration (identifier TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
                let applied: [String] = try await conn.column("SELECT identifier FROM plazo_migration ORDER BY identifier")
                let known = Set(steps.map(\.identifier))
                if applied.contains(where: { !known.contains($0) }) { throw StoreError.newerSchema }
                for step in steps where !applied.contains(step.identifier) {
                    // One statement per message (the extended protocol takes no lists): statements
                    // end with `;` at the end of a line (the one in the function body does not).
                    for statement in step.sql.components(separatedBy: ";\n") {
                        var text = statement.trimmingCharacters(in: .whitespacesAndNewlines)
                        if text.hasSuffix(";") { text.removeLast() }
                        if !text.isEmpty { try await conn.run(text) }
                    }
                    try await conn.execute("INSERT INTO plazo_migration (identifier, applied_at) VALUES (?, ?)", step.identifier, Date())
                }
            }
        }
    }

    /// The identifiers of the steps applied.
    static func applied(_ engine: PostgresEngine) async throws -> [String] {
        try await engine.read { conn in try await conn.column("SELECT identifier FROM plazo_migration ORDER BY identifier") }
    }
}

extension PostgresEngine {
    /// True when `location` is a PostgreSQL URL rather than a file path.
    public static func isURL(_ location: String) -> Bool {
        location.hasPrefix("postgres://") || location.hasPrefix("postgresql://")
    }
}
