import Foundation
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Tokens end to end: created with `plazo tokens`, used against a real `plazo serve` over a socket,
/// revoked by the CLI while the server runs.
@Suite("tokens through the plazo binary", .serialized)
struct LiveTokenTests {
    func request(_ url: String, token: String? = nil, headers: [String: String] = [:]) async throws -> (status: Int, body: String, challenge: String?) {
        var request = URLRequest(url: URL(string: url)!)
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        return (http.statusCode, String(decoding: data, as: UTF8.self), http.value(forHTTPHeaderField: "WWW-Authenticate"))
    }

    @Test("plazo serve admits CLI-created tokens by role, serves /metrics to loopback, and refuses a token the CLI revokes")
    func liveTokens() async throws {
        let dir = NSTemporaryDirectory() + "plazo-live-tokens-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        await #expect(try PlazoProcess.run(["keys", "service", "--out", "keys"], in: dir).status == 0)
        let steward = try await PlazoProcess.run(["tokens", "create", "--role", "steward", "--name", "Operaciones"], in: dir).out
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let researcher = try await PlazoProcess.run(["tokens", "create", "--role", "researcher", "--name", "Universidad"], in: dir).out
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let server = try await ServerProcess(directory: dir)
        defer { server.stop() }

        let ledger = try await request(server.url + "/v1/ledger", token: steward)
        #expect(ledger.status == 200, "\(ledger.body)")
        #expect(try await request(server.url + "/v1/ledger", token: researcher).status == 403)
        let anonymous = try await request(server.url + "/v1/ledger")
        #expect(anonymous.status == 401)
        #expect(anonymous.challenge?.hasPrefix("Bearer") == true)
        let releases = try await request(server.url + "/v1/releases", token: researcher)
        #expect(releases.status == 200)
        #expect(releases.body.contains("\"releases\":[]"))

        // The test runs on the server's host: loopback without credentials reads the metrics,
        // a relayed request does not.
        #expect(try await request(server.url + "/metrics").status == 200)
        #expect(try await request(server.url + "/metrics", headers: ["X-Forwarded-For": "198.51.100.7"]).status == 401)
        #expect(try await request(server.url + "/metrics", token: researcher).status == 403)

        await #expect(try PlazoProcess.run(["tokens", "revoke", "Operaciones"], in: dir).status == 0)
        let revoked = try await request(server.url + "/v1/ledger", token: steward)
        #expect(revoked.status == 401)
        #expect(revoked.body.contains("revoked_token"))
    }
}
