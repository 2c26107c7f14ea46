import Foundation
import Hummingbird
import Logging
import NIOCore
import PlazoIngest
import PlazoStore
import PlazoWire

/// The request context of every Plazo route: Hummingbird's core storage plus the peer address
/// (operator endpoints are answered on loopback only).
public struct PlazoRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The client's address, when the transport knows it.
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }

    /// Bodies larger than the largest valid batch are refused (413) before they are read whole.
    public var maxUploadSize: Int { BatchFormat.maxBatchSize }

    /// Whether the request comes from this machine (loopback), or the transport gives no address
    /// (in-process tests).
    public var isLoopback: Bool {
        guard let remoteAddress else { return true }
        switch remoteAddress {
        case let .v4(a): return a.host.hasPrefix("127.")
        case let .v6(a): return a.host == "::1" || a.host.hasPrefix("::ffff:127.")
        case .unixDomainSocket: return true
        }
    }
}

/// Server settings. Every field has a default that works with no configuration.
public struct ServerConfiguration: Sendable {
    /// Address to bind (default loopback only).
    public var host: String = "127.0.0.1"
    /// Port (default 8080; 0 picks a free port).
    public var port: Int = 8080

    public init(host: String = "127.0.0.1", port: Int = 8080) {
        self.host = host
        self.port = port
    }
}

/// Builds the Plazo HTTP application over an ingest pipeline.
///
/// - Parameters:
///   - onServerRunning: called with the bound port once the server listens (used by tests and by
///     `plazo serve` to print the URL when port 0 was asked for).
public func buildApplication(
    ingest: IngestService, configuration: ServerConfiguration = ServerConfiguration(), logger: Logger,
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let metrics = PlazoMetrics()
    let router = buildRouter(ingest: ingest, metrics: metrics)
    return Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "plazo"),
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? configuration.port) },
        logger: logger
    )
}

/// The routes (see `specs/openapi.yaml`).
public func buildRouter(ingest: IngestService, metrics: PlazoMetrics) -> Router<PlazoRequestContext> {
    let router = Router(context: PlazoRequestContext.self)
    router.add(middleware: LogRequestsMiddleware(.info))
    router.add(middleware: ErrorBodyMiddleware())

    router.get("/healthz") { _, _ -> Response in
        jsonResponse(.ok, ["status": "ok"])
    }

    router.get("/metrics") { _, context -> Response in
        // Operational counters are for the operator: loopback only.
        guard context.isLoopback else {
            return errorResponse(.forbidden, code: "operator_only", message: "metrics are served to the service host only")
        }
        return Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: metrics.exposition()))
        )
    }

    BatchController(ingest: ingest, metrics: metrics).addRoutes(to: router.group("/v1/batches"))
    return router
}
