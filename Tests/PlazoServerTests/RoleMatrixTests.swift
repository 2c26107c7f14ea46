import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import PlazoIngest
import PlazoLedger
import PlazoModel
import PlazoSodium
import PlazoStore
import PlazoWire
import Testing

@testable import PlazoServer

/// Who a request claims to be.
enum Credential: String, CaseIterable, Sendable, CustomStringConvertible {
    case oversight, researcher, steward
    /// An agency's `Plazo-Agency` signature header (valid for one of its own batches).
    case agencySignature
    /// No `Authorization` header.
    case missing
    /// A well-formed token that was never issued.
    case wrong
    /// A steward token that has been revoked.
    case revoked

    var description: String { rawValue }

    var role: TokenRole? {
        switch self {
        case .oversight: .oversight
        case .researcher: .researcher
        case .steward: .steward
        default: nil
        }
    }
}

/// One endpoint of the matrix: what each credential must get.
struct MatrixRow: Sendable {
    let method: HTTPRequest.Method
    let uri: String
    /// The exact status of each credential.
    let expected: [Credential: Int]
    /// True when refusals must be the bearer-token ones (401 + `WWW-Authenticate: Bearer`, 403 `insufficient_role`).
    var bearer = true
    /// The body sent by each credential (nil: none).
    var body: @Sendable (Credential) throws -> [UInt8]? = { _ in nil }

    /// An endpoint open to everyone (public releases): every token and no token get `success`;
    /// a token that does not authenticate is still refused (401), and an agency signature is not
    /// a bearer token.
    static func open(_ method: HTTPRequest.Method, _ uri: String, success: Int = 200) -> MatrixRow {
        var expected: [Credential: Int] = [:]
        for c in Credential.allCases {
            switch c {
            case .wrong, .revoked, .agencySignature: expected[c] = 401
            default: expected[c] = success
            }
        }
        return MatrixRow(method: method, uri: uri, expected: expected)
    }

    /// A bearer-protected endpoint: the admitted roles get `success`, every other credential its refusal.
    static func bearer(
        _ method: HTTPRequest.Method, _ uri: String, admits roles: Set<TokenRole>, success: Int,
        body: @escaping @Sendable (Credential) throws -> [UInt8]? = { _ in nil }
    ) -> MatrixRow {
        var expected: [Credential: Int] = [:]
        for c in Credential.allCases {
            if let role = c.role { expected[c] = roles.contains(role) ? success : 403 } else { expected[c] = 401 }
        }
        return MatrixRow(method: method, uri: uri, expected: expected, body: body)
    }
}

func jsonBody(_ object: [String: Any]) -> [UInt8] {
    Array(try! JSONSerialization.data(withJSONObject: object))
}

