import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import PlazoIngest
import PlazoLedger
import PlazoModel
import PlazoPrivacy
import PlazoSodium
import PlazoStore
import PlazoWire
import Synchronization
import Testing
import ZIPFoundation

@testable import PlazoServer

/// Case data for the release tests, submitted through the real ingest pipeline.
extension APIFixture {
    /// Submits `count` new cases with random pseudonyms, reported on `day` in `state` (online
    /// grooming, hotline); every `chargeEvery`-th case is charged 40 days later. Returns the pseudonyms.
    @discardableResult
    func submitCases(
        _ count: Int, state: UInt8 = 14, day: Day = Day(year: 2025, month: 2, day: 10)!, chargeEvery: Int = 0
    ) async throws -> [CasePseudonym] {
        var pseudonyms: [CasePseudonym] = []
        var events: [CaseEvent] = []
        let attributes = CaseAttributes(
            offence: .onlineGrooming, ageBand: .age13to15, sex: .female, state: MexicanState(rawValue: state)!, channel: .hotline
        )
        for i in 0..<count {
            let p = CasePseudonym(bytes: try SecureRandom.bytes(16))!
            pseudonyms.append(p)
            events.append(CaseEvent(pseudonym: p, type: .reportReceived, day: day, attributes: attributes, agencyType: .stateProsecutor))
            if chargeEvery > 0, i % chargeEvery == 0 {
                events.append(CaseEvent(pseudonym: p, type: .chargeFiled, day: day.adding(days: 40), attributes: attributes, agencyType: .stateProsecutor))
            }
        }
        let bytes = try BatchSealer.seal(
            events: events, agencyID: AgencyID(server.agencyID), batchID: BatchID.random(), createdAt: Int64(Date().timeIntervalSince1970),
            signer: server.agency, service: server.service.publicKey
        )
        _ = try await server.ingest.submit(bytes)
        return pseudonyms
    }

    /// Sets the default privacy budget of every cohort.
    func setBudget(_ rho: String) async throws {
        try await BudgetLedger(database: database).setDefaultBudget(try Rational(parsing: rho), by: "test steward")
    }

    /// A release spec over cohort 2025Q1 (cutoff 2025-09-30) with all six tables, attrition also by
    /// state, each table costing `rho`.
    static func spec(rho: String = "1/100", title: String = "Prueba 2025Q1", replicates: Int = 40) -> [String: Any] {
        let kinds = ["time_to_first_decision", "attrition", "dispositions", "backlog", "victim_update_time", "victim_update_recency"]
        return [
            "title": title, "cutoff": "2025-09-30", "cohorts": ["2025Q1"], "mechanism": "discrete_gaussian",
            "confidenceLevel": 0.95, "simulationReplicates": replicates,
            "tables": kinds.map { ["table": $0, "breakdown": [String](), "rho": rho] as [String: Any] }
                + [["table": "attrition", "breakdown": ["state"], "rho": rho]],
        ]
    }
}

/// The entries of a ustar archive (a name in the header's `prefix` field is joined with a `/`).
func untar(_ bytes: [UInt8]) -> [String: [UInt8]] {
    var files: [String: [UInt8]] = [:]
    var offset = 0
    while offset + 512 <= bytes.count {
        let header = bytes[offset..<(offset + 512)]
        if header.allSatisfy({ $0 == 0 }) { break }
        let name = String(decoding: header.prefix(100).prefix { $0 != 0 }, as: UTF8.self)
        let prefix = String(decoding: header.dropFirst(345).prefix(155).prefix { $0 != 0 }, as: UTF8.self)
        let sizeText = String(decoding: header.dropFirst(124).prefix(12).prefix { $0 != 0 && $0 != 32 }, as: UTF8.self)
        let size = Int(sizeText, radix: 8) ?? 0
        files[prefix.isEmpty ? name : prefix + "/" + name] = Array(bytes[(offset + 512)..<(offset + 512 + size)])
        offset += 512 + (size + 511) / 512 * 512
    }
    return files
}

/// The entries of a zip, read by ZIPFoundation (each entry's CRC-32 checked), with whether each
/// was deflated.
func unzip(_ zip: [UInt8]) throws -> [String: (bytes: [UInt8], deflated: Bool)] {
    let archive = try Archive(data: Data(zip), accessMode: .read)
    var out: [String: (bytes: [UInt8], deflated: Bool)] = [:]
    for entry in archive {
        var bytes: [UInt8] = []
        _ = try archive.extract(entry) { bytes += $0 }
        out[entry.path] = (bytes, entry.compressedSize < entry.uncompressedSize)
    }
    return out
}

