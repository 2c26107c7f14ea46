import Foundation
import GRDB
@testable import PlazoStore
import Testing

/// One linear list of migrations (issue 15): complete, and an upgrade from any earlier point gives
/// the schema a fresh store has.
@Suite("Store migrations")
struct MigrationTests {
    static func schema(_ writer: any DatabaseWriter) throws -> [String] {
        try writer.read { db in
            try String.fetchAll(db, sql: """
                SELECT type || ' ' || name || ': ' || coalesce(sql, '') FROM sqlite_master
                WHERE name NOT LIKE 'sqlite_%' AND name != 'grdb_migrations' ORDER BY type, name
                """)
        }
    }

    @Test("every feature's migration is in the one ordered list, once")
    func listIsComplete() {
        let defined = AppDatabase.featureMigrations.map(\.identifier)
        #expect(Set(defined) == Set(AppDatabase.migrationOrder))
        #expect(defined.count == AppDatabase.migrationOrder.count)
        #expect(Set(AppDatabase.migrationOrder).count == AppDatabase.migrationOrder.count)
        #expect(AppDatabase.migrations.map(\.identifier) == AppDatabase.migrationOrder)
    }

    @Test("a store upgraded from every earlier version has exactly the schema of a fresh one")
    func upgradesEqualFresh() async throws {
        let fresh = try Self.schema(try AppDatabase.inMemory().sqlite!)
        #expect(!fresh.isEmpty)
        for k in 0..<AppDatabase.migrations.count {
            let queue = try DatabaseQueue(configuration: AppDatabase.makeConfiguration())
            var old = DatabaseMigrator()
            for m in AppDatabase.migrations.prefix(k) { old.registerMigration(m.identifier, migrate: m.migrate) }
            try old.migrate(queue)
            let upgraded = try AppDatabase(queue)
            #expect(try Self.schema(upgraded.sqlite!) == fresh, "upgraded after \(k) migration(s)")
            #expect(try await upgraded.appliedMigrations() == AppDatabase.migrationOrder.sorted())
        }
    }
}
