import AsyncHTTPClient
import ArgumentParser
import NIOSSL

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