@Suite("endpoints × roles")
struct RoleMatrixTests {
    /// Runs every row with every credential through the real router and checks the exact status,
    /// the error code of each refusal, and the `WWW-Authenticate` challenge of each 401.
    static func run(_ rows: [MatrixRow], fixture f: APIFixture, receiptBatch: BatchID) async throws -> [String] {
        let agencyHeader = try f.server.authorization(batchID: receiptBatch)
        @Sendable func headers(_ c: Credential, _ row: MatrixRow) throws -> HTTPFields {
            switch c {
            case .oversight: APIFixture.bearer(f.oversight)
            case .researcher: APIFixture.bearer(f.researcher)
            case .steward: APIFixture.bearer(f.steward)
            case .wrong: APIFixture.bearer(f.wrong)
            case .revoked: APIFixture.bearer(f.revoked)
            case .missing: [:]
            case .agencySignature:
                // Signed for the batch the row names, when it names one.
                if let idText = row.uri.split(separator: "/").dropFirst(2).first, let id = BatchID(hex: String(idText)) {
                    [.authorization: try f.server.authorization(batchID: id)]
                } else {
                    [.authorization: agencyHeader]
                }
            }
        }
        return try await f.app().test(.router) { client in
            var failures: [String] = []
            for row in rows {
                for c in Credential.allCases {
                    guard let want = row.expected[c] else { continue }
                    let body = try row.body(c).map { ByteBuffer(bytes: $0) }
                    let response = try await client.execute(uri: row.uri, method: row.method, headers: try headers(c, row), body: body)
                    let got = Int(response.status.code)
                    let label = "\(row.method) \(row.uri) as \(c)"
                    if got != want {
                        failures.append("\(label): \(got), expected \(want) \(String(buffer: response.body).prefix(200))")
                        continue
                    }
                    guard row.bearer, got == 401 || got == 403 else { continue }
                    let code = errorCode(response.body)
                    let wantCode: String =
                        switch c {
                        case .missing: "missing_token"
                        case .wrong: "invalid_token"
                        case .revoked: "revoked_token"
                        case .agencySignature: "malformed_authorization"
                        default: "insufficient_role"
                        }
                    if code != wantCode { failures.append("\(label): code \(code ?? "none"), expected \(wantCode)") }
                    if got == 401, response.headers[.wwwAuthenticate]?.hasPrefix("Bearer") != true {
                        failures.append("\(label): 401 without a Bearer challenge")
                    }
                }
            }
            return failures
        }
    }

    /// The rows for the agency, operator and steward endpoints.
    static func baseRows(_ f: APIFixture, batch: BatchID, disposableToken: Int64) throws -> [MatrixRow] {
        let newAgencyKey = try SigningKeyPair.generate().publicKey
        let rotatedKey = try SigningKeyPair.generate().publicKey
        let server = f.server
        return [
            // Anyone may ask whether the service is up.
            MatrixRow(method: .get, uri: "/healthz", expected: Dictionary(uniqueKeysWithValues: Credential.allCases.map { ($0, 200) }), bearer: false),
            // A batch authenticates itself (its signature); headers are irrelevant. A fresh batch each time.
            MatrixRow(
                method: .post, uri: "/v1/batches", expected: Dictionary(uniqueKeysWithValues: Credential.allCases.map { ($0, 201) }),
                bearer: false, body: { _ in try server.batch() }
            ),
            // Only the agency that sent the batch, with its signature: bearer tokens are not the scheme.
            MatrixRow(
                method: .get, uri: "/v1/batches/\(batch.hex)/receipt",
                expected: [.agencySignature: 200, .missing: 401, .oversight: 401, .researcher: 401, .steward: 401, .wrong: 401, .revoked: 401],
                bearer: false
            ),
            // Operator counters: steward token, or the service host itself without credentials (the
            // in-process router has no peer address, so it counts as loopback).
            MatrixRow(
                method: .get, uri: "/metrics",
                expected: [.steward: 200, .missing: 200, .oversight: 403, .researcher: 403, .agencySignature: 401, .wrong: 401, .revoked: 401]
            ),
            .bearer(.get, "/v1/ledger", admits: [.steward], success: 200),
            .bearer(.get, "/v1/agencies", admits: [.steward], success: 200),
            .bearer(.post, "/v1/agencies", admits: [.steward], success: 201) { _ in
                jsonBody(["name": "Fiscalía Especializada", "type": "federal_prosecutor", "public_key": Hex.encode(newAgencyKey.bytes)])
            },
            .bearer(.get, "/v1/agencies/1", admits: [.steward], success: 200),
            .bearer(.post, "/v1/agencies/2/rotate", admits: [.steward], success: 200) { _ in
                jsonBody(["public_key": Hex.encode(rotatedKey.bytes)])
            },
            .bearer(.post, "/v1/agencies/2/revoke", admits: [.steward], success: 200) { _ in jsonBody([:]) },
            .bearer(.get, "/v1/tokens", admits: [.steward], success: 200),
            .bearer(.post, "/v1/tokens", admits: [.steward], success: 201) { _ in jsonBody(["name": "Nueva", "role": "researcher"]) },
            .bearer(.post, "/v1/tokens/\(disposableToken)/revoke", admits: [.steward], success: 200) { _ in jsonBody([:]) },
        ]
    }

