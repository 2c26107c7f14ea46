import Foundation
import GRDB
import PlazoStore
import Testing

@Suite("API tokens")
struct TokenStoreTests {
    @Test("a token is plz_ and 43 base64url characters, authenticates to its role, and only its hash is stored")
    func createAndAuthenticate() async throws {
        let database = try await AppDatabase.forTesting()
        let store = TokenStore(database)
        let issued = try await store.create(name: "Observatorio ciudadano", role: .oversight)
        #expect(issued.token.hasPrefix("plz_"))
        #expect(issued.token.count == TokenStore.tokenLength)
        #expect(TokenStore.isWellFormed(issued.token))
        #expect(issued.record.role == .oversight)
        #expect(issued.record.createdBy == "cli")
        let found = try await store.authenticate(issued.token)
        #expect(found == issued.record)

        // Nothing in the table contains the token, its secret part, or its base64url text.
        let secretPart = String(issued.token.dropFirst(4))
        let dump = try await database.read { db in
            try await db.rows("SELECT * FROM api_token").flatMap { row in
                try ["id", "name", "role", "hash_prefix", "token_hash", "created_at", "created_by", "revoked_at"].map { column -> String in
                    switch try row.value(column) {
                    case let .blob(bytes): String(decoding: bytes, as: UTF8.self) + Data(bytes).base64EncodedString()
                    case let .text(s): s
                    case let .integer(i): "\(i)"
                    case .null: "NULL"
                    }
                }
            }.joined(separator: "|")
        }
        #expect(!dump.contains(secretPart))
        #expect(!dump.contains(String(secretPart.prefix(12))))
    }

    @Test("unknown, malformed and revoked tokens are refused with distinct errors")
    func refusals() async throws {
        let store = TokenStore(try await AppDatabase.forTesting())
        let issued = try await store.create(name: "Custodia", role: .steward)
        await #expect(throws: TokenError.malformed) { try await store.authenticate("hello") }
        await #expect(throws: TokenError.malformed) { try await store.authenticate(issued.token + "A") }
        await #expect(throws: TokenError.malformed) { try await store.authenticate("plz_" + String(repeating: "!", count: 43)) }
        await #expect(throws: TokenError.unknown) { try await store.authenticate("plz_" + String(repeating: "A", count: 43)) }
        // One character changed.
        var chars = Array(issued.token)
        chars[10] = chars[10] == "A" ? "B" : "A"
        await #expect(throws: TokenError.unknown) { try await store.authenticate(String(chars)) }

        let revoked = try await store.revoke("Custodia")
        #expect(revoked.revokedAt != nil)
        await #expect(throws: TokenError.revoked) { try await store.authenticate(issued.token) }
        await #expect(throws: TokenError.alreadyRevoked(revoked.id)) { try await store.revoke("\(revoked.id)") }
        await #expect(throws: TokenError.unknownToken("nobody")) { try await store.revoke("nobody") }
    }

    @Test("names are unique among active tokens and reusable after revocation; list hides revoked ones by default")
    func namesAndListing() async throws {
        let store = TokenStore(try await AppDatabase.forTesting())
        let first = try await store.create(name: "INEGI", role: .researcher)
        await #expect(throws: TokenError.duplicateName("INEGI")) { try await store.create(name: "INEGI", role: .steward) }
        await #expect(throws: TokenError.invalidName) { try await store.create(name: "  ", role: .steward) }
        await #expect(throws: TokenError.invalidName) { try await store.create(name: "a\nb", role: .steward) }
        _ = try await store.revoke("INEGI")
        let second = try await store.create(name: "INEGI", role: .researcher)
        #expect(second.token != first.token)
        #expect(try await store.list().map(\.id) == [second.record.id])
        #expect(try await store.list(includeRevoked: true).map(\.id) == [first.record.id, second.record.id])
    }

    @Test("tokens come from the CSPRNG: 200 of them are distinct")
    func distinct() async throws {
        let store = TokenStore(try await AppDatabase.forTesting())
        var seen = Set<String>()
        for i in 0..<200 { seen.insert(try await store.create(name: "t\(i)", role: .oversight).token) }
        #expect(seen.count == 200)
    }

    @Test("the tokens table refuses deletion: a token is revoked, its record stays")
    func noDelete() async throws {
        let database = try await AppDatabase.forTesting()
        _ = try await TokenStore(database).create(name: "x", role: .steward)
        await #expect(throws: (any Error).self) { try await database.write { db in try await db.execute("DELETE FROM api_token") } }
    }
}
