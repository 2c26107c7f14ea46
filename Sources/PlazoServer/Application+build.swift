import Foundation
import Hummingbird
import Logging
import NIOCore
import PlazoIngest
import PlazoReleases
import PlazoStore
import PlazoWire

/// The request context of every Plazo route: Hummingbird's core storage, the peer address
/// (`/metrics` is answered on loopback without a token) and the bearer token that authenticated
/// the request, if any.
public struct PlazoRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The client's address, when the transport knows it.
    public let remoteAddress: SocketAddress?
    /// The token that authenticated this request (set by the role middleware; nil on the agency
    /// routes and on loopback `/metrics`).
    public var token: TokenRecord?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
        self.token = nil
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
///   - database: the store holding tokens, the ledger and releases (default: the ingest
///     pipeline's own store, which is what a service wants).
///   - onServerRunning: called with the bound port once the server listens (used by tests and by
///     `plazo serve` to print the URL when port 0 was asked for).
public func buildApplication(
    ingest: IngestService, database: AppDatabase? = nil, configuration: ServerConfiguration = ServerConfiguration(), logger: Logger,
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let metrics = PlazoMetrics()
    let router = buildRouter(ingest: ingest, metrics: metrics, database: database)
    return Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "plazo"),
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? configuration.port) },
        logger: logger
    )
}

/// The routes (see `specs/openapi.yaml`; who may call what: `docs/api-guide.md`).
///
/// | routes | admitted |
/// |---|---|
/// | `POST /v1/batches`, `GET /v1/batches/{id}/receipt` | agencies (signature in the batch / `Plazo-Agency` header) |
/// | `GET /v1/dashboards/...` | `oversight` token |
/// | `GET /v1/releases...` | `researcher` token |
/// | `POST /v1/releases`, `/v1/ledger`, `/v1/agencies...`, `/v1/tokens...` | `steward` token |
/// | `GET /metrics` | `steward` token, or loopback without credentials |
/// | `GET /healthz` | anyone |
public func buildRouter(ingest: IngestService, metrics: PlazoMetrics, database: AppDatabase? = nil) -> Router<PlazoRequestContext> {
    let database = database ?? ingest.database
    let router = Router(context: PlazoRequestContext.self)
    router.add(middleware: LogRequestsMiddleware(.info))
    router.add(middleware: ErrorBodyMiddleware())

    router.get("/healthz") { _, _ -> Response in
        jsonResponse(.ok, bytes: Array(#"{"status":"ok"}"#.utf8))
    }

    @Sendable func metricsText(_ request: Request, _ context: PlazoRequestContext) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: metrics.exposition()))
        )
    }

    BatchController(ingest: ingest, metrics: metrics).addRoutes(to: router.group("/v1/batches"))

    let tokens = TokenStore(database)
    let clock: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }
    // Operational counters are for the operator: a steward token, or the service host itself.
    router.group().add(middleware: RequireRole([.steward], tokens: tokens, loopbackSuffices: true))
        .get("/metrics") { request, context in metricsText(request, context) }

    let steward = router.group("/v1").add(middleware: RequireRole([.steward], tokens: tokens))
    StewardController(ledger: BudgetLedger(database: database), registry: ingest.registry, tokens: tokens, clock: clock)
        .addRoutes(to: steward)

    // The ingest pipeline's own database object: a release holds its writer from projection to pinning,
    // which blocks ingest only when both use the same connection pool.
    let cache = ReleaseCache(engine: ReleaseEngine(database: ingest.database))
    let releases = ReleasesController(ingest: ingest, cache: cache)
    releases.addStewardRoutes(to: steward)
    releases.addResearcherRoutes(to: router.group("/v1").add(middleware: RequireRole([.researcher], tokens: tokens)))
    DashboardController(cache: cache).addRoutes(to: router.group("/v1").add(middleware: RequireRole([.oversight], tokens: tokens)))
    return router
}