    /// The rows for releases and dashboards: the steward's POST creates release 1, which the
    /// following rows read; then the steward makes it public, and the last rows read it without
    /// the role.
    static func releaseRows() -> [MatrixRow] {
        let spec = jsonBody(APIFixture.spec())
        return [
            .bearer(.post, "/v1/releases", admits: [.steward], success: 201) { _ in spec },
            // The list and the dashboards' index answer everyone with what they may read (the
            // public releases; all published ones for the role); a bad token is still refused.
            .open(.get, "/v1/releases"),
            .bearer(.get, "/v1/releases/1", admits: [.researcher], success: 200),
            .bearer(.get, "/v1/releases/1/tables/t2-attrition.csv", admits: [.researcher], success: 200),
            .bearer(.get, "/v1/releases/1/tables/t2-attrition-estimates.csv", admits: [.researcher], success: 200),
            .bearer(.get, "/v1/releases/1/datapackage", admits: [.researcher], success: 200),
            // Refusals come before lookups: an unknown release is no different to a wrong role.
            .bearer(.get, "/v1/releases/99", admits: [.researcher], success: 404),
            .open(.get, "/v1/dashboards"),
        ] + ["time-to-decision", "time-to-charge", "funnel", "dispositions", "backlog", "victim-updates"].map {
            .bearer(.get, "/v1/dashboards/\($0)?cohort=2025Q1", admits: [.oversight], success: 200)
        } + [
            .bearer(.get, "/v1/dashboards/funnel?state=14", admits: [.oversight], success: 200),
            .bearer(.get, "/v1/dashboards/funnel/trend", admits: [.oversight], success: 200),
            .bearer(.get, "/v1/dashboards/funnel?release=99", admits: [.oversight], success: 404),
            // The dashboards' names are public (the index lists them): an unknown one is a 404 to all.
            .open(.get, "/v1/dashboards/no-such-metric", success: 404),
            // Opening release 1 to everyone: the steward only.
            .bearer(.post, "/v1/releases/1/public", admits: [.steward], success: 200),
            .open(.get, "/v1/releases/1"),
            .open(.get, "/v1/releases/1/datapackage"),
            .open(.get, "/v1/dashboards/funnel?cohort=2025Q1"),
            .open(.get, "/v1/dashboards/time-to-charge/trend"),
            // Still: an unknown release is refused to the public as a non-public one would be.
            .bearer(.get, "/v1/releases/99", admits: [.researcher], success: 404),
        ]
    }

    @Test("every endpoint admits exactly its roles: exact statuses for all credentials, and refusals change nothing")
    func matrix() async throws {
        let f = try await APIFixture()
        let batch = try BatchID.random()
        _ = try await f.server.ingest.submit(try f.server.batch(batchID: batch))
        let disposable = try await f.tokens.create(name: "Desechable", role: .oversight).record.id
        try await f.setBudget("1")
        try await f.submitCases(60, chargeEvery: 2)
        let rows = try Self.baseRows(f, batch: batch, disposableToken: disposable) + Self.releaseRows()
        let failures = try await Self.run(rows, fixture: f, receiptBatch: batch)
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")

        // Only the steward's requests changed anything: one agency added, one token added, one revoked.
        let registry = AgencyRegistry(f.database)
        #expect(try await registry.list().count == 3)
        #expect(try await registry.find("2").keys.map(\.status) == [.retired, .revoked])
        let active = try await f.tokens.list().map(\.name).sorted()
        #expect(active == ["Custodia", "Investigadora", "Nueva", "Observatorio"])
        #expect(try await BudgetLedger(database: f.database).entries().count == 1)
        #expect(try await ReleaseStore(f.database).list().map(\.id) == [1])
    }

