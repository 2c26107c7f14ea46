import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import PlazoModel
import PlazoSodium
import Testing

@testable import PlazoServer

/// The steward's request bodies through `request.decode(as:context:)` (``PlazoRequestDecoder``)
/// and answers through the context's encoder: refusals name the field and never the value, keys
/// are snake_case only, an optional body may be empty, and a body over 256 KB is refused unread.
@Suite("steward bodies: decoded with Plazo's refusals, answered in snake_case")
struct StewardBodyTests {
    @Test("bad bodies are 400 bad_json naming the field; camelCase keys are not read; over 256 KB is 413; an empty revoke body revokes")
    func bodies() async throws {
        let f = try await APIFixture()
        let s = APIFixture.bearer(f.steward)
        let key = Hex.encode(try SigningKeyPair.generate().publicKey.bytes)
        try await f.app().test(.router) { client in
            func post(_ uri: String, _ body: [UInt8]) async throws -> (HTTPResponse.Status, String) {
                let r = try await client.execute(uri: uri, method: .post, headers: s, body: ByteBuffer(bytes: body))
                return (r.status, String(buffer: r.body))
            }
            let camel = try await post("/v1/agencies", jsonBody(["name": "Nueva", "type": "hotline", "publicKey": key]))
            #expect(camel.0 == .badRequest)
            #expect(camel.1.contains(#""code":"bad_json""#) && camel.1.contains("missing field 'public_key'"))
            let wrongType = try await post("/v1/agencies", jsonBody(["name": "Nueva", "type": 3, "public_key": key]))
            #expect(wrongType.0 == .badRequest && wrongType.1.contains("'type' has the wrong type"))
            #expect(try await post("/v1/agencies", Array("not json".utf8)).1.contains("the body is not a valid request: not valid JSON"))
            let huge = try await post("/v1/agencies", Array(#"{"name": ""#.utf8) + Array(repeating: UInt8(ascii: "x"), count: 300_000))
            #expect(huge.0 == .contentTooLarge && huge.1.contains(#""code":"too_large""#))

            let created = try await post("/v1/agencies", jsonBody(["name": "Fiscalía Nueva", "type": "state_prosecutor", "public_key": key]))
            #expect(created.0 == .created)
            let agency = json(ByteBuffer(string: created.1))
            #expect(Set(agency.keys) == ["id", "name", "type", "created_at", "keys"])
            let keys = agency["keys"] as? [[String: Any]] ?? []
            #expect(keys.first.map { Set($0.keys) } == ["key_id", "public_key", "status", "added_at"])

            // No body revokes the active key; the name in the path is percent-decoded.
            let revoked = try await post("/v1/agencies/Fiscal%C3%ADa%20Nueva/revoke", [])
            #expect(revoked.0 == .ok)
            #expect((json(ByteBuffer(string: revoked.1))["keys"] as? [[String: Any]])?.first?["retired_at"] is String)

            let token = try await client.execute(
                uri: "/v1/tokens", method: .post, headers: s, body: ByteBuffer(bytes: jsonBody(["name": "nuevo", "role": "oversight"])))
            #expect(token.status == .created && token.headers[.cacheControl] == "no-store" && token.headers[.contentType] == "application/json")
            #expect(Set(json(token.body).keys) == ["id", "name", "role", "created_at", "created_by", "active", "token"])
        }
    }
}
