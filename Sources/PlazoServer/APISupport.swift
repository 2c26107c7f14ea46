import Foundation
import Hummingbird
import NIOCore
import PlazoPrivacy

/// The largest JSON request body the API reads (release specs, agency and token forms).
let maxJSONBodySize = 256 * 1024

/// Reads a JSON body into a `Decodable` value: 400 `bad_json` if it does not decode. An empty body
/// is `emptyAs` when given.
func readJSON<T: Decodable>(_ request: Request, as type: T.Type, emptyAs: T? = nil) async -> Result<T, ResponseError> {
    let buffer: ByteBuffer
    do { buffer = try await request.body.collect(upTo: maxJSONBodySize) } catch {
        return .failure(ResponseError(.contentTooLarge, "too_large", "the body is larger than \(maxJSONBodySize) bytes"))
    }
    if buffer.readableBytes == 0, let emptyAs { return .success(emptyAs) }
    do { return .success(try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView))) } catch let error as DecodingError {
        return .failure(ResponseError(.badRequest, "bad_json", "the body is not a valid request: \(decodingProblem(error))"))
    } catch {
        return .failure(ResponseError(.badRequest, "bad_json", "the body is not valid JSON"))
    }
}

/// A sentence about a decoding failure that names the field, never the value.
func decodingProblem(_ error: DecodingError) -> String {
    func path(_ context: DecodingError.Context) -> String {
        let p = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        return p.isEmpty ? "the body" : "'\(p)'"
    }
    switch error {
    case let .keyNotFound(key, context):
        let parent = path(context)
        return "missing field '\(key.stringValue)'" + (parent == "the body" ? "" : " in \(parent)")
    case let .typeMismatch(_, context): return "\(path(context)) has the wrong type"
    case let .valueNotFound(_, context): return "\(path(context)) is null"
    case let .dataCorrupted(context):
        return context.codingPath.isEmpty ? "not valid JSON" : "\(path(context)) is invalid: \(context.debugDescription)"
    @unknown default: return "not a valid request"
    }
}

/// An error answer on its way to the client (status, stable code, sentence).
struct ResponseError: Error {
    let status: HTTPResponse.Status
    let code: String
    let message: String

    init(_ status: HTTPResponse.Status, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    /// The JSON error body.
    var response: Response { errorResponse(status, code: code, message: message) }
}

/// A ρ in JSON: the exact rational as text and a decimal for display.
func rhoJSON(_ rho: Rational) -> [String: Any] {
    ["exact": rho.description, "decimal": rho.doubleValue]
}

/// A privacy cost in JSON.
func costJSON(_ cost: PrivacyCost) -> [String: Any] {
    switch cost {
    case let .zCDP(rho): ["definition": "zcdp", "rho": rho.description]
    case let .pureDP(epsilon): ["definition": "pure_dp", "epsilon": epsilon.description]
    }
}

/// Unix seconds as an RFC 3339 timestamp.
func timestamp(_ seconds: Int64) -> String {
    Date(timeIntervalSince1970: TimeInterval(seconds)).formatted(.iso8601)
}

/// A date as an RFC 3339 timestamp.
func timestamp(_ date: Date) -> String { date.formatted(.iso8601) }

/// A path parameter, percent-decoded (`/v1/agencies/Fiscal%C3%ADa%20Jalisco`).
func pathParameter(_ context: PlazoRequestContext, _ name: String) -> String {
    let raw = context.parameters.get(name) ?? ""
    return raw.removingPercentEncoding ?? raw
}