    @Test("an application built without naming a store serves the token routes from the ingest pipeline's store")
    func defaultStore() async throws {
        let f = try await APIFixture()
        // ServerFixture.app() calls buildApplication(service:configuration:logger:), as plazo demo does.
        try await f.server.app().test(.router) { client in
            try await client.execute(uri: "/v1/ledger", method: .get, headers: APIFixture.bearer(f.steward)) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/v1/ledger", method: .get) { response in
                #expect(response.status == .unauthorized)
            }
        }
    }

    @Test("loopback without credentials does not open /metrics to a request relayed by a local proxy")
    func forwardedMetrics() async throws {
        let f = try await APIFixture()
        try await f.app().test(.router) { client in
            for header in ["X-Forwarded-For", "Forwarded", "X-Real-IP"] {
                let name = HTTPField.Name(header)!
                try await client.execute(uri: "/metrics", method: .get, headers: [name: "203.0.113.9"]) { response in
                    #expect(response.status == .unauthorized, "\(header)")
                    #expect(errorCode(response.body) == "missing_token")
                }
                try await client.execute(uri: "/metrics", method: .get, headers: [name: "203.0.113.9", .authorization: "Bearer \(f.steward)"]) { response in
                    #expect(response.status == .ok, "\(header)")
                }
            }
        }
    }

    @Test("a token revoked while the server runs is refused from the next request on")
    func revocationIsImmediate() async throws {
        let f = try await APIFixture()
        let issued = try await f.tokens.create(name: "Temporal", role: .steward)
        try await f.app().test(.router) { client in
            try await client.execute(uri: "/v1/ledger", method: .get, headers: APIFixture.bearer(issued.token)) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(
                uri: "/v1/tokens/\(issued.record.id)/revoke", method: .post, headers: APIFixture.bearer(f.steward), body: ByteBuffer(bytes: jsonBody([:]))
            ) { response in
                #expect(response.status == .ok)
                #expect(json(response.body)["active"] as? Bool == false)
            }
            try await client.execute(uri: "/v1/ledger", method: .get, headers: APIFixture.bearer(issued.token)) { response in
                #expect(response.status == .unauthorized)
                #expect(errorCode(response.body) == "revoked_token")
            }
        }
    }

    @Test("tokens created through the API work at once, are shown once, and listings never contain a token")
    func tokensThroughTheAPI() async throws {
        let f = try await APIFixture()
        try await f.app().test(.router) { client in
            var created = ""
            try await client.execute(
                uri: "/v1/tokens", method: .post, headers: APIFixture.bearer(f.steward),
                body: ByteBuffer(bytes: jsonBody(["name": "Comisión estatal", "role": "oversight"]))
            ) { response in
                #expect(response.status == .created)
                #expect(response.headers[.cacheControl] == "no-store")
                let body = json(response.body)
                created = body["token"] as? String ?? ""
                #expect(TokenStore.isWellFormed(created))
                #expect(body["role"] as? String == "oversight")
                #expect((body["created_by"] as? String)?.contains("Custodia") == true)
            }
            try await client.execute(uri: "/v1/tokens?include_revoked=true", method: .get, headers: APIFixture.bearer(f.steward)) { response in
                #expect(response.status == .ok)
                let text = String(buffer: response.body)
                for token in [created, f.steward, f.oversight, f.researcher, f.revoked] {
                    #expect(!text.contains(String(token.dropFirst(4))))
                }
                #expect((json(response.body)["tokens"] as? [Any])?.count == 5)
            }
            // The new oversight token is an oversight token: the steward routes refuse it.
            try await client.execute(uri: "/v1/ledger", method: .get, headers: APIFixture.bearer(created)) { response in
                #expect(response.status == .forbidden)
            }
            for (body, status, code) in [
                (["name": "x", "role": "admin"], 422, "invalid_role"),
                (["name": "Comisión estatal", "role": "oversight"], 409, "duplicate_token_name"),
                (["name": "", "role": "oversight"], 422, "invalid_token_name"),
                (["role": "oversight"], 400, "bad_json"),
            ] as [([String: String], Int, String)] {
                try await client.execute(
                    uri: "/v1/tokens", method: .post, headers: APIFixture.bearer(f.steward), body: ByteBuffer(bytes: jsonBody(body))
                ) { response in
                    #expect(Int(response.status.code) == status, "\(body)")
                    #expect(errorCode(response.body) == code)
                }
            }
            try await client.execute(uri: "/v1/tokens/999/revoke", method: .post, headers: APIFixture.bearer(f.steward)) { response in
                #expect(response.status == .notFound)
            }
        }
    }

    @Test("stewards manage agencies: register with a key file or hex, rotate, revoke; precise refusals")
    func agencies() async throws {
        let f = try await APIFixture()
        let key = try SigningKeyPair.generate()
        let keyFile = KeyFile(kind: .agencySigningPublic, keyID: KeyID.of(key.publicKey), created: KeyFile.timestamp(), key: SecretBytes(copying: key.publicKey.bytes))
        let steward = APIFixture.bearer(f.steward)
        try await f.app().test(.router) { client in
            try await client.execute(
                uri: "/v1/agencies", method: .post, headers: steward,
                body: ByteBuffer(bytes: jsonBody(["name": "Policía cibernética", "type": "police_cyber_unit", "public_key": keyFile.render()]))
            ) { response in
                #expect(response.status == .created)
                let body = json(response.body)
                #expect(body["id"] as? Int == 3)
                #expect(((body["keys"] as? [[String: Any]])?.first?["key_id"] as? String) == KeyID.of(key.publicKey).hex)
            }
            let refusals: [(String, [String: Any], Int, String)] = [
                ("/v1/agencies", ["name": "Policía cibernética", "type": "hotline", "public_key": Hex.encode(try SigningKeyPair.generate().publicKey.bytes)], 409, "duplicate_agency_name"),
                ("/v1/agencies", ["name": "Otra", "type": "hotline", "public_key": Hex.encode(key.publicKey.bytes)], 409, "key_already_registered"),
                ("/v1/agencies", ["name": "Otra", "type": "spaceship", "public_key": Hex.encode(key.publicKey.bytes)], 422, "invalid_agency_type"),
                ("/v1/agencies", ["name": "Otra", "type": "hotline", "public_key": "abcd"], 422, "invalid_public_key"),
                ("/v1/agencies", ["name": "Otra"], 400, "bad_json"),
                ("/v1/agencies/99/rotate", ["public_key": Hex.encode(try SigningKeyPair.generate().publicKey.bytes)], 404, "unknown_agency"),
                ("/v1/agencies/1/revoke", ["key_id": "0011223344556677"], 404, "unknown_key"),
                ("/v1/agencies/1/revoke", ["key_id": "zz"], 422, "invalid_key_id"),
            ]
            for (uri, body, status, code) in refusals {
                try await client.execute(uri: uri, method: .post, headers: steward, body: ByteBuffer(bytes: jsonBody(body))) { response in
                    #expect(Int(response.status.code) == status, "\(uri) \(code)")
                    #expect(errorCode(response.body) == code, "\(uri)")
                }
            }
            try await client.execute(uri: "/v1/agencies/Fiscalía%20Jalisco", method: .get, headers: steward) { response in
                #expect(response.status == .ok)
                #expect(json(response.body)["id"] as? Int == 1)
            }
            try await client.execute(uri: "/v1/agencies/1/revoke", method: .post, headers: steward, body: ByteBuffer(bytes: jsonBody([:]))) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/v1/agencies/1/revoke", method: .post, headers: steward, body: ByteBuffer(bytes: jsonBody([:]))) { response in
                #expect(response.status == .conflict)
                #expect(errorCode(response.body) == "no_active_key")
            }
        }
        // The revoked key no longer submits.
        await #expect(throws: (any Error).self) { _ = try await f.server.ingest.submit(try f.server.batch()) }
    }
}
