import Foundation
import HTTPTypes
import Hummingbird
import Logging
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
        switch Self.authenticate(header, tokens: tokens) {
        case let .failure(failure):
            context.logger.notice("request refused", metadata: ["auth.reason": "\(failure.code)"])
            return failure.response
        case let .success(token):
            guard roles.contains(token.role) else {
                context.logger.notice(
                    "request refused", metadata: ["auth.reason": "insufficient_role", "token.id": "\(token.id)", "token.role": "\(token.role)"]
                )
                let admitted = roles.map(\.rawValue).sorted().joined(separator: " or ")
                return errorResponse(
                    .forbidden, code: "insufficient_role",
                    message: "this endpoint is for the \(admitted) role; the token's role is \(token.role)",
                    headers: [.wwwAuthenticate: #"Bearer realm="plazo", error="insufficient_scope""#]
                )
            }
            var context = context
            context.token = token
            context.logger[metadataKey: "token.id"] = "\(token.id)"
            context.logger[metadataKey: "token.role"] = "\(token.role)"
            return try await next(request, context)
        }
    }

    /// Why a request has no valid token.
    struct Failure: Error {
        let code: String
        let message: String

        var response: Response {
            let challenge = code == "missing_token" || code == "malformed_authorization"
                ? #"Bearer realm="plazo""#
                : #"Bearer realm="plazo", error="invalid_token""#
            return errorResponse(.unauthorized, code: code, message: message, headers: [.wwwAuthenticate: challenge])
        }
    }

    /// The token named by an `Authorization` header value.
    static func authenticate(_ header: String?, tokens: TokenStore) -> Result<TokenRecord, Failure> {
        guard let header else {
            return .failure(Failure(code: "missing_token", message: "this endpoint needs an 'Authorization: Bearer <token>' header"))
        }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            return .failure(Failure(code: "malformed_authorization", message: "this endpoint takes a bearer token ('Authorization: Bearer <token>')"))
        }
        do {
            return .success(try tokens.authenticate(parts[1].trimmingCharacters(in: .whitespaces)))
        } catch {
            switch error {
            case .revoked: return .failure(Failure(code: error.code, message: error.description))
            case .malformed, .unknown: return .failure(Failure(code: "invalid_token", message: TokenError.unknown.description))
            default:
                // A store that cannot be read refuses rather than admits.
                return .failure(Failure(code: "invalid_token", message: "the bearer token could not be checked"))
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
