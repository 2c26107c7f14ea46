import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import PlazoModel
import PlazoWire

/// The one way a request is refused: every handler and middleware of the API throws an
/// `APIError`, and Hummingbird turns it into the documented error body (``ErrorBody``,
/// `specs/openapi.yaml` `Error`) with its status and headers. Domain errors (`IngestError`,
/// `ReleaseError`, `RegistryError`, `TokenError`) become `APIError`s in `APIError+Domain.swift`;
/// errors nobody mapped become a 500 in ``ErrorBodyMiddleware``.
struct APIError: HTTPResponseError, Sendable, CustomStringConvertible {
    /// The HTTP status.
    let status: HTTPResponse.Status
    /// The stable machine-readable code (`^[a-z0-9_]+$`).
    let code: String
    /// The human sentence sent to the client (never case data).
    let message: String
    /// Extra response headers (`WWW-Authenticate`).
    var headers: HTTPFields
    /// What went wrong inside, for the service's log only: never sent to the client.
    var cause: String?

    init(_ status: HTTPResponse.Status, _ code: String, _ message: String, headers: HTTPFields = [:], cause: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
        self.cause = cause
    }

    var description: String { "\(status.code) \(code): \(message)" }

    /// The 500 of a failure inside the service: the client learns nothing, the log gets `cause`.
    static func internalError(cause: String) -> APIError {
        APIError(.internalServerError, "internal", "internal error", cause: cause)
    }

    /// The 413 of a body over `limit` bytes.
    static func tooLarge(limit: Int) -> APIError {
        APIError(.contentTooLarge, "too_large", "the body is larger than \(limit) bytes")
    }

    /// The error body as a response.
    var response: Response {
        // Two strings always encode; the literal is only a guard against the impossible.
        let bytes = (try? PlazoJSON.encode(ErrorBody(code: code, message: message)))
            ?? Array(#"{"error":{"code":"internal","message":"internal error"}}"#.utf8)
        return jsonResponse(status, bytes: bytes, headers: headers)
    }

    func response(from request: Request, context: some RequestContext) throws -> Response { response }
}

/// Turns every error thrown in the router into an answer with the error body:
/// - an ``APIError`` as it is (its `cause`, if any, logged at error level);
/// - Hummingbird's own `HTTPError` (unknown route, wrong method, body too large) with a code for
///   its status;
/// - anything else as a 500 that reveals nothing, its type logged.
struct ErrorBodyMiddleware: RouterMiddleware {
    typealias Context = PlazoRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            if let cause = error.cause {
                context.logger.error("request failed", metadata: ["error.code": "\(error.code)", "error.cause": "\(cause)"])
            }
            return error.response
        } catch let error as HTTPError {
            let code: String =
                switch error.status {
                case .notFound: "not_found"
                case .methodNotAllowed: "method_not_allowed"
                case .contentTooLarge: "too_large"
                case .unauthorized: "unauthorized"
                default: "http_\(error.status.code)"
                }
            return APIError(error.status, code, error.body ?? error.status.reasonPhrase).response
        } catch {
            context.logger.error("unexpected error", metadata: ["error.type": "\(type(of: error))"])
            return APIError.internalError(cause: "\(type(of: error))").response
        }
    }
}
