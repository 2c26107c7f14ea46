import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import NIOSSL
import Logging
import NIOCore
import PlazoApp
import PlazoLedger
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
    /// What a reader may see on the routes open to the public (set by ``PublicOrRole``): every
    /// published release, or the public ones only.
    public var readAccess: ReadAccess = .publicOnly

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
///
/// The connection limits keep one client from starving the others (`docs/operations.md` §3): a
/// connection that sends nothing for `idleTimeout` is closed; a request head must arrive whole
/// within `headerTimeout` of the accept (or of the previous response) and its body within
/// `bodyTimeout` (``RequestDeadlineHandler``: an idle timeout alone does not stop a client that
/// trickles a byte every few seconds); and at most `maxConnections` are open at once, kept below
/// the process's open-file limit so that the store and the log can always open files. At that cap
/// a new connection is still accepted when an open one is idle: the longest-idle one is closed
/// for it, kept-alive connections first (``ConnectionRoster``).
public struct ServerConfiguration: Sendable {
    /// Address to bind (default loopback only).
    public var host: String = "127.0.0.1"
    /// Port (default 8080; 0 picks a free port).
    public var port: Int = 8080
    /// Close a connection with no traffic for this long (default 60 s).
    public var idleTimeout: Duration = .seconds(60)
    /// The whole request head must arrive within this (default 10 s).
    public var headerTimeout: Duration = .seconds(10)
    /// The whole request body must arrive within this of the head (default 60 s: a full batch is
    /// about 330 KB).
    public var bodyTimeout: Duration = .seconds(60)
    /// Most connections open at once (default: 4,096, or the open-file limit less 64 if lower).
    public var maxConnections: Int = ServerConfiguration.defaultMaxConnections
    /// TLS settings (``ServerTLS/load(certificateChain:privateKey:)``); nil serves plain HTTP.
    public var tls: ServerTLS?

    public init(
        host: String = "127.0.0.1", port: Int = 8080, idleTimeout: Duration = .seconds(60), headerTimeout: Duration = .seconds(10),
        bodyTimeout: Duration = .seconds(60), maxConnections: Int = ServerConfiguration.defaultMaxConnections,
        tls: ServerTLS? = nil
    ) {
        self.host = host
        self.port = port
        self.idleTimeout = idleTimeout
        self.headerTimeout = headerTimeout
        self.bodyTimeout = bodyTimeout
        self.maxConnections = maxConnections
        self.tls = tls
    }

    /// 4,096, or the soft open-file limit less 64 when that is lower.
    public static var defaultMaxConnections: Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 4096 }
        return max(16, min(4096, Int(clamping: limit.rlim_cur) - 64))
    }
}

/// The TLS certificate or key could not be loaded.
public struct TLSSetupError: Error, CustomStringConvertible {
    /// What went wrong, naming the file.
    public let description: String
}

/// The server's TLS settings, loaded from PEM files (TLS 1.2 and later, NIO's default ciphers).
public struct ServerTLS: Sendable {
    let configuration: TLSConfiguration

    /// Loads a PEM certificate chain and its private key; throws ``TLSSetupError`` naming the file.
    public static func load(certificateChain: String, privateKey: String) throws -> ServerTLS {
        let chain: [NIOSSLCertificate]
        do { chain = try NIOSSLCertificate.fromPEMFile(certificateChain) } catch {
            throw TLSSetupError(description: "cannot read the TLS certificate chain \(certificateChain): \(error)")
        }
        let key: NIOSSLPrivateKey
        do { key = try NIOSSLPrivateKey(file: privateKey, format: .pem) } catch {
            throw TLSSetupError(description: "cannot read the TLS private key \(privateKey): \(error)")
        }
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        tls.minimumTLSVersion = .tlsv12
        // Build the context once here, so that a key that does not match its certificate is
        // refused at start with a sentence, not when the first client connects.
        do { _ = try NIOSSLContext(configuration: tls) } catch {
            throw TLSSetupError(description: "the TLS key \(privateKey) and certificate \(certificateChain) cannot be used together: \(error)")
        }
        return ServerTLS(configuration: tls)
    }
}

extension Duration {
    var timeAmount: TimeAmount {
        let c = components
        return .nanoseconds(c.seconds * 1_000_000_000 + c.attoseconds / 1_000_000_000)
    }
}

