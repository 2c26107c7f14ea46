import ArgumentParser
import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import NIOSSL
import PlazoAgency

/// Options for reaching the service over HTTPS with a private certificate authority.
struct TLSClientOptions: ParsableArguments {
    @Option(name: .long, help: "Trust this CA certificate file (PEM) for an https:// server, besides the system's roots.")
    var caFile: String?

    /// An HTTP client that trusts `--ca-file` (and the system roots) for HTTPS.
    func makeClient() throws -> HTTPClient {
        guard let caFile else { return HTTPClient(eventLoopGroupProvider: .singleton) }
        var tls = TLSConfiguration.makeClientConfiguration()
        do {
            let roots = try NIOSSLCertificate.fromPEMFile(caFile)
            tls.additionalTrustRoots = [.certificates(roots)]
        } catch {
            throw ValidationError("cannot read the CA certificate \(caFile): \(error)")
        }
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: HTTPClient.Configuration(tlsConfiguration: tls))
    }
}

/// The submitter's way to the service: `POST` to the batch URL with AsyncHTTPClient (a minute's
/// timeout, answers up to 16 MiB).
struct HTTPBatchTransport: BatchTransport {
    let client: HTTPClient
    /// The `/v1/batches` URL.
    let url: String

    func post(batch: [UInt8]) async throws -> (status: Int, body: [UInt8]) {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/octet-stream")
        request.body = .bytes(ByteBuffer(bytes: batch))
        let response = try await client.execute(request, timeout: .seconds(60))
        let body = try await response.body.collect(upTo: 1 << 24)
        return (Int(response.status.code), Array(buffer: body))
    }

    func explain(_ error: any Error) -> String { Self.explain(error, server: url) }

    /// A network failure in words an agency can act on (a refused connection is not a "reset").
    static func explain(_ error: any Error, server: String) -> String {
        let text = String(describing: error)
        if text.contains("connectionRefused") || text.contains("ECONNREFUSED") || text.contains("Connection refused")
            || text.contains("connect(descriptor") {
            return "cannot connect to \(server): connection refused (is the service running, and is the address right?)"
        }
        if text.contains("remoteConnectionClosed") || text.contains("connectionReset") {
            return "the service closed the connection before answering"
        }
        if text.contains("deadlineExceeded") || text.contains("timeout") { return "no answer from \(server) in time" }
        if text.contains("connectTimeout") { return "cannot connect to \(server): timed out" }
        return text
    }
}