/// Runs `executable` with `arguments`; its exit status and standard output.
func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = arguments
    let pipe = Pipe()
    p.standardOutput = pipe
    try p.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// A log handler that keeps every line with its metadata (to check what logs never contain).
struct CapturingLogHandler: LogHandler {
    let lines: LineBox
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(level: Logger.Level, message: Logger.Message, metadata extra: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
        let all = self.metadata.merging(extra ?? [:]) { $1 }
        lines.value.withLock { $0.append("\(level) \(message) \(all.map { "\($0)=\($1)" }.sorted().joined(separator: " "))") }
    }
}

/// Captured log lines, shared between the handler's copies.
final class LineBox: Sendable {
    let value = Mutex<[String]>([])
    var all: [String] { value.withLock { $0 } }
}

@Suite("releases and dashboards over HTTP")
struct ReleaseAPITests {
    @Test("a steward creates a release; researchers read it as JSON, CSV tables and one Data Package archive, always the same numbers")
    func lifecycle() async throws {
        let f = try await APIFixture()
        try await f.setBudget("1")
        try await f.submitCases(300, chargeEvery: 3)
        try await f.submitCases(120, state: 9)
        let steward = APIFixture.bearer(f.steward)
        let researcher = APIFixture.bearer(f.researcher)
        try await f.app().test(.router) { client in
            var created: [String: Any] = [:]
            try await client.execute(uri: "/v1/releases", method: .post, headers: steward, body: ByteBuffer(bytes: jsonBody(APIFixture.spec()))) { response in
                #expect(response.status == .created, "\(String(buffer: response.body).prefix(300))")
                #expect(response.headers[.location] == "/v1/releases/1")
                created = json(response.body)
            }
            let metadata = created["metadata"] as? [String: Any]
            #expect(metadata?["id"] as? Int == 1)
            #expect(metadata?["requester"] as? String == "Custodia")

            try await client.execute(uri: "/v1/releases", method: .get, headers: researcher) { response in
                #expect(response.status == .ok)
                let releases = json(response.body)["releases"] as? [[String: Any]]
                #expect(releases?.count == 1)
                #expect(releases?.first?["cohorts"] as? [String] == ["2025Q1"])
                #expect(releases?.first?["total_rho"] as? String == "7/100")
                // Links as they are, not "\/v1\/releases\/1".
                #expect(String(buffer: response.body).contains(#""self":"/v1/releases/1""#))
            }
            // Reading again returns exactly what was created: never re-noised.
            for _ in 0..<2 {
                try await client.execute(uri: "/v1/releases/1", method: .get, headers: researcher) { response in
                    #expect(response.status == .ok)
                    #expect(NSDictionary(dictionary: json(response.body)).isEqual(to: created))
                }
            }
            try await client.execute(uri: "/v1/releases/1/tables/t2-attrition.csv", method: .get, headers: researcher) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/csv") == true)
                let text = String(buffer: response.body)
                #expect(text.hasPrefix("cohort,furthest_stage,noisy_count,count,ci_low,ci_high,reconciled_count,std_dev\n"))
                #expect(text.split(separator: "\n").count == 1 + 6)
            }
            try await client.execute(uri: "/v1/releases/1/tables/t7-attrition-by-state-estimates.csv", method: .get, headers: researcher) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).hasPrefix("cohort,state,estimate,x,unit,value,ci_low,ci_high,half_width,status,observed_until,reliable\n"))
            }
            for (uri, status, code) in [
                ("/v1/releases/1/tables/t9-nothing.csv", 404, "unknown_table"),
                ("/v1/releases/7", 404, "release_not_found"),
                ("/v1/releases/7/datapackage", 404, "release_not_found"),
                ("/v1/releases/abc", 400, "bad_release_id"),
            ] {
                try await client.execute(uri: uri, method: .get, headers: researcher) { response in
                    #expect(Int(response.status.code) == status, "\(uri)")
                    #expect(errorCode(response.body) == code, "\(uri)")
                }
            }
            // The default download: a deflated zip with the package at its root.
            var defaultDownload: [UInt8] = []
            try await client.execute(uri: "/v1/releases/1/datapackage", method: .get, headers: researcher) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/zip")
                #expect(response.headers[.contentDisposition]?.contains("plazo-release-1.zip") == true)
                defaultDownload = Array(buffer: response.body)
                let entries = try unzip(defaultDownload)
                let package = try #require(entries["datapackage.json"], "datapackage.json at the root of the zip")
                #expect(package.deflated)
                let descriptor = try #require(try JSONSerialization.jsonObject(with: Data(package.bytes)) as? [String: Any])
                let resources = try #require(descriptor["resources"] as? [[String: Any]])
                #expect(resources.count == 14)
                for resource in resources {
                    let path = try #require(resource["path"] as? String)
                    #expect(entries[path] != nil, "\(path)")
                }
                #expect(entries["README.md"] != nil)
                #expect(entries.count == resources.count + 2)
                // An independent reader agrees, where the machine has one.
                if FileManager.default.isExecutableFile(atPath: "/usr/bin/unzip") {
                    let file = NSTemporaryDirectory() + "plazo-release-\(UUID().uuidString).zip"
                    try Data(defaultDownload).write(to: URL(fileURLWithPath: file))
                    defer { try? FileManager.default.removeItem(atPath: file) }
                    #expect(try run("/usr/bin/unzip", ["-tq", file]).status == 0, "unzip -t rejects the archive")
                }
            }
            // The same bytes when asked for by name (the archive is deterministic).
            try await client.execute(uri: "/v1/releases/1/datapackage?format=zip", method: .get, headers: researcher) { response in
                #expect(response.status == .ok)
                #expect(Array(buffer: response.body) == defaultDownload)
            }
            // Tar on request: one directory plazo-release-1/ holding the same files.
            try await client.execute(uri: "/v1/releases/1/datapackage?format=tar", method: .get, headers: researcher) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/x-tar")
                #expect(response.headers[.contentDisposition]?.contains("plazo-release-1.tar") == true)
                let files = untar(Array(buffer: response.body))
                let zipped = try unzip(defaultDownload)
                #expect(Set(files.keys) == Set(zipped.keys.map { "plazo-release-1/\($0)" }))
                for (path, entry) in zipped { #expect(files["plazo-release-1/\(path)"] == entry.bytes, "\(path)") }
            }
            try await client.execute(uri: "/v1/releases/1/datapackage?format=rar", method: .get, headers: researcher) { response in
                #expect(response.status == .badRequest)
                #expect(errorCode(response.body) == "bad_format")
            }
        }
    }

    /// The validator: `.venv-frictionless/bin/frictionless` at the package root, which
    /// scripts/ensure-frictionless.sh installs (scripts/test.sh runs it before the tests; a test
    /// installs nothing itself).
    static let frictionless: String? = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let path = root.appendingPathComponent(".venv-frictionless/bin/frictionless").path
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }()

    @Test(
        "frictionless validate (PyPI) finds the default Data Package download valid",
        .enabled(if: frictionless != nil, "frictionless is not installed: run scripts/ensure-frictionless.sh (scripts/test.sh does) to validate the Data Package download")
    )
    func frictionlessValidatesTheDefaultDownload() async throws {
        let frictionless = try #require(Self.frictionless)

        let f = try await APIFixture()
        try await f.setBudget("1")
        try await f.submitCases(200, chargeEvery: 3)
        try await f.submitCases(80, state: 9)
        let steward = APIFixture.bearer(f.steward)
        let researcher = APIFixture.bearer(f.researcher)
        // The fixture's spec, with a complete year among the cohorts, time to charge counted
        // directly and a state table pooled by year: their CSVs must validate too.
        var spec = APIFixture.spec()
        spec["cohorts"] = ["2024Q1", "2024Q2", "2024Q3", "2024Q4", "2025Q1"]
        spec["tables"] = (spec["tables"] as! [[String: Any]]) + [
            ["table": "charge_by_horizon", "breakdown": [String](), "rho": "1/100"],
            ["table": "attrition", "breakdown": ["state"], "rho": "1/100", "pool_cohorts": "year"],
        ]
        let specBody = jsonBody(spec)
        let download = try await f.app().test(.router) { client in
            var download: [UInt8] = []
            try await client.execute(uri: "/v1/releases", method: .post, headers: steward, body: ByteBuffer(bytes: specBody)) { response in
                #expect(response.status == .created)
            }
            try await client.execute(uri: "/v1/releases/1/datapackage", method: .get, headers: researcher) { response in
                #expect(response.status == .ok)
                download = Array(buffer: response.body)
            }
            return download
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("plazo-frictionless-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("plazo-release-1.zip")
        try Data(download).write(to: file)
        let result = try run(frictionless, ["validate", "--json", file.path])
        #expect(result.status == 0, "frictionless validate rejects the download:\n\(result.output.prefix(4000))")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
        #expect(report["valid"] as? Bool == true)
        // Every resource of the package was validated (9 tables' CSVs, two each), not an empty package.
        let tasks = report["tasks"] as? [[String: Any]] ?? []
        #expect(tasks.count == 18, "\(tasks.count) resources validated")
        #expect(tasks.allSatisfy { $0["valid"] as? Bool == true })
    }

    @Test("a release that would exceed a cohort's budget is refused whole with 409 and leaves the ledger unchanged")
    func budgetRefusal() async throws {
        let f = try await APIFixture()
        try await f.setBudget("1/10")
        try await f.submitCases(50)
        let ledger = BudgetLedger(database: f.database)
        let steward = APIFixture.bearer(f.steward)
        try await f.app().test(.router) { client in
            try await client.execute(uri: "/v1/releases", method: .post, headers: steward, body: ByteBuffer(bytes: jsonBody(APIFixture.spec()))) { response in
                #expect(response.status == .created)
            }
            let before = try await ledger.entries()
            let balanceBefore = try await ledger.balance(for: Quarter(scope: "2025Q1"))
            try await client.execute(uri: "/v1/releases", method: .post, headers: steward, body: ByteBuffer(bytes: jsonBody(APIFixture.spec()))) { response in
                #expect(response.status == .conflict)
                #expect(errorCode(response.body) == "budget_exceeded")
            }
            #expect(try await ledger.entries() == before)
            #expect(try await ledger.balance(for: Quarter(scope: "2025Q1")) == balanceBefore)
            try await client.execute(uri: "/v1/releases", method: .get, headers: APIFixture.bearer(f.researcher)) { response in
                #expect((json(response.body)["releases"] as? [Any])?.count == 1)
            }
            // The ledger as the steward sees it: one spend, 7/100 of 1/10 spent on 2025Q1.
            try await client.execute(uri: "/v1/ledger", method: .get, headers: steward) { response in
                #expect(response.status == .ok)
                let body = json(response.body)
                #expect((body["spends"] as? [Any])?.count == 1)
                let balance = (body["balances"] as? [[String: Any]])?.first
                #expect(balance?["scope"] as? String == "2025Q1")
                #expect((balance?["spent"] as? [String: Any])?["exact"] as? String == "7/100")
                #expect((balance?["remaining"] as? [String: Any])?["exact"] as? String == "3/100")
                #expect((body["audit"] as? [String: Any])?["consistent"] as? Bool == true)
            }
            var bad = APIFixture.spec()
            bad["cohorts"] = ["2025Q7"]
            for (body, status, code) in [(jsonBody(bad), 422, "invalid_spec"), (Array("{not json".utf8), 400, "bad_json")] {
                try await client.execute(uri: "/v1/releases", method: .post, headers: steward, body: ByteBuffer(bytes: body)) { response in
                    #expect(Int(response.status.code) == status)
                    #expect(errorCode(response.body) == code)
                }
            }
            try await client.execute(uri: "/v1/ledger?scope=2025Q9", method: .get, headers: steward) { response in
                #expect(response.status == .badRequest)
                #expect(errorCode(response.body) == "bad_scope")
            }
        }
        #expect(try await ledger.entries().count == 1)
    }

    @Test("a dashboard answer is a function of the release and the query: the same bytes again, and from a fresh server")
    func dashboardDeterminism() async throws {
        let f = try await APIFixture()
        try await f.setBudget("1")
        try await f.submitCases(150, chargeEvery: 2)
        try await f.submitCases(90, state: 9, chargeEvery: 3)
        let oversight = APIFixture.bearer(f.oversight)
        // Pooled queries (all states, several series) run the interval simulation: the interesting case.
        let uris = ["/v1/dashboards/funnel", "/v1/dashboards/time-to-decision", "/v1/dashboards/funnel?state=09"]
        let first: [String] = try await f.app().test(.router) { client in
            _ = try await client.execute(
                uri: "/v1/releases", method: .post, headers: APIFixture.bearer(f.steward), body: ByteBuffer(bytes: jsonBody(APIFixture.spec())))
            var bodies: [String] = []
            for uri in uris + uris { bodies.append(String(buffer: try await client.execute(uri: uri, method: .get, headers: oversight).body)) }
            return bodies
        }
        #expect(Array(first[0..<3]) == Array(first[3..<6]))
        let fresh: [String] = try await f.app().test(.router) { client in
            var bodies: [String] = []
            for uri in uris { bodies.append(String(buffer: try await client.execute(uri: uri, method: .get, headers: oversight).body)) }
            return bodies
        }
        #expect(fresh == Array(first[0..<3]))
    }

    @Test("every dashboard answers from the published release with chart-ready series: each point has a value, an interval and its release")
    func dashboards() async throws {
        let f = try await APIFixture()
        try await f.setBudget("1")
        try await f.submitCases(200, chargeEvery: 2)
        try await f.submitCases(80, state: 9)
        let oversight = APIFixture.bearer(f.oversight)
        try await f.app().test(.router) { client in
            try await client.execute(uri: "/v1/dashboards/funnel", method: .get, headers: oversight) { response in
                #expect(response.status == .notFound)
                #expect(errorCode(response.body) == "no_release")
            }
            for title in ["first", "second"] {
                _ = try await client.execute(
                    uri: "/v1/releases", method: .post, headers: APIFixture.bearer(f.steward),
                    body: ByteBuffer(bytes: jsonBody(APIFixture.spec(title: title)))
                )
            }
            try await client.execute(uri: "/v1/dashboards", method: .get, headers: oversight) { response in
                #expect(response.status == .ok)
                let boards = (json(response.body)["dashboards"] as? [[String: Any]])?.compactMap { $0["metric"] as? String }
                #expect(boards == ["time-to-decision", "time-to-charge", "funnel", "dispositions", "backlog", "victim-updates"])
            }
            for board in ["time-to-decision", "time-to-charge", "funnel", "dispositions", "backlog", "victim-updates"] {
                try await client.execute(uri: "/v1/dashboards/\(board)", method: .get, headers: oversight) { response in
                    #expect(response.status == .ok, "\(board)")
                    let body = json(response.body)
                    #expect((body["release"] as? [String: Any])?["id"] as? Int == 2, "the newest release answers")
                    let series = body["series"] as? [[String: Any]] ?? []
                    #expect(!series.isEmpty, "\(board)")
                    for s in series {
                        let points = s["points"] as? [[String: Any]] ?? []
                        #expect(!points.isEmpty, "\(board) \(s["name"] ?? "")")
                        for p in points {
                            #expect(p["x"] is String)
                            #expect(p["value"] != nil)
                            let interval = p["interval"] as? [String: Any]
                            #expect(interval?["low"] != nil && interval?["high"] != nil && interval?["level"] as? Double == 0.95)
                            if let v = p["value"] as? Double, let lo = interval?["low"] as? Double, let hi = interval?["high"] as? Double {
                                #expect(lo <= v + 1e-9 && v <= hi + 1e-9, "\(board) \(p)")
                            }
                        }
                    }
                }
            }
            // Filters: a state the release breaks attrition down by; a named release; the cohort.
            try await client.execute(uri: "/v1/dashboards/funnel?state=9&release=1&cohort=2025Q1", method: .get, headers: oversight) { response in
                #expect(response.status == .ok)
                let body = json(response.body)
                #expect((body["filters"] as? [String: Any])?["state"] as? [String] == ["09"])
                #expect((body["release"] as? [String: Any])?["id"] as? Int == 1)
                #expect((body["release"] as? [String: Any])?["selection"] as? String == "requested")
            }
            for (uri, status, code) in [
                ("/v1/dashboards/funnel?offence=online_grooming", 422, "unanswerable_query"),
                ("/v1/dashboards/funnel?state=99", 400, "invalid_filter"),
                ("/v1/dashboards/funnel?cohort=2025Q5", 400, "invalid_filter"),
                ("/v1/dashboards/funnel?cohort=25", 400, "invalid_filter"),
                // A report year is a valid cohort, answered only by tables pooled by year: this
                // release has none.
                ("/v1/dashboards/funnel?cohort=2025", 422, "unanswerable_query"),
                ("/v1/dashboards/funnel?stat=14", 400, "unknown_parameter"),
                ("/v1/dashboards/funnel?release=9", 404, "release_not_found"),
                ("/v1/dashboards/conviction-rate", 404, "unknown_metric"),
            ] {
                try await client.execute(uri: uri, method: .get, headers: oversight) { response in
                    #expect(Int(response.status.code) == status, "\(uri)")
                    #expect(errorCode(response.body) == code, "\(uri)")
                }
            }
        }
    }
}
