import Foundation
import GRDB
import PlazoStore
import Testing

/// A temporary directory removed when the test ends.
final class TemporaryDirectory {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("plazo-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    var databasePath: String { url.appendingPathComponent("plazo.sqlite").path }
    deinit { try? FileManager.default.removeItem(at: url) }
}

@Suite("AppDatabase")
struct AppDatabaseTests {
    @Test("Migrations run on open and the file database is in WAL mode")
    func migrations() async throws {
        let dir = try TemporaryDirectory()
        let db = try AppDatabase.open(path: dir.databasePath)
        #expect(try await db.appliedMigrations() == AppDatabase.migrations.map(\.identifier).sorted())
        let mode = try await db.sqlite!.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
        // Reopening does not re-run anything.
        let again = try AppDatabase.open(path: dir.databasePath)
        #expect(try await again.appliedMigrations() == AppDatabase.migrations.map(\.identifier).sorted())
        let mem = try await AppDatabase.forTesting()
        switch mem.kind {
        case .sqlite: #expect(try await mem.appliedMigrations().count == AppDatabase.migrations.count)
        case .postgres: #expect(try await mem.appliedMigrations() == PostgresSchema.stepIdentifiers)
        }
    }

    @Test("Opening an impossible path is a typed error")
    func badPath() async {
        #expect(throws: StoreError.self) { try AppDatabase.open(path: "/nonexistent-dir/x/plazo.sqlite") }
    }
}

@Suite("Store files")
struct StoreFileTests {
    @Test("a store written by a newer version is refused with a sentence; files are created 0600")
    func newerSchemaAndModes() async throws {
        let dir = NSTemporaryDirectory() + "plazo-store-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/plazo.sqlite"
        let old = umask(0o022)
        defer { umask(old) }
        do {
            let db = try AppDatabase.open(path: path)
            try await db.sqlite!.write { db in
                try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('2099-12-from-the-future')")
            }
        }
        for file in [path, path + "-wal"] where FileManager.default.fileExists(atPath: file) {
            let mode = (try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int) ?? 0
            #expect(mode == 0o600, "\(file): \(String(mode, radix: 8))")
        }
        #expect(throws: StoreError.newerSchema) { _ = try AppDatabase.open(path: path) }
        #expect(StoreError.newerSchema.description.contains("newer version of Plazo"))
    }
}
