import Foundation
import PlazoStore
import Testing

/// `plazo tokens` through the binary (the token store itself is tested in PlazoStoreTests).
@Suite("plazo tokens")
struct TokenCommandTests {
    @Test("plazo tokens create prints the token once on stdout; list never shows it; revoke refuses it afterwards")
    func commandLine() async throws {
        let directory = NSTemporaryDirectory() + "plazo-tokens-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let created = try await PlazoProcess.run(["tokens", "create", "--role", "researcher", "--name", "Universidad"], in: directory)
        #expect(created.status == 0, "\(created.err)")
        let token = created.out.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(TokenStore.isWellFormed(token))
        #expect(created.err.contains("only time"))
        #expect(!created.err.contains(token))

        let listed = try await PlazoProcess.run(["tokens", "list"], in: directory)
        #expect(listed.status == 0)
        #expect(listed.out.contains("researcher\tUniversidad"))
        #expect(!listed.out.contains(String(token.dropFirst(4))))

        let bad = try await PlazoProcess.run(["tokens", "create", "--role", "admin", "--name", "x"], in: directory)
        #expect(bad.status != 0)

        let revoked = try await PlazoProcess.run(["tokens", "revoke", "Universidad"], in: directory)
        #expect(revoked.status == 0, "\(revoked.err)")
        let store = TokenStore(try AppDatabase.open(path: directory + "/plazo.sqlite"))
        await #expect(throws: TokenError.revoked) { try await store.authenticate(token) }
    }
}
