import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import PlazoModel
import PlazoSodium
import PlazoStore
import PlazoWire
import Testing
import Yams

@testable import PlazoServer

/// The routes are written by hand, so this test holds them to `specs/openapi.yaml`: every answer
/// the server gives in the scenarios below must be a status documented for its operation, with a
/// body carrying the documented schema's required fields (or the documented content type); every
/// documented status (but the 503 of a failing disk) must be produced by some scenario; and a
/// token of a role is admitted exactly where the operation's `x-plazo-roles` lists that role.
@Suite("specs/openapi.yaml conformance")
struct OpenAPIConformanceTests {
    nonisolated(unsafe) static let spec: [String: Any] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("specs/openapi.yaml")
        return try! Yams.load(yaml: String(contentsOf: url, encoding: .utf8)) as! [String: Any]
    }()

    /// Resolves `$ref`s within the document.
    static func resolve(_ node: Any?) -> [String: Any]? {
        guard var object = node as? [String: Any] else { return nil }
        while let ref = object["$ref"] as? String {
            var target: Any? = spec
            for part in ref.dropFirst(2).split(separator: "/") { target = (target as? [String: Any])?[String(part)] }
            object = target as? [String: Any] ?? [:]
        }
        return object
    }

    /// Checks that `value` has every required property of `schema`, recursively, and that
    /// `const`/`enum`/`pattern` constraints on strings hold.
    static func check(_ value: Any, against schemaNode: Any?, path: String, failures: inout [String]) {
        guard let schema = resolve(schemaNode) else { return }
        if value is NSNull {
            // null only where the schema's type list allows it.
            func types(_ node: [String: Any]) -> [String] {
                let own = (node["type"] as? [String]) ?? [(node["type"] as? String) ?? ""]
                let alternatives = ((node["oneOf"] ?? node["anyOf"]) as? [Any] ?? []).compactMap { resolve($0) }
                return own + alternatives.flatMap(types)
            }
            if !types(schema).contains("null") { failures.append("\(path): null where the spec does not allow it") }
            return
        }
        if let required = schema["required"] as? [String] {
            guard let object = value as? [String: Any] else {
                failures.append("\(path): expected an object")
                return
            }
            for key in required where object[key] == nil { failures.append("\(path).\(key): missing") }
        }
        if let properties = schema["properties"] as? [String: Any], let object = value as? [String: Any] {
            for (key, sub) in properties { if let v = object[key] { check(v, against: sub, path: "\(path).\(key)", failures: &failures) } }
        }
        if let items = schema["items"], let array = value as? [Any] {
            for (i, v) in array.enumerated() { check(v, against: items, path: "\(path)[\(i)]", failures: &failures) }
        }
        if let string = value as? String {
            if let constant = schema["const"] as? String, string != constant { failures.append("\(path): \(string) != \(constant)") }
            if let choices = schema["enum"] as? [String], !choices.contains(string) { failures.append("\(path): \(string) not in enum") }
            if let pattern = schema["pattern"] as? String, string.range(of: pattern, options: .regularExpression) == nil {
                failures.append("\(path): '\(string)' does not match \(pattern)")
            }
        }
    }

    struct Scenario {
        let specPath: String
        let method: HTTPRequest.Method
        let uri: String
        var headers: HTTPFields = [:]
        var body: [UInt8]? = nil
    }

    @Test("every answer is documented, with a conforming body, and every documented status is exercised")
    func conformance() async throws {
        let api = try await APIFixture()
        let f = api.server
        try await api.setBudget("1")
        try await api.submitCases(60, chargeEvery: 2)
        let disposable = try await api.tokens.create(name: "Desechable", role: .oversight).record.id
        let revokedID = try await api.tokens.list(includeRevoked: true).first { !$0.isActive }!.id
        let id = try BatchID.random()
        let bytes = try f.batch(batchID: id)
        var flipped = bytes
        flipped[200] ^= 1
        let receiptPath = "/v1/batches/{batchId}/receipt"
        let S = APIFixture.bearer(api.steward), R = APIFixture.bearer(api.researcher), O = APIFixture.bearer(api.oversight)
        let W: HTTPFields = [.authorization: "Bearer \(api.wrong)"]
        let spec = jsonBody(APIFixture.spec())
        var invalidSpec = APIFixture.spec()
        invalidSpec["cohorts"] = ["2025Q7"]
        var draftObject = APIFixture.spec()
        draftObject["draft"] = true
        let draft = jsonBody(draftObject)
        let reason = jsonBody(["reason": "conformance test"])
        let newKey = Hex.encode(try SigningKeyPair.generate().publicKey.bytes)
        // The planner's example targets (docs/examples/quarterly-targets.json), without the ledger read.
        let planTargets = #"{"releases_per_cohort": 8, "lifetime_rho": "1", "targets": [{"table": "charge_by_horizon", "half_width": 0.02, "expected_cases": 600}, {"table": "attrition", "breakdown": ["state"], "pool_cohorts": "year", "half_width": 0.1, "expected_cases": 73}]}"#
        let rotated = Hex.encode(try SigningKeyPair.generate().publicKey.bytes)
        let scenarios: [Scenario] = [
            Scenario(specPath: "/healthz", method: .get, uri: "/healthz"),
            Scenario(specPath: "/", method: .get, uri: "/"),  // the web page (WebPage.swift)
            Scenario(specPath: "/metrics", method: .get, uri: "/metrics"),
            Scenario(specPath: "/metrics", method: .get, uri: "/metrics", headers: [HTTPField.Name("X-Forwarded-For")!: "203.0.113.9"]),
            Scenario(specPath: "/metrics", method: .get, uri: "/metrics", headers: R),
            Scenario(specPath: "/metrics", method: .get, uri: "/metrics", headers: S),
            Scenario(specPath: "/v1/batches", method: .post, uri: "/v1/batches", body: bytes),
            Scenario(specPath: "/v1/batches", method: .post, uri: "/v1/batches", body: bytes),
            Scenario(specPath: "/v1/batches", method: .post, uri: "/v1/batches", body: try f.batch(cases: 9..<10, batchID: id)),
            Scenario(specPath: "/v1/batches", method: .post, uri: "/v1/batches", body: flipped),
            Scenario(specPath: "/v1/batches", method: .post, uri: "/v1/batches", body: [UInt8](repeating: 7, count: 500)),
            Scenario(specPath: "/v1/batches", method: .post, uri: "/v1/batches", body: [UInt8](repeating: 0, count: BatchFormat.maxBatchSize + 1)),
            Scenario(specPath: receiptPath, method: .get, uri: "/v1/batches/\(id.hex)/receipt", headers: [.authorization: try f.authorization(batchID: id)]),
            Scenario(specPath: receiptPath, method: .get, uri: "/v1/batches/\(id.hex)/receipt"),
            Scenario(specPath: receiptPath, method: .get, uri: "/v1/batches/\(id.hex)/receipt", headers: [.authorization: try f.authorization(batchID: BatchID.random())]),
            Scenario(specPath: receiptPath, method: .get, uri: "/v1/batches/zz/receipt"),
            Scenario(
                specPath: receiptPath, method: .get, uri: "/v1/batches/\(id.hex)/receipt",
                headers: [.authorization: try f.authorization(batchID: id, key: f.other, agencyID: f.otherID)]
            ),

            // An agency's own quality report (signed), and the steward's view of it.
            Scenario(specPath: "/v1/quality", method: .get, uri: "/v1/quality",
                     headers: [.authorization: try AgencyRequestSignature.qualityHeader(agencyID: f.agencyID, key: f.agency, time: Int64(Date().timeIntervalSince1970))]),
            Scenario(specPath: "/v1/quality", method: .get, uri: "/v1/quality?limit=0",
                     headers: [.authorization: try AgencyRequestSignature.qualityHeader(agencyID: f.agencyID, key: f.agency, time: Int64(Date().timeIntervalSince1970))]),
            Scenario(specPath: "/v1/quality", method: .get, uri: "/v1/quality"),
            Scenario(specPath: "/v1/quality", method: .get, uri: "/v1/quality",
                     headers: [.authorization: try AgencyRequestSignature.qualityHeader(agencyID: f.agencyID, key: f.other, time: Int64(Date().timeIntervalSince1970))]),
            Scenario(specPath: "/v1/agencies/{agency}/quality", method: .get, uri: "/v1/agencies/1/quality?cutoff=2025-12-31", headers: S),
            Scenario(specPath: "/v1/agencies/{agency}/quality", method: .get, uri: "/v1/agencies/1/quality?cutoff=soon", headers: S),
            Scenario(specPath: "/v1/agencies/{agency}/quality", method: .get, uri: "/v1/agencies/1/quality"),
            Scenario(specPath: "/v1/agencies/{agency}/quality", method: .get, uri: "/v1/agencies/1/quality", headers: R),
            Scenario(specPath: "/v1/agencies/{agency}/quality", method: .get, uri: "/v1/agencies/99/quality", headers: S),

            // Oversight, before any release.
            Scenario(specPath: "/v1/dashboards", method: .get, uri: "/v1/dashboards", headers: O),
            Scenario(specPath: "/v1/dashboards", method: .get, uri: "/v1/dashboards"),
            Scenario(specPath: "/v1/dashboards", method: .get, uri: "/v1/dashboards", headers: R),
            Scenario(specPath: "/v1/dashboards/{metric}", method: .get, uri: "/v1/dashboards/funnel", headers: O),
            Scenario(specPath: "/v1/dashboards", method: .get, uri: "/v1/dashboards", headers: W),
            Scenario(specPath: "/v1/dashboards", method: .get, uri: "/v1/dashboards?lang=fr", headers: O),
            Scenario(specPath: "/v1/dashboards/{metric}/trend", method: .get, uri: "/v1/dashboards/funnel/trend", headers: O),

            // Stewards create releases.
            Scenario(specPath: "/v1/releases", method: .post, uri: "/v1/releases", headers: S, body: spec),
            Scenario(specPath: "/v1/releases", method: .post, uri: "/v1/releases", headers: S, body: Array("{x".utf8)),
            Scenario(specPath: "/v1/releases", method: .post, uri: "/v1/releases", body: spec),
            Scenario(specPath: "/v1/releases", method: .post, uri: "/v1/releases", headers: R, body: spec),
            Scenario(specPath: "/v1/releases", method: .post, uri: "/v1/releases", headers: S, body: jsonBody(APIFixture.spec(rho: "1"))),
            Scenario(specPath: "/v1/releases", method: .post, uri: "/v1/releases", headers: S, body: [UInt8](repeating: 32, count: 300_000)),
            Scenario(specPath: "/v1/releases", method: .post, uri: "/v1/releases", headers: S, body: jsonBody(invalidSpec)),

            // Oversight dashboards over the release.
            Scenario(specPath: "/v1/dashboards/{metric}", method: .get, uri: "/v1/dashboards/time-to-decision?cohort=2025Q1", headers: O),
            Scenario(specPath: "/v1/dashboards/{metric}", method: .get, uri: "/v1/dashboards/funnel?state=14", headers: O),
            Scenario(specPath: "/v1/dashboards/{metric}", method: .get, uri: "/v1/dashboards/backlog", headers: O),
            Scenario(specPath: "/v1/dashboards/{metric}", method: .get, uri: "/v1/dashboards/funnel?stat=14", headers: O),
            Scenario(specPath: "/v1/dashboards/{metric}", method: .get, uri: "/v1/dashboards/funnel"),
            Scenario(specPath: "/v1/dashboards/{metric}", method: .get, uri: "/v1/dashboards/funnel", headers: S),
            Scenario(specPath: "/v1/dashboards/{metric}", method: .get, uri: "/v1/dashboards/funnel?offence=online_grooming", headers: O),
            Scenario(specPath: "/v1/dashboards/{metric}", method: .get, uri: "/v1/dashboards/funnel?format=svg", headers: O),  // a chart
            Scenario(specPath: "/v1/dashboards/{metric}", method: .get, uri: "/v1/dashboards/time-to-charge?cohort=2025Q1&lang=en", headers: O),
            Scenario(specPath: "/v1/dashboards/{metric}", method: .get, uri: "/v1/dashboards/funnel?state=09,14&format=csv", headers: O),
            Scenario(specPath: "/v1/dashboards/{metric}", method: .get, uri: "/v1/dashboards/victim-updates?lang=es", headers: O),
            Scenario(specPath: "/v1/dashboards/{metric}/trend", method: .get, uri: "/v1/dashboards/funnel/trend?x=charged", headers: O),
            Scenario(specPath: "/v1/dashboards/{metric}/trend", method: .get, uri: "/v1/dashboards/time-to-charge/trend?format=csv", headers: O),
            Scenario(specPath: "/v1/dashboards/{metric}/trend", method: .get, uri: "/v1/dashboards/funnel/trend?x=nowhere", headers: O),
            Scenario(specPath: "/v1/dashboards/{metric}/trend", method: .get, uri: "/v1/dashboards/funnel/trend"),
            Scenario(specPath: "/v1/dashboards/{metric}/trend", method: .get, uri: "/v1/dashboards/funnel/trend", headers: S),
            Scenario(specPath: "/v1/dashboards/{metric}/trend", method: .get, uri: "/v1/dashboards/nope/trend", headers: O),
            Scenario(specPath: "/v1/dashboards/{metric}/trend", method: .get, uri: "/v1/dashboards/funnel/trend?offence=online_grooming", headers: O),

            // Researchers.
            Scenario(specPath: "/v1/releases", method: .get, uri: "/v1/releases", headers: R),
            Scenario(specPath: "/v1/releases", method: .get, uri: "/v1/releases"),
            Scenario(specPath: "/v1/releases", method: .get, uri: "/v1/releases", headers: O),
            Scenario(specPath: "/v1/releases", method: .get, uri: "/v1/releases", headers: W),
            Scenario(specPath: "/v1/releases/{releaseId}", method: .get, uri: "/v1/releases/1", headers: R),
            Scenario(specPath: "/v1/releases/{releaseId}", method: .get, uri: "/v1/releases/abc", headers: R),
            Scenario(specPath: "/v1/releases/{releaseId}", method: .get, uri: "/v1/releases/1"),
            Scenario(specPath: "/v1/releases/{releaseId}", method: .get, uri: "/v1/releases/1", headers: S),
            Scenario(specPath: "/v1/releases/{releaseId}", method: .get, uri: "/v1/releases/99", headers: R),
            Scenario(specPath: "/v1/releases/{releaseId}/tables/{file}", method: .get, uri: "/v1/releases/1/tables/t2-attrition.csv", headers: R),
            Scenario(specPath: "/v1/releases/{releaseId}/tables/{file}", method: .get, uri: "/v1/releases/x/tables/t2-attrition.csv", headers: R),
            Scenario(specPath: "/v1/releases/{releaseId}/tables/{file}", method: .get, uri: "/v1/releases/1/tables/t2-attrition.csv"),
            Scenario(specPath: "/v1/releases/{releaseId}/tables/{file}", method: .get, uri: "/v1/releases/1/tables/t2-attrition.csv", headers: O),
            Scenario(specPath: "/v1/releases/{releaseId}/tables/{file}", method: .get, uri: "/v1/releases/1/tables/t9-nothing.csv", headers: R),
            Scenario(specPath: "/v1/releases/{releaseId}/datapackage", method: .get, uri: "/v1/releases/1/datapackage", headers: R),
            Scenario(specPath: "/v1/releases/{releaseId}/datapackage", method: .get, uri: "/v1/releases/1/datapackage?format=zip", headers: R),
            Scenario(specPath: "/v1/releases/{releaseId}/datapackage", method: .get, uri: "/v1/releases/0/datapackage", headers: R),
            Scenario(specPath: "/v1/releases/{releaseId}/datapackage", method: .get, uri: "/v1/releases/1/datapackage?format=rar", headers: R),
            Scenario(specPath: "/v1/releases/{releaseId}/datapackage", method: .get, uri: "/v1/releases/1/datapackage"),
            Scenario(specPath: "/v1/releases/{releaseId}/datapackage", method: .get, uri: "/v1/releases/1/datapackage", headers: S),
            Scenario(specPath: "/v1/releases/{releaseId}/datapackage", method: .get, uri: "/v1/releases/99/datapackage", headers: R),

            // Stewards: the ledger, agencies, tokens.
            Scenario(specPath: "/v1/ledger", method: .get, uri: "/v1/ledger", headers: S),
            Scenario(specPath: "/v1/ledger", method: .get, uri: "/v1/ledger?scope=2025Q1", headers: S),
            Scenario(specPath: "/v1/ledger", method: .get, uri: "/v1/ledger?scope=2025Q9", headers: S),
            Scenario(specPath: "/v1/ledger", method: .get, uri: "/v1/ledger", headers: [.authorization: "Bearer \(api.revoked)"]),
            Scenario(specPath: "/v1/ledger", method: .get, uri: "/v1/ledger", headers: O),
            Scenario(specPath: "/v1/agencies", method: .get, uri: "/v1/agencies", headers: S),
            Scenario(specPath: "/v1/agencies", method: .get, uri: "/v1/agencies", headers: [.authorization: "Bearer \(api.wrong)"]),
            Scenario(specPath: "/v1/agencies", method: .get, uri: "/v1/agencies", headers: R),
            Scenario(specPath: "/v1/agencies", method: .post, uri: "/v1/agencies", headers: S, body: jsonBody(["name": "Nueva fiscalía", "type": "state_prosecutor", "public_key": newKey])),
            Scenario(specPath: "/v1/agencies", method: .post, uri: "/v1/agencies", headers: S, body: jsonBody(["name": "Sin tipo"])),
            Scenario(specPath: "/v1/agencies", method: .post, uri: "/v1/agencies", body: jsonBody(["name": "x", "type": "hotline", "public_key": newKey])),
            Scenario(specPath: "/v1/agencies", method: .post, uri: "/v1/agencies", headers: O, body: jsonBody(["name": "x", "type": "hotline", "public_key": newKey])),
            Scenario(specPath: "/v1/agencies", method: .post, uri: "/v1/agencies", headers: S, body: jsonBody(["name": "Nueva fiscalía", "type": "hotline", "public_key": rotated])),
            Scenario(specPath: "/v1/agencies", method: .post, uri: "/v1/agencies", headers: S, body: jsonBody(["name": "Otra", "type": "spaceship", "public_key": rotated])),
            Scenario(specPath: "/v1/agencies/{agency}", method: .get, uri: "/v1/agencies/1", headers: S),
            Scenario(specPath: "/v1/agencies/{agency}", method: .get, uri: "/v1/agencies/1"),
            Scenario(specPath: "/v1/agencies/{agency}", method: .get, uri: "/v1/agencies/1", headers: R),
            Scenario(specPath: "/v1/agencies/{agency}", method: .get, uri: "/v1/agencies/99", headers: S),
            Scenario(specPath: "/v1/agencies/{agency}/rotate", method: .post, uri: "/v1/agencies/2/rotate", headers: S, body: jsonBody(["public_key": rotated])),
            Scenario(specPath: "/v1/agencies/{agency}/rotate", method: .post, uri: "/v1/agencies/2/rotate", headers: S, body: Array("{".utf8)),
            Scenario(specPath: "/v1/agencies/{agency}/rotate", method: .post, uri: "/v1/agencies/2/rotate", body: jsonBody(["public_key": rotated])),
            Scenario(specPath: "/v1/agencies/{agency}/rotate", method: .post, uri: "/v1/agencies/2/rotate", headers: O, body: jsonBody(["public_key": rotated])),
            Scenario(specPath: "/v1/agencies/{agency}/rotate", method: .post, uri: "/v1/agencies/99/rotate", headers: S, body: jsonBody(["public_key": Hex.encode(try SigningKeyPair.generate().publicKey.bytes)])),
            Scenario(specPath: "/v1/agencies/{agency}/rotate", method: .post, uri: "/v1/agencies/2/rotate", headers: S, body: jsonBody(["public_key": Hex.encode(f.agency.publicKey.bytes)])),
            Scenario(specPath: "/v1/agencies/{agency}/rotate", method: .post, uri: "/v1/agencies/2/rotate", headers: S, body: jsonBody(["public_key": "abcd"])),
            Scenario(specPath: "/v1/agencies/{agency}/revoke", method: .post, uri: "/v1/agencies/2/revoke", headers: S),
            Scenario(specPath: "/v1/agencies/{agency}/revoke", method: .post, uri: "/v1/agencies/2/revoke", headers: S, body: Array("{".utf8)),
            Scenario(specPath: "/v1/agencies/{agency}/revoke", method: .post, uri: "/v1/agencies/2/revoke"),
            Scenario(specPath: "/v1/agencies/{agency}/revoke", method: .post, uri: "/v1/agencies/2/revoke", headers: R),
            Scenario(specPath: "/v1/agencies/{agency}/revoke", method: .post, uri: "/v1/agencies/99/revoke", headers: S),
            Scenario(specPath: "/v1/agencies/{agency}/revoke", method: .post, uri: "/v1/agencies/2/revoke", headers: S, body: jsonBody([:])),
            Scenario(specPath: "/v1/agencies/{agency}/revoke", method: .post, uri: "/v1/agencies/1/revoke", headers: S, body: jsonBody(["key_id": "zz"])),
            Scenario(specPath: "/v1/tokens", method: .get, uri: "/v1/tokens?include_revoked=true", headers: S),
            Scenario(specPath: "/v1/tokens", method: .get, uri: "/v1/tokens"),
            Scenario(specPath: "/v1/tokens", method: .get, uri: "/v1/tokens", headers: O),
            Scenario(specPath: "/v1/tokens", method: .post, uri: "/v1/tokens", headers: S, body: jsonBody(["name": "Universidad", "role": "researcher"])),
            Scenario(specPath: "/v1/tokens", method: .post, uri: "/v1/tokens", headers: S, body: jsonBody(["name": "Universidad"])),
            Scenario(specPath: "/v1/tokens", method: .post, uri: "/v1/tokens", body: jsonBody(["name": "x", "role": "steward"])),
            Scenario(specPath: "/v1/tokens", method: .post, uri: "/v1/tokens", headers: R, body: jsonBody(["name": "x", "role": "steward"])),
            Scenario(specPath: "/v1/tokens", method: .post, uri: "/v1/tokens", headers: S, body: jsonBody(["name": "Custodia", "role": "steward"])),
            Scenario(specPath: "/v1/tokens", method: .post, uri: "/v1/tokens", headers: S, body: jsonBody(["name": "x", "role": "admin"])),
            Scenario(specPath: "/v1/tokens/{token}/revoke", method: .post, uri: "/v1/tokens/\(disposable)/revoke", headers: S),
            Scenario(specPath: "/v1/tokens/{token}/revoke", method: .post, uri: "/v1/tokens/\(disposable)/revoke"),
            Scenario(specPath: "/v1/tokens/{token}/revoke", method: .post, uri: "/v1/tokens/\(disposable)/revoke", headers: O),
            Scenario(specPath: "/v1/tokens/{token}/revoke", method: .post, uri: "/v1/tokens/999/revoke", headers: S),
            Scenario(specPath: "/v1/tokens/{token}/revoke", method: .post, uri: "/v1/tokens/\(revokedID)/revoke", headers: S),

            // Opening release 1 to everyone; then the public reads it without a token.
            Scenario(specPath: "/v1/releases/{releaseId}/public", method: .post, uri: "/v1/releases/1/public", headers: S),
            Scenario(specPath: "/v1/releases/{releaseId}/public", method: .post, uri: "/v1/releases/abc/public", headers: S),
            Scenario(specPath: "/v1/releases/{releaseId}/public", method: .post, uri: "/v1/releases/1/public"),
            Scenario(specPath: "/v1/releases/{releaseId}/public", method: .post, uri: "/v1/releases/1/public", headers: R),
            Scenario(specPath: "/v1/releases/{releaseId}/public", method: .post, uri: "/v1/releases/99/public", headers: S),
            Scenario(specPath: "/v1/releases/{releaseId}", method: .get, uri: "/v1/releases/1"),
            Scenario(specPath: "/v1/releases/{releaseId}/datapackage", method: .get, uri: "/v1/releases/1/datapackage", headers: O),
            Scenario(specPath: "/v1/dashboards/{metric}", method: .get, uri: "/v1/dashboards/funnel"),
            Scenario(specPath: "/v1/dashboards/{metric}", method: .get, uri: "/v1/dashboards/funnel", headers: R),

            // Dry runs, drafts, publication and withdrawal (after every read of release 1).
            Scenario(specPath: "/v1/releases", method: .post, uri: "/v1/releases?dry_run=true", headers: S, body: spec),
            Scenario(specPath: "/v1/releases", method: .post, uri: "/v1/releases", headers: S, body: draft),  // draft 1
            Scenario(specPath: "/v1/releases", method: .post, uri: "/v1/releases", headers: S, body: draft),  // draft 2
            Scenario(specPath: "/v1/release-plans", method: .post, uri: "/v1/release-plans", headers: S, body: Array(planTargets.utf8)),
            Scenario(specPath: "/v1/release-plans", method: .post, uri: "/v1/release-plans", headers: S, body: jsonBody(["releases_per_cohort": 8])),
            Scenario(specPath: "/v1/release-plans", method: .post, uri: "/v1/release-plans", headers: S,
                     body: Array(#"{"releases_per_cohort": 8, "lifetime_rho": "1", "targets": [{"table": "time_to_first_decision", "half_width": 0.1, "expected_cases": 600}]}"#.utf8)),
            Scenario(specPath: "/v1/release-plans", method: .post, uri: "/v1/release-plans", body: Array(planTargets.utf8)),
            Scenario(specPath: "/v1/release-plans", method: .post, uri: "/v1/release-plans", headers: O, body: Array(planTargets.utf8)),
            Scenario(specPath: "/v1/release-plans", method: .post, uri: "/v1/release-plans", headers: S, body: [UInt8](repeating: 32, count: 300_000)),
            Scenario(specPath: "/v1/release-drafts", method: .get, uri: "/v1/release-drafts", headers: S),
            Scenario(specPath: "/v1/release-drafts", method: .get, uri: "/v1/release-drafts"),
            Scenario(specPath: "/v1/release-drafts", method: .get, uri: "/v1/release-drafts", headers: R),
            Scenario(specPath: "/v1/release-drafts/{draftId}", method: .get, uri: "/v1/release-drafts/1", headers: S),
            Scenario(specPath: "/v1/release-drafts/{draftId}", method: .get, uri: "/v1/release-drafts/abc", headers: S),
            Scenario(specPath: "/v1/release-drafts/{draftId}", method: .get, uri: "/v1/release-drafts/1"),
            Scenario(specPath: "/v1/release-drafts/{draftId}", method: .get, uri: "/v1/release-drafts/1", headers: O),
            Scenario(specPath: "/v1/release-drafts/{draftId}", method: .get, uri: "/v1/release-drafts/99", headers: S),
            Scenario(specPath: "/v1/release-drafts/{draftId}/publish", method: .post, uri: "/v1/release-drafts/1/publish", headers: S),
            Scenario(specPath: "/v1/release-drafts/{draftId}/publish", method: .post, uri: "/v1/release-drafts/1/publish", headers: S),
            Scenario(specPath: "/v1/release-drafts/{draftId}/publish", method: .post, uri: "/v1/release-drafts/x/publish", headers: S),
            Scenario(specPath: "/v1/release-drafts/{draftId}/publish", method: .post, uri: "/v1/release-drafts/1/publish"),
            Scenario(specPath: "/v1/release-drafts/{draftId}/publish", method: .post, uri: "/v1/release-drafts/1/publish", headers: R),
            Scenario(specPath: "/v1/release-drafts/{draftId}/publish", method: .post, uri: "/v1/release-drafts/99/publish", headers: S),
            Scenario(specPath: "/v1/release-drafts/{draftId}/withdraw", method: .post, uri: "/v1/release-drafts/2/withdraw", headers: S, body: reason),
            Scenario(specPath: "/v1/release-drafts/{draftId}/withdraw", method: .post, uri: "/v1/release-drafts/2/withdraw", headers: S, body: reason),
            Scenario(specPath: "/v1/release-drafts/{draftId}/withdraw", method: .post, uri: "/v1/release-drafts/1/withdraw", headers: S, body: jsonBody([:])),
            Scenario(specPath: "/v1/release-drafts/{draftId}/withdraw", method: .post, uri: "/v1/release-drafts/1/withdraw", body: reason),
            Scenario(specPath: "/v1/release-drafts/{draftId}/withdraw", method: .post, uri: "/v1/release-drafts/1/withdraw", headers: O, body: reason),
            Scenario(specPath: "/v1/release-drafts/{draftId}/withdraw", method: .post, uri: "/v1/release-drafts/99/withdraw", headers: S, body: reason),
            Scenario(specPath: "/v1/releases/{releaseId}/withdraw", method: .post, uri: "/v1/releases/1/withdraw", headers: S, body: reason),
            Scenario(specPath: "/v1/releases/{releaseId}/withdraw", method: .post, uri: "/v1/releases/1/withdraw", headers: S, body: reason),
            Scenario(specPath: "/v1/releases/{releaseId}/withdraw", method: .post, uri: "/v1/releases/1/withdraw", headers: S, body: jsonBody([:])),
            Scenario(specPath: "/v1/releases/{releaseId}/withdraw", method: .post, uri: "/v1/releases/1/withdraw", body: reason),
            Scenario(specPath: "/v1/releases/{releaseId}/withdraw", method: .post, uri: "/v1/releases/1/withdraw", headers: R, body: reason),
            Scenario(specPath: "/v1/releases/{releaseId}/withdraw", method: .post, uri: "/v1/releases/99/withdraw", headers: S, body: reason),
            Scenario(specPath: "/v1/releases/{releaseId}/public", method: .post, uri: "/v1/releases/1/public", headers: S),
            Scenario(specPath: "/v1/ledger", method: .get, uri: "/v1/ledger", headers: S),
        ]
        let roleOfHeader: [String: TokenRole] = [
            "Bearer \(api.steward)": .steward, "Bearer \(api.researcher)": .researcher, "Bearer \(api.oversight)": .oversight,
        ]
        struct Answer: Sendable {
            let status: Int
            let contentType: String
            let wwwAuthenticate: String?
            let body: [UInt8]
        }
        let requests = scenarios.map { ($0.uri, $0.method, $0.headers, $0.body) }
        let answers: [Answer] = try await api.app().test(.router) { client in
            var answers: [Answer] = []
            for (uri, method, headers, body) in requests {
                let response = try await client.execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(bytes: $0) })
                answers.append(Answer(
                    status: Int(response.status.code), contentType: response.headers[.contentType] ?? "",
                    wwwAuthenticate: response.headers[.wwwAuthenticate], body: Array(buffer: response.body)
                ))
            }
            return answers
        }
        let paths = Self.spec["paths"] as! [String: Any]
        var exercised = Set<String>()
        var failures: [String] = []
        for (s, response) in zip(scenarios, answers) {
            let operation = (paths[s.specPath] as? [String: Any])?[s.method.rawValue.lowercased()] as? [String: Any]
            let responses = operation?["responses"] as? [String: Any] ?? [:]
            let status = String(response.status)
            guard let documented = Self.resolve(responses[status]) else {
                failures.append("\(s.method) \(s.specPath) answered \(status), which the spec does not document")
                continue
            }
            exercised.insert("\(s.method.rawValue.lowercased()) \(s.specPath) \(status)")
            let content = documented["content"] as? [String: Any] ?? [:]
            let answeredJSON = response.contentType.hasPrefix("application/json") || !content.keys.contains { response.contentType.hasPrefix($0) }
            if answeredJSON, let jsonSchema = (content["application/json"] as? [String: Any])?["schema"] {
                #expect(response.contentType.hasPrefix("application/json"), "\(s.specPath) \(status)")
                let body = try JSONSerialization.jsonObject(with: Data(response.body))
                Self.check(body, against: jsonSchema, path: "\(s.specPath) \(status)", failures: &failures)
            } else if !content.isEmpty {
                #expect(content.keys.contains { response.contentType.hasPrefix($0) }, "\(s.specPath) \(status): \(response.contentType)")
            }
            // The roles the spec documents are the roles the server admits.
            if let role = s.headers[.authorization].flatMap({ roleOfHeader[$0] }), let roles = operation?["x-plazo-roles"] as? [String] {
                let admitted = response.status != 401 && response.status != 403
                // An operation open to the public (`x-plazo-public`) admits every role to what is
                // public; its listed roles must still be admitted.
                let openToAll = operation?["x-plazo-public"] as? Bool == true
                if admitted != roles.contains(role.rawValue), !(openToAll && admitted) {
                    failures.append("\(s.method) \(s.uri) as \(role): answered \(status), spec roles \(roles)")
                }
            }
            if status == "401", s.specPath != receiptPath, s.specPath != "/v1/quality", response.wwwAuthenticate?.hasPrefix("Bearer") != true {
                failures.append("\(s.method) \(s.uri): 401 without a Bearer challenge")
            }
        }
        var documented = Set<String>()
        for (path, ops) in paths {
            for (method, op) in ops as! [String: Any] {
                // Every token-protected operation says which roles it admits.
                let security = (op as! [String: Any])["security"] as? [[String: Any]] ?? []
                if security.contains(where: { $0["bearerToken"] != nil }), (op as! [String: Any])["x-plazo-roles"] == nil {
                    failures.append("\(method) \(path): bearer security without x-plazo-roles")
                }
                for status in ((op as! [String: Any])["responses"] as! [String: Any]).keys where status != "503" {
                    documented.insert("\(method) \(path) \(status)")
                }
            }
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
        #expect(documented.subtracting(exercised).isEmpty, "not exercised: \(documented.subtracting(exercised).sorted())")
    }
}
