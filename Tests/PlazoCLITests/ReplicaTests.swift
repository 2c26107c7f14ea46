import Foundation
import PlazoModel
import PlazoSodium
import PlazoStore
import PlazoWire
import Synchronization
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A database of its own on the test cluster (`PLAZO_TEST_POSTGRES`), for tests that run
/// `plazo serve` replicas against it. Created with psql; the cluster is thrown away after the run.
struct ReplicaDatabase {
    let name: String
    let url: String
    let admin: String

    init() throws {
        admin = ProcessInfo.processInfo.environment[AppDatabase.testPostgresVariable] ?? ""
        name = "plazo_rep_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
        guard let slash = admin.range(of: "/", options: .backwards) else { throw CocoaError(.fileReadInvalidFileName) }
        url = String(admin[..<slash.upperBound]) + name
        _ = try Self.psql(admin, "CREATE DATABASE \(name)")
    }

    /// Runs one statement with psql against `url`; its unaligned output.
    @discardableResult
    static func psql(_ url: String, _ sql: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["psql", url, "-Atqc", sql]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// ``psql(_:_:)`` from async code, on a thread of its own (the process's run is waited for
    /// there, not on the test process's cooperative pool).
    @discardableResult
    static func psql(_ url: String, _ sql: String) async throws -> String {
        try await PlazoProcess.onThread { Result { try psql(url, sql) } }.get()
    }

    @discardableResult
    func sql(_ statement: String) throws -> String { try Self.psql(url, statement) }

    @discardableResult
    func sql(_ statement: String) async throws -> String { try await Self.psql(url, statement) }

    func count(_ table: String) throws -> Int { Int(try sql("SELECT count(*) FROM \(table)")) ?? -1 }

    func count(_ table: String) async throws -> Int { Int(try await sql("SELECT count(*) FROM \(table)")) ?? -1 }

    /// Ends every connection the replicas hold to this database (as a database restart would).
    func terminateConnections() throws {
        try Self.psql(admin, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '\(name)'")
    }
}

/// One psql process kept open: queries over one connection from a plain thread, for watchers
/// that must not wait for the test process's cooperative pool (the suites beside them keep it busy)
/// nor start a process per look.
final class PsqlSession: @unchecked Sendable {
    // @unchecked: used from one thread at a time.
    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()

    init(_ url: String) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["psql", url, "-Atq"]
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    deinit {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    /// The first line of the answer to one statement that returns one row.
    func query(_ sql: String) -> String? {
        input.fileHandleForWriting.write(Data((sql + ";\n").utf8))
        var line = Data()
        while true {
            let byte = output.fileHandleForReading.readData(ofLength: 1)
            if byte.isEmpty { return nil }
            if byte[byte.startIndex] == 0x0A { break }
            line.append(byte)
        }
        return String(decoding: line, as: UTF8.self)
    }
}

/// A workspace with service keys, one registered agency and a PostgreSQL store.
struct ReplicaWorkspace {
    let dir: String
    let db: ReplicaDatabase
    let signer: SigningKeyPair
    let service: BoxPublicKey

    init() async throws {
        dir = NSTemporaryDirectory() + "plazo-replicas-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        db = try ReplicaDatabase()
        await #expect(try PlazoProcess.run(["keys", "service", "--out", "keys"], in: dir).status == 0)
        await #expect(try PlazoProcess.run(["keys", "agency", "--out", "agency"], in: dir).status == 0)
        signer = try KeyFile.read(dir + "/agency/agency-signing.secret", expecting: .agencySigningSecret).signingKeyPair()
        service = try KeyFile.read(dir + "/keys/service-box.public", expecting: .serviceBoxPublic).boxPublicKey()
        let added = try run(["agencies", "add", "--name", "Fiscalía", "--type", "state_prosecutor", "--public-key", "agency/agency-signing.public"])
        #expect(added.status == 0, "\(added.err)")
    }

    /// `plazo args… --database <url>`.
    @discardableResult
    func run(_ args: [String]) throws -> (status: Int32, out: String, err: String) {
        try PlazoProcess.run(args + ["--database", db.url], in: dir)
    }

    /// A replica: `plazo serve --database <url>`, following every 50 ms.
    func serve(port: Int = 0) throws -> ServerProcess {
        try ServerProcess(directory: dir, port: port, extra: ["--database", db.url, "--follow-interval-milliseconds", "50"])
    }

    /// Batch `b`: `events` reports over a pool of 3,000 cases, overlapping the neighbouring batches,
    /// so that how many events are new depends on which batches came first.
    func batch(_ b: Int, events: Int = 400) throws -> [UInt8] {
        let list = (0..<events).map { i in
            CaseEvent(
                pseudonym: CasePseudonym(low: UInt64((b * events / 2 + i) % 3000), high: 77), type: .reportReceived,
                day: Day(year: 2024, month: 1, day: 1)!.adding(days: (b + i) % 200), agencyType: .stateProsecutor)
        }
        return try BatchSealer.seal(
            events: list, agencyID: 1, batchID: BatchID.random(), createdAt: Int64(Date().timeIntervalSince1970), signer: signer, service: service)
    }

    /// POSTs bytes; the status and the JSON body.
    static func post(_ url: String, _ body: [UInt8], token: String? = nil, type: String = "application/octet-stream") async -> (
        status: Int, json: [String: Any]
    ) {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = "POST"
        request.setValue(type, forHTTPHeaderField: "Content-Type")
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        request.httpBody = Data(body)
        request.timeoutInterval = 60
        guard let (data, response) = try? await URLSession.shared.data(for: request) else { return (0, [:]) }
        let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, json)
    }

    /// `plazo_store_applied_batch` of a replica.
    static func appliedBatch(_ server: ServerProcess) async -> Int {
        guard let (data, _) = try? await URLSession.shared.data(from: URL(string: server.url + "/metrics")!) else { return -1 }
        let line = String(decoding: data, as: UTF8.self).split(separator: "\n").first { $0.hasPrefix("plazo_store_applied_batch ") }
        return line.flatMap { Double($0.split(separator: " ").last ?? "") }.map { Int($0) } ?? -1
    }

    /// Waits until `server` has applied batch `seq`; the seconds it took, or nil after `timeout`.
    static func converge(_ server: ServerProcess, to seq: Int, timeout: Double = 10) async throws -> Double? {
        let started = Date()
        while Date().timeIntervalSince(started) < timeout {
            if await appliedBatch(server) == seq { return Date().timeIntervalSince(started) }
            try await Task.sleep(for: .milliseconds(10))
        }
        return nil
    }

    func token(_ role: String) throws -> String {
        let created = try run(["tokens", "create", "--role", role, "--name", "\(role)-\(UUID().uuidString.prefix(6))"])
        return created.out.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// Several `plazo serve` replicas on one PostgreSQL store (issue "Outgrowing one machine"). Runs
/// when the suite runs on PostgreSQL (`scripts/test.sh` does, on a throw-away cluster).
@Suite("Several replicas on one PostgreSQL store", .serialized, .enabled(if: AppDatabase.testEngine == .postgres))
struct ReplicaTests {
    @Test("the same batch sent to two replicas at once is stored once with one receipt; receipts count against the whole log; replicas converge")
    func sameBatchTwoReplicas() async throws {
        let w = try await ReplicaWorkspace()
        let a = try w.serve(), b = try w.serve()
        defer { a.stop(); b.stop() }
        let batches = 30
        for i in 0..<batches {
            let bytes = try w.batch(i)
            async let first = ReplicaWorkspace.post(a.url + "/v1/batches", bytes)
            async let second = ReplicaWorkspace.post(b.url + "/v1/batches", bytes)
            let (x, y) = await (first, second)
            // One stores it (201), the other finds the same bytes stored (200, the original receipt).
            #expect(Set([x.status, y.status]) == [200, 201], "batch \(i): \(x.status), \(y.status)")
            #expect(x.json["signed_receipt"] as? String != nil && x.json["signed_receipt"] as? String == y.json["signed_receipt"] as? String)
        }
        // Then alternating replicas, one at a time: each counts against batches the other stored.
        for i in batches..<(batches + 10) {
            let status = await ReplicaWorkspace.post((i % 2 == 0 ? a : b).url + "/v1/batches", try w.batch(i)).status
            #expect(status == 201)
        }
        await #expect(try w.db.count("batch") == batches + 10)
        // Every replica's case index reaches the log's last batch (the follower's bound: 50 ms
        // between looks, plus the time to apply).
        for server in [a, b] {
            let took = try await ReplicaWorkspace.converge(server, to: batches + 10)
            #expect(took != nil, "a replica did not follow the log")
        }
        // Every receipt's count of new events is the one a replay of the log in acceptance order
        // gives: no replica counted from a stale index.
        let rebuild = try w.run(["rebuild"])
        #expect(rebuild.status == 0, "\(rebuild.out)")
        #expect(rebuild.out.contains("batches replayed  \(batches + 10)"))
    }

    @Test("k+5 concurrent release requests spread over three replicas, against budget for k, admit exactly k, all at the log's last batch")
    func releasesOverReplicas() async throws {
        let w = try await ReplicaWorkspace()
        let k = 3
        #expect(try w.run(["ledger", "set-budget", "--scope", "2024Q1", "--rho", "\(k)/10", "--by", "test", "--reason", "k releases"]).status == 0)
        let steward = try w.token("steward")
        let replicas = try (0..<3).map { _ in try w.serve() }
        defer { for r in replicas { r.stop() } }
        // Batches go to the first replica only; releases on the others still see all of them.
        for i in 0..<12 { #expect(await ReplicaWorkspace.post(replicas[0].url + "/v1/batches", try w.batch(i)).status == 201) }
        let spec = Array(#"{"title": "replicas", "cutoff": "2024-12-31", "cohorts": ["2024Q1"], "simulationReplicates": 20, "tables": [{"table": "attrition", "breakdown": [], "rho": "1/10"}]}"#.utf8)
        let statuses = await withTaskGroup(of: Int.self) { group in
            for i in 0..<(k + 5) {
                let url = replicas[i % 3].url + "/v1/releases"
                group.addTask { await ReplicaWorkspace.post(url, spec, token: steward, type: "application/json").status }
            }
            return await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses.filter { $0 == 201 }.count == k, "\(statuses)")
        #expect(statuses.filter { $0 == 409 }.count == 5, "\(statuses)")
        await #expect(try w.db.count("release") == k)
        await #expect(try w.db.count("privacy_spend") == k)
        // One watermark: the log's last batch, whichever replica computed the release.
        await #expect(try w.db.sql("SELECT string_agg(DISTINCT batch_seq::text, ',') FROM release") == "12")
        let audit = try w.run(["ledger", "audit"])
        #expect(audit.status == 0 && audit.out.contains("\(k) spends; consistent"), "\(audit.out)")
    }

    @Test("a replica killed with SIGKILL during ingest loses no acknowledged batch; the other keeps serving; the restarted one catches up")
    func killOneReplicaDuringIngest() async throws {
        let w = try await ReplicaWorkspace()
        var files: [String] = []
        try FileManager.default.createDirectory(atPath: w.dir + "/outbox", withIntermediateDirectories: true)
        for i in 0..<80 {
            let path = w.dir + "/outbox/batch-\(i).plzb"
            try Data(try w.batch(i, events: 1000)).write(to: URL(fileURLWithPath: path))
            files.append(path)
        }
        let a = try w.serve()
        let b = try w.serve()
        defer { b.stop() }
        func submitter(_ server: ServerProcess, _ slice: ArraySlice<String>, attempts: Int) throws -> Process {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: PlazoProcess.binary)
            p.arguments = ["submit", "--server", server.url, "--service-key", "keys/service-signing.public", "--plain", "--attempts", "\(attempts)"] + slice
            p.currentDirectoryURL = URL(fileURLWithPath: w.dir)
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            return p
        }
        let toA = try submitter(a, files[0..<40], attempts: 2)
        let toB = try submitter(b, files[40..<80], attempts: 10)
        // Kill A once some of its batches are stored, while both streams run. Watched from a
        // thread of its own over one connection, and killed from there: a poll on the test
        // process's cooperative pool (which the other suites keep busy) or through a psql process
        // per look could oversleep the whole stream.
        let watcher = try PsqlSession(w.db.url)
        let stored = await PlazoProcess.onThread { () -> Int in
            let deadline = Date().addingTimeInterval(60)
            var stored = 0
            while stored < 10, Date() < deadline {
                usleep(2_000)
                stored = Int(watcher.query("SELECT count(*) FROM batch") ?? "") ?? 0
            }
            a.kill9()
            return stored
        }
        // A's agency stops too (its client would retry a dead address for a minute per attempt);
        // what it was told is in its receipt files.
        toA.terminate()
        toA.waitUntilExit()
        #expect(stored >= 10 && stored < 80, "the kill must land mid-stream: \(stored) stored")
        toB.waitUntilExit()
        // The survivor kept serving: all of its stream was acknowledged.
        #expect(toB.terminationStatus == 0)
        // Every receipt any agency holds names a batch the store holds, byte for byte.
        let database = try await AppDatabase.open(location: w.db.url)
        let log = BatchLog(database)
        var acknowledged = 0
        for file in files where FileManager.default.fileExists(atPath: file + ".receipt") {
            let receipt = try Receipt.parse(Array(try Data(contentsOf: URL(fileURLWithPath: file + ".receipt"))))
            guard case .sameBytes = try await log.lookup(batchID: receipt.batchID, digest: receipt.batchDigest) else {
                Issue.record("acknowledged batch \(receipt.batchID) is missing")
                continue
            }
            acknowledged += 1
        }
        #expect(acknowledged >= 40)
        // The rest of A's stream, sent to the survivor (resending acknowledged ones is safe).
        let rest = try submitter(b, files[0..<40], attempts: 5)
        rest.waitUntilExit()
        #expect(rest.terminationStatus == 0)
        #expect(try await log.batchCount() == 80)
        // A restarted replica replays the log and then follows it.
        let again = try w.serve()
        defer { again.stop() }
        #expect(try await ReplicaWorkspace.converge(again, to: 80) != nil)
        #expect(try await ReplicaWorkspace.converge(b, to: 80) != nil)
        let rebuild = try w.run(["rebuild"])
        #expect(rebuild.status == 0, "\(rebuild.out)")
    }

    @Test("connections killed mid-spend leave no spend without its release; with the database refusing connections ingest answers 503 store_unavailable, then recovers")
    func databaseFailures() async throws {
        let w = try await ReplicaWorkspace()
        #expect(try w.run(["ledger", "set-budget", "--default", "--rho", "1000", "--by", "test", "--reason", "failure test", "--confirm-raise"]).status == 0)
        let steward = try w.token("steward")
        let a = try w.serve()
        defer { a.stop() }
        for i in 0..<6 { #expect(await ReplicaWorkspace.post(a.url + "/v1/batches", try w.batch(i)).status == 201) }
        let spec = Array(#"{"title": "under fire", "cutoff": "2024-12-31", "cohorts": ["2024Q1", "2024Q2"], "simulationReplicates": 20, "tables": [{"table": "attrition", "breakdown": [], "rho": "1/10"}]}"#.utf8)
        // Releases while every connection of the replica is terminated every 15 ms.
        final class Flag: Sendable { let raised = Atomic(false) }
        let stop = Flag()
        // On a thread of its own: its calls block, and on the test process's few concurrency
        // threads it could be held back by the suites running beside this one until the releases
        // were over (then no termination lands and the test means nothing).
        let killed = DispatchSemaphore(value: 0)
        let killer = Thread {
            while !stop.raised.load(ordering: .relaxed) {
                try? w.db.terminateConnections()
                usleep(15_000)
            }
            killed.signal()
        }
        killer.start()
        var statuses: [Int] = []
        for _ in 0..<24 { statuses.append(await ReplicaWorkspace.post(a.url + "/v1/releases", spec, token: steward, type: "application/json").status) }
        stop.raised.store(true, ordering: .relaxed)
        killed.wait()
        // Each either stored whole (201) or refused as the store being unavailable (503): never a 500.
        #expect(statuses.allSatisfy { $0 == 201 || $0 == 503 }, "\(statuses)")
        // The terminations must land during releases for the test to mean anything (about a
        // third of them did in trial runs; none in 24 would mean the killer never ran).
        #expect(statuses.contains(503) && statuses.contains(201), "\(statuses)")
        // A release exists if and only if its spend does.
        await #expect(try w.db.count("release") == w.db.count("privacy_spend"))
        await #expect(try w.db.count("release") == statuses.filter { $0 == 201 }.count)
        await #expect(try w.db.sql("SELECT count(*) FROM privacy_spend s LEFT JOIN release r ON r.spend_id = s.id WHERE r.id IS NULL") == "0")

        // The database refuses every connection: ingest answers 503 store_unavailable, and the
        // batch is not acknowledged.
        try await ReplicaDatabase.psql(w.db.admin, "ALTER DATABASE \(w.db.name) ALLOW_CONNECTIONS false")
        try w.db.terminateConnections()
        let batch = try w.batch(99)
        let refused = await ReplicaWorkspace.post(a.url + "/v1/batches", batch)
        #expect(refused.status == 503)
        #expect((refused.json["error"] as? [String: Any])?["code"] as? String == "store_unavailable" || refused.json["code"] as? String == "store_unavailable", "\(refused.json)")
        // Back: the same bytes are accepted now.
        try await ReplicaDatabase.psql(w.db.admin, "ALTER DATABASE \(w.db.name) ALLOW_CONNECTIONS true")
        #expect(await ReplicaWorkspace.post(a.url + "/v1/batches", batch).status == 201)
        #expect(await ReplicaWorkspace.post(a.url + "/v1/releases", spec, token: steward, type: "application/json").status == 201)
        let audit = try w.run(["ledger", "audit"])
        #expect(audit.status == 0 && audit.out.contains("consistent"), "\(audit.out)")
    }

    @Test("start-up against an unreachable database, or a schema written by a newer Plazo, exits non-zero with a sentence")
    func startupRefusals() async throws {
        let w = try await ReplicaWorkspace()
        let unreachable = try await PlazoProcess.run(["serve", "--port", "0", "--database", "postgres://postgres@127.0.0.1:1/nothing"], in: w.dir)
        #expect(unreachable.status != 0)
        #expect(unreachable.err.contains("cannot connect to PostgreSQL at postgres://postgres@127.0.0.1:1/nothing"), "\(unreachable.err)")
        try await w.db.sql("INSERT INTO plazo_migration (identifier, applied_at) VALUES ('2099-01-from-the-future', 'x')")
        let newer = try await PlazoProcess.run(["serve", "--port", "0", "--database", w.db.url], in: w.dir)
        #expect(newer.status != 0)
        #expect(newer.err.contains("newer version of Plazo"), "\(newer.err)")
    }

    @Test("plazo store copy moves a SQLite store into PostgreSQL, verified by replaying every batch; the copy serves the same releases")
    func copyFromSQLite() async throws {
        let w = try await ReplicaWorkspace()
        // A SQLite store beside it in the same directory, with batches, a token, a budget and a release.
        let sqliteAdd = try await PlazoProcess.run(
            ["agencies", "add", "--name", "Fiscalía", "--type", "state_prosecutor", "--public-key", "agency/agency-signing.public"], in: w.dir)
        #expect(sqliteAdd.status == 0)
        await #expect(try PlazoProcess.run(["ledger", "set-budget", "--default", "--rho", "1", "--by", "t", "--reason", "copy test"], in: w.dir).status == 0)
        let server = try await ServerProcess(directory: w.dir)
        for i in 0..<8 { #expect(await ReplicaWorkspace.post(server.url + "/v1/batches", try w.batch(i)).status == 201) }
        await server.stop()
        try #"{"title": "before the move", "cutoff": "2024-12-31", "cohorts": ["2024Q1"], "tables": [{"table": "attrition", "breakdown": [], "rho": "1/10"}]}"#
            .write(toFile: w.dir + "/spec.json", atomically: true, encoding: .utf8)
        await #expect(try PlazoProcess.run(["release", "create", "--spec", "spec.json"], in: w.dir).status == 0)
        // Into the (empty) PostgreSQL database of the workspace: it has the agency already, so
        // first into a fresh schema of it.
        let target = w.db.url + "?schema=moved"
        let copy = try await PlazoProcess.run(["store", "copy", "--from", "plazo.sqlite", "--to", target], in: w.dir)
        #expect(copy.status == 0, "\(copy.out)\(copy.err)")
        #expect(copy.out.contains("batches verified  8"))
        #expect(copy.out.contains("OK: every table copied"))
        // The same releases, byte for byte, and the same ledger.
        let list = { (args: [String]) in try PlazoProcess.run(["release", "list", "--json"] + args, in: w.dir).out }
        #expect(try list([]) == list(["--database", target]))
        let ledger = { (args: [String]) in try PlazoProcess.run(["ledger", "list", "--json"] + args, in: w.dir).out }
        #expect(try ledger([]) == ledger(["--database", target]))
        // A replica on the copy serves all of it, and new rows get new ids.
        let replica = try await ServerProcess(directory: w.dir, extra: ["--database", target])
        defer { replica.stop() }
        #expect(try await ReplicaWorkspace.converge(replica, to: 8) != nil)
        #expect(await ReplicaWorkspace.post(replica.url + "/v1/batches", try w.batch(8)).status == 201)
        await #expect(try ReplicaDatabase.psql(w.db.url, "SELECT max(seq) FROM moved.batch") == "9")
        // A second copy into a store that is not empty is refused and writes nothing.
        let again = try await PlazoProcess.run(["store", "copy", "--from", "plazo.sqlite", "--to", target], in: w.dir)
        #expect(again.status != 0)
        #expect(again.err.contains("not empty"), "\(again.err)")
    }
}
