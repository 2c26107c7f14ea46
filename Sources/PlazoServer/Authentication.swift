import Foundation
import HTTPTypes
import Hummingbird
import Logging
import PlazoApp
import PlazoStore

/// The bearer-token side of the API (`docs/api-guide.md`): `Authorization: Bearer plz_...`
/// names a token, the token has a role, and each route admits exactly the roles that need it.
///
/// | answer | when |
/// |---|---|
/// | 401 `missing_token` | no `Authorization` header |
/// | 401 `malformed_authorization` | a scheme other than `Bearer` (e.g. an agency signature) |
/// | 401 `invalid_token` | not a Plazo token, or no such token |
/// | 401 `revoked_token` | the token was revoked |
/// | 403 `insufficient_role` | a valid token whose role this route does not admit |
///
/// Every 401 carries `WWW-Authenticate: Bearer realm="plazo"` (RFC 6750 §3). The token itself is
/// never logged nor echoed; log lines name the token's id and role.
struct RequireRole: RouterMiddleware {
    typealias Context = PlazoRequestContext

    /// The token store.
    let tokens: TokenStore
    /// The roles admitted.
    let roles: Set<TokenRole>
    /// When true, a request without credentials from the service host itself (loopback, with no
    /// proxy forwarding headers) is admitted too: the operator's `/metrics`.
    var loopbackSuffices = false

    init(_ roles: Set<TokenRole>, tokens: TokenStore, loopbackSuffices: Bool = false) {
        self.tokens = tokens
        self.roles = roles
        self.loopbackSuffices = loopbackSuffices
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let header = request.headers[.authorization]
        if header == nil, loopbackSuffices, context.isLoopback, !Self.isForwarded(request) {
            return try await next(request, context)
        }
        let token: TokenRecord
        do { token = try await Self.authenticate(header, tokens: tokens) } catch {
            context.logger.notice("request refused", metadata: ["auth.reason": "\(error.code)"])
            throw error
        }
        guard roles.contains(token.role) else {
            context.logger.notice(
                "request refused", metadata: ["auth.reason": "insufficient_role", "token.id": "\(token.id)", "token.role": "\(token.role)"]
            )
            let admitted = roles.map(\.rawValue).sorted().joined(separator: " or ")
            throw APIError(
                .forbidden, "insufficient_role", "this endpoint is for the \(admitted) role; the token's role is \(token.role)",
                headers: [.wwwAuthenticate: #"Bearer realm="plazo", error="insufficient_scope""#]
            )
        }
        var context = context
        context.token = token
        context.logger[metadataKey: "token.id"] = "\(token.id)"
        context.logger[metadataKey: "token.role"] = "\(token.role)"
        return try await next(request, context)
    }

    /// A 401 with the bearer challenge (RFC 6750 §3): `error="invalid_token"` unless the request
    /// had no bearer credentials at all.
    static func unauthorized(_ code: String, _ message: String) -> APIError {
        let challenge = code == "missing_token" || code == "malformed_authorization"
            ? #"Bearer realm="plazo""#
            : #"Bearer realm="plazo", error="invalid_token""#
        return APIError(.unauthorized, code, message, headers: [.wwwAuthenticate: challenge])
    }

    /// The token named by an `Authorization` header value, or the 401 that refuses it.
    static func authenticate(_ header: String?, tokens: TokenStore) async throws(APIError) -> TokenRecord {
        guard let header else {
            throw unauthorized("missing_token", "this endpoint needs an 'Authorization: Bearer <token>' header")
        }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw unauthorized("malformed_authorization", "this endpoint takes a bearer token ('Authorization: Bearer <token>')")
        }
        let presented = parts[1].trimmingCharacters(in: .whitespaces)
        do {
            // One store read (the task is suspended while the store answers).
            return try await tokens.authenticate(presented)
        } catch {
            switch error {
            case .revoked: throw unauthorized(error.code, error.description)
            case .malformed, .unknown: throw unauthorized("invalid_token", TokenError.unknown.description)
            default:
                // A store that cannot be read refuses rather than admits, and says so: the token
                // may well be valid, the request can be repeated (503, not 401).
                throw APIError(
                    .serviceUnavailable, "store_unavailable",
                    "the bearer token could not be checked because the store cannot be read now; nothing was done, try again")
            }
        }
    }

    /// A request relayed by a proxy on the same host is not the operator's own: loopback alone
    /// does not admit it.
    static func isForwarded(_ request: Request) -> Bool {
        request.headers[HTTPField.Name("Forwarded")!] != nil || request.headers[HTTPField.Name("X-Forwarded-For")!] != nil
            || request.headers[HTTPField.Name("X-Real-IP")!] != nil
    }
}

/// What a reader may see on the routes open to the public.
public enum ReadAccess: Sendable {
    /// Every published release (a token of the route's role).
    case allPublished
    /// Public releases only (no token, or a token of another role).
    case publicOnly
}

/// The routes that answer everyone about **public** releases, and holders of a token of `roles`
/// about every published release (dashboards: `oversight`; release documents and Data Packages:
/// `researcher`). No `Authorization` header reads the public releases; a header that does not
/// authenticate is refused (401) rather than ignored, so that a mistyped token is noticed; a valid
/// token of another role reads what the public reads. The handlers refuse a non-public release
/// to a public reader with 401 (no token) or 403 (another role), never by pretending it is missing.
struct PublicOrRole: RouterMiddleware {
    typealias Context = PlazoRequestContext

    let tokens: TokenStore
    let roles: Set<TokenRole>

    init(_ roles: Set<TokenRole>, tokens: TokenStore) {
        self.roles = roles
        self.tokens = tokens
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.readAccess = .publicOnly
        guard let header = request.headers[.authorization] else { return try await next(request, context) }
        let token: TokenRecord
        do { token = try await RequireRole.authenticate(header, tokens: tokens) } catch {
            context.logger.notice("request refused", metadata: ["auth.reason": "\(error.code)"])
            throw error
        }
        context.token = token
        context.logger[metadataKey: "token.id"] = "\(token.id)"
        context.logger[metadataKey: "token.role"] = "\(token.role)"
        if roles.contains(token.role) { context.readAccess = .allPublished }
        return try await next(request, context)
    }

    /// The refusal of a non-public release to a public reader: 401 without a token, 403 with a
    /// token of another role.
    static func notPublic(_ message: String, context: PlazoRequestContext, role: TokenRole) -> APIError {
        if context.token == nil {
            return RequireRole.unauthorized("missing_token", message)
        }
        return APIError(
            .forbidden, "insufficient_role", message + " (the token's role is \(context.token!.role); this needs \(role))",
            headers: [.wwwAuthenticate: #"Bearer realm="plazo", error="insufficient_scope""#])
    }
}
