import Foundation
import Hummingbird
import NIOCore
import PlazoPrivacy

/// The largest JSON request body the API reads (release specs, agency and token forms).
let maxJSONBodySize = 256 * 1024

/// Reads a JSON body into a `Decodable` value: 400 `bad_json` if it does not decode, 413
/// `too_large` over ``maxJSONBodySize``. An empty body is `emptyAs` when given.
func readJSON<T: Decodable>(_ request: Request, as type: T.Type, emptyAs: T? = nil) async throws(APIError) -> T {
    let buffer: ByteBuffer
    do { buffer = try await request.body.collect(upTo: maxJSONBodySize) } catch {
        throw APIError.tooLarge(limit: maxJSONBodySize)
    }
    if buffer.readableBytes == 0, let emptyAs { return emptyAs }
    do { return try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView)) } catch let error as DecodingError {
        throw APIError(.badRequest, "bad_json", "the body is not a valid request: \(decodingProblem(error))")
    } catch {
        throw APIError(.badRequest, "bad_json", "the body is not valid JSON")
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