/// Builds the Plazo HTTP application over a service (``PlazoService``: the store, ingest, the case
/// index and releases).
///
/// - Parameters:
///   - onServerRunning: called with the bound port once the server listens (used by tests and by
///     `plazo serve` to print the URL when port 0 was asked for).
public func buildApplication(
    service: PlazoService, configuration: ServerConfiguration = ServerConfiguration(), logger: Logger,
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let metrics = PlazoMetrics()
    let router = buildRouter(service: service, metrics: metrics)
    let head = configuration.headerTimeout.timeAmount, body = configuration.bodyTimeout.timeAmount
    // At the cap, the longest-idle connection is shed for a new one (``ConnectionRoster``).
    let roster = ConnectionRoster(limit: configuration.maxConnections, logger: logger) { metrics.connectionShed() }
    let http1 = HTTPServerBuilder.http1(configuration: .init(
        additionalChannelHandlers: [RequestDeadlineHandler(head: head, body: body, roster: roster)],
        idleTimeout: configuration.idleTimeout.timeAmount))
    // Building the TLS layer only fails for a configuration NIOSSL refuses, which `ServerTLS.load`
    // has already built once; plain HTTP is never silently served instead.
    let server: HTTPServerBuilder = configuration.tls.map { tls in
        do { return try .tls(http1, tlsConfiguration: tls.configuration) } catch {
            preconditionFailure("TLS configuration rejected after loading: \(error)")
        }
    } ?? http1
    return Application(
        router: router,
        server: server,
        configuration: .init(
            address: .hostname(configuration.host, port: configuration.port), serverName: "plazo",
            availableConnectionsDelegate: SheddingConnectionLimit(roster: roster)),
        onServerRunning: { channel in
            roster.serverRunning(channel)
            await onServerRunning(channel.localAddress?.port ?? configuration.port)
        },
        logger: logger
    )
}


/// The routes (see `specs/openapi.yaml`; who may call what: `docs/api-guide.md`).
///
/// | routes | admitted |
/// |---|---|
/// | `POST /v1/batches`, `GET /v1/batches/{id}/receipt`, `GET /v1/quality` | agencies (signature in the batch / `Plazo-Agency` header) |
/// | `GET /v1/dashboards/...` | anyone for public releases; `oversight` token for the others |
/// | `GET /v1/releases...` | anyone for public releases; `researcher` token for the others |
/// | `POST /v1/releases`, `/v1/ledger`, `/v1/agencies...`, `/v1/tokens...` | `steward` token |
/// | `GET /metrics` | `steward` token, or loopback without credentials |
/// | `GET /healthz` | anyone |
/// | `GET /`, `/dashboard.js`, `/dashboard.css` (the web page) | anyone |
public func buildRouter(service: PlazoService, metrics: PlazoMetrics) -> Router<PlazoRequestContext> {
    let router = Router(context: PlazoRequestContext.self)
    router.add(middleware: RequestLogMiddleware(level: .info))
    router.add(middleware: ErrorBodyMiddleware())

    router.get("/healthz") { _, _ -> Response in
        jsonResponse(.ok, bytes: Array(#"{"status":"ok"}"#.utf8))
    }
    // The web dashboard (`WebPage.swift`): public, like the public releases it reads.
    WebPage.addRoutes(to: router)

    @Sendable func metricsText(_ request: Request, _ context: PlazoRequestContext) -> Response {
        metrics.setAppliedBatch(service.appliedBatch)
        let size = service.indexSize
        metrics.setIndexSize(cases: size.cases, events: size.events)
        return Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: metrics.exposition()))
        )
    }

    BatchController(service: service, metrics: metrics).addRoutes(to: router.group("/v1/batches"))
    let quality = QualityController(service: service)
    quality.addAgencyRoute(to: router)

    let tokens = service.tokens
    let clock: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }
    // Operational counters are for the operator: a steward token, or the service host itself.
    router.group().add(middleware: RequireRole([.steward], tokens: tokens, loopbackSuffices: true))
        .get("/metrics") { request, context in metricsText(request, context) }

    let steward = router.group("/v1").add(middleware: RequireRole([.steward], tokens: tokens))
    StewardController(ledger: BudgetLedger(database: service.database), registry: service.registry, tokens: tokens, clock: clock)
        .addRoutes(to: steward)
    quality.addStewardRoute(to: steward)

    let cache = ReleaseCache(engine: service.releases.engine)
    let releases = ReleasesController(desk: service.releases, cache: cache)
    releases.addStewardRoutes(to: steward)
    // Public releases are read by anyone; the others by the role (`PublicOrRole`).
    releases.addResearcherRoutes(to: router.group("/v1").add(middleware: PublicOrRole([.researcher], tokens: tokens)))
    DashboardController(cache: cache).addRoutes(to: router.group("/v1").add(middleware: PublicOrRole([.oversight], tokens: tokens)))
    return router
}
