import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import PlazoApp
import PlazoStore
import PlazoWire

@testable import PlazoServer

/// The whole API (agency routes and token routes) over a ``ServerFixture``'s store, with one token
/// of each role and a revoked steward token.
struct APIFixture {
    let server: ServerFixture
    let database: AppDatabase
    let tokens: TokenStore
    let oversight: String
    let researcher: String
    let steward: String
    let revoked: String
    /// A syntactically valid token that was never issued.
    let wrong = "plz_" + String(repeating: "A", count: 43)

    init() async throws {
        server = try await ServerFixture()
        database = try await AppDatabase.open(location: AppDatabase.testLocation(in: server.directory))
        tokens = TokenStore(database)
        oversight = try await tokens.create(name: "Observatorio", role: .oversight).token
        researcher = try await tokens.create(name: "Investigadora", role: .researcher).token
        steward = try await tokens.create(name: "Custodia", role: .steward).token
        let old = try await tokens.create(name: "Antigua custodia", role: .steward)
        _ = try await tokens.revoke("\(old.record.id)")
        revoked = old.token
    }

    func app() -> some ApplicationProtocol {
        var logger = Logger(label: "plazo.test")
        logger.logLevel = .warning
        return buildApplication(service: PlazoService(ingest: server.ingest), configuration: ServerConfiguration(host: "127.0.0.1", port: 0), logger: logger
        )
    }

    static func bearer(_ token: String) -> HTTPFields { [.authorization: "Bearer \(token)"] }
}
